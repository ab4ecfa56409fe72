import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { benchReport } from '../../../bench/lib/reports.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What became of one report id, over all its attempts. */
export interface Outcome {
  id: string;
  pair: number;
  /** The last answer: an HTTP status, or 0 when no answer came (connection refused, timeout). */
  finalStatus: number;
  attempts: number;
  /** Wall-clock ms (run clock) of the first attempt. */
  firstSentAt: number;
}

export interface Attempt {
  sentAt: number;
  ms: number;
  status: number;
}

export interface SubmitterOptions {
  origin: () => string;
  tokens: { first: string; second: string };
  /** How long a client keeps retrying one report (same id) before it gives up. */
  retryForMs: number;
  clock: () => number;
  tag: string;
}

/**
 * The clients: reports in pairs (two organisations name the same fresh
 * indicator, so every pair whose two reports are accepted raises exactly one
 * alert), each POST retried with the same id where a real client would
 * retry: no answer, 429, or a 5xx, with backoff, for a bounded time.
 */
export class Submitter {
  readonly outcomes: Outcome[] = [];
  readonly attempts: Attempt[] = [];
  readonly statuses: Record<string, number> = {};
  /** Why attempts got no answer (undici's error code: a timeout, a closed socket), for the notes. */
  readonly noAnswer: Record<string, number> = {};
  #pools = new Map<string, Pool>();
  #inFlight = 0;
  #index = 0;

  constructor(readonly options: SubmitterOptions) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (!pool) {
      // Many clients, many connections: a POST waiting for a free socket here would count as the hub's latency.
      // Not more: with 4096, opening them after a restart on the loaded machine timed out
      // (8,157 UND_ERR_CONNECT_TIMEOUT in one broker-cluster run) and counted as the hub's failures.
      pool = new Pool(origin, { connections: 1024, keepAliveTimeout: 10_000 });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  /** One report; the returned promise settles when it was answered 202 or the client gave up. */
  async submitOne(): Promise<Outcome> {
    const index = this.#index++;
    const pair = index >> 1;
    const id = randomUUID();
    const body = JSON.stringify({
      id,
      ...benchReport(this.options.tag, index, `pair-${pair}.${this.options.tag}.faults.example`),
    });
    const token = index % 2 === 0 ? this.options.tokens.first : this.options.tokens.second;
    const outcome: Outcome = { id, pair, finalStatus: 0, attempts: 0, firstSentAt: this.options.clock() };
    this.outcomes.push(outcome);
    this.#inFlight += 1;
    try {
      const giveUpAt = performance.now() + this.options.retryForMs;
      for (let attempt = 0; ; attempt += 1) {
        const sentAt = this.options.clock();
        const started = performance.now();
        let status = 0;
        try {
          const origin = this.options.origin();
          const response = await this.#pool(origin).request({
            origin,
            path: '/v1/reports',
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body,
            headersTimeout: 20_000,
            bodyTimeout: 20_000,
          });
          await response.body.dump();
          status = response.statusCode;
        } catch (error) {
          status = 0;
          const why = (error as { code?: string }).code ?? (error as Error).name;
          this.noAnswer[why] = (this.noAnswer[why] ?? 0) + 1;
        }
        outcome.attempts += 1;
        outcome.finalStatus = status;
        this.statuses[status === 0 ? 'no answer' : String(status)] =
          (this.statuses[status === 0 ? 'no answer' : String(status)] ?? 0) + 1;
        this.attempts.push({ sentAt, ms: performance.now() - started, status });
        const retry = status === 0 || status === 429 || status >= 500;
        if (!retry || performance.now() > giveUpAt) return outcome;
        // Exponential backoff with jitter, capped: thousands of clients must not hammer a hub that is down.
        const backoff = Math.min(8_000, 250 * 2 ** Math.min(attempt, 6));
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    } finally {
      this.#inFlight -= 1;
    }
  }

