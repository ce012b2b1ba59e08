import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KUBECONFIG_FINALIZER } from '../../shared/api/resource-service.ts';
import { ProviderRejectedError, type InfrastructureProvider, type ProviderObservation, type ProvisionTarget } from '../../shared/infrastructure/provider.ts';
import type { ReconcileContext } from '../../shared/reconcilers/contract.ts';
import { createInfrastructureReconciler, INFRASTRUCTURE_FINALIZER } from '../../shared/reconcilers/infrastructure.ts';
import { DRAIN_FINALIZER } from '../../shared/resources/deletion.ts';
import type { ClusterStatus, Kind, ResourceKey } from '../../shared/resources/kinds.ts';
import { FileSecretStore } from '../../shared/secrets/secret-store.ts';
import type { ResourceStore, StoredResource } from '../../shared/store/resource-store.ts';
import { freshStore } from './support/dynamodb.ts';

// The infrastructure reconciler on real parts: the resource store on a fresh table in
// DynamoDB Local and the file secret store in a temporary directory. Two things stay under
// the test's control: the clock (ctx.now), so that poll intervals and credential expiry
// are exact, and the infrastructure provider. The provider is an external system (a cloud,
// Cluster API) whose failures the test must script: refusals, clusters that fail after
// running, credentials that expire. So it is a double that reports what the test sets and
// records the calls made to it.

/** A provider double: the test decides what describe reports; calls are recorded. */
class ProviderDouble implements InfrastructureProvider {
  observation: ProviderObservation = { phase: 'absent' };
  calls: string[] = [];
  reject?: string;
  expiresAt?: Date;
  private record(call: string) {
    this.calls.push(call);
    if (this.reject) throw new ProviderRejectedError(this.reject);
  }
  async create(target: ProvisionTarget) {
    this.record(`create ${target.id} on ${target.cloud.name}`);
    this.observation = { phase: 'provisioning', message: 'starting' };
  }
  async describe() {
    return this.observation;
  }
  async scale(target: ProvisionTarget) {
    this.record(`scale ${target.shape.nodes}`);
    this.observation = { phase: 'updating', nodes: { desired: target.shape.nodes, ready: 1 } };
  }
  async upgrade(target: ProvisionTarget) {
    this.record(`upgrade ${target.shape.version}`);
  }
  async delete() {
    this.record('delete');
    this.observation = { phase: 'deleting' };
  }
  async credentials() {
    this.calls.push('credentials');
    return { kubeconfig: 'apiVersion: v1\nkind: Config\n', expiresAt: this.expiresAt };
  }
}

let store: ResourceStore;
let secrets: FileSecretStore;
let secretDir: string;
let provider: ProviderDouble;
let ctx: ReconcileContext;
let now: Date;
const reconciler = createInfrastructureReconciler(() => provider);
const clusterKey: ResourceKey = { kind: 'Cluster', namespace: 'default', name: 'edge' };
const cloudKey = (name: string): ResourceKey => ({ kind: 'Cloud', namespace: 'default', name });
/** One reconcile, then the clock moves on by the shortest poll, as the requeue would. */
async function reconcile() {
  const result = await reconciler.reconcile(ctx, clusterKey);
  now = new Date(now.getTime() + 5_000);
  return result;
}
const put = (kind: Kind, name: string, spec: unknown, labels?: Record<string, string>) =>
  store.create({ apiVersion: 'shoal.io/v1alpha1', kind, metadata: { name, namespace: 'default', labels }, spec });
const cluster = () => store.get(clusterKey);
const infra = async () => ((await cluster())?.status as ClusterStatus | undefined)?.infrastructure;
/** Every write to the cluster (spec, metadata or status) moves its resourceVersion by one. */
const writes = async () => Number((await cluster())?.metadata.resourceVersion);
/** The ids of the secrets in the file secret store: one file each, named by the encoded id. */
const secretIds = async () => (await readdir(secretDir)).map((file) => decodeURIComponent(file));

beforeEach(async () => {
  ({ store } = await freshStore('infrastructure'));
  secretDir = await mkdtemp(join(tmpdir(), 'shoal-infrastructure-secrets-'));
  secrets = new FileSecretStore(secretDir);
  provider = new ProviderDouble();
  now = new Date('2026-11-21T12:00:00Z');
  ctx = { store, secrets, logger: new Logger({ logLevel: 'ERROR' }), now: () => now };
  await put('InfrastructureProvider', 'local', { type: 'local', local: {} });
  await put('Cloud', 'laptop', { type: 'local', infrastructureProvider: 'local', local: { maxClusters: 1 } }, { location: 'home' });
  await put('Cluster', 'edge', { metrics: [], infrastructure: { constraints: { labels: [], metrics: [] }, shape: { nodes: 1 } } });
});

