import { Buffer } from 'node:buffer';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { ClusterObjects } from '../../deploy/cluster-objects.ts';
import type { Manifest } from '../../deploy/manifests.ts';
import { type ClusterKubeconfigRef, inspectKubeconfig, registeredKubeconfig } from '../../kube/kubeconfig.ts';
import type { InfrastructureProviderSpec } from '../../resources/kinds.ts';
import { type InfrastructureProvider, type ProviderContext, type ProviderObservation, ProviderRejectedError, type ProvisionTarget } from '../provider.ts';

/** The Cluster API version Shoal writes and reads (served by Cluster API v1.x). */
export const CLUSTER_API_VERSION = 'cluster.x-k8s.io/v1beta1';
/** The one worker MachineDeployment of the topology. */
export const WORKERS = 'workers';
/** Label Cluster API puts on every object of a cluster. */
const CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';

type ClusterApiSettings = Extract<InfrastructureProviderSpec, { type: 'cluster-api' }>['clusterApi'];

/** Where a target's Cluster API objects go: the provider's settings and the cloud's namespace. */
export interface ClusterApiPlacement {
  settings: ClusterApiSettings;
  namespace: string;
}

export function placementOf(target: ProvisionTarget): ClusterApiPlacement {
  const { provider, cloud } = target;
  if (provider.spec.type !== 'cluster-api') {
    throw new ProviderRejectedError(`InfrastructureProvider "${provider.name}" is of type "${provider.spec.type}", not "cluster-api"`);
  }
  if (cloud.spec.type !== 'cluster-api') {
    throw new ProviderRejectedError(`Cloud "${cloud.name}" is of type "${cloud.spec.type}": the cluster-api provider "${provider.name}" needs a Cloud of type "cluster-api"`);
  }
  return { settings: provider.spec.clusterApi, namespace: cloud.spec.clusterApi.namespace };
}

/** `1.31` → `v1.31.0`, `1.31.2` → `v1.31.2`; anything else (`v1.31.0+rke2r1`) as written. */
export function kubernetesVersion(version: string): string {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(version);
  if (!match) return version;
  return `v${match[1]}.${match[2]}.${match[3] ?? '0'}`;
}

/** Labels that tie a Cluster API Cluster to the Shoal Cluster it was created for. */
export const shoalLabels = (target: ProvisionTarget) => ({ 'shoal.io/namespace': target.namespace, 'shoal.io/cluster': target.name });

/** False for a Cluster that holds the target's name but was not created by Shoal for it: Shoal leaves that one alone. */
export function isCreatedFor(cluster: KubernetesObject, target: ProvisionTarget): boolean {
  const labels = cluster.metadata?.labels ?? {};
  return Object.entries(shoalLabels(target)).every(([key, value]) => labels[key] === value);
}

