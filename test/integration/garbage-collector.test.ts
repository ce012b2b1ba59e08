import { randomUUID } from 'node:crypto';
import { ApiException, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DRAIN_FINALIZER, FOREGROUND_FINALIZER } from '../../shared/resources/deletion.ts';
import { call, collection } from './support/http.ts';
import { registerCluster, statusOf } from './support/fleet.ts';

// The garbage collector as it runs in the local control plane: real DynamoDB Local, its
// stream, the GC's filtered stream poller and its scheduled sweep (every 5 s here), and
// for Cluster deletion the scheduler, the deployer and real kube-apiservers.

const run = () => randomUUID().slice(0, 8);
const POLL = { timeout: 60_000, interval: 100 };
const SLOW_POLL = { timeout: 120_000, interval: 500 };
/** Another controller's finalizer, which the garbage collector must leave alone. */
const HOLD = 'test.shoal.io/hold';

interface Ref {
  kind: string;
  name: string;
  uid: string;
}

const plural: Record<string, string> = { Metric: 'metrics', MetricsProvider: 'metricsproviders', Application: 'applications' };
const pathOf = (namespace: string, kind: string, name: string) => `${collection(namespace, plural[kind] ?? '')}/${name}`;
const ownerRef = (owner: Ref) => ({ apiVersion: 'shoal.io/v1alpha1', kind: owner.kind, name: owner.name, uid: owner.uid });

/** Objects no other reconciler touches, so that only the garbage collector acts on them. */
async function provider(namespace: string, name: string, owners: Ref[] = []): Promise<Ref> {
  const created = await call('POST', collection(namespace, 'metricsproviders'), {
    metadata: { name, ownerReferences: owners.map(ownerRef) },
    spec: { type: 'static', static: { metrics: { load: 0.5 } } },
  });
  expect(created.status, created.text).toBe(201);
  return { kind: 'MetricsProvider', name, uid: created.body.metadata.uid };
}

async function metric(namespace: string, name: string, owners: Ref[]): Promise<Ref> {
  const created = await call('POST', collection(namespace, 'metrics'), {
    metadata: { name, ownerReferences: owners.map(ownerRef) },
    spec: { min: 0, max: 1, provider: { name: 'p', metric: 'load' } },
  });
  expect(created.status, created.text).toBe(201);
  return { kind: 'Metric', name, uid: created.body.metadata.uid };
}

/** p ← m1 ← m2 ← m3: each owned by the one before. */
async function chain(namespace: string): Promise<Ref[]> {
  const p = await provider(namespace, 'p');
  const m1 = await metric(namespace, 'm1', [p]);
  const m2 = await metric(namespace, 'm2', [m1]);
  const m3 = await metric(namespace, 'm3', [m2]);
  return [p, m1, m2, m3];
}

const existsNow = async (namespace: string, ref: Ref) => (await call('GET', pathOf(namespace, ref.kind, ref.name))).status === 200;
const existing = async (namespace: string, refs: Ref[]) => {
  const found = await Promise.all(refs.map((ref) => existsNow(namespace, ref)));
  return refs.filter((_, index) => found[index]).map((ref) => ref.name);
};

