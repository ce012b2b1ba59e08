import { isDeepStrictEqual } from 'node:util';
import { ClusterObjects } from '../deploy/cluster-objects.ts';
import { statusAfterApply, withConditions, type DeployerStatus } from '../deploy/deployment-status.ts';
import { describeRef, type Manifest, refId } from '../deploy/manifests.ts';
import { driftCondition, type ObserverEntry, withObservations } from '../deploy/observer.ts';
import { orphanAction, orphanManifests, withCleanupCondition, withOrphans } from '../deploy/orphans.ts';
import { applyManifests, deployedObjects, objectsDroppedFromSpec, removeObjects } from '../deploy/rollout.ts';
import { type ClusterKubeconfigRef, registeredKubeconfig } from '../kube/kubeconfig.ts';
import { hasFinalizer, withFinalizer, withoutFinalizer } from '../resources/deletion.ts';
import type { ApplicationStatus, ClusterStatus, OrphanedObjects, ResourceKey } from '../resources/kinds.ts';
import { sameJson } from '../resources/values.ts';
import type { StoredResource } from '../store/resource-store.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from './contract.ts';

/** Holds an Application until its objects have been removed from the clusters. */
export const DEPLOYER_FINALIZER = 'shoal.io/application-deployer';
/** How soon a binding to a cluster Shoal cannot reach is looked at again. */
export const UNAVAILABLE_CLUSTER_RECHECK_SECONDS = 30;

/** `gone`: the Cluster object does not exist (any more). */
type Connection = { objects: ClusterObjects } | { unavailable: string; gone?: boolean };

/**
 * Clusters and Applications bind within one namespace. A cluster the probe reports
 * OFFLINE counts as unavailable instead of failing (and blocking the stream) on every
 * attempt. A cluster being deleted takes nothing new (`deploy`) but is still cleaned
 * (`cleanup`): its deletion waits for exactly that.
 */
async function connect(ctx: ReconcileContext, namespace: string, name: string, purpose: 'deploy' | 'cleanup'): Promise<Connection> {
  const cluster = await ctx.store.get({ kind: 'Cluster', namespace, name });
  const what = `Cluster "${namespace}/${name}"`;
  if (!cluster) return { unavailable: `${what} does not exist`, gone: true };
  if (purpose === 'deploy' && cluster.metadata.deletionTimestamp) return { unavailable: `${what} is being deleted` };
  const state = (cluster.status as ClusterStatus | undefined)?.state;
  if (state === 'OFFLINE') return { unavailable: `${what} is OFFLINE` };
  const kubeconfig = await registeredKubeconfig(ctx.secrets, cluster.spec as ClusterKubeconfigRef);
  return 'problem' in kubeconfig ? { unavailable: `${what}: ${kubeconfig.problem}` } : { objects: new ClusterObjects(kubeconfig.kubeConfig) };
}

/**
 * Read-modify-write of the deployer's part of the status, conditional on the version
 * read. Nothing is written when nothing changed: every write comes back as a stream
 * event, and this is what ends that loop.
 */
async function writeStatus(ctx: ReconcileContext, app: StoredResource, mine: DeployerStatus): Promise<StoredResource> {
  const next = { ...(app.status as ApplicationStatus | undefined), ...mine };
  if (sameJson(next, app.status)) return app;
  const key = { kind: app.kind, namespace: app.metadata.namespace, name: app.metadata.name };
  if (next.state !== (app.status as ApplicationStatus | undefined)?.state) ctx.logger.info('application state', { key, state: next.state, reason: next.reason });
  return ctx.store.updateStatus(key, next, app.metadata.resourceVersion);
}

