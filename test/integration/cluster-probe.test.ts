import { randomUUID } from 'node:crypto';
import { ApiextensionsV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { describe, expect, inject, it } from 'vitest';
import { kubeconfigOf, registerCluster, statusOf } from './support/fleet.ts';
import { call } from './support/http.ts';

// The whole chain: API write → DynamoDB stream → cluster-probe reconciler → real
// kube-apiserver → status written back, read through the API.

const ns = () => `probe-${randomUUID().slice(0, 8)}`;

describe('cluster-probe reconciler against real kube-apiservers', () => {
  it('reports each registered cluster ONLINE with its version, nodes and custom resources', async () => {
    // Prepare
    const namespace = ns();
    // Act
    const paths = [await registerCluster(namespace, 'c1'), await registerCluster(namespace, 'c2')];
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
    const path = await registerCluster(namespace, 'c1');
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
    const path = await registerCluster(namespace, 'impostor', { kubeconfig: stringify(config) });
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
    const path = await registerCluster(ns(), 'gone', { kubeconfig: stringify(config) });
    // Assess
    await expect.poll(async () => (await statusOf(path)).state, { timeout: 60_000, interval: 500 }).toBe('OFFLINE');
    expect((await statusOf(path)).reason).toMatch(/connection refused/);
  });
});
