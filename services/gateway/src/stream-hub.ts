import { viewAlert } from '@renkei/policy';
import type { Logger } from '@renkei/runtime';
import type { AlertFrame, AlertRecord, Principal, ServerFrame } from '@renkei/schema';

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
    const seen = this.#latestVersion.get(alert.id);
    if (seen !== undefined && seen >= alert.version) return 0;
    this.#remember(alert.id, alert.version);

    let delivered = 0;
    for (const subscriber of this.#subscribers) {
      const view = viewAlert(subscriber.principal, alert);
      if (!view) continue;
      const frame: AlertFrame = { type: 'alert', cursor, alert: view };
      if (this.send(subscriber, frame)) delivered += 1;
    }
    return delivered;
  }

  send(subscriber: Subscriber, frame: ServerFrame): boolean {
    if (subscriber.socket.bufferedAmount > this.#maxBufferedBytes) {
      this.#logger.warn(
        { subject: subscriber.principal.subject, buffered: subscriber.socket.bufferedAmount },
        'stream client too slow: disconnected',
      );
      this.#subscribers.delete(subscriber);
      subscriber.socket.close(CLOSE_CODES.tryAgainLater, 'too slow: reconnect');
      return false;
    }
    subscriber.socket.send(JSON.stringify(frame));
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
