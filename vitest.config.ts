import { defineConfig } from 'vitest/config';

export default defineConfig({
  define: { __DEBUG__: 'true', __WEB_VITALS__: 'true' },
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      // The collector against its real databases: the embedded one, and PostgreSQL when it answers
      // (REQUIRE_POSTGRES=1 makes its absence a failure). Files run one at a time: each test file
      // starts servers and databases of its own, and the machine has two cores.
      { extends: true, test: { name: 'collector', include: ['test/collector/**/*.test.ts'], environment: 'node', fileParallelism: false, testTimeout: 30_000 } },
      {
        extends: true,
        test: {
          name: 'dom',
          include: ['test/dom/**/*.test.ts'],
          environment: 'happy-dom',
          setupFiles: ['test/dom/setup.ts'],
        },
      },
    ],
  },
});
