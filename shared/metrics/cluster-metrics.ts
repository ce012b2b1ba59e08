import { metricSpec, metricsProviderSpec } from '../resources/kinds.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { normalise, type MetricReading } from '../scheduling/cluster-facts.ts';
import { metricsProviderFor, queryFor, type MetricsProvider } from './provider.ts';

interface ResolvedMetric {
  min: number;
  max: number;
  query: string;
  provider: MetricsProvider;
}

/**
 * Reads metrics of clusters in one namespace: each name is a Metric object there, whose
 * MetricsProvider (same namespace) gives the raw value, normalised with the Metric's
 * bounds. Anything that goes wrong makes that one reading missing, with the reason.
 */
export class ClusterMetricsReader {
  private readonly metrics = new Map<string, Promise<ResolvedMetric | string>>();

  constructor(
    private readonly store: ResourceStore,
    private readonly namespace: string,
  ) {}

  async read(cluster: string, metricNames: readonly string[]): Promise<Record<string, MetricReading>> {
    const readings = await Promise.all(metricNames.map(async (name) => [name, await this.readOne(cluster, name)] as const));
    return Object.fromEntries(readings);
  }

  private async readOne(cluster: string, name: string): Promise<MetricReading> {
    const metric = await this.resolve(name);
    if (typeof metric === 'string') return { missing: metric };
    try {
      const raw = await metric.provider.value(queryFor(metric.query, cluster));
      return { value: normalise(raw, metric.min, metric.max), raw };
    } catch (error) {
      return { missing: (error as Error).message };
    }
  }

  /** The Metric and its provider, looked up once per reader; a string says why it cannot be used. */
  private resolve(name: string): Promise<ResolvedMetric | string> {
    let resolved = this.metrics.get(name);
    if (!resolved) this.metrics.set(name, (resolved = this.lookUp(name)));
    return resolved;
  }

  private async lookUp(name: string): Promise<ResolvedMetric | string> {
    const metric = await this.store.get({ kind: 'Metric', namespace: this.namespace, name });
    if (!metric) return `Metric "${name}" not found in namespace ${this.namespace}`;
    const spec = metricSpec.safeParse(metric.spec);
    if (!spec.success) return `Metric "${name}" is invalid: ${spec.error.issues[0]?.message}`;
    const providerName = spec.data.provider.name;
    const provider = await this.store.get({ kind: 'MetricsProvider', namespace: this.namespace, name: providerName });
    if (!provider) return `MetricsProvider "${providerName}" not found in namespace ${this.namespace}`;
    const providerSpec = metricsProviderSpec.safeParse(provider.spec);
    if (!providerSpec.success) return `MetricsProvider "${providerName}" is invalid: ${providerSpec.error.issues[0]?.message}`;
    return { min: spec.data.min, max: spec.data.max, query: spec.data.provider.metric, provider: metricsProviderFor(providerSpec.data) };
  }
}
