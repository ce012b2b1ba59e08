import { KUBECONFIG_FINALIZER } from '../api/resource-service.ts';
import { type ClusterKubeconfigRef, registeredKubeconfig } from '../kube/kubeconfig.ts';
import { probeCluster, type ProbeObservation } from '../kube/probe.ts';
import { hasFinalizer, withoutFinalizer } from '../resources/deletion.ts';
import type { ClusterStatus, ResourceKey } from '../resources/kinds.ts';
import type { Condition } from '../resources/meta.ts';
import { kubeTimestamp, sameJson } from '../resources/values.ts';
import type { StoredResource } from '../store/resource-store.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from './contract.ts';

/** A probe younger than this is not repeated for the same generation (breaks the status-write → stream loop). */
export const PROBE_FRESHNESS_SECONDS = 20;
/** How soon an unreachable cluster is looked at again, ahead of the scheduled probe. */
export const OFFLINE_RETRY_SECONDS = 30;

interface ClusterSpecView extends ClusterKubeconfigRef {
  infrastructure?: unknown;
}

/** Pure: the status a probe observation leads to. Keeps transition times of unchanged conditions. */
export function clusterStatusFrom(
  observation: ProbeObservation,
  previous: ClusterStatus | undefined,
  generation: number,
  now: Date,
): ClusterStatus {
  const probeTime = kubeTimestamp(now);
  let status: ClusterStatus;
  if (!observation.reachable) {
    status = { state: 'OFFLINE', reason: observation.error, kubernetesVersion: previous?.kubernetesVersion, customResources: previous?.customResources };
  } else {
    const healthy = observation.ready && observation.nodes.ready > 0;
    status = {
      state: healthy ? 'ONLINE' : 'UNHEALTHY',
      reason: healthy
        ? undefined
        : !observation.ready
          ? 'the API server reports not ready (/readyz)'
          : `no Ready nodes (${observation.nodes.total} registered)`,
      kubernetesVersion: observation.version,
      nodes: observation.nodes,
      customResources: observation.customResources,
    };
  }
  const ready: Condition = {
    type: 'Ready',
    status: status.state === 'ONLINE' ? 'True' : 'False',
    reason: status.state,
    message: status.reason,
  };
  const before = previous?.conditions?.find((condition) => condition.type === 'Ready');
  ready.lastTransitionTime = before && before.status === ready.status ? before.lastTransitionTime : probeTime;
  // Others' conditions (the garbage collector's Drained) keep their place.
  const others = previous?.conditions ?? [];
  const conditions = others.some((condition) => condition.type === 'Ready')
    ? others.map((condition) => (condition.type === 'Ready' ? ready : condition))
    : [ready, ...others];
  return {
    ...status,
    metrics: previous?.metrics,
    lastProbeTime: probeTime,
    observedGeneration: generation,
    conditions,
    // The infrastructure reconciler's part of the status.
    infrastructure: previous?.infrastructure,
  };
}

function isFresh(cluster: StoredResource, now: Date): boolean {
  const status = cluster.status as ClusterStatus | undefined;
  if (!status?.lastProbeTime || status.observedGeneration !== cluster.metadata.generation) return false;
  return now.getTime() - Date.parse(status.lastProbeTime) < PROBE_FRESHNESS_SECONDS * 1000;
}

/**
 * Looks at each registered cluster through its stored kubeconfig and records what it
 * sees; when a Cluster is being deleted, releases its kubeconfig secret and its finalizer.
 */
export const clusterProbe: Reconciler = {
  name: 'cluster-probe',

  async reconcile(ctx: ReconcileContext, key: ResourceKey): Promise<ReconcileResult> {
    const cluster = await ctx.store.get(key);
    if (!cluster) return {};
    const spec = cluster.spec as ClusterSpecView;

    const deleting = Boolean(cluster.metadata.deletionTimestamp);
    if (deleting && !hasFinalizer(cluster, KUBECONFIG_FINALIZER)) return {};
    // The kubeconfig goes last: draining applications and tearing down a created cluster need it.
    if (deleting && cluster.metadata.finalizers?.every((finalizer) => finalizer === KUBECONFIG_FINALIZER)) {
      if (spec.kubeconfigSecret) await ctx.secrets.delete(spec.kubeconfigSecret);
      await ctx.store.update(withoutFinalizer(cluster, KUBECONFIG_FINALIZER));
      ctx.logger.info('released kubeconfig secret of deleted cluster', { key });
      return {};
    }

    // Until a created cluster has credentials, its state (PENDING, PROVISIONING, FAILED) is the infrastructure reconciler's.
    if (!spec.kubeconfigSecret && spec.infrastructure) return {};
    const now = ctx.now();
    if (isFresh(cluster, now)) return {};
    const previous = cluster.status as ClusterStatus | undefined;

    const kubeconfig = await registeredKubeconfig(ctx.secrets, spec);
    const observation: ProbeObservation = 'problem' in kubeconfig ? { reachable: false, error: kubeconfig.problem } : await probeCluster(kubeconfig.kubeConfig);

    const status = clusterStatusFrom(observation, previous, cluster.metadata.generation, now);
    if (deleting && observation.reachable) {
      // Still probed while being deleted, so that the garbage collector knows whether it can clean it.
      status.state = 'DELETING';
      status.reason = `being deleted; waiting for ${cluster.metadata.finalizers?.filter((f) => f !== KUBECONFIG_FINALIZER).join(', ')}`;
    }
    const { lastProbeTime: _a, ...comparable } = status;
    const { lastProbeTime: _b, ...before } = previous ?? {};
    if (!sameJson(comparable, before)) {
      ctx.logger.info('cluster state', { key, state: status.state, reason: status.reason });
    }
    await ctx.store.updateStatus(key, status, cluster.metadata.resourceVersion);
    return status.state === 'OFFLINE' ? { requeueAfterSeconds: OFFLINE_RETRY_SECONDS } : {};
  },
};