afterEach(async () => {
  await rm(secretDir, { recursive: true, force: true });
});

describe('infrastructure reconciler', () => {
  it('creates the cluster, registers its credentials and reports it ONLINE', async () => {
    // Act: the first pass places and creates
    const first = await reconcile();
    // Assess
    expect((await cluster())?.metadata.finalizers).toEqual([INFRASTRUCTURE_FINALIZER]);
    expect(provider.calls).toEqual(['create default-edge on laptop']);
    expect(await infra()).toMatchObject({ phase: 'PROVISIONING', cloud: 'laptop', provider: 'local', providerId: 'default-edge' });
    expect(((await cluster())?.status as ClusterStatus).state).toBe('PROVISIONING');
    expect(first.requeueAfterSeconds).toBe(5);

    // Act: the provider reports it ready
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 }, version: 'v1.36.3' };
    const second = await reconcile();
    // Assess
    const spec = (await cluster())?.spec as { kubeconfigSecret?: string };
    expect(spec.kubeconfigSecret).toMatch(/^clusters\/default\/edge\/[0-9a-f-]{36}$/);
    expect(await secrets.get(spec.kubeconfigSecret ?? '')).toContain('kind: Config');
    expect((await cluster())?.metadata.finalizers).toEqual([INFRASTRUCTURE_FINALIZER, KUBECONFIG_FINALIZER]);
    expect(await infra()).toMatchObject({ phase: 'ONLINE', nodes: { desired: 1, ready: 1 }, version: 'v1.36.3', observedGeneration: (await cluster())?.metadata.generation });
    expect(second).toEqual({});
  });

  it('writes nothing when a poll finds nothing new', async () => {
    // Prepare
    await reconcile();
    provider.observation = { phase: 'provisioning', message: 'starting' };
    await reconcile();
    const before = await writes();
    // Act
    now = new Date(now.getTime() + 10_000);
    await reconcile();
    // Assess: lastPollTime alone waits 30 s
    expect(await writes()).toBe(before);
    now = new Date(now.getTime() + 30_000);
    await reconcile();
    expect(await writes()).toBe(before + 1);
  });

  it('does not ask the provider again on the events of its own writes while an operation runs', async () => {
    // Prepare: PROVISIONING written at t0
    await reconcile();
    now = new Date(now.getTime() - 4_000);
    let describes = 0;
    provider.describe = async () => {
      describes++;
      return provider.observation;
    };
    // Act: the stream event of that write, a second later
    const result = await reconciler.reconcile(ctx, clusterKey);
    // Assess
    expect(describes).toBe(0);
    expect(result.requeueAfterSeconds).toBe(4);
  });

  it('waits in PENDING with what is missing, and a Cloud event wakes it', async () => {
    // Prepare
    await store.delete(cloudKey('laptop'));
    // Act
    await reconcile();
    // Assess
    expect(await infra()).toMatchObject({ phase: 'PENDING', message: expect.stringContaining('no Cloud in the namespace') });
    expect(provider.calls).toEqual([]);

    // Act: a Cloud appears
    await put('Cloud', 'laptop', { type: 'local', infrastructureProvider: 'missing', local: { maxClusters: 1 } });
    await reconciler.reconcile(ctx, { kind: 'Cloud', namespace: 'default', name: 'laptop' });
    // Assess
    expect((await infra())?.message).toBe('InfrastructureProvider "missing" (of Cloud "laptop") not found in namespace default: create it');
  });

  it('places on the cloud that fits and keeps it there', async () => {
    // Prepare
    await put('Cloud', 'away', { type: 'local', infrastructureProvider: 'local' }, { location: 'away' });
    const edge = (await cluster()) as StoredResource;
    await store.update({ ...edge, spec: { infrastructure: { constraints: { labels: ['location = away'], metrics: [] }, shape: { nodes: 1 } } } });
    // Act
    await reconcile();
    await store.delete(cloudKey('away'));
    await reconcile();
    // Assess: sticky even though the cloud is gone now
    expect(await infra()).toMatchObject({ phase: 'PENDING', cloud: 'away', message: 'Cloud "away" not found in namespace default: create it' });
  });

  it('scales on a new node count and returns to ONLINE', async () => {
    // Prepare
    await reconcile();
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 } };
    await reconcile();
    const current = (await cluster()) as StoredResource;
    await store.update({ ...current, spec: { ...(current.spec as object), infrastructure: { constraints: { labels: [], metrics: [] }, shape: { nodes: 2 } } } });
    // Act
    const scaling = await reconcile();
    // Assess
    expect(provider.calls).toContain('scale 2');
    expect(await infra()).toMatchObject({ phase: 'SCALING', message: 'scaling workers from 1 to 2' });
    expect(scaling.requeueAfterSeconds).toBe(5);
    // Act: done
    provider.observation = { phase: 'ready', nodes: { desired: 2, ready: 2 } };
    await reconcile();
    // Assess
    expect(await infra()).toMatchObject({ phase: 'ONLINE', nodes: { desired: 2, ready: 2 }, observedGeneration: (await cluster())?.metadata.generation });
  });

  it('records a rejection as FAILED and does not retry the same generation', async () => {
    // Prepare
    provider.reject = 'invalid Kubernetes version 9.9';
    // Act
    const result = await reconcile();
    await reconcile();
    // Assess
    expect(result).toEqual({});
    expect(await infra()).toMatchObject({ phase: 'FAILED', message: 'invalid Kubernetes version 9.9' });
    expect(((await cluster())?.status as ClusterStatus).state).toBe('FAILED');
    expect(provider.calls).toHaveLength(1);
  });

  it('asks create to recover a cluster the provider reports failed, and registers the new credentials', async () => {
    // Prepare: a running cluster
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 } };
    await reconcile();
    const before = ((await cluster())?.spec as { kubeconfigSecret: string }).kubeconfigSecret;
    provider.observation = { phase: 'failed', message: 'scheduler is not running' };
    // Act
    const failed = await reconcile();
    // Assess: retryable, create asked to recover
    expect(failed.requeueAfterSeconds).toBe(60);
    expect(await infra()).toMatchObject({ phase: 'FAILED', message: 'scheduler is not running' });
    expect((await infra())?.observedGeneration).toBeUndefined();
    expect(provider.calls).toEqual(['credentials', 'create default-edge on laptop']);
    // Act: it comes back
    await reconcile();
    expect((await infra())?.phase).toBe('PROVISIONING');
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 } };
    await reconcile();
    // Assess: new credentials, the old secret released
    const after = ((await cluster())?.spec as { kubeconfigSecret: string }).kubeconfigSecret;
    expect(after).not.toBe(before);
    expect(await secretIds()).toEqual([after]);
    expect((await infra())?.phase).toBe('ONLINE');
  });

  it('refreshes expiring credentials and requeues before they expire', async () => {
    // Prepare
    provider.expiresAt = new Date(now.getTime() + 15 * 60_000);
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 } };
    // Act
    const result = await reconcile();
    const firstSecret = ((await cluster())?.spec as { kubeconfigSecret: string }).kubeconfigSecret;
    now = new Date(now.getTime() + 13 * 60_000);
    await reconcile();
    // Assess
    expect(result.requeueAfterSeconds).toBe(12 * 60);
    expect((await infra())?.credentialsExpireAt).toBe('2026-11-21T12:15:00Z');
    const secondSecret = ((await cluster())?.spec as { kubeconfigSecret: string }).kubeconfigSecret;
    expect(secondSecret).not.toBe(firstSecret);
    expect(await secretIds()).toEqual([secondSecret]);
  });

  it('deletes after the applications moved away, and lets go when the provider says absent', async () => {
    // Prepare
    await reconcile();
    const current = (await cluster()) as StoredResource;
    await store.update({ ...current, metadata: { ...current.metadata, finalizers: [...(current.metadata.finalizers ?? []), DRAIN_FINALIZER] } });
    await store.delete(clusterKey);
    // Act: applications still there
    const waiting = await reconcile();
    // Assess
    expect(waiting.requeueAfterSeconds).toBe(30);
    expect(provider.calls).not.toContain('delete');
    // Act: the garbage collector is done
    const drained = (await cluster()) as StoredResource;
    await store.update({ ...drained, metadata: { ...drained.metadata, finalizers: [INFRASTRUCTURE_FINALIZER] } });
    await reconcile();
    // Assess
    expect(provider.calls).toContain('delete');
    expect((await infra())?.phase).toBe('DELETING');
    // Act: gone at the provider
    provider.observation = { phase: 'absent' };
    await reconcile();
    // Assess
    expect(await cluster()).toBeUndefined();
  });

  it('keeps the finalizer when the provider refuses the deletion', async () => {
    // Prepare
    await reconcile();
    await store.delete(clusterKey);
    provider.reject = 'access denied';
    // Act
    const result = await reconcile();
    // Assess
    expect(result.requeueAfterSeconds).toBe(60);
    expect((await cluster())?.metadata.finalizers).toEqual([INFRASTRUCTURE_FINALIZER]);
    expect(await infra()).toMatchObject({ phase: 'FAILED', message: 'deleting: access denied' });
  });

  it('just lets go of a cluster that was never created', async () => {
    // Prepare
    await store.delete(cloudKey('laptop'));
    await reconcile();
    await store.delete(clusterKey);
    // Act
    await reconcile();
    // Assess
    expect(await cluster()).toBeUndefined();
    expect(provider.calls).toEqual([]);
  });
});