/** Removes the application's objects from every cluster that may hold them, then lets the Application go. */
async function finalize(ctx: ReconcileContext, app: StoredResource): Promise<ReconcileResult> {
  if (!hasFinalizer(app, DEPLOYER_FINALIZER)) return {};
  const status = (app.status ?? {}) as ApplicationStatus;
  const current = await writeStatus(ctx, app, { state: 'DELETING', reason: undefined });
  const manifests = deployedObjects((app.spec as { manifests: Manifest[] }).manifests, status.manifests);
  const bound = new Set([status.runningOn, status.scheduledTo].filter((c): c is string => Boolean(c)));
  const targets = new Map<string, Manifest[]>([...bound].map((name) => [name, manifests]));
  for (const entry of status.orphans ?? []) targets.set(entry.cluster, [...(targets.get(entry.cluster) ?? []), ...orphanManifests(entry)]);
  for (const [name, objects] of targets) {
    const connection = await connect(ctx, app.metadata.namespace, name, 'cleanup');
    if ('unavailable' in connection) {
      // A cluster that is gone, or dead (OFFLINE), cannot hold the Application forever.
      ctx.logger.warn('cannot remove the application from a cluster; releasing it anyway', { app: app.metadata.name, cluster: name, reason: connection.unavailable });
      continue;
    }
    try {
      await removeObjects(connection.objects, objects);
    } catch (error) {
      // The live copy is retried; objects already orphaned on a cluster that fails now are given up.
      if (bound.has(name)) throw error;
      ctx.logger.warn('cannot remove objects left behind on a cluster; releasing the application anyway', { app: app.metadata.name, cluster: name, error: (error as Error).message });
    }
  }
  await ctx.store.update(withoutFinalizer(current, DEPLOYER_FINALIZER));
  ctx.logger.info('removed deleted application from its clusters', { namespace: app.metadata.namespace, name: app.metadata.name });
  return {};
}

/**
 * Removes the copy left on the cluster an application moved away from. When that cluster
 * cannot be reached (OFFLINE, being deleted, no kubeconfig, the removal fails), the move
 * completes anyway and the objects are returned to be recorded in `status.orphans`;
 * a Cluster that no longer exists has nothing left to record.
 */
async function removeOldCopy(ctx: ReconcileContext, key: ResourceKey, cluster: string, objects: Manifest[]): Promise<Manifest[]> {
  const previous = await connect(ctx, key.namespace, cluster, 'cleanup');
  if ('unavailable' in previous) {
    ctx.logger.warn('cannot remove the old copy after migrating', { key, cluster, reason: previous.unavailable });
    return previous.gone ? [] : objects;
  }
  try {
    await removeObjects(previous.objects, objects);
    return [];
  } catch (error) {
    ctx.logger.warn('cannot remove the old copy after migrating; recording it as orphaned', { key, cluster, error: (error as Error).message });
    return objects;
  }
}

/**
 * Tries again to remove what earlier moves left behind, on clusters the probe reports
 * ONLINE; returns the entries still left. Failures are logged and kept for the next resync.
 */
async function cleanUpOrphans(ctx: ReconcileContext, key: ResourceKey, orphans: readonly OrphanedObjects[], target: string): Promise<OrphanedObjects[]> {
  const left: OrphanedObjects[] = [];
  for (const entry of orphans) {
    const cluster = await ctx.store.get({ kind: 'Cluster', namespace: key.namespace, name: entry.cluster });
    const view = cluster && { state: (cluster.status as ClusterStatus | undefined)?.state };
    const action = orphanAction(view, entry.cluster === target);
    if (action === 'drop') {
      ctx.logger.info('forgetting objects left behind', { key, cluster: entry.cluster, reason: view ? 'deployed there again' : 'the cluster is gone' });
      continue;
    }
    if (action === 'remove') {
      const connection = await connect(ctx, key.namespace, entry.cluster, 'cleanup');
      if (!('unavailable' in connection)) {
        try {
          await removeObjects(connection.objects, orphanManifests(entry));
          ctx.logger.info('removed objects left behind', { key, cluster: entry.cluster });
          continue;
        } catch (error) {
          ctx.logger.warn('cannot remove objects left behind yet', { key, cluster: entry.cluster, error: (error as Error).message });
        }
      }
    }
    left.push(entry);
  }
  return left;
}

/**
 * The scheduler released the binding because the cluster the application runs on is
 * being deleted (or gone) and no other fits: its objects are removed from there (or
 * recorded as left behind when it cannot be reached) and the application is PENDING.
 */
async function unbind(ctx: ReconcileContext, app: StoredResource): Promise<ReconcileResult> {
  const key: ResourceKey = { kind: 'Application', namespace: app.metadata.namespace, name: app.metadata.name };
  const status = (app.status ?? {}) as ApplicationStatus;
  const cluster = status.runningOn as string;
  const left = await removeOldCopy(ctx, key, cluster, deployedObjects((app.spec as { manifests: Manifest[] }).manifests, status.manifests));
  const orphans = left.length ? withOrphans(status.orphans, cluster, left) : status.orphans;
  const scheduled = status.conditions?.find((condition) => condition.type === 'Scheduled');
  ctx.logger.info('removed the application from the cluster it was released from', { key, cluster, leftBehind: left.length });
  await writeStatus(ctx, app, {
    state: 'PENDING',
    reason: scheduled?.message ?? `${cluster} is no longer available`,
    runningOn: undefined,
    manifests: undefined,
    lastAppliedGeneration: undefined,
    orphans,
    conditions: withCleanupCondition(status.conditions, orphans, ctx.now()),
  });
  return {};
}

