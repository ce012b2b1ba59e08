// npm run clusters -- build | up [--count N] [--foreground] | status | down
import { Command, InvalidArgumentError } from 'commander';
import { buildClusterBinary } from './build.ts';
import { clusterHealth, ensureClusters, kubeconfigPathOf, listClusterDirs, stopClusters } from './local-clusters.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const program = new Command()
  .name('npm run clusters --')
  .description('Local Kubernetes clusters (etcd, kube-apiserver, controller-manager, scheduler, kwok) on 127.0.0.1');

program
  .command('build')
  .description('build test/k8s/bin/k8s-local from the Kubernetes sources, if its sources changed')
  .option('--force', 'rebuild even if up to date')
  .action(async (options: { force?: boolean }) => {
    const result = await buildClusterBinary({ force: options.force ?? false });
    if (!result.built) console.log(`${result.binaryPath} is up to date`);
  });

program
  .command('up')
  .description('start clusters c1..cN (reusing running ones) and return once they are ready; they keep running')
  .option('--count <n>', 'number of clusters', positiveInt, 2)
  .option('--foreground', 'stay in the foreground and stop the clusters this command started on Ctrl-C')
  .action(async (options: { count: number; foreground?: boolean }) => {
    const clusters = await ensureClusters({ count: options.count });
    for (const cluster of clusters) {
      console.log(`${cluster.name}\t${cluster.server}\t${cluster.kubeconfigPath}`);
    }
    if (!options.foreground) return;
    const ours = clusters.filter((c) => c.started).map((c) => c.name);
    console.log(
      ours.length === clusters.length
        ? 'running in the foreground; Ctrl-C stops them'
        : `running in the foreground; Ctrl-C stops ${ours.join(', ') || 'none'} (the others were already running)`,
    );
    // Signal listeners alone do not keep Node running; the health check does.
    const watch = setInterval(() => {
      for (const cluster of clusters) {
        void clusterHealth(cluster.name).then((health) => {
          if (health.state !== 'running') console.error(`${cluster.name}: ${health.state === 'broken' ? health.reason : 'gone'}`);
        });
      }
    }, 30_000);
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    });
    clearInterval(watch);
    await stopClusters(ours);
  });

program
  .command('status')
  .description('show each known cluster and whether it is healthy')
  .action(async () => {
    const names = listClusterDirs();
    if (names.length === 0) console.log('no clusters');
    for (const name of names) {
      const health = await clusterHealth(name);
      const detail =
        health.state === 'running'
          ? `${health.record.server}\t${kubeconfigPathOf(name)}`
          : health.state === 'broken'
            ? health.reason
            : '';
      console.log(`${name}\t${health.state}\t${detail}`);
    }
  });

program
  .command('down')
  .description('stop all clusters (or the named ones) and remove their state')
  .argument('[names...]', 'clusters to stop, e.g. c1 c2 (default: all)')
  .action(async (names: string[]) => {
    const stopped = await stopClusters(names.length > 0 ? names : undefined);
    if (stopped.length === 0) console.log('no clusters');
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(`clusters: ${(error as Error).message}`);
  process.exitCode = 1;
}
