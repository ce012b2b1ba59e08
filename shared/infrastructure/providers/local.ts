// The `local` InfrastructureProvider: clusters as processes on this machine (etcd,
// kube-apiserver, controller-manager, scheduler and kwok fake nodes, from
// test/k8s/bin/k8s-local), one state directory per cluster under the provider's
// stateDir. Start-up runs in a detached start-kube-cluster.ts process, so `create`
// returns at once and the cluster keeps going without its caller. That process runs
// under tsx (`node --import tsx`), as Shoal's local control plane does.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  adminKubeConfig,
  apiGet,
  deadComponent,
  isClusterProcess,
  isNodeReady,
  k8sLocalBinaryPath,
  k8sLocalVersion,
  killClusterProcesses,
  kubeconfigPathIn,
  listFakeNodes,
  processArgv,
  readClusterRecord,
  readPidFile,
  readPidFiles,
  repositoryRoot,
  scaleFakeNodes,
  signal,
  startScriptPath,
  tail,
  type ClusterRecord,
} from '../../local/kube-cluster.ts';
import { versionMatches } from '../lifecycle.ts';
import {
  ProviderRejectedError,
  type InfrastructureProvider,
  type ProviderContext,
  type ProviderObservation,
  type ProvisionTarget,
} from '../provider.ts';

export const defaultStateDir = join(repositoryRoot, '.shoal/provisioned');

/** How long stopped processes get to exit before SIGKILL. */
const stopGraceMs = 5_000;

/** Where one cluster stands on disk and in the process table. */
type LocalClusterState =
  | { kind: 'absent' }
  | { kind: 'starting' }
  | { kind: 'started'; record: ClusterRecord }
  | { kind: 'broken'; reason: string };

/**
 * Creates clusters as local processes. `shape.nodes` is the number of kwok fake nodes;
 * `shape.machineType` is ignored (fake nodes have no machine type); the one Kubernetes
 * version is the one test/k8s/bin/k8s-local was built from.
 */
export function localProvider(context: ProviderContext): InfrastructureProvider {
  const { logger } = context;

  return {
    async create(target) {
      if (!existsSync(k8sLocalBinaryPath)) {
        throw new ProviderRejectedError(
          `the local provider runs clusters from ${k8sLocalBinaryPath}, which does not exist: ` +
            'run "npm run clusters -- build" (needs Go) on the machine that runs Shoal',
        );
      }
      const dir = clusterDir(target);
      const state = await localClusterState(dir);
      if (state.kind === 'starting' || state.kind === 'started') return;
      if (state.kind === 'broken') {
        logger.info('restarting a broken local cluster', { cluster: target.id, reason: state.reason });
        await stopLocalCluster(dir);
      }
      enforceMaxClusters(target);
      await mkdir(dir, { recursive: true });
      const pid = launchStarter(target, dir);
      logger.info('starting a local cluster', { cluster: target.id, dir, nodes: target.shape.nodes, starterPid: pid });
    },

    async describe(target) {
      const state = await localClusterState(clusterDir(target));
      switch (state.kind) {
        case 'absent':
          return { phase: 'absent' };
        case 'starting':
          return { phase: 'provisioning', message: 'starting etcd, kube-apiserver, controllers and kwok nodes' };
        case 'broken':
          return { phase: 'failed', message: state.reason };
        case 'started':
          return observeRunning(target, state.record);
      }
    },

    async scale(target) {
      await scaleFakeNodes(adminKubeConfig(await runningDir(target)), target.shape.nodes);
      logger.info('scaled a local cluster', { cluster: target.id, nodes: target.shape.nodes });
    },

    async upgrade(target) {
      const wanted = target.shape.version;
      if (wanted === undefined) return;
      const runs = k8sLocalVersion();
      if (!versionMatches(wanted, runs)) {
        throw new ProviderRejectedError(
          `cluster ${target.namespace}/${target.name} wants Kubernetes ${wanted}, but the local provider runs only ` +
            `${runs} (the version test/k8s/bin/k8s-local was built from): set shape.version to ${runs} or leave it out`,
        );
      }
    },

    async delete(target) {
      const dir = clusterDir(target);
      if (!existsSync(dir)) return;
      const stopped = await stopLocalCluster(dir);
      logger.info('deleted a local cluster', { cluster: target.id, processesStopped: stopped });
    },

    async credentials(target) {
      const kubeconfig = kubeconfigPathIn(await runningDir(target));
      if (!existsSync(kubeconfig)) throw new Error(`local cluster ${target.id} has no kubeconfig yet`);
      return { kubeconfig: readFileSync(kubeconfig, 'utf8') };
    },
  };
}

function stateDirOf(target: ProvisionTarget): string {
  return (target.provider.spec.type === 'local' ? target.provider.spec.local.stateDir : undefined) ?? defaultStateDir;
}

