// A cluster Shoal creates itself, end to end through the CLI and the running control
// plane: the infrastructure reconciler creates it with the real local provider, the probe
// reports it ONLINE, an application runs on it, it is scaled, and deleting it stops its
// processes and removes the Cluster.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { runShoal, type CliIO } from '../../shared/cli/program.ts';
import { provisionId } from '../../shared/infrastructure/lifecycle.ts';
import { killClusterProcesses, readPidFiles } from '../../shared/local/kube-cluster.ts';
import { FileSecretStore } from '../../shared/secrets/secret-store.ts';
import { call, collection } from './support/http.ts';
import { statusOf } from './support/fleet.ts';
import { eventually } from './support/eventually.ts';

const namespace = `infra-${process.pid.toString(36)}-${Date.now().toString(36)}`;
const stateDir = mkdtempSync(join(tmpdir(), 'shoal-infrastructure-'));
const clusterDir = join(stateDir, provisionId(namespace, 'edge'));
const clusterPath = `${collection(namespace, 'clusters')}/edge`;

/** The shoal program in this process, against the test control plane. */
async function shoal(args: readonly string[], input = '') {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: async () => input,
    env: { SHOAL_SERVER: inject('shoalServer') },
  };
  const code = await runShoal([...args, '-n', namespace], io);
  return { code, stdout, stderr };
}

/** The kubeconfig Shoal registered for the cluster, read from the control plane's secret store. */
async function registeredKubeConfig(): Promise<KubeConfig> {
  const cluster = (await call('GET', clusterPath)).body as { spec: { kubeconfigSecret: string } };
  const store = new FileSecretStore(inject('secretStore').replace(/^file:/, ''));
  const kc = new KubeConfig();
  kc.loadFromString((await store.get(cluster.spec.kubeconfigSecret)) ?? '');
  return kc;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(async () => {
  // Only if a step failed: never leave processes behind. The Cluster goes first, or the
  // control plane's infrastructure reconciler would create the killed cluster again.
  if ((await call('GET', clusterPath)).status === 200) {
    await call('DELETE', clusterPath);
    await eventually('the Cluster to be deleted', async () => ((await call('GET', clusterPath)).status === 404 ? true : undefined), 60_000).catch(() => undefined);
  }
  await killClusterProcesses(clusterDir).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
});

describe('a cluster Shoal creates', () => {
  it('is created, runs an application, scales, and on deletion lets the application go PENDING before its processes stop', { timeout: 600_000 }, async () => {
    // Prepare: a local Cloud and its InfrastructureProvider
    const setup = [
      { apiVersion: 'shoal.io/v1alpha1', kind: 'InfrastructureProvider', metadata: { name: 'local' }, spec: { type: 'local', local: { stateDir } } },
      { apiVersion: 'shoal.io/v1alpha1', kind: 'Cloud', metadata: { name: 'laptop', labels: { location: 'home' } }, spec: { type: 'local', infrastructureProvider: 'local', local: { maxClusters: 2 } } },
    ];
    const applied = await shoal(['apply', '-f', '-'], setup.map((object) => stringify(object)).join('---\n'));
    expect(applied, applied.stderr).toMatchObject({ code: 0 });

    // Act: create, placed by constraint
    const started = Date.now();
    const created = await shoal(['cluster', 'create', 'edge', '--cloud-label', 'location = home', '--nodes', '1', '-l', 'site=edge', '--wait', '--timeout', '4m']);
    const onlineAfter = (Date.now() - started) / 1000;

    // Assess
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('cluster.shoal.io/edge created');
    expect(created.stdout).toContain('cluster.shoal.io/edge PROVISIONING');
    expect(created.stdout).toContain('cluster.shoal.io/edge ONLINE');
    const status = await eventually('state ONLINE', async () => {
      const current = await statusOf(clusterPath);
      return current.state === 'ONLINE' ? current : undefined;
    });
    expect(status.infrastructure).toMatchObject({ phase: 'ONLINE', cloud: 'laptop', provider: 'local', nodes: { desired: 1, ready: 1 } });
    const table = await shoal(['get', 'clusters']);
    expect(table.stdout).toMatch(/^edge\s+ONLINE\s+ONLINE\s/m);
    console.info(`create → ONLINE (infrastructure phase, CLI --wait): ${onlineAfter.toFixed(1)} s`);

    // Act: an application placed on it
    const app = {
      apiVersion: 'shoal.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'web' },
      spec: {
        manifests: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'web' },
            spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
          },
        ],
        constraints: { cluster: { labels: ['site = edge'] } },
      },
    };
    expect((await shoal(['apply', '-f', '-'], stringify(app))).code).toBe(0);

    // Assess
    await eventually('application RUNNING on edge', async () => {
      const current = await statusOf(`${collection(namespace, 'applications')}/web`);
      return current.state === 'RUNNING' && current.runningOn === 'edge' ? current : undefined;
    });
    const kc = await registeredKubeConfig();
    const deployment = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'web', namespace: 'default' });
    expect(deployment.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Available', status: 'True' }));

    // Act: scale to two nodes, watching the phases go by
    const phases: string[] = [];
    let scaling = true;
    const watcher = (async () => {
      while (scaling) {
        const phase = (await statusOf(clusterPath)).infrastructure?.phase as string;
        if (phases.at(-1) !== phase) phases.push(phase);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const scaleStarted = Date.now();
    const scaled = await shoal(['cluster', 'scale', 'edge', '--nodes', '2', '--wait', '--timeout', '3m']);
    const scaledAfter = (Date.now() - scaleStarted) / 1000;
    scaling = false;
    await watcher;

    // Assess
    expect(scaled.code, scaled.stderr).toBe(0);
    expect(scaled.stdout).toContain('cluster.shoal.io/edge scaled to 2 nodes');
    expect(scaled.stdout).toMatch(/cluster\.shoal\.io\/edge ONLINE\n$/);
    // The CLI polls with backoff and may miss a phase; the watcher above samples every 50 ms.
    expect(phases).toEqual(['ONLINE', 'SCALING', 'ONLINE']);
    expect((await statusOf(clusterPath)).infrastructure).toMatchObject({ phase: 'ONLINE', nodes: { desired: 2, ready: 2 } });
    const nodes = await kc.makeApiClient(CoreV1Api).listNode();
    expect(nodes.items.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toHaveLength(2);

    // Act: delete the cluster while the application runs on it
    const pids = Object.values(readPidFiles(clusterDir));
    expect(pids.length).toBeGreaterThan(0);
    const deleteStarted = Date.now();
    const deleted = await shoal(['delete', 'cluster', 'edge', '--wait', '--timeout', '120s']);
    console.info(`scale 1 → 2 nodes → ONLINE: ${scaledAfter.toFixed(1)} s; delete → Cluster gone: ${((Date.now() - deleteStarted) / 1000).toFixed(1)} s`);

    // Assess: the application was moved off (nowhere else to go: PENDING, not deleted) before the real cluster went
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await call('GET', clusterPath)).status).toBe(404);
    const left = await statusOf(`${collection(namespace, 'applications')}/web`);
    expect(left.state).toBe('PENDING');
    expect(left.runningOn).toBeUndefined();
    expect((await shoal(['delete', 'app', 'web', '--wait', '--timeout', '60s'])).code).toBe(0);
    // Stopped processes are zombies until init reaps them, a moment later.
    await eventually('the cluster processes to end', async () => (pids.some(alive) ? undefined : true), 10_000).catch(() => undefined);
    expect(pids.filter(alive)).toEqual([]);
  });
});
