/**
 * The sleep of a background loop that others may cut short: a relay woken by
 * a notification, a worker woken by the feed. A wake that comes while the
 * loop is busy is kept, so the next pause returns at once rather than sleep
 * through work that arrived meanwhile.
 */
export class Wakeable {
  #pending = false;
  #closed = false;
  #wakeUp: (() => void) | undefined;

  /** Ends the current pause, or the next one if none is running. */
  wake(): void {
    this.#pending = true;
    this.#wakeUp?.();
  }

  /** A round begins: wakes from before it are spent. */
  beginRound(): void {
    this.#pending = false;
  }

  /** Sleeps up to `ms`; returns at once when woken since the round began, or closed. */
  pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#closed || this.#pending) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }

  /** Every pause from now on returns at once. */
  close(): void {
    this.#closed = true;
    this.#wakeUp?.();
  }
}
