import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** One second of a scenario: the longest event-loop stall of ingest and of the load client in it. */
interface Second {
  atMs: number;
  /** From ingest's `/metrics` (its window since the previous scrape); null when it did not answer. */
  ingestMs: number | null;
  clientMs: number;
}

/**
 * Where a client's wait went when ingest's own request log says it answered
 * quickly: ingest's event loop (a stall there delays accepting and reading
 * every connection), the load client's event loop (a stall there delays
 * sending and reading), or the kernel's listen queue (a handshake dropped when
 * it is full is retried only after 1, 3 and 7 s). Sampled once a second for
 * the whole scenario.
 */
export class LoopWatch {
  readonly seconds: Second[] = [];
  readonly #client = monitorEventLoopDelay({ resolution: 10 });
  readonly #overflowsBefore = listenOverflows();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    /** Ingest's metrics listener (it moves with nothing: the port stays across restarts). */
    readonly metricsUrl: string,
    readonly clock: () => number,
  ) {
    this.#client.enable();
    this.#timer = setInterval(() => void this.#sample(), 1_000);
  }

  async #sample(): Promise<void> {
    const atMs = this.clock();
    const clientMs = this.#client.max / 1e6;
    this.#client.reset();
    const ingestMs = await fetch(`${this.metricsUrl}/metrics`, { signal: AbortSignal.timeout(900) })
      .then((response) => (response.ok ? response.text() : ''))
      .then(longestStallMs, () => null);
    this.seconds.push({ atMs, ingestMs, clientMs });
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#client.disable();
  }

  /** One line for the scenario's notes; `faultAt` (run clock) places the worst second against the fault. */
  summary(faultAt?: number): string {
    this.stop();
    const at = (second: Second | undefined) =>
      second === undefined
        ? ''
        : faultAt === undefined
          ? ` at ${(second.atMs / 1000).toFixed(0)} s`
          : ` ${((second.atMs - faultAt) / 1000).toFixed(0)} s after the fault`;
    const scraped = this.seconds.filter((second) => second.ingestMs !== null);
    const worstIngest = scraped.reduce<Second | undefined>(
      (worst, second) => (worst === undefined || second.ingestMs! > worst.ingestMs! ? second : worst),
      undefined,
    );
    const worstClient = this.seconds.reduce<Second | undefined>(
      (worst, second) => (worst === undefined || second.clientMs > worst.clientMs ? second : worst),
      undefined,
    );
    const overflows = listenOverflows();
    const queue =
      overflows === null || this.#overflowsBefore === null
        ? 'listen-queue overflows unknown'
        : `${overflows - this.#overflowsBefore} listen-queue overflows on the machine`;
    return (
      `event loops, second by second: ingest's longest stall ${worstIngest ? Math.round(worstIngest.ingestMs!) : '?'} ms${at(worstIngest)} ` +
      `(${scraped.filter((second) => second.ingestMs! > 1_000).length} s with a stall over 1 s, ${this.seconds.length - scraped.length} s without an answer from its metrics); ` +
      `the load client's longest ${worstClient ? Math.round(worstClient.clientMs) : '?'} ms${at(worstClient)}; ${queue}`
    );
  }
}

/** `renkei_event_loop_delay_seconds{quantile="1"}` in ms. */
function longestStallMs(text: string): number | null {
  const line = text
    .split('\n')
    .find((l) => l.startsWith('renkei_event_loop_delay_seconds{') && l.includes('quantile="1"'));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000;
}

/** The kernel's count of connections dropped because a listen queue was full (TcpExt ListenOverflows). */
function listenOverflows(): number | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.split(/\s+/);
      if (names[0] !== 'TcpExt:') continue;
      const index = names.indexOf('ListenOverflows');
      return index < 0 ? null : Number(lines[i + 1]!.split(/\s+/)[index]);
    }
  } catch {
    // Not Linux, or /proc is not mounted.
  }
  return null;
}
