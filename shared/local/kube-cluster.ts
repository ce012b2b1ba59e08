// One local Kubernetes cluster as plain processes on 127.0.0.1: an etcd, a
// kube-apiserver (client certificates, Node,RBAC), a kube-controller-manager, a
// kube-scheduler and kwok with fake nodes, all from test/k8s/bin/k8s-local.
// The processes are detached and outlive whoever started them; the cluster's state
// lives in one directory, and `stopKubeCluster` ends it by the pids recorded there.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, type V1Node } from '@kubernetes/client-node';

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The multi-call binary, built by `npm run clusters -- build` from the Go module in test/k8s. */
export const k8sLocalBinaryPath = join(repositoryRoot, 'test/k8s/bin/k8s-local');

/** The script that starts one cluster and exits when it is ready (`start-kube-cluster.ts`). */
export const startScriptPath = join(repositoryRoot, 'shared/local/start-kube-cluster.ts');

/** The components in start order; they are stopped in reverse. */
export const clusterComponents = ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'kwok'] as const;
export type ClusterComponent = (typeof clusterComponents)[number];

/** kwok manages the Nodes carrying this annotation; `fakeNode` writes it. */
const fakeNodeAnnotation = 'kwok.x-k8s.io/node';
const fieldManager = 'shoal-local-clusters';

export interface ClusterRecord {
  name: string;
  server: string;
  ports: Record<'etcdClient' | 'etcdPeer' | 'apiserver' | 'controllerManager' | 'scheduler', number>;
  pids: Partial<Record<ClusterComponent, number>>;
  /** Fake nodes created at start-up. */
  fakeNodes: number;
  startedAt: string;
  readyAt?: string;
}

/** Where a cluster lives: its name (in certificates and kubeconfig) and its state directory. */
export interface KubeClusterLocation {
  name: string;
  dir: string;
}

export class ClusterStartError extends Error {
  override name = 'ClusterStartError';
}

export type Log = (line: string) => void;

/** Admin kubeconfig (client certificate, system:masters, embedded certificate data). */
export function kubeconfigPathIn(dir: string): string {
  return join(dir, 'kubeconfig');
}

export function adminKubeConfig(dir: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPathIn(dir));
  return kc;
}

export type ClusterHealth =
  | { state: 'absent' }
  | { state: 'running'; record: ClusterRecord }
  | { state: 'broken'; reason: string; record?: ClusterRecord };

export async function readClusterRecord(dir: string): Promise<ClusterRecord | undefined> {
  const recordPath = join(dir, 'cluster.json');
  if (!existsSync(recordPath)) return undefined;
  return JSON.parse(await readFile(recordPath, 'utf8')) as ClusterRecord;
}

export async function kubeClusterHealth(dir: string): Promise<ClusterHealth> {
  if (!existsSync(join(dir, 'cluster.json'))) {
    return existsSync(dir) ? { state: 'broken', reason: 'no cluster.json' } : { state: 'absent' };
  }
  let record: ClusterRecord;
  try {
    record = (await readClusterRecord(dir)) as ClusterRecord;
  } catch (error) {
    return { state: 'broken', reason: `unreadable cluster.json: ${(error as Error).message}` };
  }
  const dead = deadComponent(record);
  if (dead) return { state: 'broken', reason: `${dead} is not running`, record };
  if (!record.readyAt) return { state: 'broken', reason: 'start-up did not finish', record };
  try {
    await apiGet(dir, record.server, '/readyz');
  } catch (error) {
    return { state: 'broken', reason: `API not ready: ${(error as Error).message}`, record };
  }
  return { state: 'running', record };
}

/** The first component of the record that is not running, if any. */
export function deadComponent(record: ClusterRecord): ClusterComponent | undefined {
  return clusterComponents.find((component) => {
    const pid = record.pids[component];
    return pid === undefined || !isClusterProcess(pid);
  });
}

/**
 * Starts the cluster's processes and returns once it is ready: API ready, `nodes`
 * fake nodes Ready, default service account present. Two attempts: a port picked as
 * free can be taken by someone else before it is bound.
 */
export async function startKubeCluster(cluster: KubeClusterLocation & { nodes: number }, log: Log): Promise<ClusterRecord> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterProcesses(cluster, log);
    } catch (error) {
      await killClusterProcesses(cluster.dir);
      if (attempt >= 2) throw error;
      log(`${cluster.name}: start failed, trying once more: ${(error as Error).message.split('\n')[0]}`);
    }
  }
}

/** Stops the cluster's processes and removes its state directory. Returns how many processes were running. */
export async function stopKubeCluster(dir: string): Promise<number> {
  const stopped = await killClusterProcesses(dir);
  await rm(dir, { recursive: true, force: true });
  return stopped;
}

