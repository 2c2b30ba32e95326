import type { Props, Rule, ScoringModel, Signal, Stage, VisitorState } from '../types';
import { matchProps } from './match';
import {
  cloneRecord,
  getOwn,
  MAX_RECENT,
  MAX_SEEN,
  MAX_SIGNAL_NAMES,
  MAX_TALLY_POINTS,
  type RuleTally,
  type VisitorRecord,
} from './record';

export const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** A rule that counted for a signal, with the points it added. */
export interface RuleHit {
  id: string;
  points: number;
}

export interface AppliedSignal {
  signal: Signal;
  hits: RuleHit[];
  /** Score just before and just after this signal, at the signal's time. */
  before: number;
  after: number;
}

export interface Crossing {
  stage: string;
  threshold: number;
  score: number;
  at: number;
  /** Qualification number for this stage: 1, then 2 after a lapse and cool-off, ... */
  n: number;
}

export interface ApplyResult {
  record: VisitorRecord;
  applied: AppliedSignal[];
  crossed: Crossing[];
}

/** Clamps to the tally bound; NaN (impossible after config validation, but stored data is not trusted) is 0. */
const clampPoints = (points: number): number =>
  points === points ? Math.max(-MAX_TALLY_POINTS, Math.min(MAX_TALLY_POINTS, points)) : 0;

/** Value at `to` of `points` valued at `from`. A clock that went backwards never inflates points. */
export function decayPoints(points: number, from: number, to: number, halfLifeDays: number): number {
  if (!(halfLifeDays > 0) || !(to > from)) return points;
  return points * Math.pow(2, -(to - from) / (halfLifeDays * DAY_MS));
}

const utcDay = (time: number): number => Math.floor(time / DAY_MS);

function inWindow(rule: Rule, day: number, now: number): boolean {
  return rule.windowDays === undefined || day > utcDay(now) - rule.windowDays;
}

/** The decayed points a rule contributes at `now`. */
function tallyPoints(rule: Rule, tally: RuleTally, now: number, halfLifeDays: number): number {
  let points = tally.points;
  if (tally.days) {
    points = 0;
    for (const [day, dayPoints] of tally.days) if (inWindow(rule, day, now)) points += dayPoints;
  }
  return decayPoints(points, tally.at, now, halfLifeDays);
}

/** Points per rule at `now`, for the rules of the model. */
export function scoreRules(record: VisitorRecord, model: ScoringModel, now: number): Record<string, number> {
  const result: Record<string, number> = {};
  for (const rule of model.rules) {
    const tally = getOwn(record.rules, rule.id);
    if (tally) result[rule.id] = tallyPoints(rule, tally, now, model.halfLifeDays);
  }
  return result;
}

/** The sum of the rules' decayed points at `now` (may be negative). */
function rawScore(record: VisitorRecord, model: ScoringModel, now: number): number {
  let total = 0;
  for (const rule of model.rules) {
    const tally = getOwn(record.rules, rule.id);
    if (tally) total += tallyPoints(rule, tally, now, model.halfLifeDays);
  }
  return total;
}

/** The visitor's score at `now`: the sum of the rules' decayed points, never below zero. */
export const scoreAt = (record: VisitorRecord, model: ScoringModel, now: number): number => Math.max(0, rawScore(record, model, now));

function periodKey(rule: Rule, record: VisitorRecord, time: number): number {
  return rule.per === 'session' ? record.visits : rule.per === 'day' ? utcDay(time) : 0;
}

