// `node --import tsx shared/local/start-kube-cluster.ts <name> <dir> <nodes>`: starts one
// local cluster and exits once it is ready. The local InfrastructureProvider runs it
// detached, so that start-up (fake nodes included) finishes without its caller.
import { startKubeCluster } from './kube-cluster.ts';

const [name, dir, nodes] = process.argv.slice(2);
if (name === undefined || dir === undefined || nodes === undefined || !/^\d+$/.test(nodes)) {
  console.error('usage: start-kube-cluster.ts <name> <dir> <nodes>');
  process.exit(2);
}
try {
  await startKubeCluster({ name, dir, nodes: Number(nodes) }, (line) => console.log(line));
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
