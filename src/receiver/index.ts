/**
 * leadscore/receiver: server side. Validates and de-duplicates qualification beacons. Never part
 * of the browser bundle.
 */
export { parseBeacon, type ParseResult, type ParseOptions } from './parse';
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
export type { BeaconV1 } from '../transport/payload';
