import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { StreamPoller } from '../../shared/local/stream-poller.ts';
import { logger } from '../../shared/observability.ts';
import { applicationDeployer } from '../../shared/reconcilers/application-deployer.ts';
import { createReconcilerHandler } from '../../shared/reconcilers/runtime.ts';
import { reconcilerDefinition, type ReconcilerDefinition, type StreamTrigger } from '../../shared/reconcilers/triggers.ts';
import { FileSecretStore } from '../../shared/secrets/secret-store.ts';
import { freshStore } from './support/dynamodb.ts';
import { call, collection } from './support/http.ts';

// The whole chain: API write → DynamoDB stream → application-deployer → real
// kube-apiservers → status written back. The test stands in for the scheduler by
// writing status.scheduledTo itself; the label constraint selects the same cluster, so
// a running scheduler agrees with it.

const run = () => randomUUID().slice(0, 8);
const POLL = { timeout: 90_000, interval: 500 };
const MERGE = 'application/merge-patch+json';

const kubeconfigPath = (cluster: string) => inject('kubeconfigs')[cluster] ?? '';
function objectsOn(cluster: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath(cluster));
  return KubernetesObjectApi.makeApiClient(kc);
}

async function exists(cluster: string, ref: { apiVersion: string; kind: string; name: string; namespace?: string }): Promise<boolean> {
  try {
    const live = await objectsOn(cluster).read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } });
    // A namespace on its way out is as good as gone for these tests.
    return (live as { status?: { phase?: string } }).status?.phase !== 'Terminating';
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return false;
    throw error;
  }
}

/** Registers c1 and c2 in `namespace`, labelled so that a constraint can pick either, and waits until both are ONLINE. */
async function registerClusters(namespace: string) {
  for (const name of ['c1', 'c2']) {
    const kubeconfig = await readFile(kubeconfigPath(name), 'utf8');
    const created = await call('POST', collection(namespace, 'clusters'), { metadata: { name, labels: { slot: name } }, spec: { kubeconfig } });
    expect(created.status).toBe(201);
  }
  for (const name of ['c1', 'c2']) {
    await expect.poll(async () => (await call('GET', `${collection(namespace, 'clusters')}/${name}`)).body.status?.state, POLL).toBe('ONLINE');
  }
}

/** What a storefront team deploys: its own namespace, settings, two web replicas and a Service. */
function webManifests(target: string, replicas = 2): KubernetesObject[] {
  const labels = { app: 'web' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: target } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: target }, data: { greeting: 'hello' } } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: target },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] } },
      },
    } as KubernetesObject,
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: target }, spec: { selector: labels, ports: [{ port: 80 }] } } as KubernetesObject,
  ];
}

/** Applications a test created, deleted after it. */
const apps: string[] = [];

/** Creates the app bound to `cluster` both ways: label constraint (for a scheduler) and status.scheduledTo (standing in for it). */
async function createApp(namespace: string, name: string, manifests: KubernetesObject[], cluster: string) {
  const created = await call('POST', collection(namespace, 'applications'), {
    metadata: { name },
    spec: { manifests, constraints: { cluster: { labels: [`slot = ${cluster}`] } } },
  });
  expect(created.status).toBe(201);
  const path = `${collection(namespace, 'applications')}/${name}`;
  apps.push(path);
  await bindTo(path, cluster);
  return path;
}

async function bindTo(path: string, cluster: string) {
  const bound = await call('PATCH', `${path}/status`, { status: { scheduledTo: cluster } }, MERGE);
  expect(bound.status).toBe(200);
}

const statusOf = async (path: string) => (await call('GET', path)).body?.status ?? {};

