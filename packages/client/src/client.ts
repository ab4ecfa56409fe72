import {
  cursorSchema,
  serverFrameSchema,
  STREAM_CLOSE_CODES,
  streamFilterSchema,
  streamFilterToQuery,
  type EventFrame,
  type GapFrame,
  type StreamFilter,
  type WelcomeFrame,
} from '@renkei/schema';
import { backoffDelay, crowdedDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';

// The platform-neutral core: no Node.js module may be imported here, the
// browser build uses it as is.

/** What the iterator yields: every event the viewer may see, and a `gap` where the feed forgot some. */
export type StreamEvent = EventFrame | GapFrame;

export interface TransportHandlers {
  onOpen(): void;
  onText(text: string): void;
  /** A binary frame: the gateway never sends one. */
  onBinary(): void;
  /** The connection ended; `httpStatus` when the upgrade itself was refused (only Node.js can tell). */
  onClose(info: { code: number; reason: string; httpStatus?: number }): void;
}

export interface Transport {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** Opens one WebSocket: `ws` in Node.js, the platform's WebSocket in browsers. */
export type Connect = (url: URL, token: string, handlers: TransportHandlers) => Transport;

export type StreamStatus =
  | { state: 'connecting'; attempt: number; url: string }
  | { state: 'open'; principal: WelcomeFrame['principal'] }
  | { state: 'closed'; code: number; reason: string; retryInMs: number | null };

export interface StreamClientOptions {
  /** The gateway, e.g. `https://renkei.example` or `http://127.0.0.1:7401`. */
  url: string;
  /** A token, or a function giving a fresh one: it is called before every connection. */
  token: string | (() => string | Promise<string>);
  /** Resume after this cursor (kept from an earlier run); without it the stream starts live. */
  after?: string;
  /** Applied from the first event on, replay included; change it later with `subscribe`. */
  filter?: StreamFilter;
  backoff?: Partial<BackoffOptions>;
  /**
   * Events received but not yet taken from the iterator. Past this many the
   * client stops reading (it closes the connection and resumes from its
   * cursor once the consumer has caught up), so memory stays bounded.
   */
  maxQueued?: number;
  onStatus?: (status: StreamStatus) => void;
  /**
   * Called with the time of every frame received, heartbeats included: a
   * page tells a quiet feed from a dead connection by how long ago this was.
   */
  onActivity?: (at: number) => void;
  /**
   * Close and reconnect when nothing (not even a heartbeat) arrives for this
   * long; the welcome's `heartbeatMs` × 2 is a good value. Off when unset.
   */
  silenceTimeoutMs?: number;
  /** For tests: the source of jitter. */
  random?: () => number;
}

export type StreamClientErrorCode =
  /** The gateway refused the token, or access ended and no fresh token can be had. */
  | 'unauthenticated'
  /** The gateway refused the request (an Origin it does not allow, a cursor it never gave out). */
  | 'refused'
  /** The gateway closed because of something this client sent: retrying would do it again. */
  | 'protocol'
  /** The gateway sent something this client does not understand: versions differ. */
  | 'invalid-frame';

export class StreamClientError extends Error {
  override readonly name = 'StreamClientError';
  constructor(
    readonly code: StreamClientErrorCode,
    message: string,
    readonly details: { closeCode?: number; httpStatus?: number } = {},
  ) {
    super(message);
  }
}

export interface StreamClient extends AsyncIterable<StreamEvent> {
  /** The cursor of the last event the iterator yielded: save it to resume in a later run. */
  readonly cursor: string | undefined;
  /** The filter now asked for. */
  readonly filter: StreamFilter;
  /** Changes the filter; resolves with what the gateway applies. Kept for every later connection. */
  subscribe(filter: StreamFilter): Promise<StreamFilter>;
  /** Stops: the iterator ends once it has yielded what was already received. */
  close(): Promise<void>;
}

/** Closes that say this client is at fault: reconnecting would repeat them. */
const PROTOCOL_CLOSES = new Set<number>([
  STREAM_CLOSE_CODES.binaryFrame,
  STREAM_CLOSE_CODES.invalidFrames,
  STREAM_CLOSE_CODES.frameTooLarge,
]);
const CLIENT_BUSY = 4000;
/** This client closed a connection that went quiet (a private-use code, never sent by gateways). */
const SILENT = 4001;
/** How many cursors are remembered to drop a repeated event: far more than one replay page. */
const RECENT_CURSORS = 1024;

export function createStreamClientWith(connect: Connect, options: StreamClientOptions): StreamClient {
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const maxQueued = options.maxQueued ?? 10_000;
  const random = options.random ?? Math.random;
  let filter = options.filter ? streamFilterSchema.parse(options.filter) : {};
  /** The last event received: where the next connection resumes. */
  let received = options.after === undefined ? undefined : cursorSchema.parse(options.after);
  /** The last event yielded: what the consumer has. */
  let yielded = received;
  /** Cursors of the events received last, oldest first. */
  const recent = new Set<string>(received === undefined ? [] : [received]);
  const queue: StreamEvent[] = [];
  let wakeConsumer: (() => void) | undefined;
  let cutBackoffShort: (() => void) | undefined;
  let wakeWhenDrained: (() => void) | undefined;
  let transport: Transport | undefined;
  let open = false;
  /** The filter the current connection was opened or last subscribed with. */
  let appliedFilter = '';
  /** `subscribed` answers to let pass: the one for a filter that travelled in the URL. */
  let unclaimedAnswers = 0;
  let stopped = false;
  let failure: StreamClientError | undefined;
  const subscriptions: { resolve: (filter: StreamFilter) => void; reject: (error: Error) => void }[] = [];

  const notify = () => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  const wakeLoop = () => {
    cutBackoffShort?.();
    wakeWhenDrained?.();
  };
  const fail = (error: StreamClientError) => {
    failure ??= error;
    stopped = true;
    for (const pending of subscriptions.splice(0)) pending.reject(error);
    transport?.close(1000, 'client failed');
    wakeLoop();
    notify();
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        cutBackoffShort = undefined;
        resolve();
      }
      cutBackoffShort = done;
    });
  const sendFilter = () => {
    appliedFilter = JSON.stringify(filter);
    transport?.send(JSON.stringify({ type: 'subscribe', filter }));
  };

  const streamUrl = () => {
    const url = new URL(options.url.replace(/^http/, 'ws').replace(/\/$/, '') + '/v1/stream');
    if (received !== undefined) url.searchParams.set('after', received);
    for (const [name, value] of Object.entries(streamFilterToQuery(filter)))
      url.searchParams.set(name, value);
    return url;
  };

  /** Handles one frame; returns its type, or undefined when it was not understood (the client has failed). */
  const onFrame = (text: string): string | undefined => {
    let parsed;
    try {
      parsed = serverFrameSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      fail(
        new StreamClientError(
          'invalid-frame',
          `the gateway sent a frame this client does not know: ${text.slice(0, 200)}`,
        ),
      );
      return undefined;
    }
    const frame = parsed.data;
    options.onActivity?.(Date.now());
    switch (frame.type) {
      case 'heartbeat':
        break;
      case 'welcome':
        options.onStatus?.({ state: 'open', principal: frame.principal });
        break;
      case 'subscribed':
        if (unclaimedAnswers > 0) unclaimedAnswers -= 1;
        else subscriptions.shift()?.resolve(frame.filter);
        break;
      case 'error':
        subscriptions.shift()?.reject(new StreamClientError('protocol', `${frame.code}: ${frame.message}`));
        break;
      case 'gap':
        received = frame.resumeFrom;
        queue.push(frame);
        notify();
        break;
      default:
        // Never one twice, whatever a gateway does. Cursors are opaque and unordered,
        // so a repeat is recognised by its cursor among the last ones received.
        if (recent.has(frame.cursor)) break;
        recent.add(frame.cursor);
        if (recent.size > RECENT_CURSORS) recent.delete(recent.values().next().value!);
        received = frame.cursor;
        queue.push(frame);
        notify();
    }
    return frame.type;
  };

  interface Ended {
    code: number;
    reason: string;
    httpStatus?: number;
    welcomed: boolean;
  }

  /** One connection, until it closes. */
  const connectOnce = async (attempt: number): Promise<Ended> => {
    const token = typeof options.token === 'string' ? options.token : await options.token();
    const url = streamUrl();
    let welcomed = false;
    return new Promise<Ended>((resolve) => {
      options.onStatus?.({ state: 'connecting', attempt, url: url.origin + url.pathname });
      appliedFilter = JSON.stringify(filter);
      unclaimedAnswers = Object.keys(filter).length > 0 ? 1 : 0;
      // A connection the network silently dropped never closes by itself: it is closed when it goes quiet.
      let silence: ReturnType<typeof setTimeout> | undefined;
      const watchSilence = () => {
        if (options.silenceTimeoutMs === undefined) return;
        clearTimeout(silence);
        silence = setTimeout(
          () => current.close(SILENT, 'nothing heard: reconnecting'),
          options.silenceTimeoutMs,
        );
      };
      const current = connect(url, token, {
        onOpen: () => {
          watchSilence();
          open = true;
          // The filter changed while this connection was being opened.
          if (JSON.stringify(filter) !== appliedFilter) sendFilter();
        },
        onText: (text) => {
          if (stopped) return;
          watchSilence();
          const type = onFrame(text);
          if (type === 'welcome') welcomed = true;
          if (type !== undefined && queue.length >= maxQueued)
            current.close(CLIENT_BUSY, 'client busy: it resumes from its cursor');
        },
        onBinary: () => fail(new StreamClientError('invalid-frame', 'the gateway sent a binary frame')),
        onClose: (info) => {
          clearTimeout(silence);
          open = false;
          transport = undefined;
          // Unanswered subscriptions travel in the next connection's URL.
          for (const pending of subscriptions.splice(0)) pending.resolve(filter);
          resolve({ ...info, welcomed });
        },
      });
      transport = current;
    });
  };

  /** Why a connection's end stops the client for good, if it does. */
  const fatal = (ended: Ended): StreamClientError | undefined => {
    const details = { closeCode: ended.code, ...(ended.httpStatus ? { httpStatus: ended.httpStatus } : {}) };
    if (ended.httpStatus === 401 || ended.code === STREAM_CLOSE_CODES.accessEnded)
      return typeof options.token === 'string'
        ? new StreamClientError(
            'unauthenticated',
            ended.httpStatus === 401
              ? 'the gateway refused the token (HTTP 401)'
              : 'access ended: the token expired or the organisation was disabled',
            details,
          )
        : undefined;
    if (ended.httpStatus !== undefined && ended.httpStatus >= 400 && ended.httpStatus < 500)
      return new StreamClientError(
        'refused',
        `the gateway refused the stream with HTTP ${ended.httpStatus}`,
        details,
      );
    if (PROTOCOL_CLOSES.has(ended.code))
      return new StreamClientError(
        'protocol',
        `the gateway closed the stream: ${ended.code} ${ended.reason}`,
        details,
      );
    return undefined;
  };

  const run = async () => {
    let attempt = 0;
    while (!stopped) {
      let ended: Ended;
      try {
        ended = await connectOnce(attempt);
      } catch (error) {
        // A token that could not be had, a URL the platform refuses: retried like a lost connection.
        ended = {
          code: 1006,
          reason: error instanceof Error ? error.message : String(error),
          welcomed: false,
        };
      }
      if (stopped) break;
      if (ended.welcomed) attempt = 0;
      const error = fatal(ended);
      if (error) {
        fail(error);
        break;
      }
      if (ended.code === CLIENT_BUSY) {
        // Not the gateway's doing: resume as soon as the consumer has caught up.
        options.onStatus?.({ state: 'closed', code: ended.code, reason: ended.reason, retryInMs: null });
        while (!stopped && queue.length > maxQueued / 2)
          await new Promise<void>((resolve) => (wakeWhenDrained = resolve));
        wakeWhenDrained = undefined;
        continue;
      }
      const delay =
        ended.code === STREAM_CLOSE_CODES.tooManySockets
          ? crowdedDelay(backoff, random)
          : backoffDelay(attempt, backoff, random);
      options.onStatus?.({ state: 'closed', code: ended.code, reason: ended.reason, retryInMs: delay });
      attempt += 1;
      await pause(delay);
    }
    notify();
  };
  const running = run();

  const stop = async () => {
    stopped = true;
    transport?.close(1000, 'client closed');
    wakeLoop();
    notify();
    await running;
  };

  return {
    get cursor() {
      return yielded;
    },
    get filter() {
      return filter;
    },
    subscribe(next) {
      filter = streamFilterSchema.parse(next);
      if (failure) return Promise.reject(failure);
      // Not connected: the next connection carries the filter in its URL.
      if (!transport) return Promise.resolve(filter);
      return new Promise<StreamFilter>((resolve, reject) => {
        subscriptions.push({ resolve, reject });
        if (open) sendFilter();
      });
    },
    close: stop,
    [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
      return {
        next: async (): Promise<IteratorResult<StreamEvent>> => {
          for (;;) {
            const event = queue.shift();
            if (event) {
              yielded = event.type === 'gap' ? event.resumeFrom : event.cursor;
              if (queue.length <= maxQueued / 2) wakeWhenDrained?.();
              return { value: event, done: false };
            }
            if (failure) throw failure;
            if (stopped) return { value: undefined, done: true };
            await new Promise<void>((resolve) => (wakeConsumer = resolve));
          }
        },
        return: async (): Promise<IteratorResult<StreamEvent>> => {
          await stop();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
