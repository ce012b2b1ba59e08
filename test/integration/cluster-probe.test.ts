import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiextensionsV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { describe, expect, inject, it } from 'vitest';
import { call, collection } from './support/http.ts';

// The whole chain: API write → DynamoDB stream → cluster-probe reconciler → real
// kube-apiserver → status written back, read through the API.

const ns = () => `probe-${randomUUID().slice(0, 8)}`;
const kubeconfigOf = (cluster: string) => readFileSync(inject('kubeconfigs')[cluster] ?? '', 'utf8');

async function register(namespace: string, name: string, kubeconfig: string, labels: Record<string, string> = {}) {
  const result = await call('POST', collection(namespace, 'clusters'), { metadata: { name, labels }, spec: { kubeconfig } });
  expect(result.status).toBe(201);
  return `${collection(namespace, 'clusters')}/${name}`;
}

async function statusOf(path: string) {
  return (await call('GET', path)).body.status ?? {};
}

describe('cluster-probe reconciler against real kube-apiservers', () => {
  it('reports each registered cluster ONLINE with its version, nodes and custom resources', async () => {
    // Prepare
    const namespace = ns();
    // Act
    const paths = [await register(namespace, 'c1', kubeconfigOf('c1')), await register(namespace, 'c2', kubeconfigOf('c2'))];
    // Assess
    for (const path of paths) {
      await expect.poll(async () => (await statusOf(path)).state, { timeout: 60_000, interval: 500 }).toBe('ONLINE');
      const status = await statusOf(path);
      expect(status.kubernetesVersion).toMatch(/^v1\.\d+\.\d+/);
      expect(status.nodes.ready).toBeGreaterThanOrEqual(2);
      expect(status.observedGeneration).toBe(1);
      expect(status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True' })]);
    }
  });

  it('sees a new custom resource definition after the cluster spec changes', async () => {
    // Prepare
    const namespace = ns();
    const path = await register(namespace, 'c1', kubeconfigOf('c1'));
    await expect.poll(async () => (await statusOf(path)).state, { timeout: 60_000, interval: 500 }).toBe('ONLINE');
    const group = `probe${randomUUID().slice(0, 6)}.shoal.test`;
    const kc = new KubeConfig();
    kc.loadFromFile(inject('kubeconfigs').c1 ?? '');
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({
      body: {
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          scope: 'Namespaced',
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
        },
      },
    });
    // Act: a spec change moves generation, which makes the probe look again at once
    await call('PATCH', path, { spec: { metrics: [{ name: 'load', weight: 1 }] } }, 'application/merge-patch+json');
    // Assess
    await expect
      .poll(async () => (await statusOf(path)).customResources ?? [], { timeout: 60_000, interval: 500 })
      .toContain(`widgets.${group}`);
    expect((await statusOf(path)).observedGeneration).toBe(2);
  });

  it('reports OFFLINE with the reason when the credentials are refused, without leaking them', async () => {
    // Prepare: c1's server and CA, but a token the API server does not know
    const config = parse(kubeconfigOf('c1')) as { users: { user: Record<string, unknown> }[] };
    const token = `bogus-${randomUUID()}`;
    for (const entry of config.users) entry.user = { token };
    const namespace = ns();
    // Act
    const path = await register(namespace, 'impostor', stringify(config));
    // Assess
    await expect.poll(async () => (await statusOf(path)).state, { timeout: 60_000, interval: 500 }).toBe('OFFLINE');
    const response = await call('GET', path);
    expect(response.body.status.reason).toMatch(/401|credentials/);
    expect(response.text).not.toContain(token);
  });

  it('reports OFFLINE when nothing listens at the server address', async () => {
    // Prepare
    const config = parse(kubeconfigOf('c1')) as { clusters: { cluster: { server: string } }[] };
    for (const entry of config.clusters) entry.cluster.server = 'https://127.0.0.1:1';
    // Act
    const path = await register(ns(), 'gone', stringify(config));
    // Assess
    await expect.poll(async () => (await statusOf(path)).state, { timeout: 60_000, interval: 500 }).toBe('OFFLINE');
    expect((await statusOf(path)).reason).toMatch(/connection refused/);
  });
});