describe('application-deployer against real kube-apiservers', () => {
  const leftovers: { cluster: string; namespace: string }[] = [];
  afterEach(async () => {
    // Deleting the application first stops the resync from re-creating what is removed below.
    for (const path of apps.splice(0)) await call('DELETE', path);
    for (const { cluster, namespace } of leftovers.splice(0)) {
      await objectsOn(cluster).delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(() => undefined);
    }
  });

  it('deploys a namespace, config map, deployment and service to the bound cluster only, and reports it RUNNING', async () => {
    // Prepare
    const namespace = `deploy-${run()}`;
    const target = `web-${run()}`;
    leftovers.push({ cluster: 'c1', namespace: target }, { cluster: 'c2', namespace: target });
    await registerClusters(namespace);
    // Act
    const path = await createApp(namespace, 'web', webManifests(target), 'c1');
    // Assess
    await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('RUNNING');
    const { body } = await call('GET', path);
    expect(body.metadata.finalizers).toContain('shoal.io/application-deployer');
    expect(body.status).toMatchObject({ runningOn: 'c1', lastAppliedGeneration: 1, observedGeneration: 1 });
    expect(body.status.manifests).toContainEqual({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: target, name: 'web', applied: true, ready: true });
    expect(body.status.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Deployed', status: 'True' }), expect.objectContaining({ type: 'Available', status: 'True' })]),
    );
    const deployment = (await objectsOn('c1').read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: target } })) as {
      status?: { availableReplicas?: number };
      metadata?: { managedFields?: { manager?: string }[] };
    };
    expect(deployment.status?.availableReplicas).toBe(2);
    expect(deployment.metadata?.managedFields?.some((field) => field.manager === 'shoal')).toBe(true);
    for (const manifest of webManifests(target)) {
      const ref = { apiVersion: manifest.apiVersion ?? '', kind: manifest.kind ?? '', name: manifest.metadata?.name ?? '', namespace: manifest.metadata?.namespace };
      expect(await exists('c1', ref), `${ref.kind} ${ref.name} on c1`).toBe(true);
      expect(await exists('c2', ref), `${ref.kind} ${ref.name} on c2`).toBe(false);
    }
  });

  it('reports FAILED with the API server’s message when the cluster rejects a manifest, and stops writing', async () => {
    // Prepare
    const namespace = `deploy-${run()}`;
    const target = `bad-${run()}`;
    leftovers.push({ cluster: 'c1', namespace: target });
    await registerClusters(namespace);
    const [ns, , deployment] = webManifests(target);
    (deployment as { spec: { replicas: number } }).spec.replicas = -1;
    // Act
    const path = await createApp(namespace, 'bad', [ns as KubernetesObject, deployment as KubernetesObject], 'c1');
    // Assess
    await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('FAILED');
    const status = await statusOf(path);
    const rejected = status.manifests.find((entry: { kind: string }) => entry.kind === 'Deployment');
    expect(rejected).toMatchObject({ applied: false, ready: false, message: expect.stringMatching(/spec\.replicas.*greater than or equal to 0/) });
    expect(status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Deployed', status: 'False', reason: 'ManifestRejected', message: expect.stringContaining('greater than or equal to 0') }),
    );
    // No hot loop: once settled (the scheduler may still write its part once), several
    // resyncs and requeues (every 5 s here) leave the object as it is.
    const versionOf = async () => (await call('GET', path)).body.metadata.resourceVersion as string;
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    let settled = await versionOf();
    for (let changed = true, deadline = Date.now() + 30_000; changed && Date.now() < deadline; ) {
      await pause(3_000);
      const now = await versionOf();
      changed = now !== settled;
      settled = now;
    }
    await pause(8_000);
    expect(await versionOf()).toBe(settled);
  });

  it('removes the objects from the cluster on deletion before the application goes', async () => {
    // Prepare
    const namespace = `deploy-${run()}`;
    const target = `gone-${run()}`;
    leftovers.push({ cluster: 'c1', namespace: target });
    await registerClusters(namespace);
    const path = await createApp(namespace, 'web', webManifests(target), 'c1');
    await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('RUNNING');
    // Act
    const deleted = await call('DELETE', path);
    // Assess
    expect(deleted.status).toBe(202);
    await expect.poll(async () => (await call('GET', path)).status, POLL).toBe(404);
    expect(await exists('c1', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: target })).toBe(false);
    expect(await exists('c1', { apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: target })).toBe(false);
    await expect.poll(() => exists('c1', { apiVersion: 'v1', kind: 'Namespace', name: target }), POLL).toBe(false);
  });

  it('migrates to the newly bound cluster: available there first, then gone from the old one', async () => {
    // Prepare
    const namespace = `deploy-${run()}`;
    const target = `move-${run()}`;
    leftovers.push({ cluster: 'c1', namespace: target }, { cluster: 'c2', namespace: target });
    await registerClusters(namespace);
    const path = await createApp(namespace, 'web', webManifests(target), 'c1');
    await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('RUNNING');
    // Act
    const moved = await call('PATCH', path, { spec: { constraints: { cluster: { labels: ['slot = c2'] } } } }, MERGE);
    expect(moved.status).toBe(200);
    await bindTo(path, 'c2');
    // Assess
    await expect.poll(async () => (await statusOf(path)).runningOn, POLL).toBe('c2');
    expect((await statusOf(path)).state).toBe('RUNNING');
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: target };
    expect(await exists('c2', deployment)).toBe(true);
    expect(await exists('c1', deployment)).toBe(false);
    expect(await exists('c1', { apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: target })).toBe(false);
  });

  it('applies a CRD before its instances, whatever the order of the manifests', async () => {
    // Prepare
    const namespace = `deploy-${run()}`;
    const group = `gadgets${run()}.shoal.test`;
    await registerClusters(namespace);
    const gadget = { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'first' }, spec: { size: 3 } } as KubernetesObject;
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `gadgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    } as KubernetesObject;
    // Act
    const path = await createApp(namespace, 'gadgets', [gadget, crd], 'c1');
    // Assess
    await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('RUNNING');
    expect((await statusOf(path)).manifests[0]).toEqual({ apiVersion: `${group}/v1`, kind: 'Gadget', namespace: 'default', name: 'first', applied: true, ready: true });
    expect(await exists('c1', { apiVersion: `${group}/v1`, kind: 'Gadget', name: 'first', namespace: 'default' })).toBe(true);
  });

  it('removes an object from the cluster when a new generation of the spec drops it', async () => {
    // Prepare
    const namespace = `deploy-${run()}`;
    const target = `prune-${run()}`;
    leftovers.push({ cluster: 'c1', namespace: target });
    await registerClusters(namespace);
    const manifests = webManifests(target);
    const path = await createApp(namespace, 'web', manifests, 'c1');
    await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('RUNNING');
    // Act: the same application without its ConfigMap
    const updated = await call('PATCH', path, { spec: { manifests: manifests.filter((manifest) => manifest.kind !== 'ConfigMap') } }, MERGE);
    expect(updated.status).toBe(200);
    // Assess
    await expect.poll(() => exists('c1', { apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: target }), POLL).toBe(false);
    await expect.poll(async () => (await statusOf(path)).lastAppliedGeneration, POLL).toBe(2);
    expect(await exists('c1', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: target })).toBe(true);
    expect((await statusOf(path)).manifests.map((entry: { kind: string }) => entry.kind)).toEqual(['Namespace', 'Deployment', 'Service']);
  });

  it('restores a field changed on the cluster behind Shoal’s back (drift) on the scheduled resync', async () => {
    // Prepare
    const namespace = `deploy-${run()}`;
    const target = `drift-${run()}`;
    leftovers.push({ cluster: 'c1', namespace: target });
    await registerClusters(namespace);
    const path = await createApp(namespace, 'web', webManifests(target), 'c1');
    await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('RUNNING');
    const settings = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: target } };
    // Act: someone else overwrites a value Shoal owns
    await objectsOn('c1').patch({ ...settings, data: { greeting: 'tampered' } }, undefined, undefined, 'intruder', true, PatchStrategy.ServerSideApply);
    // Assess
    await expect
      .poll(async () => ((await objectsOn('c1').read(settings)) as { data?: Record<string, string> }).data?.greeting, POLL)
      .toBe('hello');
  });

  it('reports drift on the fields an observer schema watches and the live values it widens to', async () => {
    // Prepare
    const namespace = `deploy-${run()}`;
    const target = `observe-${run()}`;
    leftovers.push({ cluster: 'c1', namespace: target });
    await registerClusters(namespace);
    const web = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: target } };
    const spec = (observerSchema: unknown[]) => ({ manifests: webManifests(target), constraints: { cluster: { labels: ['slot = c1'] } }, observerSchema });
    const refused = await call('POST', collection(namespace, 'applications'), { metadata: { name: 'web' }, spec: spec([{ ...web, metadata: { name: 'api' }, spec: { replicas: null } }]) });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain('spec.observerSchema[0]');
    const created = await call('POST', collection(namespace, 'applications'), {
      metadata: { name: 'web' },
      spec: spec([{ ...web, spec: { replicas: null }, status: { availableReplicas: null } }]),
    });
    expect(created.status).toBe(201);
    const path = `${collection(namespace, 'applications')}/web`;
    apps.push(path);
    await bindTo(path, 'c1');
    await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('RUNNING');
    const entryOf = async () => (await statusOf(path)).manifests?.find((entry: { kind: string }) => entry.kind === 'Deployment');
    await expect.poll(entryOf, POLL).toMatchObject({ observed: { 'status.availableReplicas': 2 } });
    expect((await entryOf()).drift).toBeUndefined();
    // Act: another field manager takes over a watched field
    await objectsOn('c1').patch({ ...web, spec: { replicas: 3 } }, undefined, undefined, 'intruder', true, PatchStrategy.ServerSideApply);
    // Assess: listed as drift, restored, and the widened field read from the live object
    await expect.poll(entryOf, POLL).toMatchObject({ drift: ['spec.replicas'], observed: { 'status.availableReplicas': 2 } });
    await expect
      .poll(async () => ((await objectsOn('c1').read(web)) as { spec?: { replicas?: number } }).spec?.replicas, POLL)
      .toBe(2);
    expect((await statusOf(path)).conditions).toContainEqual(
      expect.objectContaining({ type: 'DriftCorrected', status: 'True', message: expect.stringContaining('spec.replicas') }),
    );
    // No write loop: once settled, resyncs leave the object as it is.
    const versionOf = async () => (await call('GET', path)).body.metadata.resourceVersion as string;
    let settled = await versionOf();
    for (let changed = true, deadline = Date.now() + 30_000; changed && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      const now = await versionOf();
      changed = now !== settled;
      settled = now;
    }
    expect(await versionOf()).toBe(settled);
    expect(await entryOf()).toMatchObject({ drift: ['spec.replicas'], observed: { 'status.availableReplicas': 2 } });
  });
});

describe('application-deployer handler', () => {
  let poller: StreamPoller | undefined;
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
  });

  it('handles a redelivered stream record once: after converging, the same record writes nothing', async () => {
    // Prepare: a table of its own, c1 registered in it, and the real handler over that table
    const { store, streamArn } = await freshStore('deployer');
    const dir = await mkdtemp(join(tmpdir(), 'shoal-deployer-test-'));
    const secrets = new FileSecretStore(join(dir, 'secrets'));
    await secrets.put('c1-kubeconfig', await readFile(kubeconfigPath('c1'), 'utf8'));
    await store.create({ apiVersion: 'shoal.io/v1alpha1', kind: 'Cluster', metadata: { name: 'c1', namespace: 'default' }, spec: { kubeconfigSecret: 'c1-kubeconfig', metrics: [] } });
    const deployer = reconcilerDefinition('application-deployer') as ReconcilerDefinition & { stream: StreamTrigger };
    const definition = { ...deployer, stream: { ...deployer.stream, startingPosition: 'TRIM_HORIZON' as const } };
    // No requeue timers: only the deliveries below may reconcile.
    const handler = createReconcilerHandler(applicationDeployer, definition, { store, secrets, config: {} as never }, { requeue: async () => undefined });
    const events: DynamoDBStreamEvent[] = [];
    const streams = new DynamoDBStreamsClient({ region: 'us-east-1', endpoint: inject('dynamodbEndpoint'), credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    poller = new StreamPoller({ client: streams, streamArn, region: 'us-east-1', definition, invoke: async (event) => void events.push(event), logger, deadLetterFile: join(dir, 'dlq.jsonl'), pollIntervalMs: 50 });
    await poller.start();
    const target = `twice-${run()}`;
    const key = { kind: 'Application' as const, namespace: 'default', name: 'web' };
    try {
      await store.create({
        apiVersion: 'shoal.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'web', namespace: 'default' },
        spec: { manifests: webManifests(target, 1), constraints: { cluster: { labels: [], customResources: [], metrics: [] }, migration: true } },
        status: { scheduledTo: 'c1' },
      });
      await expect.poll(() => events.length, { timeout: 20_000 }).toBeGreaterThan(0);
      const insert = events[0] as DynamoDBStreamEvent;
      // The first deliveries do the work (finalizer, apply, wait for the Deployment).
      await expect
        .poll(async () => {
          await handler(insert);
          return (await store.get(key))?.status;
        }, POLL)
        .toMatchObject({ state: 'RUNNING' });
      const converged = await store.get(key);
      // Act
      const again = await handler(insert);
      // Assess
      expect(again).toEqual({ batchItemFailures: [] });
      expect((await store.get(key))?.metadata.resourceVersion).toBe(converged?.metadata.resourceVersion);
    } finally {
      await objectsOn('c1').delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: target } }).catch(() => undefined);
    }
  });
});