/** Kills one component (SIGKILL, as a crash would), e.g. its kube-apiserver for a failover test. */
export async function killComponent(dir: string, component: ClusterComponent): Promise<void> {
  const pid = readPidFiles(dir)[component];
  if (pid === undefined || !isClusterProcess(pid)) return;
  signal(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (isClusterProcess(pid) && Date.now() < deadline) await sleep(50);
}

/** The state a start leaves behind; everything else in the directory is the caller's. */
const startState = ['cluster.json', 'kubeconfig', 'kwok-stages.yaml', 'certs', 'logs', 'pids', 'etcd'];

async function startClusterProcesses({ name, dir, nodes }: KubeClusterLocation & { nodes: number }, log: Log): Promise<ClusterRecord> {
  const started = Date.now();
  await Promise.all(startState.map((entry) => rm(join(dir, entry), { recursive: true, force: true })));
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
    fakeNodes: nodes,
    startedAt: new Date(started).toISOString(),
  };
  const saveRecord = (): Promise<void> => writeFile(join(dir, 'cluster.json'), `${JSON.stringify(record, null, 2)}\n`);

  runTool(['certs', '--dir', certs, '--server', server, '--cluster', name]);
  const stages = join(dir, 'kwok-stages.yaml');
  writeFileSync(stages, runTool(['kwok-stages']));

  const launch = async (component: ClusterComponent, args: string[]): Promise<void> => {
    record.pids[component] = launchDetached(dir, component, args);
    await saveRecord();
  };
  const fail = async (what: string, component: ClusterComponent, error: unknown): Promise<never> => {
    const logFile = join(dir, 'logs', `${component}.log`);
    throw new ClusterStartError(
      `cluster ${name}: ${what} failed: ${(error as Error).message}\n` +
        `last lines of ${logFile}:\n${tail(logFile, 15)}\n` +
        `Its processes were stopped; the logs stay in ${dir} until the cluster is removed.`,
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
    // Small local clusters: small backend, frequent compaction, no fsync.
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
    // Trimmed for small clusters.
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--event-ttl=15m',
  ]);
  await waitFor(() => apiGet(dir, server, '/readyz'), 90_000).catch((e: unknown) =>
    fail('kube-apiserver start', 'apiserver', e),
  );

  // The controllers authenticate, are authorised and serve on loopback with their own kubeconfig.
  const controllerFlags = (kubeconfig: string, port: number) => [
    ...['kubeconfig', 'authentication-kubeconfig', 'authorization-kubeconfig'].map((flag) => `--${flag}=${join(certs, kubeconfig)}`),
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--leader-elect=false',
  ];
  await launch('controller-manager', [
    ...controllerFlags('kube-controller-manager.kubeconfig', controllerManager),
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
  await launch('scheduler', controllerFlags('kube-scheduler.kubeconfig', scheduler));
  await launch('kwok', [
    `--kubeconfig=${join(certs, 'kwok.kubeconfig')}`,
    `--config=${stages}`,
    `--manage-nodes-with-annotation-selector=${fakeNodeAnnotation}=fake`,
    '--node-lease-duration-seconds=40',
  ]);

  await copyFile(join(certs, 'admin.kubeconfig'), kubeconfigPathIn(dir));
  const kc = adminKubeConfig(dir);
  await scaleFakeNodes(kc, nodes).catch((e: unknown) => fail('creating fake nodes', 'apiserver', e));
  await waitFor(async () => {
    const ready = await countReadyFakeNodes(kc);
    if (ready < nodes) throw new Error(`${ready}/${nodes} nodes Ready`);
  }, 60_000).catch((e: unknown) => fail('waiting for kwok nodes to be Ready', 'kwok', e));
  await waitFor(() => defaultServiceAccountExists(kc), 60_000).catch((e: unknown) =>
    fail('waiting for the default service account', 'controller-manager', e),
  );
  const dead = deadComponent(record);
  if (dead) await fail('start-up', dead, new Error(`${dead} exited`));

  record.readyAt = new Date().toISOString();
  await saveRecord();
  log(`${name}: ready at ${server} in ${((Date.now() - started) / 1000).toFixed(1)}s (kubeconfig ${kubeconfigPathIn(dir)})`);
  return record;
}

/**
 * SIGTERM everything but etcd, then etcd: a kube-apiserver that loses etcd while
 * shutting down retries for ~20s. SIGKILL whatever is left after `graceMs` per phase.
 * Returns how many processes were running.
 */
export async function killClusterProcesses(dir: string, graceMs = 10_000): Promise<number> {
  const pids = readPidFiles(dir);
  const running = Object.values(pids).filter(isClusterProcess).length;
  const phases: ClusterComponent[][] = [['kwok', 'scheduler', 'controller-manager', 'apiserver'], ['etcd']];
  for (const phase of phases) {
    const alive = phase.flatMap((component) => {
      const pid = pids[component];
      return pid !== undefined && isClusterProcess(pid) ? [pid] : [];
    });
    for (const pid of alive) signal(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    for (const pid of alive) {
      while (isClusterProcess(pid) && Date.now() < deadline) await sleep(50);
      if (isClusterProcess(pid)) signal(pid, 'SIGKILL');
    }
  }
  return running;
}

export function readPidFiles(dir: string): Partial<Record<ClusterComponent, number>> {
  const pids: Partial<Record<ClusterComponent, number>> = {};
  for (const component of clusterComponents) {
    const pid = readPidFile(join(dir, 'pids', `${component}.pid`));
    if (pid !== undefined) pids[component] = pid;
  }
  return pids;
}

export function readPidFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Each component leads its own process group, so a signal reaches any children too. */
export function signal(pid: number, name: NodeJS.Signals): void {
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
export function isClusterProcess(pid: number): boolean {
  return processArgv(pid)?.[0] === k8sLocalBinaryPath;
}

/** The argv of a live (not zombie) process; undefined when there is none. */
export function processArgv(pid: number): string[] | undefined {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' ? undefined : cmdline.split('\0');
  } catch {
    return undefined;
  }
}

function launchDetached(dir: string, component: ClusterComponent, args: string[]): number {
  const logFd = openSync(join(dir, 'logs', `${component}.log`), 'a');
  try {
    const child = spawn(k8sLocalBinaryPath, [component, ...args], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', logFd, logFd],
      // Go's default GC target is tuned for throughput; small clusters want a small heap.
      env: { ...process.env, GOGC: process.env.GOGC ?? '50', KUBECONFIG: '' },
    });
    child.unref();
    if (child.pid === undefined) throw new ClusterStartError(`could not start ${k8sLocalBinaryPath} ${component}`);
    writeFileSync(join(dir, 'pids', `${component}.pid`), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(logFd);
  }
}

function runTool(args: string[]): string {
  const result = spawnSync(k8sLocalBinaryPath, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new ClusterStartError(`${k8sLocalBinaryPath} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr}`);
  }
  return result.stdout;
}

/** The Kubernetes version the binary was built from (`1.36.3`), from `k8s-local version`. */
export function k8sLocalVersion(): string {
  const version = parseKubernetesVersion(runTool(['version']));
  if (!version) throw new ClusterStartError(`${k8sLocalBinaryPath} version does not name k8s.io/kubernetes`);
  return version;
}

/** `k8s.io/kubernetes v1.36.3` in the output of `k8s-local version` → `1.36.3`. */
export function parseKubernetesVersion(versionOutput: string): string | undefined {
  return /^k8s\.io\/kubernetes v(\d+\.\d+\.\d+\S*)$/m.exec(versionOutput)?.[1];
}

export function fakeNodeName(index: number): string {
  return `kwok-node-${index}`;
}

/** A Node that kwok manages (by its annotation) and keeps Ready. */
export function fakeNode(name: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [fakeNodeAnnotation]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'node-role.kubernetes.io/agent': '',
      },
    },
  };
}