/**
 * Deploys each Application to the cluster the scheduler bound it to (`status.scheduledTo`)
 * and keeps it there: server-side apply of every manifest on every reconcile (a no-op for
 * the cluster when nothing drifted), readiness from the live objects, migration when the
 * binding moves, removal from the clusters on deletion.
 */
export const applicationDeployer: Reconciler = {
  name: 'application-deployer',

  async reconcile(ctx: ReconcileContext, key: ResourceKey): Promise<ReconcileResult> {
    let app = await ctx.store.get(key);
    if (!app) return {};
    if (app.metadata.deletionTimestamp) return finalize(ctx, app);
    const cluster = (app.status as ApplicationStatus | undefined)?.scheduledTo;
    if (!cluster) return (app.status as ApplicationStatus | undefined)?.runningOn ? unbind(ctx, app) : {};
    // Only from here on can objects exist on a cluster, so only from here on is there anything to clean up.
    if (!hasFinalizer(app, DEPLOYER_FINALIZER)) {
      const added = await ctx.store.update(withFinalizer(app, DEPLOYER_FINALIZER));
      if (added.removed) return {};
      app = added.resource;
    }

    const status = (app.status ?? {}) as ApplicationStatus;
    const connection = await connect(ctx, key.namespace, cluster, 'deploy');
    if ('unavailable' in connection) {
      // Choosing another cluster is the scheduler's decision; say why nothing happens and look again.
      const conditions = withConditions(status.conditions, [{ type: 'Deployed', status: 'False', reason: 'ClusterUnavailable', message: connection.unavailable }], ctx.now());
      await writeStatus(ctx, app, { conditions });
      return { requeueAfterSeconds: UNAVAILABLE_CLUSTER_RECHECK_SECONDS };
    }

    const { manifests, observerSchema } = app.spec as { manifests: Manifest[]; observerSchema?: ObserverEntry[] };
    // Drift only means something where this generation is already running: read before re-applying it.
    const sameGeneration = status.lastAppliedGeneration === app.metadata.generation && status.runningOn === cluster;
    const outcomes = await applyManifests(connection.objects, manifests, sameGeneration);
    const { status: applied, requeueAfterSeconds } = statusAfterApply(status, cluster, app.metadata.generation, outcomes, ctx.now());
    const recorded = status.manifests ?? [];
    const observedManifests = withObservations(applied.manifests ?? [], manifests, outcomes, recorded, observerSchema, sameGeneration);
    const drift = driftCondition(observedManifests, applied.conditions, cluster);
    const mine = { ...applied, manifests: observedManifests, conditions: drift ? withConditions(applied.conditions, [drift], ctx.now()) : applied.conditions };
    for (const entry of observedManifests) {
      const before = recorded.find((r) => refId(r) === refId(entry));
      if (entry.drift && !isDeepStrictEqual(entry.drift, before?.drift)) ctx.logger.info('restored drifted fields', { key, cluster, object: describeRef(entry), drift: entry.drift });
    }

    if (mine.lastAppliedGeneration === app.metadata.generation && status.runningOn === cluster && status.lastAppliedGeneration !== app.metadata.generation) {
      await removeObjects(connection.objects, objectsDroppedFromSpec(recorded, outcomes));
    }
    let orphans = status.orphans?.length ? await cleanUpOrphans(ctx, key, status.orphans, cluster) : [];
    if (status.runningOn && status.runningOn !== cluster && mine.runningOn === cluster) {
      // Available on the new cluster: only now does the old copy go, or is recorded as left behind.
      const left = await removeOldCopy(ctx, key, status.runningOn, deployedObjects(manifests, recorded));
      if (left.length) orphans = withOrphans(orphans, status.runningOn, left);
    }
    const conditions = withCleanupCondition(mine.conditions, orphans, ctx.now());
    await writeStatus(ctx, app, { ...mine, conditions, orphans: orphans.length ? orphans : undefined });
    return requeueAfterSeconds === undefined ? {} : { requeueAfterSeconds };
  },
};
