import { toWireInterest } from '../engine/interest';
import { getOwn, MAX_ORDERS, type Heard, type VisitorRecord } from '../engine/record';
import { round2, scoreAt, toVisitorState, type AppliedSignal, type Crossing } from '../engine/score';
import type { LeadEventType, Props, ScoringModel, StoredEvent, UpdateType } from '../types';
import { toStoredEvent, type EventStage } from './payload';

/**
 * The lead's journey: which lead events one write causes. Pure; the tracker runs it inside the
 * transaction that applies the write's signals, so each event is decided (and queued) once across
 * tabs, exactly like the qualification it follows.
 */


export interface JourneyOptions {
  model: ScoringModel;
  updates: readonly UpdateType[];
  /** A `score` event needs the score to have risen this much since the backend last heard it. */
  updateMinPoints: number;
  /** Traits that identify a person (default `email`). */
  identityTraits: readonly string[];
  now: number;
  context: { site: string; page: string; lib: string };
}

/** The identifying traits' values, as one comparable text; '' while the visitor is anonymous. */
export function readIdentity(traits: Props, names: readonly string[]): string {
  let identity = '';
  for (const name of names) {
    const value = getOwn(traits, name);
    if (value !== undefined && value !== '') identity += name + '=' + value + '\n';
  }
  return identity.slice(0, 2000);
}

/**
 * Starts hearing on a record written before lead events existed (or whose `heard` was corrupt):
 * what it holds counts as told. Run on the record as read, before the write changes it.
 */
export function startHearing(record: VisitorRecord, options: Pick<JourneyOptions, 'model' | 'identityTraits' | 'now'>): Heard {
  return (record.heard ??= {
    identity: readIdentity(record.traits, options.identityTraits),
    identified: 0,
    score: scoreAt(record, options.model, options.now),
    scoreVisit: 0,
    orders: [],
  });
}

/** A transaction id as an id part: letters, digits and `_.:-`, at most 64. */
const toKey = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' ? String(value).replace(/[^\w.:-]/g, '_').slice(0, 64) || undefined : undefined;

/**
 * The lead events of one write, in order: stage crossings (`qualified` for the first stage,
 * `stage` for the others), then `purchased` per new transaction, `identified` when the identity
 * changed since the backend last heard it, and `score` (once a session, after a rise of at least
 * `updateMinPoints`). Nothing but crossings before the visitor holds a stage. Updates `record.heard`.
 */
export function planEvents(record: VisitorRecord, crossed: readonly Crossing[], applied: readonly AppliedSignal[], options: JourneyOptions): StoredEvent[] {
  const { model, updates, now } = options;
  const heard = startHearing(record, options);
  const identity = readIdentity(record.traits, options.identityTraits);
  const events: StoredEvent[] = [];
  const tell = (event: StoredEvent): void => {
    events.push(event);
    heard.identity = identity;
    heard.score = event.score;
  };
  const add = (type: LeadEventType, at: number, stage: EventStage, extra: EventExtra): void => tell(toLeadEvent(record, { type, at, stage, ...extra }, options));

  for (const crossing of crossed) {
    const event = toCrossingEvent(record, crossing, options);
    if (event.type === 'qualified' || updates.includes('stage')) tell(event);
  }

  let held: EventStage | undefined;
  for (const stage of model.stages) {
    const mark = getOwn(record.stages, stage.name);
    if (mark) held = { stage: stage.name, threshold: stage.threshold, n: mark.n, qualifiedAt: mark.at };
  }
  if (!held) return events;

  if (updates.includes('purchased')) {
    for (const { signal } of applied) {
      if (signal.name !== 'purchase') continue;
      const { props } = signal;
      const id = toKey(props.transaction_id);
      const key = id ?? 's' + record.visits;
      if (heard.orders.includes(key)) continue;
      heard.orders = [...heard.orders, key].slice(-MAX_ORDERS);
      const order: NonNullable<StoredEvent['order']> = {};
      if (id) order.id = String(props.transaction_id).slice(0, 100);
      if (typeof props.value === 'number' && props.value >= 0 && props.value < 1e9) order.value = props.value;
      if (typeof props.currency === 'string') order.currency = props.currency;
      add('purchased', signal.time, held, { key, order });
    }
  }
  if (updates.includes('identified') && identity && identity !== heard.identity) {
    add('identified', now, held, { key: String(++heard.identified) });
  }
  // Compared as people read scores (two decimals), like the score the last event carried.
  const score = round2(scoreAt(record, model, now));
  if (updates.includes('score') && heard.scoreVisit !== record.visits && score - heard.score >= options.updateMinPoints) {
    heard.scoreVisit = record.visits;
    add('score', now, held, { key: String(record.visits) });
  }
  return events;
}

interface EventExtra {
  key?: string;
  score?: number;
  order?: StoredEvent['order'];
}

const toEventStage = (crossing: Crossing): EventStage => ({ stage: crossing.stage, threshold: crossing.threshold, n: crossing.n, qualifiedAt: crossing.at });

/** One lead event from the record as it is, valued at the event's time. */
function toLeadEvent(
  record: VisitorRecord,
  event: { type: LeadEventType; at: number; stage: EventStage } & EventExtra,
  options: Pick<JourneyOptions, 'model' | 'context'>,
): StoredEvent {
  const state = toVisitorState(record, options.model, { now: event.at, storage: 'idb' });
  return toStoredEvent(
    { ...state, score: event.score ?? state.score },
    { ...event, interest: toWireInterest(record.interest, getOwn(record.signals, 'search') ?? 0) },
    { ...options.context, attribution: record.attribution },
  );
}

/** The event of a stage crossing: `qualified` for the first stage, `stage` for the others. */
export const toCrossingEvent = (record: VisitorRecord, crossing: Crossing, options: Pick<JourneyOptions, 'model' | 'context'>): StoredEvent =>
  toLeadEvent(
    record,
    { type: crossing.stage === options.model.stages[0]?.name ? 'qualified' : 'stage', at: crossing.at, stage: toEventStage(crossing), score: crossing.score },
    options,
  );
