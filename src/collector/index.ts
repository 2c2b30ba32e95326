/**
 * leadscore/collector: the service behind `npx leadscore serve`, for embedding in your own
 * process (tests, a custom server). Never part of the browser bundles.
 */
export { parseCollectorConfig, type CollectorConfig, type SiteConfig } from './config';
export { createCollector, type CollectorOptions } from './http/server';
export { openStore } from './store/open';
export { createLogger, silentLogger, type Logger } from './log';
export { classifySource, type Source } from './leads/source';
export { foldEvent, leadIdOf, type Lead, type LeadStatus } from './leads/lead';
export { checkPlausibility } from './leads/plausibility';
export type { LeadStore, LeadQuery, LeadPage } from './store/types';
export { parseDestinations, toRoute, type Destination, type EventType } from './destinations/config';
export { buildPayload, type LeadEventPayload } from './destinations/payload';
export { signWebhook } from './destinations/senders';
export { createDispatcher, type Dispatcher } from './destinations/dispatcher';
