import type { VisitorState } from '../types';
import type { Tracker } from './types';

export const noop = (): void => undefined;

/** The state of a visitor nothing is known about (an inert tracker, a failed read). */
export const emptyState = (id: string): VisitorState => ({
  visitorId: id,
  score: 0,
  stage: null,
  signals: {},
  rules: {},
  visits: 0,
  firstSeen: 0,
  lastSeen: 0,
  qualified: {},
  traits: {},
  storage: 'memory',
});

/** A tracker that does nothing: server rendering, and pages where tracking is off. */
export function createInertTracker(): Tracker {
  return {
    track: noop,
    identify: noop,
    getState: () => Promise.resolve(emptyState('')),
    on: () => noop,
    consent: noop,
    optOut: noop,
    reset: () => Promise.resolve(),
    flush: () => Promise.resolve(),
    destroy: noop,
  };
}
