import type { ClusterFacts } from './cluster-facts.ts';
import { round } from './filter.ts';

/** Krake's default weight of the stickiness term: how much staying put is worth. */
export const DEFAULT_STICKINESS_WEIGHT = 0.1;

export interface ClusterScore {
  cluster: string;
  score: number;
  /** Normalised values of the metrics that counted. */
  metrics: Record<string, number>;
  /** False when no weighted metric could be read: such clusters rank after those with metrics. */
  hasMetrics: boolean;
}

/**
 * Krake's score `(s_v·s_w + Σ m_v·m_w) / (s_w + Σ m_w)`: the weighted mean of the
 * cluster's normalised metrics and of its stickiness (1 for the cluster the application
 * is on, else 0). A metric that could not be read leaves both sums.
 */
export function scoreCluster(cluster: ClusterFacts, isCurrent: boolean, stickinessWeight = DEFAULT_STICKINESS_WEIGHT): ClusterScore {
  const stickiness = isCurrent ? 1 : 0;
  let weighted = stickiness * stickinessWeight;
  let weights = stickinessWeight;
  const metrics: Record<string, number> = {};
  for (const { name, weight } of cluster.weights) {
    const reading = cluster.metrics[name];
    if (!reading || 'missing' in reading) continue;
    weighted += reading.value * weight;
    weights += weight;
    metrics[name] = round(reading.value);
  }
  return { cluster: cluster.name, score: round(weighted / weights), metrics, hasMetrics: Object.keys(metrics).length > 0 };
}

/** Best first: clusters with metrics before those without, then by score, then by name (deterministic). */
export function rankScores(scores: readonly ClusterScore[]): ClusterScore[] {
  return [...scores].sort(
    (a, b) => Number(b.hasMetrics) - Number(a.hasMetrics) || b.score - a.score || (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0),
  );
}
