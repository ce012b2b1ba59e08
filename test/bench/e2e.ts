/**
 * `npm run bench:e2e`: how long an Application takes from creation to being placed by the
 * scheduler and to RUNNING on a real (local, kwok-backed) cluster, and how long one
 * scheduler decision takes. Not a test: it prints figures and exits.
 *
 *   npm run bench:e2e -- --clusters 2 --apps 20 --concurrency 4 --timeout 600 [--per-app]
 *
 * Starts its own local clusters c1..cN (in a temporary SHOAL_CLUSTERS_DIR unless one is
 * set; only the clusters it started are stopped at the end, also on Ctrl-C or an error)
 * and an in-memory control plane in this process. Everything it talks to is on loopback.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { ReconcileContext } from '../../shared/reconcilers/contract.ts';
import type { LocalCluster } from '../k8s/local-clusters.ts';

const GROUP_VERSION = 'shoal.io/v1alpha1';
const POLL_INTERVAL_MS = 200;
const ONLINE_TIMEOUT_MS = 120_000;
const DELETE_TIMEOUT_MS = 60_000;
const MAX_CLUSTERS = 8;
const MAX_APPS = 500;
const APP_LABEL = { bench: 'e2e' };

interface Options {
  clusters: number;
  apps: number;
  concurrency: number;
  timeoutSeconds: number;
  perApp: boolean;
}

interface ControlPlane {
  url: string;
  stop(): Promise<void>;
}

/** What was observed of one Application; times are performance.now() milliseconds. */
interface AppRecord {
  name: string;
  createdAt?: number;
  createError?: string;
  scheduledAt?: number;
  runningAt?: number;
  scheduledTo?: string;
  state?: string;
  reason?: string;
  decisionMs?: number;
  /** The timed decision wrote the status (the placement or the Scheduled condition changed). */
  decisionWrote?: boolean;
  decisionError?: string;
}

interface ApplicationView {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { scheduledTo?: string; state?: string; reason?: string };
}

function positiveInteger(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new SetupError(`--${name} must be an integer from 1 to ${max}, got "${text}"`);
  return value;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      clusters: { type: 'string' },
      apps: { type: 'string' },
      concurrency: { type: 'string' },
      timeout: { type: 'string' },
      'per-app': { type: 'boolean' },
    },
  });
  return {
    clusters: positiveInteger('clusters', values.clusters, 2, MAX_CLUSTERS),
    apps: positiveInteger('apps', values.apps, 20, MAX_APPS),
    concurrency: positiveInteger('concurrency', values.concurrency, 4, 64),
    timeoutSeconds: positiveInteger('timeout', values.timeout, 600, 3600),
    perApp: values['per-app'] ?? false,
  };
}

class SetupError extends Error {
  override name = 'SetupError';
}

class Interrupted extends Error {
  override name = 'Interrupted';
}

function assertLoopback(what: string, address: string) {
  const host = new URL(address).hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  if (!loopback) throw new SetupError(`${what} ${address} is not a loopback address; the benchmark only runs against local clusters and a local control plane`);
}

// ---------------------------------------------------------------------------------------
// Everything started here, and the one way it is torn down (normal end, error, Ctrl-C).

const state: {
  interrupted: boolean;
  clustersDir?: string;
  ownClustersDir: boolean;
  clusterCount: number;
  clusters?: Promise<LocalCluster[]>;
  /** Clusters c1..cN that were already running before this run (a user-set SHOAL_CLUSTERS_DIR). */
  preexisting: Set<string>;
  controlPlane?: Promise<ControlPlane>;
  server?: string;
  namespace?: string;
  appsCreated: boolean;
  teardown?: Promise<void>;
} = { interrupted: false, ownClustersDir: false, clusterCount: 0, preexisting: new Set(), appsCreated: false };

const say = (line: string) => console.log(line);
const note = (line: string) => process.stderr.write(`${line}\n`);

function checkInterrupted() {
  if (state.interrupted) throw new Interrupted('interrupted');
}

