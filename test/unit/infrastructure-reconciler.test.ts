import { Logger } from '@aws-lambda-powertools/logger';
import { beforeEach, describe, expect, it } from 'vitest';
import { KUBECONFIG_FINALIZER } from '../../shared/api/resource-service.ts';
import { ConflictError } from '../../shared/errors.ts';
import { ProviderRejectedError, type InfrastructureProvider, type ProviderObservation, type ProvisionTarget } from '../../shared/infrastructure/provider.ts';
import type { ReconcileContext } from '../../shared/reconcilers/contract.ts';
import { createInfrastructureReconciler, INFRASTRUCTURE_FINALIZER } from '../../shared/reconcilers/infrastructure.ts';
import { DRAIN_FINALIZER } from '../../shared/resources/deletion.ts';
import type { ClusterStatus, Kind, ResourceKey } from '../../shared/resources/kinds.ts';
import { sameJson } from '../../shared/resources/values.ts';
import type { SecretStore } from '../../shared/secrets/secret-store.ts';
import type { DeleteOutcome, ResourceStore, StoredResource } from '../../shared/store/resource-store.ts';

/** The store's semantics that matter here: versions, generation on spec change, removal with the last finalizer. */
class MemoryStore {
  readonly objects = new Map<string, StoredResource>();
  writes = 0;
  private id = (key: ResourceKey) => `${key.kind}/${key.namespace}/${key.name}`;

  put(kind: Kind, name: string, spec: unknown, labels?: Record<string, string>): StoredResource {
    const resource: StoredResource = {
      apiVersion: 'shoal.io/v1alpha1',
      kind,
      metadata: { name, namespace: 'default', uid: name, resourceVersion: '1', generation: 1, labels },
      spec,
    };
    this.objects.set(this.id({ kind, namespace: 'default', name }), resource);
    return resource;
  }
  async get(key: ResourceKey) {
    return structuredClone(this.objects.get(this.id(key)));
  }
  async list(options: { kind: Kind; namespace?: string }) {
    return { items: [...this.objects.values()].filter((o) => o.kind === options.kind).map((o) => structuredClone(o)) };
  }
  private checked(resource: { kind: Kind; metadata: { name: string; namespace: string; resourceVersion?: string } }) {
    const current = this.objects.get(this.id({ kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name }));
    if (!current) throw new Error('not found');
    if (resource.metadata.resourceVersion !== undefined && resource.metadata.resourceVersion !== current.metadata.resourceVersion) throw new ConflictError('conflict');
    return current;
  }
  async update(input: StoredResource): Promise<DeleteOutcome> {
    const current = this.checked(input);
    const next = structuredClone({ ...current, metadata: { ...current.metadata, finalizers: input.metadata.finalizers }, spec: input.spec });
    next.metadata.generation += sameJson(current.spec, input.spec) ? 0 : 1;
    next.metadata.resourceVersion = String(Number(current.metadata.resourceVersion) + 1);
    this.writes++;
    const id = this.id({ kind: input.kind, namespace: input.metadata.namespace, name: input.metadata.name });
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(id);
      return { removed: true, last: next };
    }
    this.objects.set(id, next);
    return { removed: false, resource: structuredClone(next) };
  }
  async updateStatus(key: ResourceKey, status: unknown, rv?: string) {
    const current = this.checked({ kind: key.kind, metadata: { ...key, resourceVersion: rv } });
    const next = structuredClone({ ...current, status, metadata: { ...current.metadata, resourceVersion: String(Number(current.metadata.resourceVersion) + 1) } });
    this.objects.set(this.id(key), next);
    this.writes++;
    return structuredClone(next);
  }
  markDeleted(name: string) {
    const cluster = this.objects.get(this.id({ kind: 'Cluster', namespace: 'default', name }));
    if (cluster) cluster.metadata = { ...cluster.metadata, deletionTimestamp: '2026-11-21T12:00:00Z', generation: cluster.metadata.generation + 1 };
  }
}

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

class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  async put(id: string, value: string) {
    this.values.set(id, value);
  }
  async get(id: string) {
    return this.values.get(id);
  }
  async delete(id: string) {
    this.values.delete(id);
  }
}

let store: MemoryStore;
let secrets: MemorySecrets;
let provider: ProviderDouble;
let ctx: ReconcileContext;
let now: Date;
const reconciler = createInfrastructureReconciler(() => provider);
const clusterKey: ResourceKey = { kind: 'Cluster', namespace: 'default', name: 'edge' };
/** One reconcile, then the clock moves on by the shortest poll, as the requeue would. */
async function reconcile() {
  const result = await reconciler.reconcile(ctx, clusterKey);
  now = new Date(now.getTime() + 5_000);
  return result;
}
const cluster = () => store.objects.get('Cluster/default/edge');
const infra = () => (cluster()?.status as ClusterStatus | undefined)?.infrastructure;

