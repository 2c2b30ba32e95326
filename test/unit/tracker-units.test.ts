import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newRecord } from '../../src/engine/record';
import { DEFAULT_STAGES } from '../../src/engine/defaults';
import { createGate, type GateOptions } from '../../src/privacy/gate';
import { onLifecycle, runSteps } from '../../src/tracker/lifecycle';
import { createStages } from '../../src/tracker/stages';
import type { QualifiedEvent } from '../../src/tracker/types';
import { createWriter, FIRST_WRITE_MS, MAX_BATCH, WRITE_DELAY_MS, WRITE_INTERVAL_MS } from '../../src/tracker/writer';
import type { Props, ScoringModel, Signal, StoredBeacon } from '../../src/types';
import type { JournalEntry } from '../../src/store/journal';
import { guard } from '../../src/util/guard';

const signal = (i: number): Signal => ({ name: 'x', props: {}, time: i, id: `s${i}` });

describe('privacy gate', () => {
  const base: GateOptions = { consent: 'granted', respectPrivacySignals: true, allowAutomation: false, endpoint: '/c', consentPlatform: false };
  const reads = (over: Partial<Record<'automation' | 'privacySignal' | 'optOut', boolean>> = {}) => ({
    automation: () => over.automation ?? false,
    privacySignal: () => over.privacySignal ?? false,
    optOut: () => over.optOut ?? false,
  });
  it.each<[string, Partial<GateOptions>, Parameters<typeof reads>[0], { record: boolean; persist: boolean; send: boolean }]>([
    ['granted, no signals', {}, {}, { record: true, persist: true, send: true }],
    ['no endpoint', { endpoint: null }, {}, { record: true, persist: true, send: false }],
    ['consent required', { consent: 'required' }, {}, { record: true, persist: false, send: false }],
    ['auto with a consent platform on the page', { consent: 'auto', consentPlatform: true }, {}, { record: true, persist: false, send: false }],
    ['auto without a platform', { consent: 'auto' }, {}, { record: true, persist: true, send: true }],
    ['Global Privacy Control', {}, { privacySignal: true }, { record: true, persist: false, send: false }],
    ['privacy signals not respected', { respectPrivacySignals: false }, { privacySignal: true }, { record: true, persist: true, send: true }],
    ['automation', {}, { automation: true }, { record: false, persist: true, send: false }],
    ['automation allowed', { allowAutomation: true }, { automation: true }, { record: true, persist: true, send: true }],
  ])('%s', (_, options, read, expected) => {
    const gate = createGate({ ...base, ...options }, reads(read));
    expect({ record: gate.canRecord(), persist: gate.canPersist(), send: gate.canSend() }).toEqual(expected);
  });

  it('reads the stored opt-out only once storage may be read, and only once', () => {
    const optOut = vi.fn(() => true);
    const gate = createGate({ ...base, consent: 'required' }, { ...reads(), optOut });
    expect(gate.readStoredOptOut()).toBe(false);
    expect(optOut).not.toHaveBeenCalled();
    expect(gate.setConsent(true)).toBe(true);
    expect(gate.setConsent(true)).toBe(false);
    expect(gate.readStoredOptOut()).toBe(true);
    gate.readStoredOptOut();
    expect(optOut).toHaveBeenCalledTimes(1);
    expect(gate.canRecord()).toBe(false);
  });
});

