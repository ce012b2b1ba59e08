import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ApiException, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureClusters, stopClusters, stopComponent, type LocalCluster } from '../k8s/local-clusters.ts';
import { call, collection } from './support/http.ts';

// Real failover: an application runs on c3, c3's kube-apiserver process is killed, the
// probe reports c3 OFFLINE, the scheduler moves the app to c1, and the deployer brings it
// up there without being able to remove the copy on c3: it records what it left behind.
// c3 is this file's own cluster (the suite's global setup provides c1 and c2).

const run = () => randomUUID().slice(0, 8);
const POLL = { timeout: 90_000, interval: 500 };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
const statusOf = async (path: string): Promise<any> => (await call('GET', path)).body?.status ?? {};
const conditionOf = async (path: string, type: string) => ((await statusOf(path)).conditions ?? []).find((c: { type: string }) => c.type === type);

function objectsOn(kubeconfigPath: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return KubernetesObjectApi.makeApiClient(kc);
}

async function exists(kubeconfigPath: string, ref: { apiVersion: string; kind: string; name: string; namespace: string }): Promise<boolean> {
  try {
    await objectsOn(kubeconfigPath).read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } });
    return true;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return false;
    throw error;
  }
}

function manifests(target: string): KubernetesObject[] {
  const labels = { app: 'web' };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: target }, data: { greeting: 'hello' } } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: target },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] } },
      },
    } as KubernetesObject,
  ];
}

describe('failover from a cluster whose API server died', () => {
  let c3: LocalCluster | undefined;
  let app: string | undefined;
  const target = `failover-${run()}`;

  beforeAll(async () => {
    c3 = (await ensureClusters({ count: 3 })).find((cluster) => cluster.name === 'c3');
  });

  afterAll(async () => {
    if (app) await call('DELETE', app);
    await objectsOn(inject('kubeconfigs').c1 ?? '')
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: target } })
      .catch(() => undefined);
    if (c3?.started) await stopClusters(['c3']);
  });

  it('moves the app to c1, records what it left on c3, lets the deleted dead c3 go after the grace period, and can still delete the app', { timeout: 600_000 }, async () => {
    // Prepare: c1 and c3 registered, c3 preferred by a static metric
    const namespace = `failover-${run()}`;
    const kubeconfigs: Record<string, string> = { c1: inject('kubeconfigs').c1 ?? '', c3: c3?.kubeconfigPath ?? '' };
    const provider = await call('POST', collection(namespace, 'metricsproviders'), {
      metadata: { name: 'fixed' },
      spec: { type: 'static', static: { metrics: { 'load-c1': 10, 'load-c3': 90 } } },
    });
    expect(provider.status, provider.text).toBe(201);
    const metric = await call('POST', collection(namespace, 'metrics'), {
      metadata: { name: 'load' },
      spec: { min: 0, max: 100, provider: { name: 'fixed', metric: 'load-{cluster}' } },
    });
    expect(metric.status, metric.text).toBe(201);
    const clusters: Record<string, string> = {};
    for (const name of ['c1', 'c3']) {
      const kubeconfig = await readFile(kubeconfigs[name] ?? '', 'utf8');
      const created = await call('POST', collection(namespace, 'clusters'), { metadata: { name }, spec: { kubeconfig, metrics: [{ name: 'load', weight: 1 }] } });
      expect(created.status, created.text).toBe(201);
      clusters[name] = `${collection(namespace, 'clusters')}/${name}`;
    }
    for (const path of Object.values(clusters)) await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('ONLINE');
    const created = await call('POST', collection(namespace, 'applications'), { metadata: { name: 'web' }, spec: { manifests: manifests(target) } });
    expect(created.status, created.text).toBe(201);
    app = `${collection(namespace, 'applications')}/web`;
    const path = app;
    await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('RUNNING');
    expect(await statusOf(path)).toMatchObject({ scheduledTo: 'c3', runningOn: 'c3' });

    // Act: c3's kube-apiserver dies; etcd and the rest keep running
    await stopComponent('c3', 'apiserver');

    // Assess: OFFLINE, failed over, running on c1, the copy on c3 recorded as left behind
    await expect.poll(async () => (await statusOf(clusters.c3 ?? '')).state, POLL).toBe('OFFLINE');
    await expect.poll(async () => (await statusOf(path)).scheduledTo, POLL).toBe('c1');
    expect(await conditionOf(path, 'Scheduled')).toMatchObject({ status: 'True', reason: 'FailedOver' });
    await expect.poll(async () => [(await statusOf(path)).state, (await statusOf(path)).runningOn], POLL).toEqual(['RUNNING', 'c1']);
    expect(await exists(kubeconfigs.c1 ?? '', { apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: target })).toBe(true);
    expect(await exists(kubeconfigs.c1 ?? '', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: target })).toBe(true);
    expect((await statusOf(path)).orphans).toEqual([
      {
        cluster: 'c3',
        objects: [
          { apiVersion: 'v1', kind: 'ConfigMap', namespace: target, name: 'settings' },
          { apiVersion: 'apps/v1', kind: 'Deployment', namespace: target, name: 'web' },
        ],
      },
    ]);
    expect(await conditionOf(path, 'CleanedUp')).toMatchObject({ status: 'False', reason: 'ClusterUnreachable', message: expect.stringContaining('c3 (2)') });

    // Act: delete the dead cluster: the objects left on it hold it, but only for the grace period
    const deleteStarted = Date.now();
    expect((await call('DELETE', clusters.c3 ?? '')).status).toBe(202);
    await expect.poll(async () => (await conditionOf(clusters.c3 ?? '', 'Drained'))?.message, POLL).toMatch(/waiting for 1 application \(web\).*unreachable/);
    await expect.poll(async () => (await call('GET', clusters.c3 ?? '')).status, POLL).toBe(404);
    expect(Date.now() - deleteStarted).toBeGreaterThanOrEqual(15_000 - 1000);
    // Assess: with its Cluster gone, nothing is recorded as left behind any more
    await expect.poll(async () => (await statusOf(path)).orphans, POLL).toBeUndefined();
    expect(await conditionOf(path, 'CleanedUp')).toMatchObject({ status: 'True', reason: 'OrphansRemoved' });

    // Act: delete the application
    const deleted = await call('DELETE', path);
    expect(deleted.status, deleted.text).toBeLessThan(300);

    // Assess: gone, and removed from c1
    await expect.poll(async () => (await call('GET', path)).status, POLL).toBe(404);
    app = undefined;
    await expect.poll(() => exists(kubeconfigs.c1 ?? '', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: target }), POLL).toBe(false);
  });
});
