import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiextensionsV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { describe, expect, inject, it } from 'vitest';
import { kubeconfigOf, registerCluster, statusOf } from './support/fleet.ts';
import { call, collection } from './support/http.ts';

// The whole chain: API write → DynamoDB stream → scheduler → status written back, with
// clusters the cluster-probe reconciler reports on from real kube-apiservers and
// metrics from MetricsProvider objects. The integration control plane runs schedules
// every 5 s and sets SHOAL_PLACEMENT_STABLE_SECONDS to 8.

const STABLE_SECONDS = Number(process.env.SHOAL_PLACEMENT_STABLE_SECONDS ?? '8');
const POLL = { timeout: 60_000, interval: 500 };

const ns = () => `sched-${randomUUID().slice(0, 8)}`;
/** Waits until the cluster-probe reconciler has found each cluster ONLINE, so that placement sees the whole fleet. */
async function online(...paths: string[]) {
  for (const path of paths) await expect.poll(async () => (await statusOf(path)).state, POLL).toBe('ONLINE');
}

async function createApp(namespace: string, name: string, constraints: Record<string, unknown> = {}) {
  const manifests = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${namespace}-${name}` }, data: { placed: 'by the scheduler' } }];
  const result = await call('POST', collection(namespace, 'applications'), { metadata: { name }, spec: { manifests, constraints } });
  expect(result.status, result.text).toBe(201);
  return `${collection(namespace, 'applications')}/${name}`;
}

/** A static MetricsProvider with one `load-<cluster>` value per cluster, and the Metric `load` reading it through `{cluster}`. */
async function staticLoad(namespace: string, loads: Record<string, number>) {
  const provider = await call('POST', collection(namespace, 'metricsproviders'), {
    metadata: { name: 'fixed' },
    spec: { type: 'static', static: { metrics: staticValues(loads) } },
  });
  expect(provider.status, provider.text).toBe(201);
  const metric = await call('POST', collection(namespace, 'metrics'), {
    metadata: { name: 'load' },
    spec: { min: 0, max: 100, provider: { name: 'fixed', metric: 'load-{cluster}' } },
  });
  expect(metric.status, metric.text).toBe(201);
  return async (next: Record<string, number>) => {
    const path = `${collection(namespace, 'metricsproviders')}/fixed`;
    const patched = await call('PATCH', path, { spec: { static: { metrics: staticValues(next) } } }, 'application/merge-patch+json');
    expect(patched.status, patched.text).toBe(200);
  };
}

const staticValues = (loads: Record<string, number>) => Object.fromEntries(Object.entries(loads).map(([cluster, load]) => [`load-${cluster}`, load]));

async function scheduledCondition(path: string) {
  return ((await statusOf(path)).conditions ?? []).find((condition: { type: string }) => condition.type === 'Scheduled');
}

const scheduledTo = async (path: string) => (await statusOf(path)).scheduledTo;

/** Waits until `seconds` after the status' scheduledAt (a timestamp written by the scheduler). */
async function untilAfterScheduledAt(path: string, seconds: number) {
  const scheduledAt = Date.parse((await statusOf(path)).scheduledAt);
  const wait = scheduledAt + seconds * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
}

const metricClusters = { metrics: [{ name: 'load', weight: 1 }] };

/** The apt line that provides the `prometheus` binary (Debian 12: 2.42). */
const PROMETHEUS_PACKAGE = 'apt-get install -y --no-install-recommends prometheus';

/**
 * A real Prometheus (the Debian package's binary) on a free port, scraping every second
 * a tiny exporter whose `shoal_test_load{cluster="…"}` values the test sets in `loads`.
 */
async function startPrometheus(loads: Record<string, number>) {
  const exporter = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    response.end(Object.entries(loads).map(([cluster, load]) => `shoal_test_load{cluster="${cluster}"} ${load}\n`).join(''));
  });
  exporter.listen(0, '127.0.0.1');
  await once(exporter, 'listening');
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const dir = await mkdtemp(join(tmpdir(), 'shoal-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: 'shoal-test', static_configs: [{ targets: [`127.0.0.1:${(exporter.address() as AddressInfo).port}`] }] }],
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  const child = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), sleep(10_000)]);
    }
    exporter.closeAllConnections();
    await new Promise((resolve) => exporter.close(resolve));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? new Error(`prometheus is not on PATH; install it with: ${PROMETHEUS_PACKAGE}`) : error),
      );
    });
    const url = `http://127.0.0.1:${port}`;
    // Ready and scraped once: both clusters' series answer an instant query.
    await expect
      .poll(
        async () => {
          if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${log}`);
          const response = await fetch(`${url}/api/v1/query?query=shoal_test_load`).catch(() => undefined);
          const body = (await response?.json().catch(() => undefined)) as { data?: { result?: unknown[] } } | undefined;
          return body?.data?.result?.length ?? 0;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(Object.keys(loads).length);
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

describe('scheduler reconciler', () => {
  it('binds an application by labels and records the rejected cluster with the reason', async () => {
    // Prepare
    const namespace = ns();
    await online(
      await registerCluster(namespace, 'c1', { labels: { location: 'eu' } }),
      await registerCluster(namespace, 'c2', { labels: { location: 'us' } }),
    );
    // Act
    const app = await createApp(namespace, 'web', { cluster: { labels: ['location = eu'] } });
    // Assess
    await expect.poll(() => scheduledTo(app), POLL).toBe('c1');
    expect((await statusOf(app)).scheduledAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await statusOf(app)).placement).toEqual([
      { cluster: 'c1', score: 1, metrics: {} },
      { cluster: 'c2', rejected: ['label location=us (needs location=eu)'] },
    ]);
    expect(await scheduledCondition(app)).toMatchObject({ status: 'True', reason: 'Bound' });
  });

  it('binds an application to the cluster that has the custom resource it needs', async () => {
    // Prepare: a CRD on c2 only, created before registration so the first probe sees it
    const namespace = ns();
    const group = `sched${randomUUID().slice(0, 6)}.shoal.test`;
    const kc = new KubeConfig();
    kc.loadFromFile(inject('kubeconfigs').c2 ?? '');
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({
      body: {
        metadata: { name: `gadgets.${group}` },
        spec: {
          group,
          names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
          scope: 'Namespaced',
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
        },
      },
    });
    const c2 = await registerCluster(namespace, 'c2');
    await online(c2, await registerCluster(namespace, 'c1'));
    await expect.poll(async () => (await statusOf(c2)).customResources ?? [], POLL).toContain(`gadgets.${group}`);
    // Act
    const app = await createApp(namespace, 'gadgets', { cluster: { customResources: [`gadgets.${group}`] } });
    // Assess
    await expect.poll(() => scheduledTo(app), POLL).toBe('c2');
    await expect.poll(async () => (await statusOf(app)).placement, POLL).toContainEqual({ cluster: 'c1', rejected: [`no custom resource gadgets.${group}`] });
  });

  it('binds to the best scoring cluster, and migrates when the metrics change once the placement is stable', async () => {
    // Prepare
    const namespace = ns();
    const setLoads = await staticLoad(namespace, { c1: 10, c2: 90 });
    await online(await registerCluster(namespace, 'c1', metricClusters), await registerCluster(namespace, 'c2', metricClusters));
    const app = await createApp(namespace, 'metered');
    await expect.poll(() => scheduledTo(app), POLL).toBe('c2');
    // c2's score includes the stickiness now that it is the current cluster: (0.1 + 0.9) / 1.1
    await expect.poll(async () => (await statusOf(app)).placement, POLL).toEqual([
      { cluster: 'c2', score: 0.909, metrics: { load: 0.9 } },
      { cluster: 'c1', score: 0.091, metrics: { load: 0.1 } },
    ]);
    // Act
    await setLoads({ c1: 90, c2: 10 });
    // Assess: the scheduled re-evaluation moves it after the stable period
    await expect.poll(() => scheduledTo(app), POLL).toBe('c1');
    expect(await scheduledCondition(app)).toMatchObject({ status: 'True', reason: 'Migrated', message: expect.stringContaining('moved to c1') });
  });

  it('does not move an application again within the stable period', async () => {
    // Prepare: bound to c2, then moved to c1
    const namespace = ns();
    const setLoads = await staticLoad(namespace, { c1: 10, c2: 90 });
    await online(await registerCluster(namespace, 'c1', metricClusters), await registerCluster(namespace, 'c2', metricClusters));
    const app = await createApp(namespace, 'restless');
    await expect.poll(() => scheduledTo(app), POLL).toBe('c2');
    await setLoads({ c1: 90, c2: 10 });
    await expect.poll(() => scheduledTo(app), POLL).toBe('c1');
    const movedAt = (await statusOf(app)).scheduledAt;
    // Act: c2 is better again right after the move
    await setLoads({ c1: 10, c2: 90 });
    // Assess: schedule ticks pass, c1 is kept until the stable period is over, then c2 wins
    await untilAfterScheduledAt(app, STABLE_SECONDS - 2);
    expect(await scheduledTo(app)).toBe('c1');
    await expect.poll(() => scheduledTo(app), POLL).toBe('c2');
    const movedBackAt = Date.parse((await statusOf(app)).scheduledAt);
    expect(movedBackAt - Date.parse(movedAt)).toBeGreaterThanOrEqual(STABLE_SECONDS * 1000);
  });

  it('never migrates an application whose migration is disabled', async () => {
    // Prepare
    const namespace = ns();
    const setLoads = await staticLoad(namespace, { c1: 10, c2: 90 });
    await online(await registerCluster(namespace, 'c1', metricClusters), await registerCluster(namespace, 'c2', metricClusters));
    const app = await createApp(namespace, 'settled', { migration: false });
    await expect.poll(() => scheduledTo(app), POLL).toBe('c2');
    // Act
    await setLoads({ c1: 90, c2: 10 });
    // Assess: re-evaluated (c1 ranks first), past the stable period and two more schedule ticks, still on c2
    await expect.poll(async () => (await statusOf(app)).placement?.[0]?.cluster, POLL).toBe('c1');
    await untilAfterScheduledAt(app, STABLE_SECONDS + 10);
    expect(await scheduledTo(app)).toBe('c2');
    expect(await scheduledCondition(app)).toMatchObject({ status: 'True', reason: 'Bound' });
  });

  it('keeps an application PENDING with the reason while nothing fits, and places it when a fitting cluster appears', async () => {
    // Prepare
    const namespace = ns();
    await online(await registerCluster(namespace, 'c1', { labels: { location: 'us' } }));
    // Act
    const app = await createApp(namespace, 'waiting', { cluster: { labels: ['location = eu'] } });
    // Assess
    await expect.poll(async () => (await scheduledCondition(app))?.message, POLL).toBe(
      'no ONLINE cluster matches location = eu (c1: label location=us (needs location=eu))',
    );
    expect(await statusOf(app)).toMatchObject({ state: 'PENDING' });
    expect(await scheduledCondition(app)).toMatchObject({ status: 'False', reason: 'NoFittingCluster' });
    expect((await statusOf(app)).scheduledTo).toBeUndefined();
    // Act: a fitting cluster is registered
    await registerCluster(namespace, 'c2', { labels: { location: 'eu' } });
    // Assess
    await expect.poll(() => scheduledTo(app), POLL).toBe('c2');
    expect(await scheduledCondition(app)).toMatchObject({ status: 'True', reason: 'Bound' });
  });

  it('fails over when the cluster of an application goes OFFLINE, even with migration disabled', async () => {
    // Prepare: c1 registered a second time as "edge", the only cluster at first
    const namespace = ns();
    const edge = await registerCluster(namespace, 'edge', { kubeconfig: kubeconfigOf('c1') });
    const app = await createApp(namespace, 'resilient', { migration: false });
    await expect.poll(() => scheduledTo(app), POLL).toBe('edge');
    await online(await registerCluster(namespace, 'c2'));
    await sleep(6_000); // a schedule tick: sticky, so it stays on edge
    expect(await scheduledTo(app)).toBe('edge');
    // Act: edge's kubeconfig now points where nothing listens
    const config = parse(kubeconfigOf('c1')) as { clusters: { cluster: { server: string } }[] };
    for (const entry of config.clusters) entry.cluster.server = 'https://127.0.0.1:1';
    const current = (await call('GET', edge)).body;
    const replaced = await call('PUT', edge, { ...current, spec: { ...current.spec, kubeconfig: stringify(config) } });
    expect(replaced.status, replaced.text).toBe(200);
    // Assess
    await expect.poll(async () => (await statusOf(edge)).state, POLL).toBe('OFFLINE');
    await expect.poll(() => scheduledTo(app), POLL).toBe('c2');
    expect(await scheduledCondition(app)).toMatchObject({ status: 'True', reason: 'FailedOver', message: expect.stringMatching(/^edge is OFFLINE; moved to c2/) });
  });

  it('places by a metric a real Prometheus answers, with {cluster} in the query', async () => {
    // Prepare
    const loads = { c1: 0.3, c2: 0.7 };
    const prometheus = await startPrometheus(loads);
    try {
      const namespace = ns();
      const provider = await call('POST', collection(namespace, 'metricsproviders'), {
        metadata: { name: 'prometheus' },
        spec: { type: 'prometheus', prometheus: { url: prometheus.url } },
      });
      expect(provider.status, provider.text).toBe(201);
      const metric = await call('POST', collection(namespace, 'metrics'), {
        metadata: { name: 'load' },
        spec: { min: 0, max: 1, provider: { name: 'prometheus', metric: 'shoal_test_load{cluster="{cluster}"}' } },
      });
      expect(metric.status, metric.text).toBe(201);
      await online(await registerCluster(namespace, 'c1', metricClusters), await registerCluster(namespace, 'c2', metricClusters));
      // Act
      const app = await createApp(namespace, 'observed');
      // Assess
      await expect.poll(() => scheduledTo(app), POLL).toBe('c2');
      expect((await statusOf(app)).placement).toEqual([
        { cluster: 'c2', score: 0.727, metrics: { load: 0.7 } },
        { cluster: 'c1', score: 0.273, metrics: { load: 0.3 } },
      ]);
      // Act: the exporter's values change; Prometheus scrapes them within a second
      Object.assign(loads, { c1: 0.9, c2: 0.1 });
      // Assess
      await expect.poll(() => scheduledTo(app), POLL).toBe('c1');
      expect((await statusOf(app)).placement?.[0]).toEqual({ cluster: 'c1', score: 0.909, metrics: { load: 0.9 } });
    } finally {
      await prometheus.stop();
    }
  });
});
