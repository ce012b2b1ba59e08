/** A metric of one cluster as scoring sees it: normalised to [0, 1], or missing and why. */
export type MetricReading = { value: number; raw: number } | { missing: string };

/** What placement needs to know about one cluster, read from the store and the metrics providers. */
export interface ClusterFacts {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Cluster.status.state; undefined before the first probe. */
  state?: string;
  deleting: boolean;
  customResources: readonly string[];
  /** Cluster.spec.metrics: which metrics count for this cluster, and how much. */
  weights: readonly { name: string; weight: number }[];
  /** Readings of the metrics in `weights` and of those the application's constraints name. */
  metrics: Readonly<Record<string, MetricReading>>;
}

/** A raw value mapped to [0, 1] by the Metric's bounds, clamped. */
export function normalise(raw: number, min: number, max: number): number {
  return Math.min(1, Math.max(0, (raw - min) / (max - min)));
}
