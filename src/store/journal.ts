import type { Signal } from '../types';

/**
 * A journal entry: a signal, or (`traits: true`) the traits of identify() calls not yet committed,
 * as props. Traits are merged in journal order on replay, so the newest value wins.
 */
export type JournalEntry = Signal & { traits?: true };
import { toJson } from '../util/json';
import { toProps, toSignalName } from '../util/sanitize';

/**
 * A write-ahead journal for the signals a page has not yet committed when it is hidden or left.
 * IndexedDB writes are asynchronous and a page that navigates away (a classic add-to-cart form
 * post) can be gone before the transaction commits; localStorage writes are synchronous. The next
 * page load (in any tab) replays the journal; signal ids make a replay of a signal that did commit
 * a no-op (VisitorRecord.seen).
 */
export const JOURNAL_KEY = 'leadscore:journal';
const MAX_ENTRIES = 50;

/**
 * Cart adds whose outcome the next page in this tab tells (a form post the store may answer with its
 * error notice). Per tab, hence sessionStorage: another tab's page says nothing about this post.
 */
export const PROVISIONAL_KEY = 'leadscore:provisional';

type StorageName = 'localStorage' | 'sessionStorage';

function read(key = JOURNAL_KEY, area: StorageName = 'localStorage'): JournalEntry[] {
  let raw: string | null = null;
  try {
    raw = window[area].getItem(key);
  } catch {
    return [];
  }
  if (!raw) return [];
  let entries: unknown;
  try {
    entries = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(entries)) return [];
  const signals: JournalEntry[] = [];
  for (const entry of entries.slice(-MAX_ENTRIES)) {
    const { name, props, time, id, traits } = (entry ?? {}) as Record<string, unknown>;
    const clean = toSignalName(name);
    if (!clean || typeof time !== 'number' || !Number.isFinite(time) || typeof id !== 'string' || id.length > 40) continue;
    signals.push(traits === true ? { name: clean, props: toProps(props), time, id, traits } : { name: clean, props: toProps(props), time, id });
  }
  return signals;
}

function write(signals: JournalEntry[], key = JOURNAL_KEY, area: StorageName = 'localStorage'): void {
  try {
    if (signals.length) window[area].setItem(key, toJson(signals.slice(-MAX_ENTRIES)));
    else window[area].removeItem(key);
  } catch {
    // Full or blocked storage: the IndexedDB write started at the same time is all we have.
  }
}

/** Adds signals (merged by id with what other tabs journaled). Synchronous. */
export function writeJournal(signals: readonly JournalEntry[]): void {
  if (!signals.length) return;
  const existing = read();
  const ids = new Set(existing.map((signal) => signal.id));
  write([...existing, ...signals.filter((signal) => !ids.has(signal.id))]);
}

/** Removes and returns the journaled entries, validated like any untrusted input. */
export function takeJournal(): JournalEntry[] {
  const signals = read();
  if (signals.length) write([]);
  return signals;
}

/** Drops committed signals from the journal, if there is one. */
export function forgetJournal(ids: ReadonlySet<string>): void {
  const signals = read();
  if (signals.length) write(signals.filter((signal) => !ids.has(signal.id!)));
}

/** Deletes the journal and this tab's provisional adds (opt-out, reset, consent revoked). */
export const clearJournal = (): void => {
  write([]);
  write([], PROVISIONAL_KEY, 'sessionStorage');
};

/** Replaces this tab's provisional adds with `signals` (the page is hidden or left). Synchronous. */
export const writeProvisional = (signals: readonly Signal[]): void => write([...signals], PROVISIONAL_KEY, 'sessionStorage');

/** Removes and returns the provisional adds a previous page of this tab left, validated. */
export function takeProvisional(): Signal[] {
  const signals = read(PROVISIONAL_KEY, 'sessionStorage');
  if (signals.length) write([], PROVISIONAL_KEY, 'sessionStorage');
  return signals;
}
