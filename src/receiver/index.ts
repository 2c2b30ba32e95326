/**
 * leadscore/receiver: server side. Validates, normalizes (v1 and v2) and de-duplicates lead events. Never part
 * of the browser bundle.
 */
export { fromV1, parseBeacon, type LeadEvent, type ParseResult, type ParseOptions } from './parse';
export {
  createBeaconHandler,
  createMemoryDedupe,
  isLikelyBot,
  type BeaconContext,
  type DedupeStore,
  type HandlerOptions,
  type RateLimit,
} from './handler';
export { toNodeListener } from './node';
export type { BeaconV1, BeaconV2, LeadEventType } from '../transport/payload';
export type { InterestItem, WireInterest } from '../types';
