import type { ApplicationStatus, ClusterStatus } from '../resources/kinds.ts';
import type { StoredResource } from '../store/resource-store.ts';

export type DrainDecision =
  /** Nothing of any application is left on the cluster. */
  | { action: 'release' }
  | { action: 'wait'; message: string }
  /** The cluster stayed unreachable past the grace period: let it go, whatever is left on it. */
  | { action: 'abandon'; message: string };

/** States in which Shoal cannot reach a cluster to clean it. */
const UNREACHABLE = new Set<ClusterStatus['state']>([undefined, 'PENDING', 'PROVISIONING', 'OFFLINE', 'FAILED']);

/** Since when Shoal cannot reach the cluster, or undefined while it can. */
export function unreachableSince(cluster: StoredResource): Date | undefined {
  const status = (cluster.status ?? {}) as ClusterStatus;
  const noCredentials = !(cluster.spec as { kubeconfigSecret?: string }).kubeconfigSecret;
  if (!noCredentials && !UNREACHABLE.has(status.state)) return undefined;
  const ready = status.conditions?.find((condition) => condition.type === 'Ready');
  const since = ready && ready.status !== 'True' && ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0;
  const deleted = cluster.metadata.deletionTimestamp ? Date.parse(cluster.metadata.deletionTimestamp) : 0;
  return new Date(Math.max(since, deleted));
}

/**
 * Pure: whether a deleted Cluster may go. Its applications are not deleted with it: the
 * scheduler moves them elsewhere (or unbinds them, PENDING) and the deployer removes
 * their objects from it. The cluster waits for that, unless it has been unreachable for
 * longer than the grace period, when nothing could be removed anyway.
 */
export function clusterDrain(
  cluster: StoredResource,
  apps: readonly { name: string; status: ApplicationStatus }[],
  now: Date,
  graceSeconds: number,
): DrainDecision {
  const name = cluster.metadata.name;
  const remaining = apps
    .filter(({ status }) => status.runningOn === name || status.scheduledTo === name || status.orphans?.some((entry) => entry.cluster === name && entry.objects.length > 0))
    .map((app) => app.name)
    .sort();
  if (remaining.length === 0) return { action: 'release' };
  const listed = `${remaining.length} application${remaining.length === 1 ? '' : 's'} (${remaining.join(', ')})`;
  const since = unreachableSince(cluster);
  if (!since) return { action: 'wait', message: `waiting for ${listed} to leave the cluster` };
  if (now.getTime() - since.getTime() >= graceSeconds * 1000) {
    return { action: 'abandon', message: `unreachable since ${since.toISOString()}, longer than the ${graceSeconds} s grace period; objects of ${listed} may be left on it` };
  }
  return { action: 'wait', message: `waiting for ${listed} to leave the cluster; it is unreachable and goes anyway after ${graceSeconds} s` };
}