  /**
   * `count` reports at `rate` per second (open loop: each at its time,
   * whatever became of the previous ones). `during(elapsedMs)` is called
   * every 100 ms, for faults timed against the load. Resolves when every
   * report was answered 202 or given up on.
   */
  async openLoop(count: number, rate: number, during?: (elapsedMs: number) => void): Promise<void> {
    const started = performance.now();
    const pending: Promise<Outcome>[] = [];
    let lastTick = 0;
    for (let next = 0; next < count;) {
      const now = performance.now();
      while (next < count && started + (next * 1000) / rate <= now) {
        pending.push(this.submitOne());
        next += 1;
      }
      if (during && now - lastTick >= 100) {
        lastTick = now;
        during(now - started);
      }
      await sleep(5);
    }
    await Promise.all(pending);
  }

  /** `count` reports as fast as `concurrency` clients get answers (closed loop). */
  async burst(count: number, concurrency: number): Promise<void> {
    let remaining = count;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (remaining > 0) {
          remaining -= 1;
          await this.submitOne();
        }
      }),
    );
  }

  accepted(): Outcome[] {
    return this.outcomes.filter((outcome) => outcome.finalStatus === 202);
  }

  /** Pairs whose two reports were both answered 202: each must raise exactly one alert. */
  correlatingPairs(): Set<number> {
    const perPair = new Map<number, number>();
    for (const outcome of this.accepted()) perPair.set(outcome.pair, (perPair.get(outcome.pair) ?? 0) + 1);
    return new Set([...perPair.entries()].filter(([, reports]) => reports === 2).map(([pair]) => pair));
  }

  /** The pair an indicator value names, if it is one of this load's pair indicators. */
  pairOf(value: string): number | undefined {
    const match = /^pair-(\d+)\.(.+)\.faults\.example$/.exec(value);
    return match && match[2] === this.options.tag ? Number(match[1]) : undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
  }
}

export interface ReceivedEvent {
  alertId: string;
  version: number;
}

/**
 * A stream client that resumes: on any close it reconnects after a pause with
 * `after=` its last cursor, as packages/client does, for a bounded time.
 */
export class ResumingStream {
  readonly events: ReceivedEvent[] = [];
  reconnects = 0;
  #cursor: string | undefined;
  #socket: WebSocket | undefined;
  #closed = false;
  #connected: Promise<void> | undefined;

  constructor(
    readonly gatewayUrl: () => string,
    readonly token: string,
  ) {}

  async open(): Promise<void> {
    this.#connected = this.#connect();
    await this.#connected;
  }

  #connect(): Promise<void> {
    const url = new URL(this.gatewayUrl().replace(/^http/, 'ws') + '/v1/stream');
    if (this.#cursor) url.searchParams.set('after', this.#cursor);
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${this.token}` } });
    this.#socket = socket;
    return new Promise<void>((resolve, reject) => {
      let welcomed = false;
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as {
          type: string;
          cursor?: string;
          resumeFrom?: string;
          alert?: { id: string; version: number };
        };
        if (frame.type === 'welcome') {
          welcomed = true;
          resolve();
        }
        if (frame.type === 'alert' && frame.alert)
          this.events.push({ alertId: frame.alert.id, version: frame.alert.version });
        if (frame.cursor) this.#cursor = frame.cursor;
        if (frame.type === 'gap' && frame.resumeFrom) this.#cursor = frame.resumeFrom;
      });
      socket.on('error', () => undefined);
      socket.once('close', () => {
        if (!welcomed) return reject(new Error('stream closed before welcome'));
        if (this.#closed) return;
        void this.#reconnect();
      });
    });
  }

  async #reconnect(): Promise<void> {
    const deadline = performance.now() + 180_000;
    for (let attempt = 0; !this.#closed && performance.now() < deadline; attempt += 1) {
      await sleep(Math.min(5_000, 300 * 2 ** attempt) * (0.5 + Math.random() / 2));
      if (this.#closed) return;
      try {
        this.reconnects += 1;
        await this.#connect();
        return;
      } catch {
        // The gateway is still down: try again after a longer pause.
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.close();
    await Promise.race([closed, sleep(5_000)]);
  }
}
