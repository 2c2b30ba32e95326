import { parseRecord, type VisitorRecord } from '../engine/record';
import type { VisitorStore } from '../store/visitor';

export interface RecordsOptions {
  /** The store in use (it changes with consent). */
  store: () => VisitorStore;
  /** Untrusted stored value -> a valid record (a new visitor's when there is none). */
  revive: (stored: unknown) => VisitorRecord;
  /** A record this page read or committed (other tabs' stage crossings show up here). */
  onSeen: (record: VisitorRecord) => void;
}

/**
 * The one owner of the visitor record on this page. Every transaction on it (the writer's
 * batches, the outbox's claims, renewals and settlements) and every read that refreshes the page's
 * copy goes through here (getState() reads the store directly: it only reports); it keeps the
 * newest copy this page knows, which the synchronous page-hide path reads.
 */
export function createRecords(options: RecordsOptions) {
  let committed: VisitorRecord | null = null;
  /** The record the transaction in flight is committing. */
  let uncommitted: VisitorRecord | null = null;
  return {
    /**
     * Runs `change` on the record in one transaction and resolves to the committed record. With
     * `seen: false` the caller reports the record itself (the writer, which tells its own
     * crossings first).
     */
    async update(change: (record: VisitorRecord) => VisitorRecord | void, { seen = true } = {}): Promise<VisitorRecord> {
      const record = (await options.store().update((stored) => {
        const current = options.revive(stored);
        return (uncommitted = change(current) ?? current);
      })) as VisitorRecord;
      uncommitted = null;
      committed = record;
      if (seen) options.onSeen(record);
      return record;
    },
    /** Reads the stored record (other tabs may have moved on). */
    async read(): Promise<void> {
      const record = parseRecord(await options.store().read());
      if (!record) return;
      committed = record;
      options.onSeen(record);
    },
    /** The newest record this page knows, including one a transaction is committing right now. */
    latest: (): VisitorRecord | null => uncommitted ?? committed,
    /** The last committed record this page knows. */
    committed: (): VisitorRecord | null => committed,
    /** The visitor's data was deleted. */
    forget(): void {
      committed = null;
    },
  };
}

export type Records = ReturnType<typeof createRecords>;
