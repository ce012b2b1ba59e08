import { secondsSetting } from '../config.ts';
import { withConditions } from '../deploy/deployment-status.ts';
import { clusterDrain, type DrainDecision } from '../garbage-collection/cluster-drain.ts';
import { dependentAction, isWaiting, misplacedOwners, objectId, OwnershipGraph, withoutOwner, type OwnerReference } from '../garbage-collection/ownership.ts';
import { deletionFinalizers, DRAIN_FINALIZER, FOREGROUND_FINALIZER, hasFinalizer, ORPHAN_FINALIZER, withoutFinalizer } from '../resources/deletion.ts';
import { isKind, type ApplicationStatus, type ResourceKey } from '../resources/kinds.ts';
import type { Condition } from '../resources/meta.ts';
import { sameJson } from '../resources/values.ts';
import { keyOf, type DeleteOutcome, type ResourceStore, type StoredResource } from '../store/resource-store.ts';
import type { ReconcileContext, ReconcileResult, Reconciler, ResourceChange } from './contract.ts';

/** How soon a deletion waiting for dependents, or a cluster waiting for its applications, is looked at again. */
export const WAITING_RECHECK_SECONDS = 3;
/** The condition the garbage collector writes on objects whose owner references it cannot follow. */
export const OWNER_REFERENCES_CONDITION = 'OwnerReferences';

/** How long a deleted, unreachable cluster may hold on to its applications (`SHOAL_CLUSTER_DRAIN_GRACE_SECONDS`). */
const DEFAULT_DRAIN_GRACE_SECONDS = 300;

/**
 * The ownership graph around a namespace's owned objects: every object that has owner
 * references (one Query of the sparse owned-objects index), the owners they name (read
 * consistently) and `extra` objects the caller holds. With `checkElsewhere`, the uids of
 * references that resolve to nothing here are looked for in other namespaces (a Query
 * per kind): only the sweep of a single object asks, since admission refuses such
 * references and a cascade must not read every namespace.
 */
async function loadGraph(
  store: ResourceStore,
  namespace: string,
  options: { extra?: readonly StoredResource[]; checkElsewhere?: boolean } = {},
): Promise<OwnershipGraph> {
  const byId = new Map<string, StoredResource>();
  for (const object of [...(await store.listOwned(namespace)), ...(options.extra ?? [])]) byId.set(objectId(keyOf(object)), object);
  const owners = new Map<string, ResourceKey>();
  for (const object of byId.values()) {
    for (const key of ownerKeys(object)) if (!byId.has(objectId(key))) owners.set(objectId(key), key);
  }
  for (const owner of await Promise.all([...owners.values()].map((key) => store.get(key)))) {
    if (owner) byId.set(objectId(keyOf(owner)), owner);
  }
  const objects = [...byId.values()];
  const local = new OwnershipGraph(namespace, objects);
  const unresolved = objects.flatMap((object) => (object.metadata.ownerReferences ?? []).filter((ref) => !local.ownerOf(ref)));
  if (!options.checkElsewhere || unresolved.length === 0) return local;
  const wanted = new Set(unresolved.map((ref) => ref.uid));
  const elsewhere = new Map<string, string>();
  for (const kind of new Set(unresolved.map((ref) => ref.kind).filter(isKind))) {
    for (const [uid, where] of await store.namespacesOf(kind, wanted)) if (where !== namespace) elsewhere.set(uid, where);
  }
  return new OwnershipGraph(namespace, objects, elsewhere);
}

const describe = (object: { kind: string; metadata: { name: string } }) => `${object.kind} "${object.metadata.name}"`;

/** Writes one condition into an object's status when it changed (every kind's status has `conditions`); returns the object as it now is. */
async function recordCondition(ctx: ReconcileContext, object: StoredResource, condition: Condition): Promise<StoredResource> {
  const status = (object.status ?? {}) as { conditions?: Condition[] };
  const conditions = withConditions(status.conditions, [condition], ctx.now());
  if (sameJson(conditions, status.conditions)) return object;
  return ctx.store.updateStatus(keyOf(object), { ...status, conditions }, object.metadata.resourceVersion);
}

