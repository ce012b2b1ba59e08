import { describe, expect, it } from 'vitest';
import {
  type ClusterApiView,
  desiredCluster,
  isCreatedFor,
  kubernetesVersion,
  type LiveCluster,
  observeCluster,
} from '../../shared/infrastructure/providers/cluster-api.ts';
import { ProviderRejectedError, type ProvisionTarget } from '../../shared/infrastructure/provider.ts';

function target(shape: ProvisionTarget['shape'] = { nodes: 3 }): ProvisionTarget {
  return {
    id: 'team-a-edge',
    namespace: 'team-a',
    name: 'edge',
    shape,
    cloud: { name: 'lab', spec: { type: 'cluster-api', infrastructureProvider: 'capi', metrics: [], clusterApi: { namespace: 'fleet' } } },
    provider: {
      name: 'capi',
      spec: { type: 'cluster-api', clusterApi: { managementCluster: 'mgmt', clusterClass: 'quick-start', workerClass: 'default-worker', defaultVersion: 'v1.31.0' } },
    },
  };
}

/** A Cluster as Cluster API reports it once it is up, with `replicas` workers wanted. */
function liveCluster(replicas = 3, status: LiveCluster['status'] = {}): LiveCluster {
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'Cluster',
    metadata: { name: 'team-a-edge', namespace: 'fleet' },
    spec: { topology: { version: 'v1.31.0', workers: { machineDeployments: [{ replicas }] } } },
    status: {
      phase: 'Provisioned',
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'ControlPlaneInitialized', status: 'True' },
      ],
      ...status,
    },
  };
}

const workers = (...ready: number[]) => ready.map((readyReplicas) => ({ status: { readyReplicas } }));

function view(overrides: Partial<ClusterApiView> = {}): ClusterApiView {
  return { cluster: liveCluster(), machineDeployments: workers(3), kubeconfigSecretExists: true, ...overrides };
}

describe('kubernetesVersion', () => {
  it.each([
    ['1.31', 'v1.31.0'],
    ['1.31.2', 'v1.31.2'],
    ['v1.30.1', 'v1.30.1'],
    ['v1.31', 'v1.31.0'],
    ['v1.31.0+rke2r1', 'v1.31.0+rke2r1'],
  ])('%s → %s', (input, expected) => {
    expect(kubernetesVersion(input)).toBe(expected);
  });
});

describe('desiredCluster', () => {
  it('is a topology Cluster named by the target id in the cloud namespace, labelled for Shoal', () => {
    // Act
    const cluster = desiredCluster(target({ nodes: 3, version: '1.30' }));

    // Assess
    expect(cluster).toEqual({
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'Cluster',
      metadata: { name: 'team-a-edge', namespace: 'fleet', labels: { 'shoal.io/namespace': 'team-a', 'shoal.io/cluster': 'edge' } },
      spec: {
        topology: {
          class: 'quick-start',
          version: 'v1.30.0',
          workers: { machineDeployments: [{ class: 'default-worker', name: 'workers', replicas: 3 }] },
        },
      },
    });
  });

  it('takes the default version when the shape names none, and the machine type as worker class', () => {
    const cluster = desiredCluster(target({ nodes: 1, machineType: 'gpu-worker' })) as unknown as LiveCluster & {
      spec: { topology: { version: string; workers: { machineDeployments: { class: string }[] } } };
    };

    expect(cluster.spec.topology.version).toBe('v1.31.0');
    expect(cluster.spec.topology.workers.machineDeployments[0]?.class).toBe('gpu-worker');
  });

  it('refuses a provider or cloud of another type', () => {
    const onAws = { ...target(), cloud: { name: 'aws', spec: { type: 'aws' as const, infrastructureProvider: 'capi', metrics: [], aws: { region: 'eu-west-1' } } } };

    expect(() => desiredCluster(onAws)).toThrow(ProviderRejectedError);
    expect(() => desiredCluster(onAws)).toThrow(/Cloud "aws" is of type "aws"/);
  });
});

describe('isCreatedFor', () => {
  it('recognises the Cluster Shoal created for the target by its labels, and only that one', () => {
    const ours = desiredCluster(target());

    expect(isCreatedFor(ours, target())).toBe(true);
    expect(isCreatedFor({ ...ours, metadata: { ...ours.metadata, labels: {} } }, target())).toBe(false);
    expect(isCreatedFor(ours, { ...target(), name: 'other' })).toBe(false);
  });
});

describe('observeCluster', () => {
  it('is absent without a Cluster', () => {
    expect(observeCluster(view({ cluster: undefined }))).toEqual({ phase: 'absent' });
  });

  it('is ready when provisioned, the control plane is up, the kubeconfig exists and every worker is ready', () => {
    expect(observeCluster(view())).toEqual({ phase: 'ready', nodes: { desired: 3, ready: 3 }, version: 'v1.31.0' });
  });

  it('counts ready workers over all MachineDeployments', () => {
    expect(observeCluster(view({ machineDeployments: workers(2, 1) })).phase).toBe('ready');
  });

  it('is deleting once the Cluster has a deletion timestamp', () => {
    const cluster = liveCluster();
    cluster.metadata = { ...cluster.metadata, deletionTimestamp: new Date('2026-01-01T00:00:00Z') };

    expect(observeCluster(view({ cluster })).phase).toBe('deleting');
  });

  it.each([
    [{ phase: 'Failed' }, 'Cluster API reports the cluster Failed'],
    [{ phase: 'Failed', failureReason: 'InvalidConfiguration' }, 'InvalidConfiguration'],
    [{ phase: 'Provisioning', failureMessage: 'no capacity in zone a' }, 'no capacity in zone a'],
  ])('is failed with the message for status %j', (status, message) => {
    expect(observeCluster(view({ cluster: liveCluster(3, status) }))).toMatchObject({ phase: 'failed', message });
  });

  it('is updating while fewer workers are ready than the topology wants', () => {
    expect(observeCluster(view({ cluster: liveCluster(5) }))).toEqual({
      phase: 'updating',
      message: '3 of 5 workers ready',
      nodes: { desired: 5, ready: 3 },
      version: 'v1.31.0',
    });
  });

  it('is updating while the control plane runs another version than the topology', () => {
    expect(observeCluster(view({ controlPlaneVersion: 'v1.30.4' }))).toMatchObject({ phase: 'updating', message: 'control plane at v1.30.4, moving to v1.31.0' });
    expect(observeCluster(view({ controlPlaneVersion: 'v1.31.0' })).phase).toBe('ready');
  });

  it('is provisioning with the phase and the first False condition while the control plane is not up', () => {
    const cluster = liveCluster(3, {
      phase: 'Provisioning',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'WaitingForControlPlane', message: 'control plane is not initialized' },
        { type: 'InfrastructureReady', status: 'False', message: 'waiting for load balancer' },
      ],
    });

    expect(observeCluster(view({ cluster, machineDeployments: [], kubeconfigSecretExists: false }))).toEqual({
      phase: 'provisioning',
      message: 'Provisioning: control plane is not initialized',
      nodes: { desired: 3, ready: 0 },
      version: 'v1.31.0',
    });
  });

  it('is provisioning before Cluster API wrote any status, and until the kubeconfig Secret exists', () => {
    const fresh = liveCluster();
    delete fresh.status;

    expect(observeCluster(view({ cluster: fresh }))).toMatchObject({ phase: 'provisioning', message: 'Pending' });
    expect(observeCluster(view({ kubeconfigSecretExists: false }))).toMatchObject({ phase: 'provisioning', message: 'Provisioned (waiting for its kubeconfig Secret)' });
  });
});
