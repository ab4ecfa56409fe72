import { audienceOf, viewFeedEvent } from '@renkei/policy';
import type { Logger } from '@renkei/runtime';
import {
  FEED_EVENT_SCHEMA,
  type AlertRecord,
  type FeedEvent,
  type Principal,
  type ServerFrame,
} from '@renkei/schema';

/** What the hub needs of a connection; a `ws` WebSocket fits. */
export interface StreamSocket {
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface Subscriber {
  principal: Principal;
  socket: StreamSocket;
}

/** WebSocket close codes the gateway uses. */
export const CLOSE_CODES = {
  goingAway: 1001,
  /** The client reads too slowly; it should reconnect. */
  tryAgainLater: 1013,
  /** The token expired, or its organisation was disabled: reconnect with a new token. */
  accessRevoked: 4401,
} as const;

const REMEMBERED_ALERTS = 10_000;

/**
 * Fans alert versions out to connected viewers, each seeing the view the
 * policy allows. The outbox may publish a version twice; the hub sends each
 * (alert, version) once and never an older version after a newer one.
 */
export class StreamHub {
  readonly #subscribers = new Set<Subscriber>();
  readonly #latestVersion = new Map<string, number>();
  readonly #maxBufferedBytes: number;
  readonly #logger: Logger;

  constructor({ maxBufferedBytes, logger }: { maxBufferedBytes: number; logger: Logger }) {
    this.#maxBufferedBytes = maxBufferedBytes;
    this.#logger = logger;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  add(subscriber: Subscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Sends a new alert version at its feed position to every viewer who may see it; returns how many. */
  publish(alert: AlertRecord, cursor: string): number {
    return this.publishEvent({
      schema: FEED_EVENT_SCHEMA,
      position: cursor,
      sequencedAt: alert.updatedAt,
      kind: 'alert',
      payload: alert,
    });
  }

  /**
   * Sends a feed event to every viewer the policy gives a frame for; returns
   * how many. The frame is made and serialised once per audience.
   */
  publishEvent(event: FeedEvent): number {
    if (event.kind === 'alert') {
      const seen = this.#latestVersion.get(event.payload.id);
      if (seen !== undefined && seen >= event.payload.version) return 0;
      this.#remember(event.payload.id, event.payload.version);
    }
    const frames = new Map<string, string | null>();
    let delivered = 0;
    for (const subscriber of this.#subscribers) {
      const audience = audienceOf(subscriber.principal);
      let text = frames.get(audience);
      if (text === undefined) {
        const frame = viewFeedEvent(subscriber.principal, event);
        text = frame ? JSON.stringify(frame) : null;
        frames.set(audience, text);
      }
      if (text !== null && this.#sendText(subscriber, text)) delivered += 1;
    }
    return delivered;
  }

  /** Closes every connection whose viewer may no longer be connected. */
  revokeWhere(stillAllowed: (principal: Principal) => boolean, code: number, reason: string): number {
    let revoked = 0;
    for (const subscriber of this.#subscribers) {
      if (stillAllowed(subscriber.principal)) continue;
      this.#subscribers.delete(subscriber);
      subscriber.socket.close(code, reason);
      revoked += 1;
    }
    return revoked;
  }

  send(subscriber: Subscriber, frame: ServerFrame): boolean {
    return this.#sendText(subscriber, JSON.stringify(frame));
  }

  #sendText(subscriber: Subscriber, text: string): boolean {
    if (subscriber.socket.bufferedAmount > this.#maxBufferedBytes) {
      this.#logger.warn(
        { subject: subscriber.principal.subject, buffered: subscriber.socket.bufferedAmount },
        'stream client too slow: disconnected',
      );
      this.#subscribers.delete(subscriber);
      subscriber.socket.close(CLOSE_CODES.tryAgainLater, 'too slow: reconnect');
      return false;
    }
    subscriber.socket.send(text);
    return true;
  }

  closeAll(code: number, reason: string): void {
    for (const subscriber of this.#subscribers) subscriber.socket.close(code, reason);
    this.#subscribers.clear();
  }

  #remember(alertId: string, version: number): void {
    // Map keeps insertion order: re-inserting moves the alert to the young end.
    this.#latestVersion.delete(alertId);
    this.#latestVersion.set(alertId, version);
    if (this.#latestVersion.size > REMEMBERED_ALERTS) {
      const oldest = this.#latestVersion.keys().next().value;
      if (oldest !== undefined) this.#latestVersion.delete(oldest);
    }
  }
}
