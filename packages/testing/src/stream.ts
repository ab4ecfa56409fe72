import WebSocket from 'ws';
import { serverFrameSchema, streamFilterToQuery, type ServerFrame, type StreamFilter } from '@renkei/schema';

export interface StreamClient {
  /** Every frame received so far, validated against the shared schema; heartbeats apart. */
  frames: ServerFrame[];
  /** How many `heartbeat` frames arrived. */
  readonly heartbeats: number;
  next(predicate: (frame: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  close(): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  /** Sends a frame as is: text, or binary with `{ binary: true }`. */
  send(data: string | Buffer, options?: { binary?: boolean }): void;
  /** The cursor of the last event frame received, or the `after` it opened with. */
  readonly cursor: string | undefined;
  /** The socket itself, for what a test does that a client should not (stop reading, stop answering pings). */
  readonly socket: WebSocket;
}

export interface OpenStreamOptions {
  via?: 'header' | 'query';
  /** Resume after this cursor. */
  after?: string;
  /** A filter carried in the URL, applied from the first frame on. */
  filter?: StreamFilter;
  /** The `Origin` a browser would send. */
  origin?: string;
  /** Passed to the `ws` client (`autoPong: false` makes a client that never answers pings). */
  wsOptions?: WebSocket.ClientOptions;
}

/** Opens `GET /v1/stream` with the token in the header (default) or the query string. */
export async function openStream(
  gatewayUrl: string,
  token: string,
  { via = 'header', after, filter, origin, wsOptions = {} }: OpenStreamOptions = {},
): Promise<StreamClient> {
  const url = new URL(gatewayUrl.replace(/^http/, 'ws') + '/v1/stream');
  if (after !== undefined) url.searchParams.set('after', after);
  for (const [name, value] of Object.entries(filter ? streamFilterToQuery(filter) : {}))
    url.searchParams.set(name, value);
  if (via === 'query') url.searchParams.set('access_token', token);
  const socket = new WebSocket(url, {
    ...wsOptions,
    headers: {
      ...(via === 'header' ? { authorization: `Bearer ${token}` } : {}),
      ...(origin ? { origin } : {}),
    },
  });
  let cursor = after;
  const frames: ServerFrame[] = [];
  let heartbeats = 0;
  const waiters = new Set<{
    predicate: (frame: ServerFrame) => boolean;
    resolve: (frame: ServerFrame) => void;
  }>();
  socket.on('message', (data, isBinary) => {
    if (isBinary) throw new Error('the gateway sent a binary frame');
    const frame = serverFrameSchema.parse(JSON.parse(data.toString()));
    // Heartbeats come on a timer, not in the feed's order: counted apart so frame lists stay exact.
    if (frame.type === 'heartbeat') {
      heartbeats += 1;
      return;
    }
    frames.push(frame);
    if ('cursor' in frame) cursor = frame.cursor;
    if (frame.type === 'gap') cursor = frame.resumeFrom;
    for (const waiter of waiters) {
      if (waiter.predicate(frame)) {
        waiters.delete(waiter);
        waiter.resolve(frame);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (request, response) => {
      request.destroy();
      reject(new Error(`stream refused with HTTP ${response.statusCode}`));
    });
  });
  return {
    frames,
    closed,
    socket,
    get heartbeats() {
      return heartbeats;
    },
    get cursor() {
      return cursor;
    },
    send(data, options = {}) {
      socket.send(data, { binary: options.binary ?? false });
    },
    next(predicate, timeoutMs = 30_000) {
      const seen = frames.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(frames)}`));
        }, timeoutMs);
        const waiter = {
          predicate,
          resolve: (frame: ServerFrame) => {
            clearTimeout(timer);
            resolve(frame);
          },
        };
        waiters.add(waiter);
      });
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}