beforeEach(() => {
  store = new MemoryStore();
  secrets = new MemorySecrets();
  provider = new ProviderDouble();
  now = new Date('2026-11-21T12:00:00Z');
  ctx = { store: store as unknown as ResourceStore, secrets, logger: new Logger({ logLevel: 'ERROR' }), now: () => now };
  store.put('InfrastructureProvider', 'local', { type: 'local', local: {} });
  store.put('Cloud', 'laptop', { type: 'local', infrastructureProvider: 'local', local: { maxClusters: 1 } }, { location: 'home' });
  store.put('Cluster', 'edge', { metrics: [], infrastructure: { constraints: { labels: [], metrics: [] }, shape: { nodes: 1 } } });
});

describe('infrastructure reconciler', () => {
  it('creates the cluster, registers its credentials and reports it ONLINE', async () => {
    // Act: the first pass places and creates
    const first = await reconcile();
    // Assess
    expect(cluster()?.metadata.finalizers).toEqual([INFRASTRUCTURE_FINALIZER]);
    expect(provider.calls).toEqual(['create default-edge on laptop']);
    expect(infra()).toMatchObject({ phase: 'PROVISIONING', cloud: 'laptop', provider: 'local', providerId: 'default-edge' });
    expect((cluster()?.status as ClusterStatus).state).toBe('PROVISIONING');
    expect(first.requeueAfterSeconds).toBe(5);

    // Act: the provider reports it ready
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 }, version: 'v1.36.3' };
    const second = await reconcile();
    // Assess
    const spec = cluster()?.spec as { kubeconfigSecret?: string };
    expect(spec.kubeconfigSecret).toMatch(/^clusters\/default\/edge\/[0-9a-f-]{36}$/);
    expect(secrets.values.get(spec.kubeconfigSecret ?? '')).toContain('kind: Config');
    expect(cluster()?.metadata.finalizers).toEqual([INFRASTRUCTURE_FINALIZER, KUBECONFIG_FINALIZER]);
    expect(infra()).toMatchObject({ phase: 'ONLINE', nodes: { desired: 1, ready: 1 }, version: 'v1.36.3', observedGeneration: cluster()?.metadata.generation });
    expect(second).toEqual({});
  });

  it('writes nothing when a poll finds nothing new', async () => {
    // Prepare
    await reconcile();
    provider.observation = { phase: 'provisioning', message: 'starting' };
    await reconcile();
    const writes = store.writes;
    // Act
    now = new Date(now.getTime() + 10_000);
    await reconcile();
    // Assess: lastPollTime alone waits 30 s
    expect(store.writes).toBe(writes);
    now = new Date(now.getTime() + 30_000);
    await reconcile();
    expect(store.writes).toBe(writes + 1);
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
    store.objects.delete('Cloud/default/laptop');
    // Act
    await reconcile();
    // Assess
    expect(infra()).toMatchObject({ phase: 'PENDING', message: expect.stringContaining('no Cloud in the namespace') });
    expect(provider.calls).toEqual([]);

    // Act: a Cloud appears
    store.put('Cloud', 'laptop', { type: 'local', infrastructureProvider: 'missing', local: { maxClusters: 1 } });
    await reconciler.reconcile(ctx, { kind: 'Cloud', namespace: 'default', name: 'laptop' });
    // Assess
    expect(infra()?.message).toBe('InfrastructureProvider "missing" (of Cloud "laptop") not found in namespace default: create it');
  });

  it('places on the cloud that fits and keeps it there', async () => {
    // Prepare
    store.put('Cloud', 'away', { type: 'local', infrastructureProvider: 'local' }, { location: 'away' });
    store.put('Cluster', 'edge', { infrastructure: { constraints: { labels: ['location = away'], metrics: [] }, shape: { nodes: 1 } } });
    // Act
    await reconcile();
    store.objects.delete('Cloud/default/away');
    await reconcile();
    // Assess: sticky even though the cloud is gone now
    expect(infra()).toMatchObject({ phase: 'PENDING', cloud: 'away', message: 'Cloud "away" not found in namespace default: create it' });
  });

  it('scales on a new node count and returns to ONLINE', async () => {
    // Prepare
    await reconcile();
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 } };
    await reconcile();
    const current = cluster() as StoredResource;
    await store.update({ ...current, spec: { ...(current.spec as object), infrastructure: { constraints: { labels: [], metrics: [] }, shape: { nodes: 2 } } } });
    // Act
    const scaling = await reconcile();
    // Assess
    expect(provider.calls).toContain('scale 2');
    expect(infra()).toMatchObject({ phase: 'SCALING', message: 'scaling workers from 1 to 2' });
    expect(scaling.requeueAfterSeconds).toBe(5);
    // Act: done
    provider.observation = { phase: 'ready', nodes: { desired: 2, ready: 2 } };
    await reconcile();
    // Assess
    expect(infra()).toMatchObject({ phase: 'ONLINE', nodes: { desired: 2, ready: 2 }, observedGeneration: cluster()?.metadata.generation });
  });

  it('records a rejection as FAILED and does not retry the same generation', async () => {
    // Prepare
    provider.reject = 'invalid Kubernetes version 9.9';
    // Act
    const result = await reconcile();
    await reconcile();
    // Assess
    expect(result).toEqual({});
    expect(infra()).toMatchObject({ phase: 'FAILED', message: 'invalid Kubernetes version 9.9' });
    expect((cluster()?.status as ClusterStatus).state).toBe('FAILED');
    expect(provider.calls).toHaveLength(1);
  });

  it('asks create to recover a cluster the provider reports failed, and registers the new credentials', async () => {
    // Prepare: a running cluster
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 } };
    await reconcile();
    const before = (cluster()?.spec as { kubeconfigSecret: string }).kubeconfigSecret;
    provider.observation = { phase: 'failed', message: 'scheduler is not running' };
    // Act
    const failed = await reconcile();
    // Assess: retryable, create asked to recover
    expect(failed.requeueAfterSeconds).toBe(60);
    expect(infra()).toMatchObject({ phase: 'FAILED', message: 'scheduler is not running' });
    expect(infra()?.observedGeneration).toBeUndefined();
    expect(provider.calls).toEqual(['credentials', 'create default-edge on laptop']);
    // Act: it comes back
    await reconcile();
    expect(infra()?.phase).toBe('PROVISIONING');
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 } };
    await reconcile();
    // Assess: new credentials, the old secret released
    const after = (cluster()?.spec as { kubeconfigSecret: string }).kubeconfigSecret;
    expect(after).not.toBe(before);
    expect([...secrets.values.keys()]).toEqual([after]);
    expect(infra()?.phase).toBe('ONLINE');
  });

  it('refreshes expiring credentials and requeues before they expire', async () => {
    // Prepare
    provider.expiresAt = new Date(now.getTime() + 15 * 60_000);
    provider.observation = { phase: 'ready', nodes: { desired: 1, ready: 1 } };
    // Act
    const result = await reconcile();
    const firstSecret = (cluster()?.spec as { kubeconfigSecret: string }).kubeconfigSecret;
    now = new Date(now.getTime() + 13 * 60_000);
    await reconcile();
    // Assess
    expect(result.requeueAfterSeconds).toBe(12 * 60);
    expect(infra()?.credentialsExpireAt).toBe('2026-11-21T12:15:00Z');
    const secondSecret = (cluster()?.spec as { kubeconfigSecret: string }).kubeconfigSecret;
    expect(secondSecret).not.toBe(firstSecret);
    expect([...secrets.values.keys()]).toEqual([secondSecret]);
  });

  it('deletes after the applications moved away, and lets go when the provider says absent', async () => {
    // Prepare
    await reconcile();
    const current = cluster() as StoredResource;
    await store.update({ ...current, metadata: { ...current.metadata, finalizers: [...(current.metadata.finalizers ?? []), DRAIN_FINALIZER] } });
    store.markDeleted('edge');
    // Act: applications still there
    const waiting = await reconcile();
    // Assess
    expect(waiting.requeueAfterSeconds).toBe(30);
    expect(provider.calls).not.toContain('delete');
    // Act: the garbage collector is done
    const drained = cluster() as StoredResource;
    await store.update({ ...drained, metadata: { ...drained.metadata, finalizers: [INFRASTRUCTURE_FINALIZER] } });
    await reconcile();
    // Assess
    expect(provider.calls).toContain('delete');
    expect(infra()?.phase).toBe('DELETING');
    // Act: gone at the provider
    provider.observation = { phase: 'absent' };
    await reconcile();
    // Assess
    expect(cluster()).toBeUndefined();
  });

  it('keeps the finalizer when the provider refuses the deletion', async () => {
    // Prepare
    await reconcile();
    store.markDeleted('edge');
    provider.reject = 'access denied';
    // Act
    const result = await reconcile();
    // Assess
    expect(result.requeueAfterSeconds).toBe(60);
    expect(cluster()?.metadata.finalizers).toEqual([INFRASTRUCTURE_FINALIZER]);
    expect(infra()).toMatchObject({ phase: 'FAILED', message: 'deleting: access denied' });
  });

  it('just lets go of a cluster that was never created', async () => {
    // Prepare
    store.objects.delete('Cloud/default/laptop');
    await reconcile();
    store.markDeleted('edge');
    // Act
    await reconcile();
    // Assess
    expect(cluster()).toBeUndefined();
    expect(provider.calls).toEqual([]);
  });
});
