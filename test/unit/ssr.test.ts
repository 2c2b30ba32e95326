import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('server rendering (node, no DOM)', () => {
  it('imports without touching window and returns an inert tracker', async () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    const { createTracker, VERSION } = await import('../../src/index');
    const tracker = createTracker({ endpoint: 'https://collect.example/c' });
    expect(() => tracker.track('add_to_cart')).not.toThrow();
    expect(() => tracker.destroy()).not.toThrow();
    await expect(tracker.flush()).resolves.toBeUndefined();
    expect((await tracker.getState()).signals).toEqual({});
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  // dist/ exists after `npm run build` (npm test builds first); without it this is skipped, visibly.
  it.skipIf(!existsSync(new URL('../../dist/index.js', import.meta.url)))('imports the built ESM file in plain Node', async () => {
    const module = await import('../../dist/index.js');
    const tracker = module.createTracker({});
    expect(typeof tracker.track).toBe('function');
    expect((await tracker.getState()).visitorId).toBe('');
  });
});
