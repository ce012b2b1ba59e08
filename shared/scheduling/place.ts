import type { ClusterFacts } from './cluster-facts.ts';
import { describeConstraints, healthProblem, rejectionReasons, type ClusterConstraints } from './filter.ts';
import { DEFAULT_STICKINESS_WEIGHT, rankScores, scoreCluster, type ClusterScore } from './score.ts';

/** How long a placement is kept before a better cluster may take the application (`SHOAL_PLACEMENT_STABLE_SECONDS`). */
export const DEFAULT_STABLE_PERIOD_SECONDS = 300;

/** One line of `status.placement`: a candidate with its score, or a rejected cluster with the reasons. */
export interface PlacementEntry {
  cluster: string;
  score?: number;
  metrics?: Record<string, number>;
  /** Metrics of a candidate that could not be read, and why: they did not count. */
  missingMetrics?: Record<string, string>;
  rejected?: string[];
}

export interface PlacementInput {
  constraints: ClusterConstraints;
  /** `spec.constraints.migration`: may a healthy placement be moved to a better cluster? */
  migration: boolean;
  scheduledTo?: string;
  scheduledAt?: string;
  clusters: readonly ClusterFacts[];
  now: Date;
  stablePeriodSeconds: number;
  stickinessWeight?: number;
}

export type BindReason = 'Bound' | 'Migrated' | 'FailedOver';

export type PlacementDecision =
  | { action: 'bind'; cluster: string; reason: BindReason; message: string; placement: PlacementEntry[] }
  /** Keep the current cluster; `reconsiderAfterSeconds` when a better one waits for the stable period to end. */
  | { action: 'stay'; cluster: string; message: string; placement: PlacementEntry[]; reconsiderAfterSeconds?: number }
  /** Nothing fits. A bound application keeps its cluster: taking it away would only stop it. */
  /** `release`: the current binding goes too, because its cluster is being deleted or gone. */
  | { action: 'unschedulable'; message: string; placement: PlacementEntry[]; release?: boolean };

/**
 * Krake's placement: filter the clusters, score the candidates, and decide whether the
 * application is bound, stays, migrates or fails over. The current cluster's score
 * carries the stickiness term, so another cluster wins only when it beats the current
 * one by more than the stickiness is worth.
 */
export function placeApplication(input: PlacementInput): PlacementDecision {
  const stickinessWeight = input.stickinessWeight ?? DEFAULT_STICKINESS_WEIGHT;
  const rejections = new Map(input.clusters.map((cluster) => [cluster.name, rejectionReasons(input.constraints, cluster)]));
  const candidates = input.clusters.filter((cluster) => rejections.get(cluster.name)?.length === 0);
  const rank = (current: string | undefined) =>
    rankScores(candidates.map((cluster) => scoreCluster(cluster, cluster.name === current, stickinessWeight)));
  const ranked = rank(input.scheduledTo);
  const placement = placementOf(ranked, input.clusters, rejections);
  const best = ranked[0];
  const current = input.scheduledTo;
  // A binding's placement is scored as it will be read afterwards, with the new cluster sticky: no second write.
  const bind = (cluster: string, reason: BindReason, message: string): PlacementDecision => ({
    action: 'bind',
    cluster,
    reason,
    message,
    placement: placementOf(rank(cluster), input.clusters, rejections),
  });

  if (current === undefined) {
    if (!best) return { action: 'unschedulable', message: noFitMessage(input, rejections), placement };
    return bind(best.cluster, 'Bound', `bound to ${best.cluster}`);
  }

  const currentCluster = input.clusters.find((cluster) => cluster.name === current);
  const failure = currentCluster ? healthProblem(currentCluster) : 'gone';
  if (failure) {
    if (!best) {
      // A cluster that is going away cannot keep the application; one that is down may come back.
      const release = failure === 'gone' || Boolean(currentCluster?.deleting);
      return { action: 'unschedulable', message: `${current} is ${failure} and ${noFitMessage(input, rejections)}`, placement, ...(release ? { release } : {}) };
    }
    return bind(best.cluster, 'FailedOver', `${current} is ${failure}; moved to ${best.cluster}`);
  }

  const currentRejections = rejections.get(current) ?? [];
  if (currentRejections.length > 0) {
    // The constraints (or the cluster's labels) changed under a healthy placement.
    if (!input.migration) return { action: 'stay', cluster: current, message: `${current} no longer fits (${currentRejections.join(', ')}) but migration is disabled`, placement };
    if (!best) return { action: 'unschedulable', message: noFitMessage(input, rejections), placement };
    return bind(best.cluster, 'Migrated', `${current} no longer fits (${currentRejections.join(', ')}); moved to ${best.cluster}`);
  }

  const stay = { action: 'stay' as const, cluster: current, placement };
  if (!best || best.cluster === current) return { ...stay, message: `${current} is still the best fit` };
  const currentScore = ranked.find((score) => score.cluster === current);
  const comparison = `${best.cluster} scores ${best.score} against ${currentScore?.score} of ${current}`;
  if (!input.migration) return { ...stay, message: `${comparison}; migration is disabled` };
  const stableFor = input.stablePeriodSeconds - secondsSince(input.scheduledAt, input.now);
  if (stableFor > 0) return { ...stay, message: `${comparison}; placement is kept for ${Math.ceil(stableFor)} s more`, reconsiderAfterSeconds: Math.ceil(stableFor) };
  return bind(best.cluster, 'Migrated', `${comparison}; moved to ${best.cluster}`);
}

function placementOf(ranked: readonly ClusterScore[], clusters: readonly ClusterFacts[], rejections: Map<string, string[]>): PlacementEntry[] {
  const byName = new Map(clusters.map((cluster) => [cluster.name, cluster]));
  const candidates = ranked.map((score): PlacementEntry => {
    const missing = Object.fromEntries(
      (byName.get(score.cluster)?.weights ?? []).flatMap(({ name }) => {
        const reading = byName.get(score.cluster)?.metrics[name];
        if (reading && !('missing' in reading)) return [];
        return [[name, reading?.missing ?? 'not read']];
      }),
    );
    return { cluster: score.cluster, score: score.score, metrics: score.metrics, ...(Object.keys(missing).length ? { missingMetrics: missing } : {}) };
  });
  const rejected = [...rejections]
    .filter(([, reasons]) => reasons.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([cluster, reasons]): PlacementEntry => ({ cluster, rejected: reasons }));
  return [...candidates, ...rejected];
}

function noFitMessage(input: PlacementInput, rejections: Map<string, string[]>): string {
  if (input.clusters.length === 0) return 'no Cluster is registered in this namespace';
  const constraints = describeConstraints(input.constraints);
  const why = [...rejections].map(([cluster, reasons]) => `${cluster}: ${reasons.join(', ')}`).join('; ');
  return `no ONLINE cluster ${constraints ? `matches ${constraints} ` : ''}(${why})`;
}

function secondsSince(timestamp: string | undefined, now: Date): number {
  const then = timestamp ? Date.parse(timestamp) : NaN;
  return Number.isNaN(then) ? Infinity : (now.getTime() - then) / 1000;
}