describe('cascading deletion through owner references', () => {
  it('Foreground (the default): dependents go first, level by level, the owner last', async () => {
    // Prepare: p ← m1 ← m2 ← m3, the leaf held by another controller's finalizer that only the test removes
    const namespace = `gc-fg-${run()}`;
    const tree = await chain(namespace);
    const leaf = pathOf(namespace, 'Metric', 'm3');
    await call('PATCH', leaf, { metadata: { finalizers: [HOLD] } }, 'application/merge-patch+json');
    const deleting = async () => Promise.all(tree.map(async (ref) => Boolean((await call('GET', pathOf(namespace, ref.kind, ref.name))).body?.metadata?.deletionTimestamp)));
    // Act
    const deleted = await call('DELETE', pathOf(namespace, 'MetricsProvider', 'p'));
    // Assess: the deletion reaches the leaf; everything above it waits while the leaf is held
    expect(deleted.status).toBe(202);
    expect(deleted.body.metadata.finalizers).toEqual([FOREGROUND_FINALIZER]);
    await expect.poll(deleting, POLL).toEqual([true, true, true, true]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await existing(namespace, tree)).toEqual(['p', 'm1', 'm2', 'm3']);
    // Act: the other controller lets the leaf go
    const finalizers: string[] = (await call('GET', leaf)).body.metadata.finalizers;
    await call('PATCH', leaf, { metadata: { finalizers: finalizers.filter((finalizer) => finalizer !== HOLD) } }, 'application/merge-patch+json');
    // Assess: the rest goes bottom-up: at every look, whatever exists has its owners still there
    const seen: string[][] = [];
    await expect
      .poll(async () => {
        const left = await existing(namespace, tree);
        seen.push(left);
        return left;
      }, POLL)
      .toEqual([]);
    for (const left of seen) expect(left).toEqual(tree.map((ref) => ref.name).slice(0, left.length));
  });

  it('Background: the owner goes at once, the dependents follow', async () => {
    // Prepare
    const namespace = `gc-bg-${run()}`;
    const refs = await chain(namespace);
    // Act
    const deleted = await call('DELETE', `${pathOf(namespace, 'MetricsProvider', 'p')}?propagationPolicy=Background`);
    // Assess
    expect(deleted.status).toBe(200);
    expect(await existsNow(namespace, refs[0] as Ref)).toBe(false);
    await expect.poll(() => existing(namespace, refs), POLL).toEqual([]);
  });

  it('Orphan (a DeleteOptions body): the dependents stay, without their owner reference', async () => {
    // Prepare
    const namespace = `gc-orphan-${run()}`;
    const refs = await chain(namespace);
    // Act
    const deleted = await call('DELETE', pathOf(namespace, 'MetricsProvider', 'p'), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' });
    // Assess
    expect(deleted.status).toBe(202);
    await expect.poll(() => existing(namespace, refs), POLL).toEqual(['m1', 'm2', 'm3']);
    const m1 = await call('GET', pathOf(namespace, 'Metric', 'm1'));
    const m2 = await call('GET', pathOf(namespace, 'Metric', 'm2'));
    expect(m1.body.metadata.ownerReferences).toBeUndefined();
    expect(m2.body.metadata.ownerReferences).toEqual([ownerRef(refs[1] as Ref)]);
  });

  it('keeps a dependent that another owner still holds, removing only the reference to the deleted one', async () => {
    // Prepare
    const namespace = `gc-shared-${run()}`;
    const a = await provider(namespace, 'a');
    const b = await provider(namespace, 'b');
    const shared = await metric(namespace, 'shared', [a, b]);
    // Act
    await call('DELETE', pathOf(namespace, 'MetricsProvider', 'a'));
    // Assess
    await expect.poll(() => existing(namespace, [a, b, shared]), POLL).toEqual(['b', 'shared']);
    expect((await call('GET', pathOf(namespace, 'Metric', 'shared'))).body.metadata.ownerReferences).toEqual([ownerRef(b)]);
  });

  it('breaks an ownership cycle instead of waiting forever, deleting only the objects in it', async () => {
    // Prepare: a owns b, b owns a; c is unrelated
    const namespace = `gc-cycle-${run()}`;
    const first = await provider(namespace, 'a');
    const b = await provider(namespace, 'b', [first]);
    const c = await provider(namespace, 'c');
    const patched = await call('PATCH', pathOf(namespace, 'MetricsProvider', 'a'), { metadata: { ownerReferences: [ownerRef(b)] } }, 'application/merge-patch+json');
    expect(patched.status, patched.text).toBe(200);
    // Act
    await call('DELETE', pathOf(namespace, 'MetricsProvider', 'a'));
    // Assess
    await expect.poll(() => existing(namespace, [first, b, c]), POLL).toEqual(['c']);
  });

  it('survives two deletes of the same object racing: both accepted, the tree deleted once', async () => {
    // Prepare: the leaf is held, so that the tree cannot be gone before both requests are answered
    const namespace = `gc-race-${run()}`;
    const refs = await chain(namespace);
    const leaf = pathOf(namespace, 'Metric', 'm3');
    await call('PATCH', leaf, { metadata: { finalizers: [HOLD] } }, 'application/merge-patch+json');
    // Act
    const results = await Promise.all([call('DELETE', pathOf(namespace, 'MetricsProvider', 'p')), call('DELETE', pathOf(namespace, 'MetricsProvider', 'p'))]);
    // Assess
    expect(results.map((result) => result.status)).toEqual([202, 202]);
    expect(results[0]?.body.metadata.deletionTimestamp).toBe(results[1]?.body.metadata.deletionTimestamp);
    expect(results[1]?.body.metadata.finalizers).toEqual([FOREGROUND_FINALIZER]);
    await expect.poll(async () => (await call('GET', leaf)).body.metadata.deletionTimestamp, POLL).toBeTruthy();
    const finalizers: string[] = (await call('GET', leaf)).body.metadata.finalizers;
    await call('PATCH', leaf, { metadata: { finalizers: finalizers.filter((finalizer) => finalizer !== HOLD) } }, 'application/merge-patch+json');
    await expect.poll(() => existing(namespace, refs), POLL).toEqual([]);
  });

  it('refuses owner references it could not follow: another namespace, another API, the object itself', async () => {
    // Prepare
    const namespace = `gc-refs-${run()}`;
    const elsewhere = await provider(`gc-other-${run()}`, 'owner');
    const body = (ownerReferences: unknown[]) => ({ metadata: { name: 'm', ownerReferences }, spec: { min: 0, max: 1, provider: { name: 'p', metric: 'load' } } });
    // Act
    const crossNamespace = await call('POST', collection(namespace, 'metrics'), body([ownerRef(elsewhere)]));
    const foreign = await call('POST', collection(namespace, 'metrics'), body([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u' }]));
    const itself = await call('POST', collection(namespace, 'metrics'), body([{ apiVersion: 'shoal.io/v1alpha1', kind: 'Metric', name: 'm', uid: 'u' }]));
    // Assess
    expect(crossNamespace.status).toBe(422);
    expect(crossNamespace.body.details.causes).toEqual([
      expect.objectContaining({ field: 'metadata.ownerReferences[0]', message: expect.stringContaining('an owner must be in the same namespace') }),
    ]);
    expect(foreign.status).toBe(422);
    expect(foreign.body.details.causes[0].message).toMatch(/must name a shoal.io\/v1alpha1 kind/);
    expect(itself.status).toBe(422);
    expect(itself.body.details.causes[0].message).toBe('an object cannot own itself');
  });
});

describe('work no stream event leads to', () => {
  it('the sweep collects an object whose only owner never existed, and drops a dangling reference beside a live owner', async () => {
    // Prepare: creating objects is no event for the garbage collector; only its sweep looks
    const namespace = `gc-sweep-${run()}`;
    const ghost = { kind: 'MetricsProvider', name: 'ghost', uid: randomUUID() };
    const live = await provider(namespace, 'live');
    const orphaned = await metric(namespace, 'orphaned', [ghost]);
    const kept = await metric(namespace, 'kept', [ghost, live]);
    // Act / Assess
    await expect.poll(() => existing(namespace, [live, orphaned, kept]), { timeout: 60_000, interval: 500 }).toEqual(['live', 'kept']);
    await expect.poll(async () => (await call('GET', pathOf(namespace, 'Metric', 'kept'))).body.metadata.ownerReferences, POLL).toEqual([ownerRef(live)]);
  });

  it('a redelivered REMOVE record of an owner deleted and created again touches nothing of the new owner', async () => {
    // Prepare: p deleted (with its dependents), then p created again with a new dependent
    const namespace = `gc-redeliver-${run()}`;
    const old = await provider(namespace, 'p');
    await metric(namespace, 'child', [old]);
    const before = (await call('GET', pathOf(namespace, 'MetricsProvider', 'p'))).body;
    await call('DELETE', pathOf(namespace, 'MetricsProvider', 'p'));
    await expect.poll(() => existsNow(namespace, old), POLL).toBe(false);
    const renewed = await provider(namespace, 'p');
    const child = await metric(namespace, 'child', [renewed]);
    const record = {
      eventID: 'redelivered-1',
      eventName: 'REMOVE' as const,
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        Keys: { pk: { S: 'MetricsProvider' }, sk: { S: `${namespace}/p` } },
        OldImage: { pk: { S: 'MetricsProvider' }, sk: { S: `${namespace}/p` }, resource: { S: JSON.stringify(before) } },
        SequenceNumber: '1',
        StreamViewType: 'NEW_AND_OLD_IMAGES' as const,
      },
    };
    Object.assign(process.env, { SHOAL_DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'), SHOAL_SECRET_STORE: inject('secretStore') });
    const { handler } = await import('../../lambdas/garbage-collector/handler.ts');
    // Act: delivered twice, as an event source mapping may
    const first = await handler({ Records: [record] } as DynamoDBStreamEvent);
    const second = await handler({ Records: [record] } as DynamoDBStreamEvent);
    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(await existing(namespace, [renewed, child])).toEqual(['p', 'child']);
  });
});

describe('deleting a Cluster', () => {
  const kubeconfigs = inject('kubeconfigs');
  const leftovers: { cluster: string; namespace: string }[] = [];

  function objectsOn(cluster: string) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigs[cluster] ?? '');
    return KubernetesObjectApi.makeApiClient(kc);
  }

  async function deploymentOn(cluster: string, namespace: string): Promise<boolean> {
    try {
      await objectsOn(cluster).read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace } });
      return true;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return false;
      throw error;
    }
  }

  async function webApp(namespace: string, target: string): Promise<string> {
    const labels = { app: 'web' };
    const manifests: KubernetesObject[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: target } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: target },
        spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] } } },
      } as KubernetesObject,
    ];
    const created = await call('POST', collection(namespace, 'applications'), { metadata: { name: 'web' }, spec: { manifests } });
    expect(created.status, created.text).toBe(201);
    return `${collection(namespace, 'applications')}/web`;
  }

  afterAll(async () => {
    for (const { cluster, namespace } of leftovers) {
      await objectsOn(cluster).delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(() => undefined);
    }
  });

  it('moves its applications to another cluster, cleans it, and only then lets it go', async () => {
    // Prepare: the app runs on c1 (the only cluster at first); c2 joins
    const namespace = `gc-cluster-${run()}`;
    const target = `drain-${run()}`;
    leftovers.push({ cluster: 'c1', namespace: target }, { cluster: 'c2', namespace: target });
    const c1 = await registerCluster(namespace, 'c1');
    await expect.poll(async () => (await statusOf(c1)).state, SLOW_POLL).toBe('ONLINE');
    const app = await webApp(namespace, target);
    await expect.poll(async () => (await statusOf(app)).state, SLOW_POLL).toBe('RUNNING');
    expect((await statusOf(app)).runningOn).toBe('c1');
    const c2 = await registerCluster(namespace, 'c2');
    await expect.poll(async () => (await statusOf(c2)).state, SLOW_POLL).toBe('ONLINE');
    // Act
    const deleted = await call('DELETE', c1);
    // Assess: held by the drain, the app moves to c2 and leaves c1, then c1 goes
    expect(deleted.status).toBe(202);
    expect(deleted.body.metadata.finalizers).toEqual(expect.arrayContaining([DRAIN_FINALIZER]));
    await expect.poll(async () => (await call('GET', c1)).status, SLOW_POLL).toBe(404);
    const status = await statusOf(app);
    expect(status).toMatchObject({ state: 'RUNNING', runningOn: 'c2', scheduledTo: 'c2' });
    expect(await deploymentOn('c2', target)).toBe(true);
    expect(await deploymentOn('c1', target)).toBe(false);
    await call('DELETE', app);
    await expect.poll(async () => (await call('GET', app)).status, SLOW_POLL).toBe(404);
  });

  it('with nowhere else to go, its applications go PENDING (not deleted) and leave it before it goes', async () => {
    // Prepare
    const namespace = `gc-lone-${run()}`;
    const target = `lone-${run()}`;
    leftovers.push({ cluster: 'c2', namespace: target });
    const c2 = await registerCluster(namespace, 'c2');
    await expect.poll(async () => (await statusOf(c2)).state, SLOW_POLL).toBe('ONLINE');
    const app = await webApp(namespace, target);
    await expect.poll(async () => (await statusOf(app)).state, SLOW_POLL).toBe('RUNNING');
    // Act
    await call('DELETE', c2);
    // Assess
    await expect.poll(async () => (await call('GET', c2)).status, SLOW_POLL).toBe(404);
    const status = await statusOf(app);
    expect(status.state).toBe('PENDING');
    expect(status.reason).toMatch(/c2(:| is) being deleted/);
    expect(status.runningOn).toBeUndefined();
    expect(status.scheduledTo).toBeUndefined();
    expect(await deploymentOn('c2', target)).toBe(false);
    await call('DELETE', app);
    await expect.poll(async () => (await call('GET', app)).status, SLOW_POLL).toBe(404);
  });
});