/** Counts one matching signal against a rule; returns the points added (0 when capped). */
function countRule(rule: Rule, record: VisitorRecord, time: number, halfLifeDays: number): number | null {
  let tally = getOwn(record.rules, rule.id);
  if (!tally) record.rules[rule.id] = tally = { count: 0, points: 0, at: time, key: 0, used: 0 };
  const key = periodKey(rule, record, time);
  // Keys only move forward: a clock jumping back to an earlier day must not reopen a spent cap.
  if (key > tally.key) {
    tally.key = key;
    tally.used = 0;
  }
  const day = utcDay(Math.max(time, tally.at));
  if (rule.windowDays !== undefined) {
    tally.days = (tally.days ?? []).filter(([d]) => inWindow(rule, d, Math.max(time, tally.at)));
    if (!rule.per || rule.per === 'visitor') tally.used = tally.days.reduce((sum, entry) => sum + entry[2], 0);
  }
  if (rule.max !== undefined && tally.used >= rule.max) return null;

  // Points are kept valued at the newest time seen; an older (clock went back) signal is
  // discounted to that time, so the sum does not depend on the order signals arrive in.
  const reference = Math.max(time, tally.at);
  const points = decayPoints(clampPoints(rule.points), time, reference, halfLifeDays);
  const shift = (value: number): number => decayPoints(value, tally.at, reference, halfLifeDays);
  tally.points = clampPoints(shift(tally.points) + points);
  if (tally.days) {
    tally.days = tally.days.map(([d, p, c]) => [d, shift(p), c]);
    const today = tally.days.find((entry) => entry[0] === day);
    if (today) {
      today[1] = clampPoints(today[1] + points);
      today[2]++;
    } else {
      tally.days.push([day, points, 1]);
    }
  }
  tally.at = reference;
  tally.count++;
  tally.used++;
  return points;
}

/**
 * `rules`: the model's rules for this signal's name. `raw` is the unclamped score at the signal's
 * time; points added at that time add to it exactly. `record.recent` is trimmed by the caller.
 */
function applyOne(record: VisitorRecord, signal: Signal, rules: readonly Rule[], model: ScoringModel, raw: number): AppliedSignal {
  const hits: RuleHit[] = [];
  let total = 0;
  let clamped = false;
  for (const rule of rules) {
    if (!matchProps(rule.match, signal.props)) continue;
    const points = countRule(rule, record, signal.time, model.halfLifeDays);
    if (points === null) continue;
    hits.push({ id: rule.id, points });
    total += points;
    // A tally clamped at its bound adds less than `points`: the score is recomputed then.
    clamped ||= Math.abs(record.rules[rule.id]!.points) >= MAX_TALLY_POINTS;
  }
  const counts = record.signals;
  const count = getOwn(counts, signal.name);
  if (count !== undefined || Object.keys(counts).length < MAX_SIGNAL_NAMES) counts[signal.name] = (count ?? 0) + 1;
  record.recent.push([signal.name, signal.time, round2(total)]);
  record.lastSeen = Math.max(record.lastSeen, signal.time);
  const after = clamped ? scoreAt(record, model, signal.time) : Math.max(0, raw + total);
  return { signal, hits, before: Math.max(0, raw), after };
}

/** Marks stages whose score fell below the threshold; they may qualify again after the cool-off. */
function markLapses(record: VisitorRecord, stages: readonly Stage[], score: number): void {
  for (const stage of stages) {
    const mark = getOwn(record.stages, stage.name);
    if (mark && score < stage.threshold) mark.lapsed = true;
  }
}

/** Appends to `crossed` the stages `score` reaches at `time` for the first time (or again after a lapse and cool-off). */
function markCrossings(record: VisitorRecord, model: ScoringModel, score: number, time: number, crossed: Crossing[]): void {
  for (const stage of model.stages) {
    if (score < stage.threshold) continue;
    const mark = getOwn(record.stages, stage.name);
    if (!mark) {
      record.stages[stage.name] = { at: time, n: 1, lapsed: false };
    } else if (mark.lapsed && time - mark.at >= model.coolOffDays * DAY_MS) {
      mark.at = time;
      mark.n++;
      mark.lapsed = false;
    } else {
      continue;
    }
    crossed.push({ stage: stage.name, threshold: stage.threshold, score, at: time, n: getOwn(record.stages, stage.name)!.n });
  }
}

const SESSION_PROPS: Props = {};