function clusterDir(target: ProvisionTarget): string {
  return join(stateDirOf(target), target.id);
}

/** The cluster's directory when its start-up finished and every process runs; throws (retry later) otherwise. */
async function runningDir(target: ProvisionTarget): Promise<string> {
  const dir = clusterDir(target);
  const state = await localClusterState(dir);
  if (state.kind !== 'started') {
    const detail = state.kind === 'broken' ? `: ${state.reason}` : '';
    throw new Error(`local cluster ${target.id} is not running (${state.kind}${detail})`);
  }
  return dir;
}

/**
 * `nodes.desired` is the provider's own target, the fake Nodes that exist (what the last
 * create or scale asked for), so that a shape it has not been asked for yet reads as
 * `ready` with fewer nodes, and the controller calls `scale`; `updating` while some are not Ready.
 */
async function observeRunning(target: ProvisionTarget, record: ClusterRecord): Promise<ProviderObservation> {
  const dir = clusterDir(target);
  // A readyz failure on a started cluster is thrown, to be retried: its processes still run.
  await apiGet(dir, record.server, '/readyz');
  const { gitVersion } = JSON.parse(await apiGet(dir, record.server, '/version')) as { gitVersion: string };
  const fakeNodes = await listFakeNodes(adminKubeConfig(dir));
  const desired = fakeNodes.length;
  const ready = fakeNodes.filter(isNodeReady).length;
  const observation = { nodes: { desired, ready }, version: gitVersion.replace(/^v/, '') };
  return ready === desired
    ? { phase: 'ready', ...observation }
    : { phase: 'updating', message: `${ready} of ${desired} nodes Ready`, ...observation };
}

/** At most `local.maxClusters` of the Cloud's stateDir run at once, this one not counted. */
function enforceMaxClusters(target: ProvisionTarget): void {
  if (target.cloud.spec.type !== 'local') return;
  const max = target.cloud.spec.local.maxClusters;
  const stateDir = stateDirOf(target);
  const others = runningClusters(stateDir).filter((id) => id !== target.id);
  if (others.length >= max) {
    throw new ProviderRejectedError(
      `cloud ${target.cloud.name} allows at most ${max} local clusters (spec.local.maxClusters) and ` +
        `${others.length} already run in ${stateDir} (${others.join(', ')}): delete one or raise maxClusters`,
    );
  }
}

/** The clusters under `stateDir` with any process alive. */
export function runningClusters(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .filter((id) => {
      const dir = join(stateDir, id);
      return starterPid(dir) !== undefined || Object.values(readPidFiles(dir)).some(isClusterProcess);
    })
    .sort();
}

async function localClusterState(dir: string): Promise<LocalClusterState> {
  if (!existsSync(dir)) return { kind: 'absent' };
  if (starterPid(dir) !== undefined) return { kind: 'starting' };
  let record: ClusterRecord | undefined;
  try {
    record = await readClusterRecord(dir);
  } catch (error) {
    return { kind: 'broken', reason: `unreadable ${join(dir, 'cluster.json')}: ${(error as Error).message}` };
  }
  if (!record?.readyAt) {
    return { kind: 'broken', reason: `start-up failed; last lines of ${starterLog(dir)}:\n${tail(starterLog(dir), 10)}` };
  }
  const dead = deadComponent(record);
  if (dead) {
    const log = join(dir, 'logs', `${dead}.log`);
    return { kind: 'broken', reason: `${dead} is not running; last lines of ${log}:\n${tail(log, 10)}` };
  }
  return { kind: 'started', record };
}

function starterLog(dir: string): string {
  return join(dir, 'start.log');
}

/** The start-kube-cluster.ts process of `dir`, while it runs. */
function starterPid(dir: string): number | undefined {
  const pid = readPidFile(join(dir, 'start.pid'));
  return pid !== undefined && processArgv(pid)?.includes(startScriptPath) ? pid : undefined;
}

/** Runs start-kube-cluster.ts detached (own process group, output to start.log); returns its pid. */
function launchStarter(target: ProvisionTarget, dir: string): number {
  const logFd = openSync(starterLog(dir), 'a');
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', startScriptPath, target.id, dir, String(target.shape.nodes)],
      { cwd: repositoryRoot, detached: true, stdio: ['ignore', logFd, logFd] },
    );
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${startScriptPath} for local cluster ${target.id}`);
    writeFileSync(join(dir, 'start.pid'), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(logFd);
  }
}

/** Ends the start-up (if any), then the cluster's processes, and removes its directory. */
async function stopLocalCluster(dir: string): Promise<number> {
  const starter = starterPid(dir);
  if (starter !== undefined) {
    signal(starter, 'SIGKILL');
    while (starterPid(dir) !== undefined) await sleep(50);
  }
  const stopped = await killClusterProcesses(dir, stopGraceMs);
  await rm(dir, { recursive: true, force: true });
  return stopped;
}