describe('write queue', () => {
  let time = 0;
  let writes: { signals: Signal[]; traits: Props }[] = [];
  let journal: JournalEntry[] = [];
  let forgotten: string[] = [];
  let traitsIds = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    time = 0;
    writes = [];
    journal = [];
    forgotten = [];
    traitsIds = 0;
  });
  afterEach(() => vi.useRealTimers());
  const make = (write = async (signals: Signal[], traits: Props) => (writes.push({ signals, traits }), true)) =>
    createWriter({
      ready: Promise.resolve(),
      monotonic: () => time,
      beforeWrite: () => undefined,
      write,
      journal: { write: (signals) => (journal = signals), forget: (ids) => (forgotten = [...ids]) },
      traitsId: () => 't' + ++traitsIds,
      nextTask: (run) => void Promise.resolve().then(run),
      guard,
    });
  const advance = async (ms: number): Promise<void> => {
    time += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };

  it('waits FIRST_WRITE_MS after the start, then writes a burst in one transaction', async () => {
    const writer = make();
    for (let i = 0; i < 10; i++) writer.add(signal(i));
    await advance(FIRST_WRITE_MS - 10);
    expect(writes).toEqual([]);
    await advance(20);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.signals).toHaveLength(10);
  });

  it('writes at most once per interval while signals keep coming, and waits WRITE_DELAY_MS after a lone signal', async () => {
    const writer = make();
    await advance(FIRST_WRITE_MS);
    for (let step = 0; step < 20; step++) {
      writer.add(signal(step));
      await advance(25);
    }
    expect(writes.length).toBeLessThanOrEqual(Math.ceil((20 * 25) / WRITE_INTERVAL_MS) + 1);
    await advance(WRITE_INTERVAL_MS);
    expect(writes.flatMap((write) => write.signals)).toHaveLength(20);
    await advance(1000);
    const before = writes.length;
    writer.add(signal(99));
    await advance(WRITE_DELAY_MS - 1);
    expect(writes).toHaveLength(before);
    await advance(2);
    expect(writes).toHaveLength(before + 1);
  });

  it('splits a huge burst into batches of MAX_BATCH on flush', async () => {
    const writer = make();
    for (let i = 0; i < MAX_BATCH * 2 + 1; i++) writer.add(signal(i));
    await writer.flush();
    expect(writes.map((write) => write.signals.length)).toEqual([MAX_BATCH, MAX_BATCH, 1]);
  });

  it('journals pending and in-flight signals when the page goes, and forgets them once stored', async () => {
    let release: (() => void) | undefined;
    const writer = make(async (signals, traits) => {
      if (!release) await new Promise<void>((resolve) => (release = resolve)); // hold the first write
      writes.push({ signals, traits });
      return true;
    });
    writer.add(signal(1));
    const flushed = writer.flush();
    while (!release) await Promise.resolve(); // the write of s1 is in flight
    writer.add(signal(2));
    writer.journalNow();
    expect(journal.map((s) => s.id)).toEqual(['s1', 's2']);
    release!();
    await flushed;
    expect(forgotten).toEqual(['s2']); // each stored batch is dropped from the journal (s1 first, then s2)
    expect(writes.map((write) => write.signals.map((s) => s.id))).toEqual([['s1'], ['s2']]);
  });

  it('journals traits not yet committed, and forgets them once no newer ones wait', async () => {
    let release: (() => void) | undefined;
    const writer = make(async (signals, traits) => {
      if (!release) await new Promise<void>((resolve) => (release = resolve)); // hold the first write
      writes.push({ signals, traits });
      return true;
    });
    writer.addTraits({ email: 'a@x.io' });
    const flushed = writer.flush();
    while (!release) await Promise.resolve(); // the write of the traits is in flight
    writer.addTraits({ plan: 'pro' });
    writer.journalNow();
    expect(journal).toEqual([{ name: 'identify', props: { email: 'a@x.io', plan: 'pro' }, time: 0, id: 't1', traits: true }]);
    release!();
    await flushed;
    await writer.flush();
    expect(writes.map((write) => write.traits)).toEqual([{ email: 'a@x.io' }, { plan: 'pro' }]);
    expect(forgotten).toEqual(['t1']);
  });

  it('puts replayed traits before the pending ones: the newer value wins', async () => {
    const writer = make();
    writer.addTraits({ email: 'new@x.io' });
    writer.prependTraits({ email: 'old@x.io', plan: 'pro' });
    await writer.flush();
    expect(writes[0]!.traits).toEqual({ email: 'new@x.io', plan: 'pro' });
  });

  it('merges traits into the next write and runs queued tasks in order', async () => {
    const writer = make();
    writer.addTraits({ plan: 'pro' });
    writer.addTraits({ email: 'a@b.co' });
    void writer.flush();
    let writesSeenByTask = -1;
    await writer.queue(() => (writesSeenByTask = writes.length));
    expect(writes[0]!.traits).toEqual({ plan: 'pro', email: 'a@b.co' });
    expect(writesSeenByTask).toBe(1);
  });

  it('puts replayed signals first, without duplicates', async () => {
    const writer = make();
    const a = signal(1);
    writer.add(a);
    writer.prepend([signal(0), a]);
    await writer.flush();
    expect(writes[0]!.signals.map((s) => s.id)).toEqual(['s0', 's1']);
  });
});

