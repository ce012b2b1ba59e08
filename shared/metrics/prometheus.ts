import { z } from 'zod';
import type { MetricsProvider } from './provider.ts';

const sample = z.tuple([z.number(), z.string()]);

/** The instant-query answer (`/api/v1/query`): a vector of samples, or a scalar. */
const queryResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ value: sample })) }),
      z.object({ resultType: z.literal('scalar'), result: sample }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
      z.object({ resultType: z.literal('string'), result: z.unknown() }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

/** A Prometheus server queried with the PromQL expression of each Metric; the first sample is the value. */
export class PrometheusMetricsProvider implements MetricsProvider {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async value(query: string): Promise<number> {
    const endpoint = new URL('api/v1/query', this.url.endsWith('/') ? this.url : `${this.url}/`);
    endpoint.searchParams.set('query', query);
    let response: Response;
    try {
      response = await fetch(endpoint, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const cause = (error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : describeFetchError(error);
      throw new Error(`Prometheus at ${this.url}: ${cause}`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    const parsed = queryResponse.safeParse(body);
    if (!parsed.success) throw new Error(`Prometheus at ${this.url} answered ${response.status} with an unexpected body`);
    const answer = parsed.data;
    if (answer.status === 'error') throw new Error(`Prometheus rejected "${query}": ${answer.error ?? answer.errorType ?? response.status}`);
    const raw =
      answer.data.resultType === 'vector' ? answer.data.result[0]?.value[1] : answer.data.resultType === 'scalar' ? answer.data.result[1] : undefined;
    if (raw === undefined) throw new Error(`Prometheus has no sample for "${query}"`);
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`Prometheus returned ${raw} for "${query}"`);
    return value;
  }
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
