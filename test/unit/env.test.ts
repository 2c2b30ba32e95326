import { afterEach, describe, expect, it, vi } from 'vitest';

/** A fresh copy of the module: nextTask keeps its channel in module state. */
const load = async (): Promise<typeof import('../../src/util/env')> => {
  vi.resetModules();
  return import('../../src/util/env');
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('nextTask', () => {
  it('runs callbacks in call order, each in its own task after the current one and its microtasks', async () => {
    const { nextTask } = await load();
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      nextTask(() => {
        seen.push('first');
        void Promise.resolve().then(() => seen.push("first's microtask"));
      });
      nextTask(() => {
        seen.push('second');
        nextTask(() => {
          seen.push('queued by second');
          resolve();
        });
      });
      void Promise.resolve().then(() => seen.push('microtask'));
      seen.push('sync');
    });
    expect(seen).toEqual(['sync', 'microtask', 'first', "first's microtask", 'second', 'queued by second']);
  });

  it('opens one channel for all its calls', async () => {
    let opened = 0;
    vi.stubGlobal(
      'MessageChannel',
      class extends MessageChannel {
        constructor() {
          super();
          opened++;
        }
      },
    );
    const { nextTask } = await load();
    let ran = 0;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 20; i++) nextTask(() => ++ran === 20 && resolve());
    });
    await new Promise<void>((resolve) => nextTask(resolve));
    expect(ran).toBe(20);
    expect(opened).toBe(1);
  });

  it('falls back to a timer where MessageChannel is missing', async () => {
    vi.stubGlobal('MessageChannel', undefined);
    const { nextTask } = await load();
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      nextTask(() => seen.push('a'));
      nextTask(() => {
        seen.push('b');
        resolve();
      });
      seen.push('sync');
    });
    expect(seen).toEqual(['sync', 'a', 'b']);
  });
});