/** Carries out what `dependentAction` decided for one dependent, and says where the dependent stands now. */
async function settleDependent(ctx: ReconcileContext, graph: OwnershipGraph, dependent: StoredResource): Promise<'kept' | 'detached' | 'deleting'> {
  const decision = dependentAction(graph, dependent);
  switch (decision.action) {
    case 'keep':
      return dependent.metadata.deletionTimestamp ? 'deleting' : 'kept';
    case 'detach': {
      const detached = withoutOwner(dependent, new Set(decision.refs.map((ref) => ref.uid)));
      if (detached) await ctx.store.update(detached);
      ctx.logger.info('removed owner references; other owners keep the object', { object: keyOf(dependent), owners: decision.refs.map(describeRef) });
      return 'detached';
    }
    case 'delete':
      await ctx.store.delete(keyOf(dependent), {
        resourceVersion: dependent.metadata.resourceVersion,
        finalizers: deletionFinalizers(dependent.kind, decision.policy),
      });
      ctx.logger.info('deleting dependent: no owner is left', { object: keyOf(dependent), policy: decision.policy });
      return 'deleting';
  }
}

const describeRef = (ref: OwnerReference) => `${ref.kind} "${ref.name}" (${ref.uid})`;

/**
 * Foreground deletion: the dependents are deleted first (in the foreground too), and the
 * finalizer goes when none is left. Waiting for a dependent that itself waits, through
 * ownership, for this object would never end: such a cycle is broken by not waiting for
 * that dependent, and said so in a condition and the log.
 */
async function deleteDependentsFirst(ctx: ReconcileContext, object: StoredResource): Promise<{ outcome: DeleteOutcome; waiting: boolean }> {
  const graph = await loadGraph(ctx.store, object.metadata.namespace, { extra: [object] });
  const dependents = graph.dependentsOf({ kind: object.kind, name: object.metadata.name, uid: object.metadata.uid });
  const waitingFor: StoredResource[] = [];
  const cycles: string[] = [];
  for (const dependent of dependents) {
    if ((await settleDependent(ctx, graph, dependent)) !== 'deleting') continue;
    const cycle = graph.pathDown(dependent, object);
    if (cycle && isWaiting(dependent)) {
      cycles.push([object, ...cycle].map(describe).join(' → '));
      continue;
    }
    waitingFor.push(dependent);
  }
  let current = object;
  if (cycles.length) {
    ctx.logger.warn('ownership cycle: not waiting for dependents that wait for this object', { object: keyOf(object), cycles });
    current = await recordCondition(ctx, object, {
      type: OWNER_REFERENCES_CONDITION,
      status: 'False',
      reason: 'OwnershipCycle',
      message: `ownership cycle ${cycles.join('; ')}: deleted without waiting for the dependents in it`,
    });
  }
  if (waitingFor.length) return { outcome: { removed: false, resource: current }, waiting: true };
  return { outcome: await ctx.store.update(withoutFinalizer(current, FOREGROUND_FINALIZER)), waiting: false };
}

/** Orphan deletion: every dependent loses its reference to the object, then the finalizer goes. */
async function orphanDependents(ctx: ReconcileContext, object: StoredResource): Promise<DeleteOutcome> {
  const graph = await loadGraph(ctx.store, object.metadata.namespace, { extra: [object] });
  for (const dependent of graph.dependentsOf({ kind: object.kind, name: object.metadata.name, uid: object.metadata.uid })) {
    const detached = withoutOwner(dependent, new Set([object.metadata.uid]));
    if (detached) await ctx.store.update(detached);
  }
  return ctx.store.update(withoutFinalizer(object, ORPHAN_FINALIZER));
}

