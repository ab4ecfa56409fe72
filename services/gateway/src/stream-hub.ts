import { randomBytes } from 'node:crypto';
import { createSealer, type Sealer } from '@renkei/auth';
import type { HubMetrics } from '@renkei/metrics';
import { audienceOf, viewFeedEvent } from '@renkei/policy';
import type { Logger } from '@renkei/runtime';
import {
  clientFrameSchema,
  errorFrameMessage,
  fieldIssues,
  STREAM_CLOSE_CODES,
  type EventFrame,
  type FeedEvent,
  type Principal,
  type ServerFrame,
  type StreamFilter,
} from '@renkei/schema';
import { matchesFilter, normaliseFilter } from './stream-filter.js';

/** What the hub needs of a connection; a `ws` WebSocket fits. */
export interface StreamSocket {
  /** Bytes queued for the client and not yet handed to the network. */
  readonly bufferedAmount: number;
  send(data: Buffer, options: { binary: false }): void;
  close(code?: number, reason?: string): void;
  ping(): void;
  /** Drops the connection at once, without a closing handshake. */
  terminate(): void;
}

/** WebSocket close codes the gateway uses: the table is in docs/STREAM.md ("Close codes"). */
export const CLOSE_CODES = STREAM_CLOSE_CODES;

/** The disconnect series' reason label for each close code (docs/OPERATIONS.md lists them). */
const CLOSE_REASONS = new Map<number, string>([
  [CLOSE_CODES.goingAway, 'draining'],
  [CLOSE_CODES.binaryFrame, 'binary-frame'],
  [CLOSE_CODES.invalidFrames, 'invalid-frames'],
  [CLOSE_CODES.frameTooLarge, 'frame-too-large'],
  [CLOSE_CODES.internalError, 'replay-failed'],
  [CLOSE_CODES.tooSlow, 'slow'],
  [CLOSE_CODES.accessEnded, 'expired'],
  [CLOSE_CODES.tooManySockets, 'too-many-sockets'],
]);

/** Reads the feed for a replay: events after `after`, none past `upTo`, oldest first, at most `limit`. */
export type FeedReader = (after: string, upTo: string, limit: number) => Promise<FeedEvent[]>;

export interface StreamHubOptions {
  /** The feed position the hub starts at: the follower delivers every event after it. */
  position: string;
  readFeed: FeedReader;
  /** A client whose unsent frames pass this many bytes is closed as too slow. */
  maxBufferedBytes: number;
  /** Open connections one organisation may hold; one more is closed with 4429. Default: no cap. */
  maxSocketsPerOrganisation?: number;
  logger: Logger;
  replayPageSize?: number;
  /** A replay whose client does not drain its buffer for this long is closed as too slow. */
  replayStallMs?: number;
  /** This many invalid frames within {@link INVALID_FRAME_WINDOW_MS} close the connection. */
  invalidFrameLimit?: number;
  /**
   * Replays read PostgreSQL at most this many at a time: after a gateway
   * restart every client resumes at once, and the pool must keep
   * connections for the follower, the relay and the REST routes.
   */
  concurrentReplayReads?: number;
  /** Connections, disconnects by reason and frames sent are counted here when given. */
  metrics?: HubMetrics;
  /**
   * Seals feed positions into the cursors frames carry (the hub secret's
   * `cursor` key, shared by every gateway). Default: a key of this hub's own,
   * good for one process (tests).
   */
  cursors?: Sealer;
}

/** The connection's network socket, whose writes can be held and then sent together. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export interface ConnectOptions {
  /**
   * The network socket under the WebSocket. Given, frames sent to it within
   * one turn of the event loop (a burst of events) leave in one write, up to
   * {@link COALESCE_BYTES}, instead of one system call each.
   */
  raw?: Corkable;
  /** Frames that go out before anything else (the welcome). */
  first?: ServerFrame[];
  /** Replay every event after this cursor first. Without it the connection starts live. */
  after?: string;
  /** Applied from the first event on, replay included; answered with a `subscribed` frame. */
  filter?: StreamFilter;
}

