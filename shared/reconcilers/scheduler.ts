import { secondsSetting } from '../config.ts';
import { ClusterMetricsReader } from '../metrics/cluster-metrics.ts';
import { applicationSpec, clusterSpec, clusterStatus, type ApplicationStatus, type ResourceKey } from '../resources/kinds.ts';
import { sameStatus, statusAfter } from '../scheduling/binding.ts';
import type { ClusterFacts } from '../scheduling/cluster-facts.ts';
import { DEFAULT_STABLE_PERIOD_SECONDS, placeApplication } from '../scheduling/place.ts';
import type { StoredResource } from '../store/resource-store.ts';
import { TerminalReconcileError, type ReconcileContext, type ReconcileResult, type Reconciler } from './contract.ts';

/** Every Cluster of the namespace with what placement needs, metrics read through their providers. */
async function observeFleet(ctx: ReconcileContext, namespace: string): Promise<ClusterFacts[]> {
  const { items } = await ctx.store.list({ kind: 'Cluster', namespace });
  const metrics = new ClusterMetricsReader(ctx.store, namespace);
  return Promise.all(
    items.map(async (cluster): Promise<ClusterFacts> => {
      const spec = clusterSpec.safeParse(cluster.spec);
      const status = clusterStatus.safeParse(cluster.status ?? {});
      const weights = spec.success ? spec.data.metrics : [];
      return {
        name: cluster.metadata.name,
        labels: cluster.metadata.labels ?? {},
        state: status.success ? status.data.state : undefined,
        deleting: Boolean(cluster.metadata.deletionTimestamp),
        customResources: (status.success ? status.data.customResources : undefined) ?? [],
        weights,
        metrics: await metrics.read(cluster.metadata.name, weights.map((metric) => metric.name)),
      };
    }),
  );
}

/** Places one application on the fleet and writes the scheduler's part of its status if it changed. */
async function scheduleApplication(ctx: ReconcileContext, app: StoredResource, fleet: readonly ClusterFacts[]): Promise<ReconcileResult> {
  const key: ResourceKey = { kind: 'Application', namespace: app.metadata.namespace, name: app.metadata.name };
  const spec = applicationSpec.safeParse(app.spec);
  if (!spec.success) throw new TerminalReconcileError(`Application "${key.namespace}/${key.name}" has an invalid spec: ${spec.error.message}`);
  const current = (app.status ?? {}) as ApplicationStatus;
  const now = ctx.now();
  const decision = placeApplication({
    constraints: spec.data.constraints.cluster,
    migration: spec.data.constraints.migration,
    scheduledTo: current.scheduledTo,
    scheduledAt: current.scheduledAt,
    clusters: fleet,
    now,
    stablePeriodSeconds: secondsSetting('SHOAL_PLACEMENT_STABLE_SECONDS', DEFAULT_STABLE_PERIOD_SECONDS),
  });
  const next = statusAfter(current, decision, now);
  if (!sameStatus(current, next)) {
    if (decision.action !== 'stay') ctx.logger.info('placement', { key, action: decision.action, message: decision.message });
    // Conditional on the version read: a concurrent deployer write makes this a ConflictError, and the retry re-reads.
    await ctx.store.updateStatus(key, next, app.metadata.resourceVersion);
  }
  return decision.action === 'stay' && decision.reconsiderAfterSeconds !== undefined ? { requeueAfterSeconds: decision.reconsiderAfterSeconds } : {};
}

/**
 * A Cluster changed (appeared, changed state, went away): every application of its
 * namespace may now fit, fit better, or have lost its cluster. Re-placing all of them is
 * simple and cheap, since an unchanged placement writes nothing.
 */
async function rescheduleNamespace(ctx: ReconcileContext, namespace: string): Promise<ReconcileResult> {
  const { items } = await ctx.store.list({ kind: 'Application', namespace });
  const apps = items.filter((app) => !app.metadata.deletionTimestamp);
  if (apps.length === 0) return {};
  const fleet = await observeFleet(ctx, namespace);
  const results = await Promise.allSettled(apps.map((app) => scheduleApplication(ctx, app, fleet)));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  const delays = results.flatMap((result) => (result.status === 'fulfilled' && result.value.requeueAfterSeconds !== undefined ? [result.value.requeueAfterSeconds] : []));
  return delays.length ? { requeueAfterSeconds: Math.min(...delays) } : {};
}

/**
 * Binds each Application to the best Cluster of its namespace and re-evaluates the
 * binding for migration and failover (Krake's filter → score → bind). Owns
 * `status.scheduledTo`, `scheduledAt`, `placement` and the `Scheduled` condition.
 */
export const scheduler: Reconciler = {
  name: 'scheduler',

  async reconcile(ctx: ReconcileContext, key: ResourceKey): Promise<ReconcileResult> {
    if (key.kind === 'Cluster') return rescheduleNamespace(ctx, key.namespace);
    if (key.kind !== 'Application') return {};
    const app = await ctx.store.get(key);
    // A deleted application is the deployer's and the garbage collector's business.
    if (!app || app.metadata.deletionTimestamp) return {};
    return scheduleApplication(ctx, app, await observeFleet(ctx, key.namespace));
  },
};
