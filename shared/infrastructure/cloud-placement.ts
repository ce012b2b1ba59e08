import type { ClusterFacts, MetricReading } from '../scheduling/cluster-facts.ts';
import { describeConstraints, rejectionReasons } from '../scheduling/filter.ts';
import { rankScores, scoreCluster, type ClusterScore } from '../scheduling/score.ts';

/** What placement needs to know about one Cloud of the namespace. */
export interface CloudFacts {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Cloud.spec.metrics: which metrics count, and how much. */
  weights: readonly { name: string; weight: number }[];
  /** Readings of the metrics in `weights` and of those the constraints name (`{cluster}` = the cloud's name). */
  metrics: Readonly<Record<string, MetricReading>>;
  /** Why the cloud takes no more clusters (a local cloud at `maxClusters`); undefined when it has room. */
  full?: string;
}

/** A Cluster's `spec.infrastructure.constraints`, as written. */
export interface CloudConstraints {
  labels: readonly string[];
  metrics: readonly string[];
}

export interface CloudCandidate {
  cloud: string;
  score?: number;
  rejected?: string[];
}

export type CloudPlacement = { cloud: string; candidates: CloudCandidate[] } | { cloud?: undefined; message: string; candidates: CloudCandidate[] };

/** A cloud seen as a cluster that is always ONLINE: the filter and the score of applications apply unchanged. */
function asClusterFacts(cloud: CloudFacts): ClusterFacts {
  return { name: cloud.name, labels: cloud.labels, state: 'ONLINE', deleting: false, customResources: [], weights: cloud.weights, metrics: cloud.metrics };
}

/**
 * Chooses the Cloud for a Cluster Shoal creates: filter by the constraints (labels and
 * metric bounds, as for applications) and by room, then Krake's score without the
 * stickiness term — a placed cluster never moves. Ties go by name.
 */
export function placeCluster(constraints: CloudConstraints, clouds: readonly CloudFacts[]): CloudPlacement {
  const candidates: CloudCandidate[] = [];
  const scores: ClusterScore[] = [];
  for (const cloud of clouds) {
    const reasons = rejectionReasons({ labels: constraints.labels, customResources: [], metrics: constraints.metrics }, asClusterFacts(cloud));
    if (cloud.full) reasons.push(cloud.full);
    if (reasons.length > 0) {
      candidates.push({ cloud: cloud.name, rejected: reasons });
      continue;
    }
    // Without the stickiness term a cloud with no readable metric has no score (0/0): it ranks last, by name.
    const scored = scoreCluster(asClusterFacts(cloud), false, 0);
    const score = scored.hasMetrics ? scored : { ...scored, score: 0 };
    scores.push(score);
    candidates.push({ cloud: cloud.name, ...(scored.hasMetrics ? { score: score.score } : {}) });
  }
  const best = rankScores(scores)[0];
  if (best) return { cloud: best.cluster, candidates };
  if (clouds.length === 0) return { message: 'no Cloud in the namespace: create one (kind Cloud) for Shoal to create clusters on', candidates };
  const wanted = describeConstraints({ ...constraints, customResources: [] });
  const why = candidates.map((candidate) => `${candidate.cloud}: ${(candidate.rejected ?? []).join('; ')}`).join(', ');
  return { message: `no Cloud fits${wanted ? ` (${wanted})` : ''}: ${why}`, candidates };
}
