import type { OrphanedObjects } from '../resources/kinds.ts';
import type { Condition } from '../resources/meta.ts';
import { withConditions } from './deployment-status.ts';
import { type Manifest, type ObjectRef, refId, refOf } from './manifests.ts';

/** The condition that says whether an application left objects behind on a cluster it moved away from. */
export const CLEANED_UP = 'CleanedUp';

/** What the deployer knows of a cluster that holds orphans: undefined when its Cluster object is gone. */
export interface OrphanClusterView {
  state?: string;
}

/**
 * Pure: what to do with one entry of `status.orphans` now. The entry goes once its Cluster
 * is gone (nothing can reach the objects any more) or when the application is being
 * deployed to that cluster again (the objects there are its live copy now); removal is
 * tried only while the probe reports the cluster reachable (ONLINE, or DELETING: a
 * deleted cluster waits for exactly this), so a dead cluster costs no request and no
 * retry loop.
 */
export function orphanAction(cluster: OrphanClusterView | undefined, deployedThere: boolean): 'drop' | 'remove' | 'keep' {
  if (!cluster || deployedThere) return 'drop';
  if (cluster.state === 'ONLINE' || cluster.state === 'DELETING') return 'remove';
  return 'keep';
}

/** Pure: `orphans` with `manifests` recorded as left on `cluster`, merged with what was already recorded there. */
export function withOrphans(orphans: readonly OrphanedObjects[] | undefined, cluster: string, manifests: readonly Manifest[]): OrphanedObjects[] {
  const entry = orphans?.find((o) => o.cluster === cluster);
  const objects: ObjectRef[] = [...(entry?.objects ?? [])];
  const seen = new Set(objects.map(refId));
  for (const ref of manifests.map(refOf)) {
    if (seen.has(refId(ref))) continue;
    seen.add(refId(ref));
    objects.push(ref);
  }
  const next = { cluster, objects };
  return entry ? (orphans ?? []).map((o) => (o === entry ? next : o)) : [...(orphans ?? []), next];
}

/** The objects of one orphan entry, as manifests the deployer can delete. */
export const orphanManifests = (entry: OrphanedObjects): Manifest[] =>
  entry.objects.map(({ apiVersion, kind, namespace, name }) => ({ apiVersion, kind, metadata: namespace ? { name, namespace } : { name } }));

/**
 * Pure: the conditions with `CleanedUp` for these orphans. False (`ClusterUnreachable`)
 * while any are recorded; True once they are gone if it was False before; absent for an
 * application that never left anything behind. The message names clusters and counts
 * only, so a repeated failure writes nothing new.
 */
export function withCleanupCondition(conditions: readonly Condition[] | undefined, orphans: readonly OrphanedObjects[] | undefined, now: Date): Condition[] | undefined {
  const left = (orphans ?? []).filter((o) => o.objects.length > 0);
  if (left.length === 0) {
    if (!conditions?.some((c) => c.type === CLEANED_UP)) return conditions ? [...conditions] : undefined;
    return withConditions(conditions, [{ type: CLEANED_UP, status: 'True', reason: 'OrphansRemoved', message: 'nothing is left on clusters the application moved away from' }], now);
  }
  const message = `objects left behind on ${left.map((o) => `${o.cluster} (${o.objects.length})`).join(', ')}; removal is retried while the cluster is ONLINE`;
  return withConditions(conditions, [{ type: CLEANED_UP, status: 'False', reason: 'ClusterUnreachable', message }], now);
}
