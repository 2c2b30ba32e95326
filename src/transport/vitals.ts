import { onCLS, onINP, onLCP, onTTFB, type Metric } from 'web-vitals';
import type { Guard } from '../util/guard';
import type { BeaconV1 } from './payload';

export type Vitals = NonNullable<BeaconV1['vitals']>;

/**
 * Page experience of this page, kept up to date (`reportAllChanges`), for the beacon of a
 * qualification that happens here. Only in leadscore.js: leadscore.lite.js is built without it.
 * `defer` runs each metric's set-up later, in its own task.
 */
export function watchVitals(guard: Guard, defer: (step: () => void) => void): () => Vitals | undefined {
  const vitals: Vitals = {};
  const keep = (name: keyof Vitals, digits: number) =>
    guard((metric: Metric) => {
      vitals[name] = Number(metric.value.toFixed(digits));
    });
  const options = { reportAllChanges: true };
  // One start-up task each (the tracker's step queue): together they made a long task at 4× CPU.
  defer(() => onLCP(keep('lcp', 0), options));
  defer(() => onINP(keep('inp', 0), options));
  defer(() => onCLS(keep('cls', 4), options));
  defer(() => onTTFB(keep('ttfb', 0), options));
  return () => (Object.keys(vitals).length ? { ...vitals } : undefined);
}
