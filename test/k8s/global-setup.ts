// vitest globalSetup for the integration project: two local clusters, c1 and c2.
// Reuses clusters that are already running (and leaves them running); stops the
// ones it started when the run ends. A missing Go toolchain or a failed build
// fails the run with the reason: the integration suite never skips them.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureClusters, stopClusters } from './local-clusters.ts';

export const integrationClusterCount = 2;

declare module 'vitest' {
  export interface ProvidedContext {
    /** Cluster name (c1, c2) to its admin kubeconfig path (.shoal/clusters/<name>/kubeconfig). */
    kubeconfigs: Record<string, string>;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const clusters = await ensureClusters({ count: integrationClusterCount });
  project.provide('kubeconfigs', Object.fromEntries(clusters.map((c) => [c.name, c.kubeconfigPath])));
  const started = clusters.filter((c) => c.started).map((c) => c.name);
  return async () => {
    if (started.length > 0) await stopClusters(started);
  };
}
