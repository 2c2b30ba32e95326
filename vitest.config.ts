import { defineConfig } from 'vitest/config';

export default defineConfig({
  define: { __DEBUG__: 'true', __WEB_VITALS__: 'true' },
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
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
