/**
 * Group commit for chunks: the partitions of one fetch hand in their chunks
 * at the same moment (kafkajs runs their `eachBatch` concurrently), and the
 * ones that arrive while a transaction is running wait for it; each group
 * of waiting chunks is then stored in ONE transaction.
 *
 * Why: a chunk's transaction costs a dozen round trips whatever its size,
 * and the chunks of different partitions lock the same sectors, so they
 * could only run one after the other anyway. Six partitions at 250 reports/s
 * meant six small transactions in a row per fetch: a report waited for the
 * others' commits, not for its own work. Grouped, it waits for at most the
 * transaction running when it arrived, and then its own.
 *
 * Each chunk's caller still resolves its own offsets only once the group's
 * transaction committed; a failed group fails every chunk in it, and each
 * caller recovers on its own (retry, or one report at a time).
 */
export class ChunkGroups<Item, Outcome> {
  private readonly waiting: {
    items: readonly Item[];
    resolve: (outcomes: Outcome[]) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private running = false;
  private scheduled = false;

  /**
   * @param store stores items in one transaction and returns one outcome per item, in their order
   * @param maxItems a group takes whole chunks until it holds at least this many items
   */
  constructor(
    private readonly store: (items: readonly Item[]) => Promise<Outcome[]>,
    private readonly maxItems: number,
  ) {}

  /** Stores the chunk with whatever else is waiting; resolves once their transaction committed. */
  process(items: readonly Item[]): Promise<Outcome[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.schedule();
    });
  }

  /** Starts the next group after the current turn, so every chunk handed in with this one joins it. */
  private schedule(): void {
    if (this.running || this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.runGroup();
    });
  }

  private async runGroup(): Promise<void> {
    if (this.running || this.waiting.length === 0) return;
    this.running = true;
    const group: typeof this.waiting = [];
    let count = 0;
    while (this.waiting.length > 0 && (group.length === 0 || count < this.maxItems)) {
      const next = this.waiting.shift()!;
      group.push(next);
      count += next.items.length;
    }
    try {
      const outcomes = await this.store(group.flatMap((chunk) => chunk.items));
      let start = 0;
      for (const chunk of group) {
        chunk.resolve(outcomes.slice(start, start + chunk.items.length));
        start += chunk.items.length;
      }
    } catch (error) {
      for (const chunk of group) chunk.reject(error);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
