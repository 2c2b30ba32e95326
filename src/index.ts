/**
 * leadscore: ESM entry. Importing this module has no side effects and never touches `window`,
 * so it is safe during server rendering; `createTracker()` there returns an inert tracker.
 */
export { createTracker, VERSION } from './tracker';
export type { Tracker, TrackerEvents, SignalEvent, ScoreEvent, QualifiedEvent, TrackerDeps } from './tracker';
export type { Options, ConsentMode } from './config';
export type { Rule, RulePeriod, MatchValue, Stage, Props, PropValue, VisitorState, RuleState } from './types';
export type { RuleHit } from './engine/score';
export type { BeaconV1, BeaconV2, LeadEventType, StoredBeacon, StoredEvent } from './transport/payload';
export type { InterestItem, UpdateType, WireInterest } from './types';
export type { LeadAnnouncement } from './tracker/announce';
