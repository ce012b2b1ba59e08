// Local Kubernetes clusters as plain processes on 127.0.0.1: per cluster an etcd,
// a kube-apiserver (client certificates, Node,RBAC), a kube-controller-manager, a
// kube-scheduler and kwok with fake nodes, all from test/k8s/bin/k8s-local.
// Clusters outlive the process that started them; their state lives in
// .shoal/clusters/<name>/ and `stopClusters` ends them by the pids recorded there.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { binaryPath, buildClusterBinary, moduleDir } from './build.ts';

/** .shoal/clusters at the repository root; SHOAL_CLUSTERS_DIR moves it (e.g. for a benchmark's own set). */
export const clustersDir = resolve(process.env.SHOAL_CLUSTERS_DIR ?? resolve(moduleDir, '../../.shoal/clusters'));

/** The components in start order; they are stopped in reverse. */
const components = ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'kwok'] as const;
type Component = (typeof components)[number];

export const fakeNodeCount = 2;

export interface LocalCluster {
  name: string;
  /** Admin kubeconfig (client certificate, system:masters): .shoal/clusters/<name>/kubeconfig */
  kubeconfigPath: string;
  server: string;
  /** True when this call started the cluster, false when it was already running. */
  started: boolean;
}

interface ClusterRecord {
  name: string;
  server: string;
  ports: Record<'etcdClient' | 'etcdPeer' | 'apiserver' | 'controllerManager' | 'scheduler', number>;
  pids: Partial<Record<Component, number>>;
  startedAt: string;
  readyAt?: string;
}

export class ClusterStartError extends Error {
  override name = 'ClusterStartError';
}

export type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

export function clusterNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `c${i + 1}`);
}

export function kubeconfigPathOf(name: string): string {
  return join(clustersDir, name, 'kubeconfig');
}

/**
 * Makes sure clusters c1..c<count> are running and ready, starting the missing
 * ones in parallel (building the binary first when it is stale). A cluster whose
 * processes are partly gone is stopped and started afresh.
 */
export async function ensureClusters(
  options: { count?: number; log?: Log } = {},
): Promise<LocalCluster[]> {
  const count = options.count ?? 2;
  const log = options.log ?? stderrLog;
  await buildClusterBinary({ log });
  await mkdir(clustersDir, { recursive: true });
  return withLock(log, async () => {
    const results = await Promise.allSettled(
      clusterNames(count).map(async (name): Promise<LocalCluster> => {
        const health = await clusterHealth(name);
        if (health.state === 'running') {
          log(`${name}: already running at ${health.record.server}`);
          return { name, kubeconfigPath: kubeconfigPathOf(name), server: health.record.server, started: false };
        }
        if (health.state === 'broken') {
          log(`${name}: ${health.reason}; restarting it`);
          await stopCluster(name, log);
        }
        const record = await startCluster(name, log);
        return { name, kubeconfigPath: kubeconfigPathOf(name), server: record.server, started: true };
      }),
    );
    // Wait for every cluster before reporting, so none is left half-started.
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    if (failures.length > 0) throw new ClusterStartError(failures.join('\n\n'));
    return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  });
}

/** Stops the named clusters (all known ones when none are named) and removes their state. */
export async function stopClusters(names?: string[], log: Log = stderrLog): Promise<string[]> {
  return withLock(log, async () => {
    const targets = names ?? listClusterDirs();
    await Promise.all(targets.map((name) => stopCluster(name, log)));
    return targets;
  });
}

/**
 * Kills one component of a running cluster (SIGKILL, as a crash would), e.g. its
 * kube-apiserver for a failover test. The cluster then reads as broken: `ensureClusters`
 * restarts it, `stopClusters` ends the rest.
 */
