import { defineConfig } from 'vitest/config';

/**
 * Four tiers: unit (pure, no I/O), integration (real emulators + real Redis, started once in global setup),
 * e2e (spawns the built `ghtrader up`), cdk (synth + assertions + cdk-nag). `npm test` runs all four.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    // Most integration and e2e time is waiting (timers, sockets, child processes), not CPU: four workers on two cores
    // overlap those waits (measured: integration 368 s -> 226 s alone) while e2e keeps its own one-at-a-time slot.
    maxWorkers: 4,
    // Node 20 is supported by the SDK until 2027; the notice is noise in every worker.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    reporters: ['default'],
    projects: [
      {
        extends: true,
        // Pure tests share their workers' module graph: a fresh process per file cost ~30 s of the unit project's 50.
        test: { name: 'unit', include: ['tests/unit/**/*.test.{ts,tsx}'], environment: 'node', isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.{ts,tsx}'],
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // After the other projects (group 0), two files at a time: each runs its own `ghtrader up` (temp home,
          // random ports, its own Redis where it stops one), so only CPU is shared.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: { name: 'cdk', include: ['tests/cdk/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
      },
    ],
  },
});