/** The Cluster API Cluster Shoal applies for a target: create, scale and upgrade all apply this. */
export function desiredCluster(target: ProvisionTarget): Manifest {
  const { settings, namespace } = placementOf(target);
  return {
    apiVersion: CLUSTER_API_VERSION,
    kind: 'Cluster',
    metadata: { name: target.id, namespace, labels: shoalLabels(target) },
    spec: {
      topology: {
        class: settings.clusterClass,
        version: kubernetesVersion(target.shape.version ?? settings.defaultVersion),
        workers: { machineDeployments: [{ class: target.shape.machineType ?? settings.workerClass, name: WORKERS, replicas: target.shape.nodes }] },
      },
    },
  } as Manifest;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

/** The fields of a live Cluster API Cluster that Shoal reads. */
export interface LiveCluster extends KubernetesObject {
  spec?: {
    topology?: { version?: string; workers?: { machineDeployments?: { replicas?: number }[] } };
    controlPlaneRef?: ObjectReference;
  };
  status?: { phase?: string; failureReason?: string; failureMessage?: string; conditions?: Condition[] };
}

export interface LiveMachineDeployment extends KubernetesObject {
  status?: { readyReplicas?: number };
}

/** What `describe` reads from the management cluster about one cluster. */
export interface ClusterApiView {
  cluster?: LiveCluster;
  machineDeployments: LiveMachineDeployment[];
  /** `status.version` of the object `spec.controlPlaneRef` names, when there is one. */
  controlPlaneVersion?: string;
  /** Whether the `<id>-kubeconfig` Secret Cluster API writes exists. */
  kubeconfigSecretExists: boolean;
}

const isTrue = (conditions: Condition[], type: string) => conditions.some((c) => c.type === type && c.status === 'True');

/** Maps what Cluster API reports to the provider phases. */
export function observeCluster(view: ClusterApiView): ProviderObservation {
  const { cluster } = view;
  if (!cluster) return { phase: 'absent' };
  const topology = cluster.spec?.topology;
  const desired = (topology?.workers?.machineDeployments ?? []).reduce((sum, md) => sum + (md.replicas ?? 0), 0);
  const ready = view.machineDeployments.reduce((sum, md) => sum + (md.status?.readyReplicas ?? 0), 0);
  const observed: ProviderObservation = { phase: 'provisioning', nodes: { desired, ready } };
  if (topology?.version) observed.version = topology.version;
  if (cluster.metadata?.deletionTimestamp) return { ...observed, phase: 'deleting' };

  const status = cluster.status ?? {};
  if (status.phase === 'Failed' || status.failureMessage) {
    return { ...observed, phase: 'failed', message: status.failureMessage ?? status.failureReason ?? 'Cluster API reports the cluster Failed' };
  }
  const conditions = status.conditions ?? [];
  const controlPlaneUp = isTrue(conditions, 'ControlPlaneInitialized') || isTrue(conditions, 'Ready');
  if (status.phase === 'Provisioned' && controlPlaneUp && view.kubeconfigSecretExists) {
    if (topology?.version && view.controlPlaneVersion && kubernetesVersion(view.controlPlaneVersion) !== kubernetesVersion(topology.version)) {
      return { ...observed, phase: 'updating', message: `control plane at ${view.controlPlaneVersion}, moving to ${topology.version}` };
    }
    if (ready < desired) return { ...observed, phase: 'updating', message: `${ready} of ${desired} workers ready` };
    return { ...observed, phase: 'ready' };
  }
  const waiting = conditions.find((c) => c.status === 'False');
  const because = waiting ? `: ${waiting.message || waiting.reason || `${waiting.type} is False`}` : '';
  const secret = status.phase === 'Provisioned' && controlPlaneUp ? ' (waiting for its kubeconfig Secret)' : '';
  return { ...observed, message: `${status.phase ?? 'Pending'}${secret}${because}` };
}

export const kubeconfigSecretName = (id: string) => `${id}-kubeconfig`;

/** Creates clusters as Cluster API `Cluster` objects (ClusterClass topology) on a registered management cluster. */
export function clusterApiProvider(context: ProviderContext): InfrastructureProvider {
  /** The management cluster's objects; thrown errors are transient, since the cluster may be registered or repaired later. */
  async function managementCluster(target: ProvisionTarget): Promise<{ objects: ClusterObjects; name: string }> {
    const name = placementOf(target).settings.managementCluster;
    const what = `management cluster "${target.namespace}/${name}" of InfrastructureProvider "${target.provider.name}"`;
    const cluster = await context.store.get({ kind: 'Cluster', namespace: target.namespace, name });
    if (!cluster) throw new Error(`${what} does not exist: register it as a Cluster in namespace "${target.namespace}"`);
    if (cluster.metadata.deletionTimestamp) throw new Error(`${what} is being deleted`);
    const kubeconfig = await registeredKubeconfig(context.secrets, cluster.spec as ClusterKubeconfigRef);
    if ('problem' in kubeconfig) throw new Error(`${what}: ${kubeconfig.problem}`);
    return { objects: new ClusterObjects(kubeconfig.kubeConfig), name };
  }

  const clusterRef = (target: ProvisionTarget) => ({
    apiVersion: CLUSTER_API_VERSION,
    kind: 'Cluster',
    metadata: { name: target.id, namespace: placementOf(target).namespace },
  });
  const describeCluster = (target: ProvisionTarget, managementClusterName: string) =>
    `Cluster "${placementOf(target).namespace}/${target.id}" on management cluster "${managementClusterName}"`;
  const foreign = (target: ProvisionTarget, managementClusterName: string) =>
    `${describeCluster(target, managementClusterName)} was not created by Shoal for Cluster "${target.namespace}/${target.name}" (its shoal.io/namespace and shoal.io/cluster labels differ): Shoal leaves it alone`;

  /** The target's Cluster on the management cluster, if any; `owned` is false for one Shoal did not create for it. */
  async function readCluster(target: ProvisionTarget) {
    const { objects, name } = await managementCluster(target);
    const cluster = (await objects.read(clusterRef(target))) as LiveCluster | undefined;
    return { objects, name, cluster, owned: cluster ? isCreatedFor(cluster, target) : false };
  }

  /** Create, scale and upgrade: server-side apply of the whole topology Shoal owns. */
  async function applyTopology(target: ProvisionTarget): Promise<void> {
    const desired = desiredCluster(target);
    const { objects, name, cluster, owned } = await readCluster(target);
    if (cluster && !owned) throw new ProviderRejectedError(`${foreign(target, name)}: delete or rename it, or give the Shoal Cluster another name`);
    const outcome = await objects.apply(desired);
    const where = describeCluster(target, name);
    if (outcome.result === 'rejected') throw new ProviderRejectedError(`${where} was refused: ${outcome.message}`);
    if (outcome.result === 'unknown-kind') throw new Error(`cannot create ${where}: ${outcome.message}; install Cluster API there (clusterctl init)`);
    context.logger.info('applied Cluster API topology', { cluster: target.id, managementCluster: name, shape: target.shape });
  }

  return {
    create: applyTopology,
    scale: applyTopology,
    upgrade: applyTopology,

    async describe(target) {
      const { objects, name, cluster, owned } = await readCluster(target);
      // Shoal's cluster does not exist: another one holds its name (create says so).
      if (cluster && !owned) return { phase: 'absent', message: foreign(target, name) };
      if (!cluster || cluster.metadata?.deletionTimestamp) return observeCluster({ cluster, machineDeployments: [], kubeconfigSecretExists: false });
      const { namespace } = placementOf(target);
      const [machineDeployments, secret, controlPlane] = await Promise.all([
        objects.list(CLUSTER_API_VERSION, 'MachineDeployment', namespace, `${CLUSTER_NAME_LABEL}=${target.id}`),
        objects.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: kubeconfigSecretName(target.id), namespace } }),
        readControlPlane(objects, cluster, namespace),
      ]);
      const view: ClusterApiView = { cluster, machineDeployments: machineDeployments as LiveMachineDeployment[], kubeconfigSecretExists: secret !== undefined };
      const controlPlaneVersion = (controlPlane as { status?: { version?: unknown } } | undefined)?.status?.version;
      if (typeof controlPlaneVersion === 'string') view.controlPlaneVersion = controlPlaneVersion;
      return observeCluster(view);
    },

    async delete(target) {
      const { objects, name, cluster, owned } = await readCluster(target);
      if (!cluster) return;
      if (!owned) {
        context.logger.warn('not deleting a Cluster API Cluster Shoal did not create', { cluster: target.id, managementCluster: name });
        return;
      }
      await objects.delete(clusterRef(target));
      context.logger.info('deleted Cluster API Cluster', { cluster: target.id, managementCluster: name });
    },

    async credentials(target) {
      const { objects, name, cluster, owned } = await readCluster(target);
      // The Secret of a Cluster Shoal did not create holds someone else's credentials.
      if (cluster && !owned) throw new ProviderRejectedError(foreign(target, name));
      const { namespace } = placementOf(target);
      const secretName = kubeconfigSecretName(target.id);
      const where = `Secret "${namespace}/${secretName}" on management cluster "${name}"`;
      const secret = (await objects.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName, namespace } })) as V1Secret | undefined;
      const encoded = secret?.data?.value;
      // Cluster API writes the Secret once the control plane is up: until then, retry.
      if (!encoded) throw new Error(`${where} ${secret ? 'has no "value" key' : 'does not exist'} yet: Cluster API writes it once the control plane is up`);
      const kubeconfig = Buffer.from(encoded, 'base64').toString('utf8');
      const { problems } = inspectKubeconfig(kubeconfig);
      if (problems.length) throw new ProviderRejectedError(`the kubeconfig in ${where} is not usable by Shoal: ${problems.join('; ')}`);
      return { kubeconfig };
    },
  };
}

/** The object `spec.controlPlaneRef` names (KubeadmControlPlane, …), or undefined when there is none or it cannot be read. */
async function readControlPlane(objects: ClusterObjects, cluster: LiveCluster, namespace: string): Promise<unknown> {
  const ref = cluster.spec?.controlPlaneRef;
  if (!ref?.apiVersion || !ref.kind || !ref.name) return undefined;
  return objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace ?? namespace } });
}
