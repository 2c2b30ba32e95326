import { getOwn, type VisitorRecord } from '../engine/record';
import { scoreAt, type Crossing } from '../engine/score';
import type { StoredBeacon } from '../transport/payload';
import type { ScoringModel } from '../types';
import type { Guard } from '../util/guard';
import type { QualifiedEvent } from './types';

export interface StagesOptions {
  model: ScoringModel;
  /** The beacon of a crossing: the queued one if any, else built from the record. */
  beaconFor: (record: VisitorRecord, crossing: Crossing) => StoredBeacon;
  emit: (event: QualifiedEvent) => void;
  monotonic: () => number;
  guard: Guard;
}

/**
 * Stage crossings as this tab learns of them: its own (committed with their beacon and claim in
 * the write that caused them) and other tabs' (seen in any record this tab reads). Each is told
 * once per tab as a `qualified` event. A BroadcastChannel only makes other tabs look sooner;
 * correctness never depends on it.
 */
export function createStages(options: StagesOptions) {
  const { model } = options;
  /** Qualifications this tab has seen (stage -> n), to tell other tabs' new ones. */
  const known = new Map<string, number>();
  let ready = false;
  /** Monotonic time at which each beacon qualified on this page (its send's `offset`). */
  const qualifiedAt = new Map<string, number>();
  let channel: BroadcastChannel | null = null;

  /** Tells subscribers about stages other tabs reached since this tab last looked. */
  function observe(record: VisitorRecord): void {
    for (const stage of model.stages) {
      const mark = getOwn(record.stages, stage.name);
      if (!mark) continue;
      if (ready && mark.n > (known.get(stage.name) ?? 0)) {
        const crossing: Crossing = { stage: stage.name, threshold: stage.threshold, score: scoreAt(record, model, mark.at), at: mark.at, n: mark.n };
        const beacon = options.beaconFor(record, crossing);
        options.emit({ ...crossing, id: beacon.id, beacon });
      }
      known.set(stage.name, mark.n);
    }
    ready = true;
  }

  return {
    qualifiedAt,
    observe,
    /** This tab's own crossings, committed with `beacons` (same order), then the record they are in. */
    crossed(crossings: readonly Crossing[], beacons: readonly StoredBeacon[], record: VisitorRecord): void {
      crossings.forEach((crossing, i) => {
        const beacon = beacons[i]!;
        qualifiedAt.set(beacon.id, options.monotonic());
        known.set(crossing.stage, crossing.n);
        options.emit({ ...crossing, id: beacon.id, beacon });
      });
      observe(record);
      if (!crossings.length) return;
      try {
        channel?.postMessage(1);
      } catch {
        // Another tab hears of it on its next write or visit instead.
      }
    },
    /** The visitor was forgotten: every stage is new again. */
    forget(): void {
      known.clear();
    },
    /** Listens to other tabs' news (`onNews` re-reads the record). */
    open(onNews: () => void): void {
      if (channel || typeof BroadcastChannel !== 'function') return;
      channel = new BroadcastChannel('leadscore');
      channel.onmessage = options.guard(onNews);
    },
    close(): void {
      // An open BroadcastChannel can keep the page out of the back/forward cache (whatwg/html#7253).
      channel?.close();
      channel = null;
    },
  };
}

export type Stages = ReturnType<typeof createStages>;
