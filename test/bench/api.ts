/**
 * `npm run bench:api`: latency (p50/p99) and throughput of the REST API's basic verbs on
 * the local control plane. Not a test: it prints figures and exits.
 *
 *   npm run bench:api -- --ops 500 --concurrency 8 --warmup 50 --list-limit 100
 *
 * Starts an in-memory control plane in this process, or measures the one at SHOAL_SERVER
 * (loopback only: this tool must never load somebody else's server).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { assertLoopback, call, GROUP_VERSION, percentile, positiveInteger, printTable as printRows, runBenchmark, startLocalControlPlane } from './support.ts';

// A kind no reconciler acts on, so the figures are the API's and the store's, not the controllers'.
const PLURAL = 'metricsproviders';

interface Options {
  ops: number;
  concurrency: number;
  warmup: number;
  listLimit: number;
}

interface PhaseResult {
  phase: string;
  ops: number;
  errors: number;
  firstError?: string;
  latencies: number[];
  seconds: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      ops: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      'list-limit': { type: 'string' },
    },
  });
  return {
    ops: positiveInteger('ops', values.ops, 500),
    concurrency: positiveInteger('concurrency', values.concurrency, 8),
    warmup: positiveInteger('warmup', values.warmup, 50),
    listLimit: positiveInteger('list-limit', values['list-limit'], 100),
  };
}

function metricsProvider(namespace: string, name: string, load: number) {
  return {
    apiVersion: GROUP_VERSION,
    kind: 'MetricsProvider',
    metadata: { name, namespace, labels: { bench: 'api' } },
    spec: { type: 'static', static: { metrics: { load } } },
  };
}

/** Runs `operation(0..ops-1)` with at most `concurrency` in flight, timing each one. */
async function runPhase(phase: string, ops: number, concurrency: number, operation: (index: number) => Promise<unknown>): Promise<PhaseResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (let index = next++; index < ops; index = next++) {
      const begin = performance.now();
      try {
        await operation(index);
        latencies.push(performance.now() - begin);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ops) }, worker));
  return { phase, ops, errors, firstError, latencies, seconds: (performance.now() - started) / 1000 };
}

function printTable(results: readonly PhaseResult[]) {
  const headers = ['PHASE', 'OPS', 'ERRORS', 'P50 ms', 'P99 ms', 'MAX ms', 'OPS/S'];
  const rows = results.map((result) => {
    const sorted = [...result.latencies].sort((a, b) => a - b);
    return [
      result.phase,
      String(result.ops),
      String(result.errors),
      percentile(sorted, 50).toFixed(2),
      percentile(sorted, 99).toFixed(2),
      (sorted.at(-1) ?? Number.NaN).toFixed(2),
      (result.ops / result.seconds).toFixed(0),
    ];
  });
  printRows(headers, rows);
  for (const result of results) if (result.firstError) console.log(`${result.phase}: first error: ${result.firstError}`);
}

async function benchmark(server: string, options: Options): Promise<PhaseResult[]> {
  const run = randomBytes(3).toString('hex');
  const collection = (namespace: string) => `/apis/${GROUP_VERSION}/namespaces/${namespace}/${PLURAL}`;
  const object = (namespace: string, name: string) => `${collection(namespace)}/${name}`;
  const name = (index: number) => `bench-${index}`;

  // Warm-up: JIT, connection pool, table and store paths; not measured, cleaned up.
  const warm = `bench-warmup-${run}`;
  await runPhase('warm-up', options.warmup, options.concurrency, async (index) => {
    await call(server, 'POST', collection(warm), metricsProvider(warm, name(index), 0.5));
    await call(server, 'GET', object(warm, name(index)));
    await call(server, 'GET', `${collection(warm)}?limit=${options.listLimit}`);
    await call(server, 'DELETE', object(warm, name(index)));
  });

  const ns = `bench-${run}`;
  const { ops, concurrency } = options;
  return [
    // Baseline: the HTTP adapter and handler without the store, to tell transport cost from storage cost.
    await runPhase('healthz', ops, concurrency, () => call(server, 'GET', '/healthz')),
    await runPhase('create', ops, concurrency, (index) => call(server, 'POST', collection(ns), metricsProvider(ns, name(index), 0.5))),
    await runPhase('get', ops, concurrency, (index) => call(server, 'GET', object(ns, name(index)))),
    await runPhase(`list (limit ${options.listLimit})`, ops, concurrency, () => call(server, 'GET', `${collection(ns)}?limit=${options.listLimit}`)),
    // Unconditional full replace (no resourceVersion) with a changed spec, so every op is a real write.
    await runPhase('update', ops, concurrency, (index) => call(server, 'PUT', object(ns, name(index)), metricsProvider(ns, name(index), 0.75))),
    await runPhase('delete', ops, concurrency, (index) => call(server, 'DELETE', object(ns, name(index)))),
  ];
}

async function main(): Promise<number> {
  const options = readOptions();
  const external = process.env.SHOAL_SERVER;
  if (external) assertLoopback(external);
  const controlPlane = external ? undefined : await startLocalControlPlane();
  const server = (external ?? controlPlane?.url ?? '').replace(/\/+$/, '');
  try {
    console.log(
      `Shoal API benchmark: ${server} (${external ? 'SHOAL_SERVER' : 'in-process control plane, in-memory'}), ` +
        `${options.ops} ops per phase, concurrency ${options.concurrency}, warm-up ${options.warmup}`,
    );
    const results = await benchmark(server, options);
    printTable(results);
    return results.some((result) => result.errors > 0) ? 1 : 0;
  } finally {
    await controlPlane?.stop();
  }
}

await runBenchmark('bench:api', main);