/**
 * Applies signals in order to a copy of the record and reports what changed.
 * A signal more than `sessionMinutes` after the visitor's last activity starts a new session,
 * which records `session_start` and, from the second session on, `repeat_visit` before it.
 * Pure: the same record, signals and model always give the same result.
 */
export function applySignals(input: VisitorRecord, signals: readonly Signal[], model: ScoringModel): ApplyResult {
  const record = cloneRecord(input);
  const applied: AppliedSignal[] = [];
  const crossed: Crossing[] = [];
  const rulesFor = new Map<string, Rule[]>();
  for (const rule of model.rules) rulesFor.set(rule.signal, [...(rulesFor.get(rule.signal) ?? []), rule]);
  const known = new Set(model.rules.map((rule) => rule.id));
  for (const id of Object.keys(record.rules)) if (!known.has(id)) delete record.rules[id];
  // `seen` as a set, trimmed once at the end: a burst is linear, not 50 string compares per signal.
  const seen = new Set(record.seen);
  let forgotten = 0;
  // The raw score at `scoredAt`, while no rule has counted since: signals of no rule at the same
  // millisecond (a burst) reuse it; lapses and crossings were already marked for it.
  let scoredAt = NaN;
  let raw = 0;

  for (const signal of signals) {
    if (signal.id !== undefined) {
      if (seen.has(signal.id)) continue;
      seen.add(signal.id);
      if (record.seen.push(signal.id) - forgotten > MAX_SEEN) seen.delete(record.seen[forgotten++]!);
    }
    const time = Number.isFinite(signal.time) ? signal.time : record.lastSeen;
    const queue: Signal[] = [];
    if (record.visits === 0 || time - record.lastSeen > model.sessionMinutes * MINUTE_MS) {
      record.visits++;
      record.sessionStart = time;
      queue.push({ name: 'session_start', props: SESSION_PROPS, time });
      if (record.visits > 1) queue.push({ name: 'repeat_visit', props: { visit: record.visits }, time });
    }
    queue.push(time === signal.time ? signal : { ...signal, time });
    for (const next of queue) {
      const rules = rulesFor.get(next.name) ?? [];
      const fresh = rules.length || scoredAt !== time;
      if (fresh) {
        raw = rawScore(record, model, time);
        markLapses(record, model.stages, Math.max(0, raw));
      }
      const result = applyOne(record, next, rules, model, raw);
      applied.push(result);
      if (fresh) markCrossings(record, model, result.after, time, crossed);
      scoredAt = rules.length ? NaN : time;
    }
  }
  record.seen.splice(0, forgotten);
  if (record.recent.length > MAX_RECENT) record.recent.splice(0, record.recent.length - MAX_RECENT);
  return { record, applied, crossed };
}

/** Two decimals: scores and points as people read them (state, events, beacons). */
export const round2 = (value: number): number => Math.round(value * 100) / 100;

/** The public view of a record at `now`. */
export function toVisitorState(
  record: VisitorRecord,
  model: ScoringModel,
  options: { now: number; storage: VisitorState['storage'] },
): VisitorState {
  const rules: VisitorState['rules'] = {};
  const byRule = scoreRules(record, model, options.now);
  for (const id of Object.keys(byRule)) rules[id] = { count: getOwn(record.rules, id)!.count, points: round2(byRule[id]!) };
  let stage: string | null = null;
  const qualified: Record<string, number> = {};
  for (const candidate of model.stages) {
    const mark = getOwn(record.stages, candidate.name);
    if (mark) {
      qualified[candidate.name] = mark.at;
      stage = candidate.name;
    }
  }
  return {
    visitorId: record.id,
    score: round2(scoreAt(record, model, options.now)),
    stage,
    signals: { ...record.signals },
    rules,
    visits: record.visits,
    firstSeen: record.firstSeen,
    lastSeen: record.lastSeen,
    qualified,
    traits: { ...record.traits },
    storage: options.storage,
  };
}
