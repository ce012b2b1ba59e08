import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ClusterObjects } from '../../shared/deploy/cluster-objects.ts';
import type { Manifest } from '../../shared/deploy/manifests.ts';
import { ProviderRejectedError, type InfrastructureProvider, type ProvisionTarget } from '../../shared/infrastructure/provider.ts';
import { clusterApiProvider, type LiveCluster } from '../../shared/infrastructure/providers/cluster-api.ts';
import { logger } from '../../shared/observability.ts';
import { FileSecretStore } from '../../shared/secrets/secret-store.ts';
import { freshStore } from './support/dynamodb.ts';
import { kubeconfigOf } from './support/fleet.ts';

// c1 is the management cluster: a real kube-apiserver with the real Cluster API CRDs
// (test/fixtures/cluster-api) but no Cluster API controllers, so the test plays them by
// writing the Cluster's status, MachineDeployments and the kubeconfig Secret itself.
// The "created" cluster's kubeconfig is c2's, so that credentials() can be tried for real.

const run = randomUUID().slice(0, 8);
const CAPI = { group: 'cluster.x-k8s.io', version: 'v1beta1' };
const CRD_FILES = ['cluster.x-k8s.io_clusters.yaml', 'cluster.x-k8s.io_machinedeployments.yaml'];
const POLL = { timeout: 30_000, interval: 250 };
/** The Cluster API objects of this file go to a namespace of their own on c1. */
const capiNamespace = `capi-${run}`;

function adminConfig(cluster: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfigs')[cluster] ?? '');
  return kc;
}

const c1 = () => new ClusterObjects(adminConfig('c1'));
const customObjects = () => adminConfig('c1').makeApiClient(CustomObjectsApi);

async function crds(): Promise<Manifest[]> {
  return Promise.all(CRD_FILES.map(async (file) => parse(await readFile(join(import.meta.dirname, '../fixtures/cluster-api', file), 'utf8')) as Manifest));
}

function targetOf(name: string, shape: ProvisionTarget['shape'], managementCluster = 'mgmt'): ProvisionTarget {
  return {
    id: `default-${name}`,
    namespace: 'default',
    name,
    shape,
    cloud: { name: 'lab', spec: { type: 'cluster-api', infrastructureProvider: 'capi', metrics: [], clusterApi: { namespace: capiNamespace } } },
    provider: {
      name: 'capi',
      spec: { type: 'cluster-api', clusterApi: { managementCluster, clusterClass: 'quick-start', workerClass: 'default-worker', defaultVersion: 'v1.31.0' } },
    },
  };
}

