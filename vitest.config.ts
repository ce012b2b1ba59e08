import { defineConfig } from 'vitest/config';

// Three projects, as in STYLE.md: pure logic, real parts, synthesised template.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          // Failures the tests provoke on purpose would otherwise log at WARN.
          env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/k8s/global-setup.ts', 'test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 900_000,
          // Integration files share one control plane and the local clusters.
          fileParallelism: false,
        },
      },
    ],
  },
});