/**
 * Which fake nodes to create and delete so that exactly `desired` exist, named
 * kwok-node-0..desired-1: the gaps are filled and the ones beyond are removed.
 */
export function planFakeNodes(existing: string[], desired: number): { create: string[]; remove: string[] } {
  const wanted = new Set(Array.from({ length: desired }, (_, i) => fakeNodeName(i)));
  return {
    create: [...wanted].filter((name) => !existing.includes(name)),
    remove: existing.filter((name) => !wanted.has(name)).sort(),
  };
}

export async function listFakeNodes(kc: KubeConfig): Promise<V1Node[]> {
  const nodes = await kc.makeApiClient(CoreV1Api).listNode();
  return nodes.items.filter((node) => node.metadata?.annotations?.[fakeNodeAnnotation] === 'fake');
}

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export async function countReadyFakeNodes(kc: KubeConfig): Promise<number> {
  return (await listFakeNodes(kc)).filter(isNodeReady).length;
}

/** Creates (server-side apply) and deletes fake Nodes so that exactly `desired` exist. */
export async function scaleFakeNodes(kc: KubeConfig, desired: number): Promise<void> {
  const existing = (await listFakeNodes(kc)).map((node) => node.metadata?.name ?? '');
  const plan = planFakeNodes(existing, desired);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of plan.create) {
    await objects.patch(fakeNode(name), undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
  }
  for (const name of plan.remove) {
    await core.deleteNode({ name }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
  }
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
export function apiGet(dir: string, server: string, path: string): Promise<string> {
  const certs = join(dir, 'certs');
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

export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
