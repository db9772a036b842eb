import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real server processes on fixed loopback port ranges;
    // files run in parallel but each picks its own ports (see test/helpers/ports.ts).
    pool: 'forks',
  },
});
