import { readFileSync } from 'node:fs';
import { expect, inject } from 'vitest';
import { call, collection } from './http.ts';

/** The admin kubeconfig text of a local cluster (c1, c2, …) the global setup started. */
export const kubeconfigOf = (cluster: string) => readFileSync(inject('kubeconfigs')[cluster] ?? '', 'utf8');

export interface ClusterRegistration {
  /** Kubeconfig text to register; the local cluster of the same name by default. */
  kubeconfig?: string;
  labels?: Record<string, string>;
  metrics?: { name: string; weight: number }[];
}

/** Registers a Cluster through the API (expecting 201) and returns its path. */
export async function registerCluster(namespace: string, name: string, options: ClusterRegistration = {}) {
  const spec = { kubeconfig: options.kubeconfig ?? kubeconfigOf(name), metrics: options.metrics ?? [] };
  const result = await call('POST', collection(namespace, 'clusters'), { metadata: { name, labels: options.labels ?? {} }, spec });
  expect(result.status, result.text).toBe(201);
  return `${collection(namespace, 'clusters')}/${name}`;
}

/** An object's status as the API returns it (`{}` before any). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary status fields
export async function statusOf(path: string): Promise<any> {
  return (await call('GET', path)).body?.status ?? {};
}