function teardown(): Promise<void> {
  state.teardown ??= (async () => {
    if (state.appsCreated && state.server && state.namespace) await deleteApps(state.server, state.namespace).catch((error: Error) => note(`deleting the applications failed: ${error.message}`));
    const controlPlane = await state.controlPlane?.catch(() => undefined);
    await controlPlane?.stop().catch((error: Error) => note(`stopping the control plane failed: ${error.message}`));
    await stopOwnClusters();
  })();
  return state.teardown;
}

async function stopOwnClusters() {
  if (!state.clusters || !state.clustersDir) return;
  const { stopClusters } = await import('../k8s/local-clusters.ts');
  const log = (line: string) => note(`  ${line}`);
  const started = await state.clusters.then(
    (clusters) => clusters.filter((cluster) => cluster.started).map((cluster) => cluster.name),
    // A failed start leaves no list: stop whatever of ours may be left (never the pre-existing ones).
    () => undefined,
  );
  try {
    if (state.ownClustersDir) {
      await stopClusters(undefined, log);
      await rm(state.clustersDir, { recursive: true, force: true });
    } else {
      const { clusterNames } = await import('../k8s/local-clusters.ts');
      const ours = started ?? clusterNames(state.clusterCount).filter((name) => !state.preexisting.has(name));
      if (ours.length) await stopClusters(ours, log);
    }
  } catch (error) {
    note(`stopping the clusters failed: ${(error as Error).message}; run "SHOAL_CLUSTERS_DIR=${state.clustersDir} npm run clusters -- down"`);
  }
}

function onSignal(signal: NodeJS.Signals) {
  if (state.interrupted) {
    note(`${signal} again: exiting without cleaning up; clusters may be left in ${state.clustersDir ?? '(none)'} ("npm run clusters -- down" with that SHOAL_CLUSTERS_DIR)`);
    process.exit(130);
  }
  state.interrupted = true;
  note(`${signal}: cleaning up (again to exit at once)`);
  void teardown().finally(() => process.exit(130));
}

// ---------------------------------------------------------------------------------------
// HTTP

/** One HTTP exchange against the control plane; a non-2xx answer is an error carrying the server's message. */
async function call<T = unknown>(server: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server}${path}`, {
    method,
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text(); // always drain, so the connection goes back to the pool
  if (!response.ok) {
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the raw text
    }
    throw new Error(`${method} ${path}: ${response.status} ${message}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

const collection = (namespace: string, plural: string) => `/apis/${GROUP_VERSION}/namespaces/${namespace}/${plural}`;

/** Every Application of the run, following `continue` tokens. */
async function listApps(server: string, namespace: string): Promise<ApplicationView[]> {
  const items: ApplicationView[] = [];
  let continueToken: string | undefined;
  do {
    const query = new URLSearchParams({ labelSelector: Object.entries(APP_LABEL).map(([k, v]) => `${k}=${v}`).join(','), limit: '100' });
    if (continueToken) query.set('continue', continueToken);
    const page = await call<{ items: ApplicationView[]; metadata?: { continue?: string } }>(server, 'GET', `${collection(namespace, 'applications')}?${query}`);
    items.push(...page.items);
    continueToken = page.metadata?.continue;
  } while (continueToken);
  return items;
}

// ---------------------------------------------------------------------------------------
// Phases

async function startClusters(options: Options): Promise<LocalCluster[]> {
  if (!process.env.SHOAL_CLUSTERS_DIR) {
    process.env.SHOAL_CLUSTERS_DIR = await mkdtemp(join(tmpdir(), 'shoal-bench-clusters-'));
    state.ownClustersDir = true;
  }
  state.clustersDir = process.env.SHOAL_CLUSTERS_DIR;
  // Loaded only now: the module reads SHOAL_CLUSTERS_DIR when it is loaded.
  const { clusterHealth, clusterNames, ensureClusters } = await import('../k8s/local-clusters.ts');
  for (const name of clusterNames(MAX_CLUSTERS)) {
    if ((await clusterHealth(name)).state === 'running') state.preexisting.add(name);
  }
  state.clusterCount = options.clusters;
  state.clusters = ensureClusters({ count: options.clusters, log: (line) => note(`  ${line}`) });
  const clusters = await state.clusters.catch((error: Error) => {
    throw new SetupError(`starting the clusters failed: ${error.message}`);
  });
  for (const cluster of clusters) assertLoopback(`cluster ${cluster.name}`, cluster.server);
  return clusters;
}

