// vitest globalSetup for the integration project: one real local control plane
// (DynamoDB Local with streams, the API handler over HTTP, stream pollers, schedules),
// in memory, on a free port. Tests reach it over HTTP and DynamoDB Local directly.
import type { TestProject } from 'vitest/node';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Handlers log JSON per request; keep test output to warnings and errors.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  // Migration tests wait out the placement stable period; 300 s outside tests.
  process.env.SHOAL_PLACEMENT_STABLE_SECONDS ??= '8';
  // The failover test waits out the grace period of a deleted, dead cluster; 300 s outside tests.
  process.env.SHOAL_CLUSTER_DRAIN_GRACE_SECONDS ??= '15';
  const { startControlPlane } = await import('../../shared/local/control-plane.ts');
  const controlPlane = await startControlPlane({ port: 0, inMemory: true, scheduleIntervalSeconds: 5 });
  project.provide('shoalServer', controlPlane.url);
  project.provide('dynamodbEndpoint', controlPlane.dynamodbEndpoint);
  project.provide('secretStore', process.env.SHOAL_SECRET_STORE ?? '');
  return () => controlPlane.stop();
}
