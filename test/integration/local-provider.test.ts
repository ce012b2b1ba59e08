// The local InfrastructureProvider against real processes: a cluster is created
// detached, followed through describe until ready, reached with its credentials,
// scaled, refused an upgrade, and deleted with every process gone.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderObservation, ProvisionTarget } from '../../shared/infrastructure/provider.ts';
import { ProviderRejectedError } from '../../shared/infrastructure/provider.ts';
import { localProvider } from '../../shared/infrastructure/providers/local.ts';
import { killComponent, readPidFiles } from '../../shared/local/kube-cluster.ts';
import { logger } from '../../shared/observability.ts';
import { cloudSpec, infrastructureProviderSpec, type ClusterShape } from '../../shared/resources/kinds.ts';
import { FileSecretStore } from '../../shared/secrets/secret-store.ts';
import { freshStore } from './support/dynamodb.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'shoal-local-provider-'));
let provider: ReturnType<typeof localProvider>;

function target(id: string, shape: Partial<ClusterShape> = {}): ProvisionTarget {
  return {
    id,
    namespace: 'default',
    name: id,
    shape: { nodes: 1, ...shape },
    cloud: {
      name: 'laptop',
      spec: cloudSpec.parse({ type: 'local', infrastructureProvider: 'local', local: { maxClusters: 1 } }),
    },
    provider: { name: 'local', spec: infrastructureProviderSpec.parse({ type: 'local', local: { stateDir } }) },
  };
}

async function describeUntil(
  what: string,
  subject: ProvisionTarget,
  done: (observation: ProviderObservation) => boolean,
  timeoutMs = 90_000,
): Promise<ProviderObservation> {
  const deadline = Date.now() + timeoutMs;
  let last: ProviderObservation | undefined;
  while (Date.now() < deadline) {
    last = await provider.describe(subject).catch((error: unknown) => ({ phase: 'failed' as const, message: String(error) }));
    if (done(last)) return last;
    if (last.phase === 'failed' && !last.message?.includes('not ready')) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('local InfrastructureProvider', () => {
  const cluster = target('default-lp1');
  const second = target('default-lp2');
  let pids: number[] = [];

  beforeAll(async () => {
    const { store } = await freshStore('local-provider');
    provider = localProvider({ store, secrets: new FileSecretStore(join(stateDir, 'secrets')), logger, now: () => new Date() });
  });

  afterAll(async () => {
    await Promise.all([provider.delete(cluster), provider.delete(second)]);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('creates a cluster that describe follows from provisioning to ready', async () => {
    // Act
    const started = Date.now();
    await provider.create(cluster);
    const createSeconds = (Date.now() - started) / 1000;
    await provider.create(cluster); // idempotent while starting
    const first = await provider.describe(cluster);
    const ready = await describeUntil('ready', cluster, (o) => o.phase === 'ready');
    console.log(`create returned in ${createSeconds.toFixed(2)}s; ready after ${((Date.now() - started) / 1000).toFixed(1)}s`);

    // Assess
    expect(createSeconds).toBeLessThan(5);
    expect(first.phase).toBe('provisioning');
    expect(ready.nodes).toEqual({ desired: 1, ready: 1 });
    expect(ready.version).toMatch(/^1\.36\./);
    pids = Object.values(readPidFiles(join(stateDir, cluster.id)));
    expect(pids).toHaveLength(5);
  });

  it('is a no-op to create a running cluster', async () => {
    // Act
    await provider.create(cluster);

    // Assess
    expect(Object.values(readPidFiles(join(stateDir, cluster.id)))).toEqual(pids);
    expect((await provider.describe(cluster)).phase).toBe('ready');
  });

  it('refuses a cluster beyond the cloud maxClusters', async () => {
    // Act / Assess
    await expect(provider.create(second)).rejects.toThrow(ProviderRejectedError);
    await expect(provider.create(second)).rejects.toThrow(/at most 1 local clusters \(spec\.local\.maxClusters\).*default-lp1/);
    expect(await provider.describe(second)).toEqual({ phase: 'absent' });
  });

  it('hands out an embedded kubeconfig that reaches the cluster', async () => {
    // Act
    const { kubeconfig } = await provider.credentials(cluster);
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    const nodes = await kc.makeApiClient(CoreV1Api).listNode();

    // Assess
    expect(kubeconfig).toContain('client-certificate-data');
    expect(kubeconfig).not.toMatch(/client-certificate:|client-key:|certificate-authority:/);
    expect(nodes.items.map((node) => node.metadata?.name)).toEqual(['kwok-node-0']);
  });

  it('scales the fake nodes to the shape', async () => {
    // Prepare: the provider reports the nodes it was asked for, so the controller sees a scale is due.
    const three = target(cluster.id, { nodes: 3 });
    expect(await provider.describe(three)).toMatchObject({ phase: 'ready', nodes: { desired: 1, ready: 1 } });

    // Act
    await provider.scale(three);
    const ready = await describeUntil('3 nodes ready', three, (o) => o.phase === 'ready');

    // Assess
    expect(ready.nodes).toEqual({ desired: 3, ready: 3 });
  });

  it('reports a cluster whose process died as failed, and create starts it afresh', async () => {
    // Prepare
    const three = target(cluster.id, { nodes: 3 });
    await killComponent(join(stateDir, cluster.id), 'scheduler');

    // Act
    const failed = await provider.describe(three);
    await provider.create(three);
    const restarted = await describeUntil('ready again', three, (o) => o.phase === 'ready');

    // Assess
    expect(failed.phase).toBe('failed');
    expect(failed.message).toMatch(/^scheduler is not running; last lines of .*scheduler\.log/);
    expect(restarted.nodes).toEqual({ desired: 3, ready: 3 });
    pids = Object.values(readPidFiles(join(stateDir, cluster.id)));
  });

  it('refuses an upgrade to a version it does not run, and accepts its own', async () => {
    // Act / Assess
    await expect(provider.upgrade(target(cluster.id, { nodes: 3, version: '1.35' }))).rejects.toThrow(
      /wants Kubernetes 1\.35, but the local provider runs only 1\.36\./,
    );
    await expect(provider.upgrade(target(cluster.id, { nodes: 3, version: '1.36' }))).resolves.toBeUndefined();
  });

  it('deletes the cluster: its processes end and it reads absent', async () => {
    // Act
    await provider.delete(cluster);
    await provider.delete(cluster); // idempotent

    // Assess: stopped processes are zombies until init reaps them, a moment later.
    const deadline = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pids.filter(alive)).toEqual([]);
    expect(await provider.describe(cluster)).toEqual({ phase: 'absent' });
  });
});