async function startControlPlane(): Promise<string> {
  // The benchmark's own in-memory control plane: never a DynamoDB, secret store or queue from the environment.
  for (const name of ['SHOAL_DYNAMODB_ENDPOINT', 'SHOAL_SECRET_STORE', 'SHOAL_REQUEUE_QUEUE_URL', 'SHOAL_TABLE_NAME']) delete process.env[name];
  // Handlers log a JSON line per request; the figures are the output here.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const { startControlPlane: start } = await import('../../shared/local/control-plane.ts');
  state.controlPlane = start({ port: 0, inMemory: true, scheduleIntervalSeconds: 10 });
  const controlPlane = await state.controlPlane.catch((error: Error) => {
    throw new SetupError(`starting the control plane failed: ${error.message}`);
  });
  assertLoopback('control plane', controlPlane.url);
  assertLoopback('DynamoDB endpoint', process.env.SHOAL_DYNAMODB_ENDPOINT ?? '');
  return controlPlane.url;
}

async function registerClusters(server: string, namespace: string, clusters: readonly LocalCluster[]) {
  for (const [index, cluster] of clusters.entries()) {
    const kubeconfig = await readFile(cluster.kubeconfigPath, 'utf8');
    await call(server, 'POST', collection(namespace, 'clusters'), {
      apiVersion: GROUP_VERSION,
      kind: 'Cluster',
      metadata: { name: cluster.name, namespace, labels: { bench: 'yes', zone: `z${index + 1}` } },
      spec: { kubeconfig },
    }).catch((error: Error) => {
      throw new SetupError(`registering cluster ${cluster.name} failed: ${error.message}`);
    });
  }
  const deadline = Date.now() + ONLINE_TIMEOUT_MS;
  for (;;) {
    checkInterrupted();
    const { items } = await call<{ items: { metadata: { name: string }; status?: { state?: string; reason?: string } }[] }>(server, 'GET', collection(namespace, 'clusters'));
    const notOnline = items.filter((cluster) => cluster.status?.state !== 'ONLINE');
    if (items.length === clusters.length && notOnline.length === 0) return;
    if (Date.now() > deadline) {
      const states = notOnline.map((cluster) => `${cluster.metadata.name}: ${cluster.status?.state ?? 'no state'}${cluster.status?.reason ? ` (${cluster.status.reason})` : ''}`);
      throw new SetupError(`clusters not ONLINE after ${ONLINE_TIMEOUT_MS / 1000} s: ${states.join('; ')}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/** A Deployment with one replica (kwok fakes its pod) and a ConfigMap, for clusters labelled bench=yes. */
function application(namespace: string, run: string, name: string) {
  const objectName = `bench-${run}-${name}`;
  const labels = { app: objectName };
  return {
    apiVersion: GROUP_VERSION,
    kind: 'Application',
    metadata: { name, namespace, labels: APP_LABEL },
    spec: {
      manifests: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: objectName }, data: { run, app: name } },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: objectName },
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.example/bench:1' }] } },
          },
        },
      ],
      constraints: { cluster: { labels: ['bench = yes'] } },
    },
  };
}

/** Creates the applications, `concurrency` at a time, recording when the API acknowledged each. */
async function createApps(server: string, namespace: string, run: string, records: readonly AppRecord[], concurrency: number) {
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < records.length; index = next++) {
      if (state.interrupted) return;
      const record = records[index];
      if (!record) continue;
      try {
        await call(server, 'POST', collection(namespace, 'applications'), application(namespace, run, record.name));
        record.createdAt = performance.now();
        state.appsCreated = true;
      } catch (error) {
        record.createError = (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, worker));
}

/**
 * Polls the list until every created application is RUNNING, creation is over, or the
 * timeout passes. An observation is timed when the list answer arrives.
 */
async function observe(server: string, namespace: string, records: readonly AppRecord[], creating: Promise<void>, timeoutMs: number) {
  let created = false;
  void creating.finally(() => (created = true));
  const byName = new Map(records.map((record) => [record.name, record]));
  const deadline = performance.now() + timeoutMs;
  let lastError: string | undefined;
  // Returns (never throws) on Ctrl-C, so that nothing rejects while main awaits the creates.
  while (!state.interrupted) {
    try {
      const items = await listApps(server, namespace);
      const seen = performance.now();
      for (const item of items) {
        const record = byName.get(item.metadata.name);
        // Only once the create was acknowledged: before that there is no start to measure from.
        if (!record || record.createdAt === undefined) continue;
        const status = item.status ?? {};
        record.scheduledTo = status.scheduledTo;
        record.state = status.state;
        record.reason = status.reason;
        if (status.scheduledTo && record.scheduledAt === undefined) record.scheduledAt = seen;
        if (status.state === 'RUNNING' && record.runningAt === undefined) record.runningAt = seen;
      }
      lastError = undefined;
    } catch (error) {
      // A slow or failed list is a gap in the observations, not the end of the benchmark.
      if (lastError === undefined) note(`listing applications failed (retrying): ${(error as Error).message}`);
      lastError = (error as Error).message;
    }
    const live = records.filter((record) => record.createError === undefined);
    if (created && live.every((record) => record.runningAt !== undefined)) return;
    if (performance.now() > deadline) return;
    await sleep(POLL_INTERVAL_MS);
  }
}

/**
 * Calls `scheduler.reconcile(ctx, key)` once per placed application, in this process,
 * against the control plane's store, with a context built as the Lambda runtime builds
 * it. Each call reads the Application, lists the namespace's Clusters and their metrics,
 * filters and scores: the whole decision. An unchanged placement writes nothing; writes
 * are counted to show it.
 */
async function timeDecisions(namespace: string, records: readonly AppRecord[]): Promise<{ warmUpMs?: number }> {
  const { createDependencies } = await import('../../shared/dependencies.ts');
  const { logger } = await import('../../shared/observability.ts');
  const { scheduler } = await import('../../shared/reconcilers/scheduler.ts');
  const dependencies = createDependencies();
  let writes = 0;
  const writeMethods = new Set<string | symbol>(['create', 'update', 'updateStatus', 'delete']);
  const store = new Proxy(dependencies.store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (writeMethods.has(property)) writes++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const ctx: ReconcileContext = {
    store,
    secrets: dependencies.secrets,
    logger: logger.createChild({ persistentKeys: { reconciler: 'scheduler', bench: 'e2e' } }),
    now: () => new Date(),
  };
  const placed = records.filter((record) => record.scheduledAt !== undefined);
  const keyOf = (record: AppRecord) => ({ kind: 'Application' as const, namespace, name: record.name });
  // Warm-up, not counted: the first call pays for the new client's connection and for JIT.
  let warmUpMs: number | undefined;
  const first = placed[0];
  if (first) {
    const begin = performance.now();
    await scheduler.reconcile(ctx, keyOf(first)).catch(() => undefined);
    warmUpMs = performance.now() - begin;
  }
  for (const record of placed) {
    checkInterrupted();
    const writesBefore = writes;
    const begin = performance.now();
    try {
      await scheduler.reconcile(ctx, keyOf(record));
      record.decisionMs = performance.now() - begin;
      record.decisionWrote = writes > writesBefore;
    } catch (error) {
      record.decisionError = (error as Error).message;
    }
  }
  return { warmUpMs };
}

/**
 * Deletes every application of the run and waits (bounded) until they are gone, that is
 * until the deployer has removed their objects from the clusters. Deletes again whatever
 * shows up without a deletion mark: a create still in flight when Ctrl-C came.
 */
async function deleteApps(server: string, namespace: string) {
  const started = performance.now();
  const deadline = started + DELETE_TIMEOUT_MS;
  const deleted = new Set<string>();
  let left: ApplicationView[] = [];
  let listError: string | undefined;
  for (;;) {
    try {
      left = await listApps(server, namespace);
      listError = undefined;
    } catch (error) {
      listError = (error as Error).message;
    }
    const fresh = left.filter((item) => !item.metadata.deletionTimestamp);
    await Promise.all(
      fresh.map(async (item) => {
        await call(server, 'DELETE', `${collection(namespace, 'applications')}/${item.metadata.name}`).catch(() => undefined);
        deleted.add(item.metadata.name);
      }),
    );
    if ((left.length === 0 && listError === undefined) || performance.now() > deadline) break;
    await sleep(500);
  }
  if (deleted.size === 0 && left.length === 0) return;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (left.length === 0 && listError === undefined) {
    say(`cleanup: deleted ${deleted.size} applications in ${seconds} s (the deployer removed their objects from the clusters)`);
    return;
  }
  const names = left.map((item) => `${item.metadata.name} (${item.status?.state ?? 'no state'}${item.status?.reason ? `: ${item.status.reason}` : ''})`);
  say(
    `cleanup: after ${seconds} s ${left.length} of ${deleted.size} applications were still present${listError ? ` (last list failed: ${listError})` : ''}: ` +
      `${names.slice(0, 10).join('; ')}; their objects may remain on the clusters`,
  );
}

// ---------------------------------------------------------------------------------------
// Figures

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

function printTable(rows: readonly { metric: string; values: number[]; of: number }[]) {
  const headers = ['METRIC', 'COUNT', 'OF', 'P50 ms', 'P99 ms', 'MAX ms'];
  const fmt = (value: number) => (Number.isNaN(value) ? '-' : value >= 100 ? value.toFixed(0) : value.toFixed(1));
  const cells = rows.map((row) => {
    const sorted = [...row.values].sort((a, b) => a - b);
    return [row.metric, String(row.values.length), String(row.of), fmt(percentile(sorted, 50)), fmt(percentile(sorted, 99)), fmt(sorted.at(-1) ?? Number.NaN)];
  });
  const widths = headers.map((header, column) => Math.max(header.length, ...cells.map((row) => row[column]?.length ?? 0)));
  const line = (row: readonly string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('   ');
  say(line(headers));
  for (const row of cells) say(line(row));
}

function describeMissing(what: string, records: readonly AppRecord[]) {
  if (records.length === 0) return;
  const shown = records.slice(0, 10).map((record) => `${record.name} (${record.state ?? 'no state'}${record.scheduledTo ? ` on ${record.scheduledTo}` : ''}${record.reason ? `: ${record.reason}` : ''})`);
  say(`${what}: ${records.length}: ${shown.join('; ')}${records.length > shown.length ? '; …' : ''}`);
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = readOptions();
  const run = randomBytes(3).toString('hex');
  const namespace = `bench-e2e-${run}`;
  say(
    `Shoal end-to-end benchmark: ${options.clusters} local clusters, ${options.apps} applications ` +
      `(Deployment with 1 replica + ConfigMap, constraint bench = yes), create concurrency ${options.concurrency}, timeout ${options.timeoutSeconds} s`,
  );

  let begin = performance.now();
  const clusters = await startClusters(options);
  checkInterrupted();
  const reused = clusters.filter((cluster) => !cluster.started).map((cluster) => cluster.name);
  say(
    `clusters: ${clusters.map((cluster) => cluster.name).join(', ')} ready in ${((performance.now() - begin) / 1000).toFixed(1)} s ` +
      `(SHOAL_CLUSTERS_DIR=${state.clustersDir}${state.ownClustersDir ? ', temporary' : ''}${reused.length ? `; reused ${reused.join(', ')}, which stay running` : ''})`,
  );

  begin = performance.now();
  const server = await startControlPlane();
  state.server = server;
  state.namespace = namespace;
  checkInterrupted();
  say(`control plane: ${server} (in-process, in-memory, schedules every 10 s) started in ${((performance.now() - begin) / 1000).toFixed(1)} s`);

  begin = performance.now();
  await registerClusters(server, namespace, clusters);
  say(`registered ${clusters.length} clusters in namespace ${namespace}; all ONLINE after ${((performance.now() - begin) / 1000).toFixed(1)} s`);

  const records: AppRecord[] = Array.from({ length: options.apps }, (_, index) => ({ name: `app-${String(index).padStart(4, '0')}` }));
  begin = performance.now();
  const creating = createApps(server, namespace, run, records, options.concurrency);
  const observing = observe(server, namespace, records, creating, options.timeoutSeconds * 1000);
  await creating;
  const createSeconds = (performance.now() - begin) / 1000;
  await observing;
  checkInterrupted();
  const failedCreates = records.filter((record) => record.createError !== undefined);
  say(`created ${options.apps - failedCreates.length} of ${options.apps} applications in ${createSeconds.toFixed(1)} s; observed until ${((performance.now() - begin) / 1000).toFixed(1)} s`);

  const { warmUpMs } = await timeDecisions(namespace, records);
  checkInterrupted();

  const live = records.filter((record) => record.createdAt !== undefined);
  const since = (record: AppRecord, at: number | undefined) => (at === undefined || record.createdAt === undefined ? [] : [at - record.createdAt]);
  say('');
  printTable([
    { metric: 'create → scheduled', values: live.flatMap((record) => since(record, record.scheduledAt)), of: live.length },
    { metric: 'create → RUNNING', values: live.flatMap((record) => since(record, record.runningAt)), of: live.length },
    {
      metric: 'scheduler decision',
      values: records.flatMap((record) => (record.decisionMs === undefined ? [] : [record.decisionMs])),
      of: records.filter((record) => record.scheduledAt !== undefined).length,
    },
  ]);
  say('');
  say(`create: the API's 201 answer. scheduled / RUNNING: the first list (polled every ${POLL_INTERVAL_MS} ms) showing status.scheduledTo set / status.state RUNNING, so up to ~${POLL_INTERVAL_MS} ms + one list call of observation delay is included.`);
  say(
    `scheduler decision: one scheduler.reconcile(ctx, key) per placed application, called directly in this process after the placements (store and secrets from createDependencies, as the Lambda runtime builds them): ` +
      `it reads the Application, lists the namespace's ${clusters.length} Clusters and their metrics, filters and scores — the full decision; an unchanged placement writes nothing ` +
      `(timed calls that wrote anyway: ${records.filter((record) => record.decisionWrote).length}; untimed warm-up call: ${warmUpMs === undefined ? '-' : `${warmUpMs.toFixed(1)} ms`}). The control plane's own reconcilers keep running meanwhile.`,
  );
  if (options.perApp) {
    const ms = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(0));
    for (const record of live) {
      say(
        `  ${record.name}  ${record.scheduledTo ?? '-'}  scheduled ${ms(since(record, record.scheduledAt)[0])} ms  ` +
          `RUNNING ${ms(since(record, record.runningAt)[0])} ms  decision ${record.decisionMs?.toFixed(1) ?? '-'} ms${record.decisionWrote ? ' (wrote)' : ''}`,
      );
    }
  }
  const placement = new Map<string, number>();
  for (const record of live) if (record.scheduledTo) placement.set(record.scheduledTo, (placement.get(record.scheduledTo) ?? 0) + 1);
  say(`placement: ${[...placement].sort().map(([cluster, count]) => `${cluster}=${count}`).join(' ') || 'none'}`);
  describeMissing('never scheduled within the timeout', live.filter((record) => record.scheduledAt === undefined));
  describeMissing('never RUNNING within the timeout', live.filter((record) => record.runningAt === undefined));
  const decisionErrors = records.filter((record) => record.decisionError !== undefined);
  if (decisionErrors.length) say(`scheduler decisions that threw: ${decisionErrors.length}; first: ${decisionErrors[0]?.decisionError}`);
  if (failedCreates.length) say(`creates that failed: ${failedCreates.length}; first: ${failedCreates[0]?.createError}`);
  say('');
  return failedCreates.length > 0 ? 1 : 0;
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
let code: number;
try {
  code = await main();
} catch (error) {
  if (error instanceof Interrupted || state.interrupted) {
    await teardown();
    process.exit(130);
  }
  console.error(`bench:e2e: ${(error as Error).message}`);
  code = 1;
}
await teardown();
// Pooled keep-alive sockets and the control plane's timers must not keep a finished benchmark alive.
process.exit(code);