async function liveCluster(id: string): Promise<LiveCluster | undefined> {
  return (await c1().read({ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', metadata: { name: id, namespace: capiNamespace } })) as LiveCluster | undefined;
}

/** Writes an object's status through the status subresource, as a Cluster API controller does. */
async function writeStatus(plural: string, name: string, status: Record<string, unknown>) {
  const api = customObjects();
  const live = (await api.getNamespacedCustomObject({ ...CAPI, namespace: capiNamespace, plural, name })) as Record<string, unknown>;
  await api.replaceNamespacedCustomObjectStatus({ ...CAPI, namespace: capiNamespace, plural, name, body: { ...live, status } });
}

/** The worker MachineDeployment Cluster API would create for the topology, with `readyReplicas` ready. */
async function playMachineDeployment(id: string, replicas: number, readyReplicas: number) {
  const name = `${id}-workers`;
  const labels = { 'cluster.x-k8s.io/cluster-name': id };
  const applied = await c1().apply({
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'MachineDeployment',
    metadata: { name, namespace: capiNamespace, labels },
    spec: {
      clusterName: id,
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          clusterName: id,
          bootstrap: { configRef: { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', kind: 'KubeadmConfigTemplate', name: 'workers' } },
          infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'DockerMachineTemplate', name: 'workers' },
        },
      },
    },
  } as Manifest);
  expect(applied.result, JSON.stringify(applied)).toBe('applied');
  await writeStatus('machinedeployments', name, { replicas, readyReplicas, updatedReplicas: readyReplicas, availableReplicas: readyReplicas });
}

async function putKubeconfigSecret(id: string, kubeconfig: string) {
  const applied = await c1().apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${id}-kubeconfig`, namespace: capiNamespace, labels: { 'cluster.x-k8s.io/cluster-name': id } },
    type: 'cluster.x-k8s.io/secret',
    data: { value: Buffer.from(kubeconfig).toString('base64') },
  } as Manifest);
  expect(applied.result, JSON.stringify(applied)).toBe('applied');
}

const condition = (type: string, status: 'True' | 'False', message?: string) => ({
  type,
  status,
  lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  ...(message ? { message, reason: 'Waiting', severity: 'Info' } : {}),
});

describe('cluster-api provider on a real management cluster', () => {
  let provider: InfrastructureProvider;

  beforeAll(async () => {
    // Prepare: the Cluster API CRDs and a namespace on c1, and c1 registered as the management cluster
    const objects = c1();
    for (const crd of await crds()) expect((await objects.apply(crd)).result).toBe('applied');
    for (const crd of await crds()) {
      await vi.waitFor(async () => {
        const live = (await objects.read(crd)) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
        expect(live?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')).toBe(true);
        // A re-created CRD answers 429 "storage is (re)initializing" for a moment after Established.
        const { group, names } = (crd as Manifest & { spec: { group: string; names: { kind: string } } }).spec;
        await objects.list(`${group}/${CAPI.version}`, names.kind, 'default', '');
      }, POLL);
    }
    expect((await objects.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: capiNamespace } })).result).toBe('applied');

    const { store } = await freshStore('capi');
    const secrets = new FileSecretStore(join(await mkdtemp(join(tmpdir(), 'shoal-capi-test-')), 'secrets'));
    await secrets.put('mgmt-kubeconfig', kubeconfigOf('c1'));
    await store.create({ apiVersion: 'shoal.io/v1alpha1', kind: 'Cluster', metadata: { name: 'mgmt', namespace: 'default' }, spec: { kubeconfigSecret: 'mgmt-kubeconfig', metrics: [] } });
    provider = clusterApiProvider({ store, secrets, logger, now: () => new Date() });
  });

  afterAll(async () => {
    // Other test files use c1: leave it without this file's namespace and CRDs.
    const objects = c1();
    await objects.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: capiNamespace } });
    for (const crd of await crds()) await objects.delete(crd);
  });

  it('creates, follows, scales, upgrades and deletes a cluster through its Cluster object', async () => {
    const target = targetOf(`edge-${run}`, { nodes: 2, version: '1.31' });
    expect(await provider.describe(target)).toEqual({ phase: 'absent' });

    // Act: create, twice (idempotent)
    await provider.create(target);
    const created = await liveCluster(target.id);
    await provider.create(target);

    // Assess: the topology Shoal wants, labelled for Shoal; the repeat changed nothing
    expect(created?.metadata?.labels).toMatchObject({ 'shoal.io/namespace': 'default', 'shoal.io/cluster': target.name });
    expect(created?.spec?.topology).toEqual({
      class: 'quick-start',
      version: 'v1.31.0',
      workers: { machineDeployments: [{ class: 'default-worker', name: 'workers', replicas: 2 }] },
    });
    expect((await liveCluster(target.id))?.metadata?.resourceVersion).toBe(created?.metadata?.resourceVersion);
    expect(await provider.describe(target)).toMatchObject({ phase: 'provisioning', message: 'Pending', nodes: { desired: 2, ready: 0 }, version: 'v1.31.0' });
    await expect(provider.credentials(target)).rejects.toThrow(/Secret "capi-[0-9a-f]+\/default-edge-[0-9a-f]+-kubeconfig" on management cluster "mgmt" does not exist yet/);

    // Act: Cluster API starts provisioning
    await writeStatus('clusters', target.id, { phase: 'Provisioning', conditions: [condition('Ready', 'False', 'waiting for control plane'), condition('ControlPlaneInitialized', 'False', 'control plane not yet initialized')] });
    expect(await provider.describe(target)).toMatchObject({ phase: 'provisioning', message: 'Provisioning: waiting for control plane' });

    // Act: the control plane is up, the workers are ready and the kubeconfig Secret is written (c2's)
    await writeStatus('clusters', target.id, { phase: 'Provisioned', controlPlaneReady: true, infrastructureReady: true, conditions: [condition('Ready', 'True'), condition('ControlPlaneInitialized', 'True')] });
    await playMachineDeployment(target.id, 2, 2);
    await putKubeconfigSecret(target.id, kubeconfigOf('c2'));

    // Assess: ready, and the credentials reach c2 (which has no namespace of this file)
    expect(await provider.describe(target)).toEqual({ phase: 'ready', nodes: { desired: 2, ready: 2 }, version: 'v1.31.0' });
    const { kubeconfig } = await provider.credentials(target);
    const reached = new KubeConfig();
    reached.loadFromString(kubeconfig);
    const namespaces = (await reached.makeApiClient(CoreV1Api).listNamespace()).items.map((ns) => ns.metadata?.name);
    expect(namespaces).toContain('kube-system');
    expect(namespaces).not.toContain(capiNamespace);

    // Act: scale to 3 workers
    const scaled = { ...target, shape: { ...target.shape, nodes: 3 } };
    await provider.scale(scaled);

    // Assess: the topology wants 3, and the cluster is updating until the third worker is ready
    expect((await liveCluster(target.id))?.spec?.topology?.workers?.machineDeployments?.[0]?.replicas).toBe(3);
    expect(await provider.describe(scaled)).toMatchObject({ phase: 'updating', message: '2 of 3 workers ready', nodes: { desired: 3, ready: 2 } });
    await playMachineDeployment(target.id, 3, 3);
    expect(await provider.describe(scaled)).toMatchObject({ phase: 'ready', nodes: { desired: 3, ready: 3 } });

    // Act: upgrade to 1.32
    const upgraded = { ...scaled, shape: { ...scaled.shape, version: '1.32' } };
    await provider.upgrade(upgraded);

    // Assess: the topology moves to v1.32.0, with the worker count kept
    expect((await liveCluster(target.id))?.spec?.topology).toMatchObject({ version: 'v1.32.0', workers: { machineDeployments: [{ replicas: 3 }] } });
    expect(await provider.describe(upgraded)).toMatchObject({ version: 'v1.32.0' });

    // Act: delete, twice (already gone is fine)
    await provider.delete(upgraded);
    await provider.delete(upgraded);

    // Assess: no finalizers here, so the Cluster is gone at once
    expect(await liveCluster(target.id)).toBeUndefined();
    expect(await provider.describe(upgraded)).toEqual({ phase: 'absent' });
  });

  it('leaves alone a Cluster of the same name that Shoal did not create', async () => {
    // Prepare: someone else's Cluster holds the name
    const target = targetOf(`taken-${run}`, { nodes: 1 });
    const theirs = { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', metadata: { name: target.id, namespace: capiNamespace } } as Manifest;
    expect((await c1().apply({ ...theirs, spec: { topology: { class: 'theirs', version: 'v1.29.0' } } } as Manifest)).result).toBe('applied');

    // Act / Assess: not taken over, not reported as Shoal's, not deleted, no credentials handed out
    const create = provider.create(target);
    await expect(create).rejects.toBeInstanceOf(ProviderRejectedError);
    await expect(create).rejects.toThrow(/Cluster "capi-[0-9a-f]+\/default-taken-[0-9a-f]+" on management cluster "mgmt" was not created by Shoal for Cluster "default\/taken-[0-9a-f]+"/);
    expect((await liveCluster(target.id))?.spec?.topology).toEqual({ class: 'theirs', version: 'v1.29.0' });
    expect(await provider.describe(target)).toMatchObject({ phase: 'absent', message: expect.stringContaining('was not created by Shoal') });
    await provider.delete(target);
    expect(await liveCluster(target.id)).toBeDefined();
    await expect(provider.credentials(target)).rejects.toBeInstanceOf(ProviderRejectedError);
  });

  it('refuses a kubeconfig Shoal could not use, for good', async () => {
    // Prepare: a Secret whose kubeconfig runs an exec plugin
    const target = targetOf(`exec-${run}`, { nodes: 1 });
    const exec = stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'admin',
      clusters: [{ name: 'edge', cluster: { server: 'https://10.0.0.1:6443' } }],
      contexts: [{ name: 'admin', context: { cluster: 'edge', user: 'admin' } }],
      users: [{ name: 'admin', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } } }],
    });
    await putKubeconfigSecret(target.id, exec);

    // Act / Assess
    const refused = provider.credentials(target);
    await expect(refused).rejects.toBeInstanceOf(ProviderRejectedError);
    await expect(refused).rejects.toThrow(/is not usable by Shoal: user "admin" uses an exec\/auth-provider plugin/);
  });

  it('passes the API server refusal on as a ProviderRejectedError', async () => {
    // Prepare: a ClusterClass name longer than the Cluster CRD's schema allows (422)
    const target = targetOf(`bad-${run}`, { nodes: 1 });
    if (target.provider.spec.type === 'cluster-api') target.provider.spec.clusterApi.clusterClass = 'c'.repeat(254);

    // Act / Assess
    const refused = provider.create(target);
    await expect(refused).rejects.toBeInstanceOf(ProviderRejectedError);
    await expect(refused).rejects.toThrow(/Cluster "capi-[0-9a-f]+\/default-bad-[0-9a-f]+" on management cluster "mgmt" was refused: .*spec.topology.class: Too long/);
    expect(await liveCluster(target.id)).toBeUndefined();
  });

  it('says which management cluster is missing, as a transient error', async () => {
    const target = targetOf(`orphan-${run}`, { nodes: 1 }, 'nope');

    for (const method of ['create', 'describe', 'delete', 'credentials'] as const) {
      const attempt = provider[method](target);
      await expect(attempt).rejects.toThrow('management cluster "default/nope" of InfrastructureProvider "capi" does not exist: register it as a Cluster in namespace "default"');
      await expect(attempt).rejects.not.toBeInstanceOf(ProviderRejectedError);
    }
  });
});