describe('stage tracker', () => {
  const model: ScoringModel = { rules: [], stages: DEFAULT_STAGES, halfLifeDays: 14, sessionMinutes: 30, coolOffDays: 30 };
  const beacon = (id: string) => ({ id, stage: 'mql', n: 1 }) as StoredBeacon;
  it("tells this tab's crossings once, and other tabs' crossings once when a record shows them", () => {
    const events: QualifiedEvent[] = [];
    const stages = createStages({ model, beaconFor: (_, crossing) => beacon(`v.${crossing.stage}.${crossing.n}`), emit: (event) => events.push(event), monotonic: () => 5, guard });
    const record = newRecord('v', 1000);
    stages.observe(record); // nothing reached yet
    record.stages.mql = { at: 2000, n: 1, lapsed: false };
    stages.crossed([{ stage: 'mql', threshold: 50, score: 52, at: 2000, n: 1 }], [beacon('v.mql.1')], record);
    expect(events.map((event) => event.id)).toEqual(['v.mql.1']);
    expect(stages.qualifiedAt.get('v.mql.1')).toBe(5);
    stages.observe(record);
    expect(events).toHaveLength(1);
    record.stages.mql = { at: 9000, n: 2, lapsed: false }; // another tab qualified again
    stages.observe(record);
    expect(events.map((event) => event.id)).toEqual(['v.mql.1', 'v.mql.2']);
    stages.forget();
    stages.observe(record);
    expect(events).toHaveLength(3);
  });
});

describe('page lifecycle', () => {
  it('maps visibility, pagehide, a bfcache pageshow and online to their handlers; stops cleanly', () => {
    const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    const win = new EventTarget();
    const calls: string[] = [];
    const stop = onLifecycle(
      { hidden: () => calls.push('hidden'), visible: () => calls.push('visible'), leave: () => calls.push('leave'), restored: () => calls.push('restored'), online: () => calls.push('online') },
      guard,
      { document: doc, window: win },
    );
    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    win.dispatchEvent(new Event('pagehide'));
    win.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: false }));
    win.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange'));
    win.dispatchEvent(new Event('online'));
    stop();
    win.dispatchEvent(new Event('pagehide'));
    expect(calls).toEqual(['hidden', 'leave', 'restored', 'visible', 'online']);
  });

  it('contains a handler that throws', () => {
    const win = new EventTarget();
    const throwing = () => {
      throw new Error('ours');
    };
    onLifecycle({ hidden: throwing, visible: throwing, leave: throwing, restored: throwing, online: throwing }, guard, { document: Object.assign(new EventTarget(), { visibilityState: 'hidden' }), window: win });
    expect(() => win.dispatchEvent(new Event('pagehide'))).not.toThrow();
  });

  it('runs start-up steps one per task, in order, including steps added by steps', async () => {
    const order: number[] = [];
    const steps: (() => void)[] = [() => (order.push(1), steps.push(() => order.push(3))), () => order.push(2)];
    let tasks = 0;
    await runSteps(steps, { next: (run) => (tasks++, void setTimeout(run, 0)), guard, stopped: () => false });
    expect(order).toEqual([1, 2, 3]);
    expect(tasks).toBe(4);
  });
});

describe('record owner', () => {
  it('runs changes in one transaction each, keeps the newest copy and reports what it saw', async () => {
    const { createVisitorStore } = await import('../../src/store/visitor');
    const { createRecords } = await import('../../src/tracker/records');
    const store = createVisitorStore({ persist: false });
    const seen: number[] = [];
    const records = createRecords({
      store: () => store,
      revive: (stored) => (stored ? structuredClone(stored as ReturnType<typeof newRecord>) : newRecord('v', 1)),
      onSeen: (record) => seen.push(record.visits),
    });
    expect(records.latest()).toBeNull();
    const first = await records.update((record) => {
      record.visits = 1;
    });
    expect(first.visits).toBe(1);
    await records.update(
      (record) => {
        record.visits = 2;
      },
      { seen: false },
    );
    expect(records.committed()?.visits).toBe(2);
    expect(seen).toEqual([1]);
    await records.read();
    expect(seen).toEqual([1, 2]);
    records.forget();
    expect(records.committed()).toBeNull();
  });
});
