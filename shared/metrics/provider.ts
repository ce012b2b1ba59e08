import type { z } from 'zod';
import type { metricsProviderSpec } from '../resources/kinds.ts';
import { PrometheusMetricsProvider } from './prometheus.ts';
import { StaticMetricsProvider } from './static.ts';

export type MetricsProviderSpec = z.infer<typeof metricsProviderSpec>;

/** Where a Metric's raw (not yet normalised) value comes from. */
export interface MetricsProvider {
  /** The raw value of `query` (a Metric's `provider.metric`, placeholders already filled in); throws with the reason when there is none. */
  value(query: string): Promise<number>;
}

/** How long one provider request may take before the metric counts as missing. */
export const METRICS_FETCH_TIMEOUT_MS = 5000;

/**
 * `{cluster}` in a Metric's `provider.metric` stands for the name of the cluster being
 * scored, so one Metric serves every cluster: `shoal_load{cluster="{cluster}"}` for
 * Prometheus, `load-{cluster}` as a static key.
 */
export function queryFor(metric: string, cluster: string): string {
  return metric.replaceAll('{cluster}', cluster);
}

export function metricsProviderFor(spec: MetricsProviderSpec, timeoutMs = METRICS_FETCH_TIMEOUT_MS): MetricsProvider {
  switch (spec.type) {
    case 'static':
      return new StaticMetricsProvider(spec.static.metrics);
    case 'prometheus':
      return new PrometheusMetricsProvider(spec.prometheus.url, timeoutMs);
  }
}
