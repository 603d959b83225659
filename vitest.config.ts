import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.{ts,tsx}', 'scripts/test/**/*.test.ts', 'tests/**/*.test.ts'],
    globalSetup: ['apps/server/test/postgres-global.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