type ConnectionState = 'replaying' | 'waiting' | 'live' | 'closed';

/** One viewer's WebSocket, as the hub tracks it. */
export class StreamConnection {
  readonly principal: Principal;
  readonly audience: string;
  readonly socket: StreamSocket;
  filter: StreamFilter = {};
  state: ConnectionState = 'live';
  /** While replaying or waiting: the last position handled. Once live, the hub's position is. */
  cursor = 0n;
  /** Cleared by each heartbeat and set again by the client's pong. */
  alive = true;
  invalidFrames = 0;
  invalidWindowStart = 0;
  readonly raw: Corkable | undefined;
  /** Held since the start of this turn; `backlog` is what was unsent then, `corkedBytes` what was added since. */
  corked = false;
  backlog = 0;
  corkedBytes = 0;

  constructor(principal: Principal, socket: StreamSocket, raw?: Corkable) {
    this.principal = principal;
    this.audience = audienceOf(principal);
    this.socket = socket;
    this.raw = raw;
  }
}

interface AudienceGroup {
  /** Any member: the policy's view depends only on the audience, so one principal speaks for all. */
  viewer: Principal;
  live: Set<StreamConnection>;
}

const INVALID_FRAME_WINDOW_MS = 60_000;
const DRAIN_POLL_MS = 20;
/** A held socket is written out once this much waits, so a burst never holds more per client. */
export const COALESCE_BYTES = 16 * 1024;

/**
 * Fans feed events out to connected viewers. The follower hands each event
 * once, in position order, to {@link publish}; for every audience present the
 * policy's frame is computed and serialised once, and each live connection of
 * that audience whose filter it passes gets the same bytes.
 *
 * A connection that resumes from a cursor replays from the feed in
 * PostgreSQL up to the hub's position, then joins the live set in the same
 * synchronous step that sees it has caught up: no publish can run between the
 * check and the join, so nothing is missed or sent twice at the seam.
 */
export class StreamHub {
  readonly #connections = new Set<StreamConnection>();
  readonly #audiences = new Map<string, AudienceGroup>();
  /** Connections whose cursor is ahead of the hub (given out by a gateway further along). */
  readonly #waiting = new Set<StreamConnection>();
  readonly #readFeed: FeedReader;
  readonly #maxBufferedBytes: number;
  readonly #maxSocketsPerOrganisation: number;
  /** Open connections by organisation, for the cap. */
  readonly #organisationSockets = new Map<string, number>();
  readonly #logger: Logger;
  readonly #replayPageSize: number;
  readonly #replayStallMs: number;
  readonly #invalidFrameLimit: number;
  readonly #concurrentReplayReads: number;
  #replayReads = 0;
  readonly #waitingToRead: (() => void)[] = [];
  #corked: StreamConnection[] = [];
  #flushScheduled = false;
  #position: bigint;
  readonly #metrics: HubMetrics | undefined;
  readonly #cursors: Sealer;

  constructor(options: StreamHubOptions) {
    this.#position = BigInt(options.position);
    this.#readFeed = options.readFeed;
    this.#maxBufferedBytes = options.maxBufferedBytes;
    this.#maxSocketsPerOrganisation = options.maxSocketsPerOrganisation ?? Number.POSITIVE_INFINITY;
    this.#logger = options.logger;
    this.#replayPageSize = options.replayPageSize ?? 500;
    this.#replayStallMs = options.replayStallMs ?? 30_000;
    this.#invalidFrameLimit = options.invalidFrameLimit ?? 10;
    this.#concurrentReplayReads = options.concurrentReplayReads ?? 4;
    this.#metrics = options.metrics;
    this.#cursors = options.cursors ?? createSealer(randomBytes(32));
  }

  /** Seals positions into the cursors given out, and opens the cursors handed back. */
  get cursors(): Sealer {
    return this.#cursors;
  }

  /** The position of the last event published: everything up to it has gone out. */
  get position(): string {
    return this.#position.toString();
  }

  get size(): number {
    return this.#connections.size;
  }