export async function stopComponent(name: string, component: Component): Promise<void> {
  const pid = readPidFiles(join(clustersDir, name))[component];
  if (pid === undefined || !isOurProcess(pid)) return;
  signal(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (isOurProcess(pid) && Date.now() < deadline) await sleep(50);
}

export type ClusterHealth =
  | { state: 'absent' }
  | { state: 'running'; record: ClusterRecord }
  | { state: 'broken'; reason: string; record?: ClusterRecord };

export async function clusterHealth(name: string): Promise<ClusterHealth> {
  const recordPath = join(clustersDir, name, 'cluster.json');
  if (!existsSync(recordPath)) {
    return existsSync(join(clustersDir, name)) ? { state: 'broken', reason: 'no cluster.json' } : { state: 'absent' };
  }
  let record: ClusterRecord;
  try {
    record = JSON.parse(await readFile(recordPath, 'utf8')) as ClusterRecord;
  } catch (error) {
    return { state: 'broken', reason: `unreadable cluster.json: ${(error as Error).message}` };
  }
  for (const component of components) {
    const pid = record.pids[component];
    if (pid === undefined || !isOurProcess(pid)) {
      return { state: 'broken', reason: `${component} is not running`, record };
    }
  }
  if (!record.readyAt) return { state: 'broken', reason: 'start-up did not finish', record };
  try {
    await apiGet(name, record.server, '/readyz');
  } catch (error) {
    return { state: 'broken', reason: `API not ready: ${(error as Error).message}`, record };
  }
  return { state: 'running', record };
}

export function listClusterDirs(): string[] {
  if (!existsSync(clustersDir)) return [];
  return readdirSync(clustersDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Two attempts: a port picked as free can be taken by someone else before it is bound. */
async function startCluster(name: string, log: Log): Promise<ClusterRecord> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterProcesses(name, log);
    } catch (error) {
      await killClusterProcesses(join(clustersDir, name));
      if (attempt >= 2) throw error;
      log(`${name}: start failed, trying once more: ${(error as Error).message.split('\n')[0]}`);
    }
  }
}

async function startClusterProcesses(name: string, log: Log): Promise<ClusterRecord> {
  const started = Date.now();
  const dir = join(clustersDir, name);
  await rm(dir, { recursive: true, force: true });
  const certs = join(dir, 'certs');
  await mkdir(join(dir, 'logs'), { recursive: true });
  await mkdir(join(dir, 'pids'), { recursive: true });

  const [etcdClient = 0, etcdPeer = 0, apiserver = 0, controllerManager = 0, scheduler = 0] = await freePorts(5);
  const server = `https://127.0.0.1:${apiserver}`;
  const record: ClusterRecord = {
    name,
    server,
    ports: { etcdClient, etcdPeer, apiserver, controllerManager, scheduler },
    pids: {},
    startedAt: new Date(started).toISOString(),
  };
  const saveRecord = (): Promise<void> => writeFile(join(dir, 'cluster.json'), `${JSON.stringify(record, null, 2)}\n`);

  runTool(['certs', '--dir', certs, '--server', server, '--cluster', name]);
  const stages = join(dir, 'kwok-stages.yaml');
  writeFileSync(stages, runTool(['kwok-stages']));

  const launch = async (component: Component, args: string[]): Promise<void> => {
    record.pids[component] = launchDetached(dir, component, args);
    await saveRecord();
  };
  const fail = async (what: string, component: Component, error: unknown): Promise<never> => {
    throw new ClusterStartError(
      `cluster ${name}: ${what} failed: ${(error as Error).message}\n` +
        `last lines of ${join(dir, 'logs', `${component}.log`)}:\n${tail(join(dir, 'logs', `${component}.log`), 15)}\n` +
        `Its processes were stopped; the logs stay until "npm run clusters -- down".`,
    );
  };

  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const peerUrl = `http://127.0.0.1:${etcdPeer}`;
  await launch('etcd', [
    `--name=${name}`,
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    // Test clusters: small backend, frequent compaction, no fsync.
    '--quota-backend-bytes=268435456',
    '--snapshot-count=5000',
    '--auto-compaction-mode=periodic',
    '--auto-compaction-retention=5m',
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
  await waitFor(() => httpGetPlain(`${etcdUrl}/health`), 30_000).catch((e: unknown) => fail('etcd start', 'etcd', e));

  await launch('apiserver', [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiserver}`,
    `--tls-cert-file=${join(certs, 'apiserver.crt')}`,
    `--tls-private-key-file=${join(certs, 'apiserver.key')}`,
    `--client-ca-file=${join(certs, 'ca.crt')}`,
    '--authorization-mode=Node,RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(certs, 'service-account.pub')}`,
    `--service-account-signing-key-file=${join(certs, 'service-account.key')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    // Trimmed for small test clusters.
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--event-ttl=15m',
  ]);
  await waitFor(() => apiGet(name, server, '/readyz'), 90_000).catch((e: unknown) =>
    fail('kube-apiserver start', 'apiserver', e),
  );

  await launch('controller-manager', [
    `--kubeconfig=${join(certs, 'kube-controller-manager.kubeconfig')}`,
    `--authentication-kubeconfig=${join(certs, 'kube-controller-manager.kubeconfig')}`,
    `--authorization-kubeconfig=${join(certs, 'kube-controller-manager.kubeconfig')}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${controllerManager}`,
    '--leader-elect=false',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${join(certs, 'service-account.key')}`,
    `--root-ca-file=${join(certs, 'ca.crt')}`,
    `--cluster-name=${name}`,
    // Only what workloads on fake nodes need; no IPAM, volumes or certificates.
    // node-lifecycle removes the not-ready taint that admission puts on new nodes.
    `--controllers=${[
      'node-lifecycle-controller',
      'serviceaccount-token-controller',
      'serviceaccount-controller',
      'root-ca-certificate-publisher-controller',
      'clusterrole-aggregation-controller',
      'namespace-controller',
      'garbage-collector-controller',
      'deployment-controller',
      'replicaset-controller',
      'statefulset-controller',
      'daemonset-controller',
      'job-controller',
      'cronjob-controller',
      'ttl-after-finished-controller',
      'endpointslice-controller',
      'endpointslice-mirroring-controller',
      'disruption-controller',
      'pod-garbage-collector-controller',
    ].join(',')}`,
  ]);
  await launch('scheduler', [
    `--kubeconfig=${join(certs, 'kube-scheduler.kubeconfig')}`,
    `--authentication-kubeconfig=${join(certs, 'kube-scheduler.kubeconfig')}`,
    `--authorization-kubeconfig=${join(certs, 'kube-scheduler.kubeconfig')}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${scheduler}`,
    '--leader-elect=false',
  ]);
  await launch('kwok', [
    `--kubeconfig=${join(certs, 'kwok.kubeconfig')}`,
    `--config=${stages}`,
    `--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake`,
    '--node-lease-duration-seconds=40',
  ]);

  await copyFile(join(certs, 'admin.kubeconfig'), kubeconfigPathOf(name));
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPathOf(name));
  await createFakeNodes(kc).catch((e: unknown) => fail('creating fake nodes', 'apiserver', e));
  await waitFor(() => nodesReady(kc), 60_000).catch((e: unknown) => fail('waiting for kwok nodes to be Ready', 'kwok', e));
  await waitFor(() => defaultServiceAccountExists(kc), 60_000).catch((e: unknown) =>
    fail('waiting for the default service account', 'controller-manager', e),
  );
  for (const component of components) {
    const pid = record.pids[component];
    if (pid === undefined || !isOurProcess(pid)) {
      await fail('start-up', component, new Error(`${component} exited`));
    }
  }

  record.readyAt = new Date().toISOString();
  await saveRecord();
  log(`${name}: ready at ${server} in ${((Date.now() - started) / 1000).toFixed(1)}s (kubeconfig ${kubeconfigPathOf(name)})`);
  return record;
}

