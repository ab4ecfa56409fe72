import type { AlertRecord } from '@renkei/schema';

/**
 * The latest alert records this correlator read or committed, so that a
 * chunk reads from `alerts` only the versions it does not hold already. In a
 * burst the same alerts are extended by every chunk; reading each one's
 * whole record back (decompressed, sent as text and parsed) was a fifth of a
 * chunk's statements' time.
 *
 * A record is used only when the row, locked by the chunk, still has the
 * record's version, creation and update times: every writer of a record
 * (a chunk, a TLP change, a watchlist backfill, here or in another
 * correlator) gives it a new version, and an alert removed and raised again
 * restarts with later times. So an entry is never stale, only unused; and a
 * record enters only once its transaction committed (`remember`), never from
 * one that could still roll back.
 *
 * Bounded by the contributions it holds (records are most of their
 * contributions), least recently used out first.
 */
export class AlertCache {
  private readonly records = new Map<string, AlertRecord>();
  private held = 0;

  constructor(private readonly maxContributions = 20_000) {}

  /** The record held for this alert, if any: the caller checks it against the row. */
  get(correlationKey: string): AlertRecord | undefined {
    const record = this.records.get(correlationKey);
    if (record) {
      this.records.delete(correlationKey);
      this.records.set(correlationKey, record);
    }
    return record;
  }

  /** Records as committed: read from the store, or written by a transaction that committed. */
  remember(entries: Iterable<{ correlationKey: string; record: AlertRecord }>): void {
    for (const { correlationKey, record } of entries) {
      this.forget(correlationKey);
      if (record.contributions.length > this.maxContributions) continue;
      this.records.set(correlationKey, record);
      this.held += record.contributions.length;
    }
    for (const [key] of this.records) {
      if (this.held <= this.maxContributions) break;
      this.forget(key);
    }
  }

  forget(correlationKey: string): void {
    const record = this.records.get(correlationKey);
    if (!record) return;
    this.records.delete(correlationKey);
    this.held -= record.contributions.length;
  }

  get size(): number {
    return this.records.size;
  }
}