  /** How many live connections each audience has (for logs and tests). */
  audienceSizes(): Map<string, number> {
    return new Map([...this.#audiences].map(([audience, group]) => [audience, group.live.size]));
  }

  /**
   * Registers a connection: live at once, or after replaying what follows
   * `after`. One past its organisation's cap is closed with 4429 at once and
   * comes back already `closed`, never counted.
   */
  connect(principal: Principal, socket: StreamSocket, options: ConnectOptions = {}): StreamConnection {
    const connection = new StreamConnection(principal, socket, options.raw);
    const organisation = principal.organisationId;
    const open = this.#organisationSockets.get(organisation) ?? 0;
    if (open >= this.#maxSocketsPerOrganisation) {
      connection.state = 'closed';
      this.#logger.warn(
        { subject: principal.subject, organisationId: organisation, open },
        'stream refused: the organisation has as many streams open as it may',
      );
      this.#metrics?.streamDisconnects.inc({ reason: CLOSE_REASONS.get(CLOSE_CODES.tooManySockets)! });
      socket.close(
        CLOSE_CODES.tooManySockets,
        `your organisation has ${open} streams open, the most allowed: close one, retry later`,
      );
      return connection;
    }
    this.#organisationSockets.set(organisation, open + 1);
    this.#connections.add(connection);
    this.#metrics?.streamConnections.set(this.#connections.size);
    for (const frame of options.first ?? []) this.send(connection, frame);
    if (options.filter) {
      connection.filter = normaliseFilter(options.filter);
      this.send(connection, { type: 'subscribed', filter: connection.filter });
    }
    if (connection.state === 'closed') return connection;
    if (options.after === undefined) {
      this.#attach(connection);
    } else {
      connection.state = 'replaying';
      connection.cursor = BigInt(options.after);
      void this.#replay(connection);
    }
    return connection;
  }

  /** Forgets a connection (its socket closed). */
  disconnect(connection: StreamConnection): void {
    if (connection.state === 'closed') return;
    connection.state = 'closed';
    this.#connections.delete(connection);
    const open = (this.#organisationSockets.get(connection.principal.organisationId) ?? 1) - 1;
    if (open > 0) this.#organisationSockets.set(connection.principal.organisationId, open);
    else this.#organisationSockets.delete(connection.principal.organisationId);
    this.#metrics?.streamConnections.set(this.#connections.size);
    this.#waiting.delete(connection);
    const group = this.#audiences.get(connection.audience);
    if (group) {
      group.live.delete(connection);
      if (group.live.size === 0) this.#audiences.delete(connection.audience);
    }
  }

  /** Hands one feed event to every live viewer who may see it; returns how many got it. */
  publish(event: FeedEvent): number {
    const at = BigInt(event.position);
    // The follower delivers each position once and in order; this only guards the invariant.
    if (at <= this.#position) return 0;
    this.#position = at;
    let delivered = 0;
    const cursor = this.#audiences.size > 0 ? this.#cursors.seal(at) : '';
    for (const group of this.#audiences.values()) {
      const frame = viewFeedEvent(group.viewer, event, cursor);
      if (!frame) continue;
      let data: Buffer | undefined;
      for (const connection of group.live) {
        if (!matchesFilter(connection.filter, frame)) continue;
        data ??= serialise(frame);
        if (this.#deliver(connection, data)) delivered += 1;
      }
    }
    this.#metrics?.streamFrames.inc(delivered);
    // Only after the event went out: a connection waiting at exactly this position has seen it.
    for (const connection of this.#waiting) {
      if (connection.cursor <= at) {
        this.#waiting.delete(connection);
        this.#attach(connection);
      }
    }
    return delivered;
  }

  /** Sends a control frame (welcome, subscribed, error) to one connection. */
  send(connection: StreamConnection, frame: ServerFrame): boolean {
    return this.#deliver(connection, serialise(frame));
  }

  /** A frame from the client: a subscription, or something refused. */
  receive(connection: StreamConnection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (connection.state === 'closed') return;
    if (isBinary) {
      this.close(connection, CLOSE_CODES.binaryFrame, 'binary frames are not accepted: send JSON text');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(textOf(data));
    } catch {
      this.#refuse(connection, 'the frame is not JSON');
      return;
    }
    const parsed = clientFrameSchema.safeParse(json);
    if (!parsed.success) {
      this.#refuse(connection, errorFrameMessage(fieldIssues(parsed.error)));
      return;
    }
    connection.filter = normaliseFilter(parsed.data.filter);
    this.send(connection, { type: 'subscribed', filter: connection.filter });
  }

  /** Closes one connection with a code from {@link CLOSE_CODES} and forgets it. */
  close(connection: StreamConnection, code: number, reason: string): void {
    if (connection.state === 'closed') return;
    this.disconnect(connection);
    this.#metrics?.streamDisconnects.inc({ reason: CLOSE_REASONS.get(code) ?? String(code) });
    connection.socket.close(code, reason);
    if (connection.corked) this.#uncork(connection);
  }

  closeAll(code: number, reason: string): void {
    for (const connection of [...this.#connections]) this.close(connection, code, reason);
  }

  /**
   * One heartbeat: a connection that has not answered the previous ping is
   * dropped (a laptop lid, a NAT that forgot it); the others are pinged.
   */
  heartbeat(): void {
    const heartbeat: ServerFrame = { type: 'heartbeat', at: new Date().toISOString() };
    for (const connection of [...this.#connections]) {
      if (!connection.alive) {
        this.disconnect(connection);
        this.#metrics?.streamDisconnects.inc({ reason: 'unanswered-ping' });
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
      // A frame a browser can see: pings are invisible to its WebSocket.
      this.send(connection, heartbeat);
    }
  }

  /** Closes every connection whose principal may no longer watch (its token expired, its organisation disabled). */
  async recheckAccess(isStillAllowed: (principal: Principal) => boolean | Promise<boolean>): Promise<number> {
    let closed = 0;
    await Promise.all(
      [...this.#connections].map(async (connection) => {
        let allowed: boolean;
        try {
          allowed = await isStillAllowed(connection.principal);
        } catch (error) {
          // Unknown is not "no": a registry hiccup must not drop every viewer at once.
          this.#logger.warn({ err: error, subject: connection.principal.subject }, 'access re-check failed');
          return;
        }
        if (!allowed && connection.state !== 'closed') {
          this.#logger.info(
            { subject: connection.principal.subject, organisationId: connection.principal.organisationId },
            'stream access ended: closed',
          );
          this.close(connection, CLOSE_CODES.accessEnded, 'access ended: reconnect with a new token');
          closed += 1;
        }
      }),
    );
    return closed;
  }

  #attach(connection: StreamConnection): void {
    connection.state = 'live';
    let group = this.#audiences.get(connection.audience);
    if (!group) {
      group = { viewer: connection.principal, live: new Set() };
      this.#audiences.set(connection.audience, group);
    }
    group.live.add(connection);
  }

  async #replay(connection: StreamConnection): Promise<void> {
    try {
      while (connection.state === 'replaying') {
        const upTo = this.#position;
        // Checked and joined in one synchronous step: no publish can come between.
        if (connection.cursor === upTo) return this.#attach(connection);
        if (connection.cursor > upTo) {
          connection.state = 'waiting';
          this.#waiting.add(connection);
          return;
        }
        const events = await this.#readPage(connection.cursor, upTo);
        if (connection.state !== 'replaying') return;
        // Positions are dense: nothing up to `upTo` means retention removed all of it.
        if (events.length === 0) this.#gap(connection, upTo);
        for (const event of events) {
          const at = BigInt(event.position);
          if (at > connection.cursor + 1n) this.#gap(connection, at - 1n);
          connection.cursor = at;
          const frame = viewFeedEvent(connection.principal, event, this.#cursors.seal(at));
          if (!frame || !matchesFilter(connection.filter, frame)) continue;
          if (!(await this.#drained(connection))) return;
          if (!this.#deliver(connection, serialise(frame))) return;
        }
      }
    } catch (error) {
      if (connection.state === 'closed') return;
      this.#logger.warn(
        { err: error, subject: connection.principal.subject, cursor: connection.cursor.toString() },
        'stream replay failed: closed, the client resumes from its cursor',
      );
      this.close(connection, CLOSE_CODES.internalError, 'replay failed: reconnect with your cursor');
    }
  }

  async #readPage(after: bigint, upTo: bigint): Promise<FeedEvent[]> {
    while (this.#replayReads >= this.#concurrentReplayReads)
      await new Promise<void>((resolve) => this.#waitingToRead.push(resolve));
    this.#replayReads += 1;
    try {
      return await this.#readFeed(after.toString(), upTo.toString(), this.#replayPageSize);
    } finally {
      this.#replayReads -= 1;
      this.#waitingToRead.shift()?.();
    }
  }

  /** The events after the connection's cursor up to `resumeFrom` are gone: say so, then go on from there. */
  #gap(connection: StreamConnection, resumeFrom: bigint): void {
    this.send(connection, {
      type: 'gap',
      after: this.#cursors.seal(connection.cursor),
      resumeFrom: this.#cursors.seal(resumeFrom),
    });
    connection.cursor = resumeFrom;
  }

  /**
   * A replay sends as fast as the client reads, not faster: past half the
   * limit it waits for the buffer to drain. False when the connection closed
   * or did not drain in time (then it is closed as too slow).
   */
  async #drained(connection: StreamConnection): Promise<boolean> {
    const threshold = this.#maxBufferedBytes / 2;
    if (connection.socket.bufferedAmount <= threshold) return connection.state !== 'closed';
    const deadline = Date.now() + this.#replayStallMs;
    while (connection.state !== 'closed' && connection.socket.bufferedAmount > threshold) {
      if (Date.now() > deadline) {
        this.#tooSlow(connection);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    return connection.state !== 'closed';
  }

  #deliver(connection: StreamConnection, data: Buffer): boolean {
    // What the client had not taken when this turn began: frames held in this turn are not its slowness.
    const backlog = connection.corked ? connection.backlog : connection.socket.bufferedAmount;
    if (backlog > this.#maxBufferedBytes) {
      this.#tooSlow(connection);
      return false;
    }
    if (connection.raw && !connection.corked) {
      connection.corked = true;
      connection.backlog = backlog;
      connection.corkedBytes = 0;
      connection.raw.cork();
      this.#corked.push(connection);
      this.#scheduleFlush();
    }
    connection.socket.send(data, { binary: false });
    if (connection.corked) {
      connection.corkedBytes += data.length;
      if (connection.corkedBytes >= COALESCE_BYTES) this.#uncork(connection);
    }
    return true;
  }

  #uncork(connection: StreamConnection): void {
    connection.corked = false;
    connection.raw?.uncork();
  }

  /** Held sockets are written out once the current turn of the event loop is over. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const held = this.#corked;
      this.#corked = [];
      for (const connection of held) if (connection.corked) this.#uncork(connection);
    });
  }

  #tooSlow(connection: StreamConnection): void {
    this.#logger.warn(
      { subject: connection.principal.subject, buffered: connection.socket.bufferedAmount },
      'stream client too slow: closed, it resumes from its cursor',
    );
    this.close(connection, CLOSE_CODES.tooSlow, 'too slow: reconnect and resume from your cursor');
  }

  #refuse(connection: StreamConnection, message: string): void {
    const now = Date.now();
    if (now - connection.invalidWindowStart > INVALID_FRAME_WINDOW_MS) {
      connection.invalidWindowStart = now;
      connection.invalidFrames = 0;
    }
    connection.invalidFrames += 1;
    if (connection.invalidFrames >= this.#invalidFrameLimit) {
      this.#logger.warn(
        { subject: connection.principal.subject, organisationId: connection.principal.organisationId },
        'stream client sent too many invalid frames: closed',
      );
      this.close(connection, CLOSE_CODES.invalidFrames, 'too many invalid frames');
      return;
    }
    this.send(connection, { type: 'error', code: 'RENKEI_INVALID_REQUEST', message });
  }
}

function serialise(frame: ServerFrame | EventFrame): Buffer {
  return Buffer.from(JSON.stringify(frame));
}

function textOf(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