async function stopCluster(name: string, log: Log): Promise<void> {
  const dir = join(clustersDir, name);
  const stopped = await killClusterProcesses(dir);
  await rm(dir, { recursive: true, force: true });
  if (stopped > 0) log(`${name}: stopped`);
}

/**
 * SIGTERM everything but etcd, then etcd: a kube-apiserver that loses etcd while
 * shutting down retries for ~20s. SIGKILL whatever is left after 10s per phase.
 * Returns how many processes were running.
 */
async function killClusterProcesses(dir: string): Promise<number> {
  const pids = readPidFiles(dir);
  const running = Object.values(pids).filter(isOurProcess).length;
  const phases: Component[][] = [['kwok', 'scheduler', 'controller-manager', 'apiserver'], ['etcd']];
  for (const phase of phases) {
    const alive = phase.flatMap((component) => {
      const pid = pids[component];
      return pid !== undefined && isOurProcess(pid) ? [pid] : [];
    });
    for (const pid of alive) signal(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    for (const pid of alive) {
      while (isOurProcess(pid) && Date.now() < deadline) await sleep(50);
      if (isOurProcess(pid)) signal(pid, 'SIGKILL');
    }
  }
  return running;
}

function readPidFiles(dir: string): Partial<Record<Component, number>> {
  const pids: Partial<Record<Component, number>> = {};
  for (const component of components) {
    const file = join(dir, 'pids', `${component}.pid`);
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) pids[component] = pid;
    }
  }
  return pids;
}

