import type { MetricsProvider } from './provider.ts';

/** Values written into the MetricsProvider itself: for demos, tests and fixed facts about a cluster. */
export class StaticMetricsProvider implements MetricsProvider {
  constructor(private readonly metrics: Readonly<Record<string, number>>) {}

  async value(query: string): Promise<number> {
    const value = this.metrics[query];
    if (value === undefined) throw new Error(`the static provider has no value "${query}"`);
    return value;
  }
}
