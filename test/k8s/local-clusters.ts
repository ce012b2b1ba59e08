// Local Kubernetes clusters c1..cN for the tests and `npm run clusters`, each one
// a shared/local/kube-cluster.ts cluster in .shoal/clusters/<name>/. Clusters
// outlive the process that started them; `stopClusters` ends them by the pids
// recorded there.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ClusterStartError,
  killComponent,
  kubeClusterHealth,
  startKubeCluster,
  stopKubeCluster,
  type ClusterComponent,
  type ClusterHealth,
  type Log,
} from '../../shared/local/kube-cluster.ts';
import { buildClusterBinary, moduleDir } from './build.ts';

export { ClusterStartError, type ClusterHealth, type Log };

/** .shoal/clusters at the repository root; SHOAL_CLUSTERS_DIR moves it (e.g. for a benchmark's own set). */
export const clustersDir = resolve(process.env.SHOAL_CLUSTERS_DIR ?? resolve(moduleDir, '../../.shoal/clusters'));

/** Fake nodes per cluster. */
export const fakeNodeCount = 2;

export interface LocalCluster {
  name: string;
  /** Admin kubeconfig (client certificate, system:masters): .shoal/clusters/<name>/kubeconfig */
  kubeconfigPath: string;
  server: string;
  /** True when this call started the cluster, false when it was already running. */
  started: boolean;
}

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
        const record = await startKubeCluster({ name, dir: join(clustersDir, name), nodes: fakeNodeCount }, log);
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
export async function stopComponent(name: string, component: ClusterComponent): Promise<void> {
  await killComponent(join(clustersDir, name), component);
}

export function clusterHealth(name: string): Promise<ClusterHealth> {
  return kubeClusterHealth(join(clustersDir, name));
}

async function stopCluster(name: string, log: Log): Promise<void> {
  const stopped = await stopKubeCluster(join(clustersDir, name));
  if (stopped > 0) log(`${name}: stopped`);
}

export function listClusterDirs(): string[] {
  if (!existsSync(clustersDir)) return [];
  return readdirSync(clustersDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
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