/** A deleted Cluster: its applications move away (the scheduler and deployer do that); the finalizer goes once none is left on it. */
async function drainCluster(ctx: ReconcileContext, cluster: StoredResource): Promise<{ outcome: DeleteOutcome; decision: DrainDecision }> {
  const { items } = await ctx.store.list({ kind: 'Application', namespace: cluster.metadata.namespace });
  const apps = items.map((app) => ({ name: app.metadata.name, status: (app.status ?? {}) as ApplicationStatus }));
  const decision = clusterDrain(cluster, apps, ctx.now(), secondsSetting('SHOAL_CLUSTER_DRAIN_GRACE_SECONDS', DEFAULT_DRAIN_GRACE_SECONDS));
  if (decision.action === 'wait') {
    const current = await recordCondition(ctx, cluster, { type: 'Drained', status: 'False', reason: 'ApplicationsRemaining', message: decision.message });
    return { outcome: { removed: false, resource: current }, decision };
  }
  if (decision.action === 'abandon') ctx.logger.warn('releasing a deleted cluster that stayed unreachable', { cluster: keyOf(cluster), reason: decision.message });
  else ctx.logger.info('deleted cluster has no applications left', { cluster: keyOf(cluster) });
  return { outcome: await ctx.store.update(withoutFinalizer(cluster, DRAIN_FINALIZER)), decision };
}

/** The garbage collector's part of an object being deleted: each of its finalizers, in turn. */
async function finalize(ctx: ReconcileContext, object: StoredResource): Promise<ReconcileResult> {
  let current = object;
  let waiting = false;
  const has = (finalizer: string) => hasFinalizer(current, finalizer);
  if (current.kind === 'Cluster' && has(DRAIN_FINALIZER)) {
    const { outcome, decision } = await drainCluster(ctx, current);
    if (outcome.removed) return {};
    current = outcome.resource;
    waiting ||= decision.action === 'wait';
  }
  if (has(ORPHAN_FINALIZER)) {
    const outcome = await orphanDependents(ctx, current);
    if (outcome.removed) return {};
    current = outcome.resource;
  }
  if (has(FOREGROUND_FINALIZER)) {
    const { outcome, waiting: dependentsLeft } = await deleteDependentsFirst(ctx, current);
    if (outcome.removed) return {};
    waiting ||= dependentsLeft;
  }
  return waiting ? { requeueAfterSeconds: WAITING_RECHECK_SECONDS } : {};
}

/**
 * An object that is not being deleted, but has owner references: a reference to an owner
 * that is gone is removed, and with no owner left the object is deleted (Background).
 * References to owners in another namespace are reported, never followed.
 */
async function checkOwners(ctx: ReconcileContext, graph: OwnershipGraph, object: StoredResource): Promise<void> {
  const misplaced = misplacedOwners(graph, object);
  if (misplaced.length) {
    await recordCondition(ctx, object, {
      type: OWNER_REFERENCES_CONDITION,
      status: 'False',
      reason: 'OwnerInAnotherNamespace',
      message: `owners must be in namespace "${object.metadata.namespace}": ${misplaced.map(describeRef).join(', ')} ignored`,
    });
    return;
  }
  await settleDependent(ctx, graph, object);
}

const ownerKeys = (object: StoredResource | undefined): ResourceKey[] =>
  (object?.metadata.ownerReferences ?? []).flatMap(({ kind, name }) => (object && isKind(kind) ? [{ kind, namespace: object.metadata.namespace, name }] : []));

/**
 * Kubernetes' garbage collector for Shoal's objects: Foreground, Background and Orphan
 * propagation through `metadata.ownerReferences`, dangling references, ownership cycles,
 * and the drain of deleted Clusters. Woken by objects being deleted or removed (and by
 * their owners, which may be waiting for them), and by a scheduled sweep of everything.
 */
export const garbageCollector: Reconciler = {
  name: 'garbage-collector',

  keysFor(change: ResourceChange): ResourceKey[] {
    const keys = [change.key, ...ownerKeys(change.before), ...ownerKeys(change.after)];
    return keys.filter((key, index) => keys.findIndex((other) => objectId(other) === objectId(key)) === index);
  },

  async reconcile(ctx: ReconcileContext, key: ResourceKey): Promise<ReconcileResult> {
    const object = await ctx.store.get(key);
    if (object?.metadata.deletionTimestamp) return finalize(ctx, object);
    if (object && !object.metadata.ownerReferences?.length) return {};
    const graph = await loadGraph(ctx.store, key.namespace, { extra: object ? [object] : [], checkElsewhere: Boolean(object) });
    if (object) {
      await checkOwners(ctx, graph, object);
      return {};
    }
    // The object is gone: whatever named it as an owner is now dangling.
    for (const dependent of graph.dependentsOf({ kind: key.kind, name: key.name })) await settleDependent(ctx, graph, dependent);
    return {};
  },
};