/** Each component leads its own process group, so a signal reaches any children too. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pid, name);
  } catch {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  }
}

/** Alive and running our binary, so a recycled pid is never signalled. */
function isOurProcess(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && cmdline.split('\0')[0] === binaryPath;
  } catch {
    return false;
  }
}

function launchDetached(dir: string, component: Component, args: string[]): number {
  const logFd = openSync(join(dir, 'logs', `${component}.log`), 'a');
  try {
    const child = spawn(binaryPath, [component, ...args], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', logFd, logFd],
      // Go's default GC target is tuned for throughput; test clusters want a small heap.
      env: { ...process.env, GOGC: process.env.GOGC ?? '50', KUBECONFIG: '' },
    });
    child.unref();
    if (child.pid === undefined) throw new ClusterStartError(`could not start ${binaryPath} ${component}`);
    writeFileSync(join(dir, 'pids', `${component}.pid`), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(logFd);
  }
}

function runTool(args: string[]): string {
  const result = spawnSync(binaryPath, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new ClusterStartError(`${binaryPath} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr}`);
  }
  return result.stdout;
}

async function createFakeNodes(kc: KubeConfig): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (let i = 0; i < fakeNodeCount; i++) {
    const nodeName = `kwok-node-${i}`;
    await objects.patch(
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: nodeName,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: {
            type: 'kwok',
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'kubernetes.io/hostname': nodeName,
            'node-role.kubernetes.io/agent': '',
          },
        },
      },
      undefined,
      undefined,
      'shoal-local-clusters',
      true,
      PatchStrategy.ServerSideApply,
    );
  }
}

async function nodesReady(kc: KubeConfig): Promise<void> {
  const nodes = await kc.makeApiClient(CoreV1Api).listNode();
  const ready = nodes.items.filter((node) =>
    node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (ready.length < fakeNodeCount) throw new Error(`${ready.length}/${fakeNodeCount} nodes Ready`);
}

async function defaultServiceAccountExists(kc: KubeConfig): Promise<void> {
  await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
}

async function waitFor(probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (error) {
      last = error;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s: ${(last as Error | undefined)?.message ?? 'no attempt'}`);
}

/** Ports handed out by this process, so clusters started in parallel never share one. */
const handedOutPorts = new Set<number>();

async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    for (const port of await pickPorts(count - ports.length)) {
      if (!handedOutPorts.has(port)) {
        handedOutPorts.add(port);
        ports.push(port);
      }
    }
  }
  return ports;
}

async function pickPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((done, fail) => {
          const server = createServer();
          server.once('error', fail);
          server.listen(0, '127.0.0.1', () => done(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

async function httpGetPlain(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  const body = await response.text();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${body}`);
}

/** GET with the cluster's CA and admin client certificate. */
function apiGet(name: string, server: string, path: string): Promise<string> {
  const certs = join(clustersDir, name, 'certs');
  return new Promise((done, fail) => {
    const req = request(
      `${server}${path}`,
      {
        ca: readFileSync(join(certs, 'ca.crt')),
        cert: readFileSync(join(certs, 'admin.crt')),
        key: readFileSync(join(certs, 'admin.key')),
        timeout: 3_000,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          res.statusCode === 200 ? done(body) : fail(new Error(`${path}: HTTP ${res.statusCode} ${body.slice(0, 300)}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: timed out`)));
    req.on('error', fail);
    req.end();
  });
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * One `up`/`down` at a time across processes (the CLI and vitest's global setup
 * may race). A lock left by a dead process is taken over.
 */
async function withLock<T>(log: Log, body: () => Promise<T>): Promise<T> {
  await mkdir(clustersDir, { recursive: true });
  const lockPath = join(clustersDir, '.lock');
  const deadline = Date.now() + 15 * 60_000;
  let waitingSaid = false;
  for (;;) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: number;
      try {
        holder = Number(readFileSync(lockPath, 'utf8').trim());
      } catch {
        continue; // released meanwhile
      }
      if (!Number.isInteger(holder) || holder <= 0 || !processAlive(holder)) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new ClusterStartError(`${lockPath} is held by pid ${holder} for too long`);
      if (!waitingSaid) log(`waiting for pid ${holder}, which holds ${lockPath}`);
      waitingSaid = true;
      await sleep(500);
    }
  }
  try {
    return await body();
  } finally {
    await rm(lockPath, { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
