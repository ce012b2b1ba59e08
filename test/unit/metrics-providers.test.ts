import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsProviderFor, queryFor } from '../../shared/metrics/provider.ts';

describe('queryFor', () => {
  it('fills in the {cluster} placeholder wherever it appears', () => {
    // Prepare / Act
    const query = queryFor('avg(load{cluster="{cluster}"}) / on() max(cap{c="{cluster}"})', 'c1');
    // Assess
    expect(query).toBe('avg(load{cluster="c1"}) / on() max(cap{c="c1"})');
  });
});

describe('static metrics provider', () => {
  it('returns the value stored under the query, and says which one is missing', async () => {
    // Prepare
    const provider = metricsProviderFor({ type: 'static', static: { metrics: { 'load-c1': 0.3 } } });
    // Act / Assess
    await expect(provider.value('load-c1')).resolves.toBe(0.3);
    await expect(provider.value('load-c2')).rejects.toThrow('the static provider has no value "load-c2"');
  });
});

// A stand-in HTTP server answering like Prometheus' instant-query endpoint: this tests parsing, not Prometheus.
describe('prometheus metrics provider', () => {
  let server: Server;
  let url: string;
  const answers: Record<string, unknown> = {
    'up{cluster="c1"}': { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.25'] }, { metric: {}, value: [1, '9'] }] } },
    '1+1': { status: 'success', data: { resultType: 'scalar', result: [1, '2'] } },
    empty: { status: 'success', data: { resultType: 'vector', result: [] } },
    'bad(': { status: 'error', errorType: 'bad_data', error: 'parse error' },
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      const query = new URL(request.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      if (query === 'slow') return; // never answers
      response.writeHead(request.url?.startsWith('/prom/api/v1/query?') ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answers[query] ?? { status: 'error', error: 'unknown' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prom`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('takes the first sample of a vector, or a scalar', async () => {
    // Prepare
    const provider = metricsProviderFor({ type: 'prometheus', prometheus: { url } });
    // Act / Assess
    await expect(provider.value('up{cluster="c1"}')).resolves.toBe(0.25);
    await expect(provider.value('1+1')).resolves.toBe(2);
  });

  it('explains an empty result, a rejected query, a timeout and a refused connection', async () => {
    // Prepare
    const provider = metricsProviderFor({ type: 'prometheus', prometheus: { url } }, 200);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const nowhereUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const nowhere = metricsProviderFor({ type: 'prometheus', prometheus: { url: nowhereUrl } });
    // Act / Assess
    await expect(provider.value('empty')).rejects.toThrow('Prometheus has no sample for "empty"');
    await expect(provider.value('bad(')).rejects.toThrow('Prometheus rejected "bad(": parse error');
    await expect(provider.value('slow')).rejects.toThrow(`Prometheus at ${url}: no answer within 200 ms`);
    await expect(nowhere.value('up')).rejects.toThrow(`Prometheus at ${nowhereUrl}: ECONNREFUSED`);
  });
});
