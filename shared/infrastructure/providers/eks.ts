import {
  CreateClusterCommand,
  CreateNodegroupCommand,
  DeleteClusterCommand,
  DeleteNodegroupCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  ListNodegroupsCommand,
  UpdateClusterVersionCommand,
  UpdateNodegroupConfigCommand,
  UpdateNodegroupVersionCommand,
  type Cluster,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { stringify } from 'yaml';
import type { InfrastructureProviderSpec } from '../../resources/kinds.ts';
import { ProviderRejectedError, type InfrastructureProvider, type ProviderContext, type ProviderObservation, type ProvisionTarget } from '../provider.ts';
import { EKS_TOKEN_LIFETIME_MS, eksToken, type AwsCredentials } from './eks-token.ts';

/** The one managed node group Shoal gives each cluster. */
export const NODEGROUP = 'workers';

type EksSpec = Extract<InfrastructureProviderSpec, { type: 'eks' }>['eks'];

export interface EksProviderOptions {
  /** The EKS client for a region, calling as `roleArn` when set. Defaults to real clients, cached per region and role. */
  clientFor?: (region: string, roleArn?: string) => EKSClient;
  /** The credentials bearer tokens are signed with; defaults to the client's own (the assumed role's). */
  credentialsFor?: (client: EKSClient) => () => Promise<AwsCredentials>;
}

/** Errors after which asking again cannot help: the message is AWS's, with a hint where one helps. */
const REJECTED: Record<string, string> = {
  AccessDeniedException: 'check that the role Shoal calls EKS as (spec.eks.roleArn, or its own) may do this and pass the cluster and node roles',
  AccessDenied: 'check spec.eks.roleArn and that Shoal may assume it',
  InvalidParameterException: '',
  InvalidRequestException: '',
  UnsupportedAvailabilityZoneException: 'choose subnets in other availability zones (spec.eks.subnetIds)',
  ResourceLimitExceededException: 'raise the EKS quota or remove clusters',
};

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** `1.31.2` → `1.31`: EKS versions are major.minor. */
function minorVersion(version: string | undefined): string | undefined {
  return version?.split('.').slice(0, 2).join('.');
}

/** Node group sizes for `nodes` workers: fixed at that count (Shoal, not an autoscaler, sizes the group). */
function scalingFor(nodes: number, currentMax = 1): { minSize: number; maxSize: number; desiredSize: number } {
  return { minSize: nodes, maxSize: Math.max(currentMax, nodes, 1), desiredSize: nodes };
}

function healthMessage(issues: { code?: string; message?: string }[] | undefined, fallback: string): string {
  const messages = (issues ?? []).map((issue) => [issue.code, issue.message].filter(Boolean).join(': ')).filter(Boolean);
  return messages.length ? messages.join('; ') : fallback;
}

/** Where the cluster stands, from its EKS cluster and node group. */
function observe(cluster: Cluster, nodegroup: Nodegroup | undefined): ProviderObservation {
  const version = cluster.version;
  switch (cluster.status) {
    case 'CREATING':
    case 'PENDING':
      return { phase: 'provisioning', message: `the EKS cluster is ${cluster.status}`, version };
    case 'DELETING':
      return { phase: 'deleting', message: 'the EKS cluster is DELETING', version };
    case 'FAILED':
      return { phase: 'failed', message: healthMessage(cluster.health?.issues, 'the EKS cluster FAILED'), version };
    case 'UPDATING':
      return { phase: 'updating', message: 'the EKS cluster is UPDATING', version, ...(nodegroup && { nodes: nodesOf(nodegroup) }) };
  }
  if (!nodegroup) return { phase: 'provisioning', message: 'creating the node group', nodes: { desired: 0, ready: 0 }, version };
  const nodes = nodesOf(nodegroup);
  switch (nodegroup.status) {
    case 'CREATING':
      return { phase: 'provisioning', message: 'the node group is CREATING', nodes, version };
    case 'UPDATING':
      return { phase: 'updating', message: 'the node group is UPDATING', nodes, version };
    case 'DELETING':
      return { phase: 'deleting', message: 'the node group is DELETING', nodes, version };
    case 'CREATE_FAILED':
    case 'DELETE_FAILED':
    case 'DEGRADED':
      return { phase: 'failed', message: healthMessage(nodegroup.health?.issues, `the node group is ${nodegroup.status}`), nodes, version };
  }
  // Ready as far as EKS goes. Whether the shape is reached is the controller's question: it
  // compares `nodes.desired` and the version (the node group's, which follows the control
  // plane's last) with the shape, and calls scale or upgrade.
  return { phase: 'ready', nodes, version: nodegroup.version ?? version };
}

function nodesOf(nodegroup: Nodegroup): { desired: number; ready: number } {
  const desired = nodegroup.scalingConfig?.desiredSize ?? 0;
  return { desired, ready: nodegroup.status === 'ACTIVE' ? desired : 0 };
}

/**
 * Clusters on Amazon EKS: one EKS cluster named `target.id` with one managed node group,
 * `workers`. EKS makes the node group wait for an ACTIVE cluster, so `create` is resumable:
 * each call takes the next step (cluster, then node group) and the controller calls it
 * until `describe` says ready. `upgrade` (control plane, then node group) and `delete`
 * (node groups, then cluster) work the same way. `describe` only reads.
 */
export function eksProvider(context: ProviderContext, options: EksProviderOptions = {}): InfrastructureProvider {
  const clients = new Map<string, EKSClient>();
  const clientFor =
    options.clientFor ??
    ((region: string, roleArn?: string) =>
      new EKSClient({
        region,
        ...(roleArn && { credentials: fromTemporaryCredentials({ params: { RoleArn: roleArn, RoleSessionName: 'shoal-eks' }, clientConfig: { region } }) }),
      }));
  const credentialsFor = options.credentialsFor ?? ((client: EKSClient) => () => client.config.credentials());

  function resolve(target: ProvisionTarget): { name: string; region: string; eks: EksSpec; client: EKSClient } {
    const { cloud, provider } = target;
    if (cloud.spec.type !== 'aws') throw new ProviderRejectedError(`Cloud "${cloud.name}" is of type ${cloud.spec.type}: the eks provider "${provider.name}" needs an aws Cloud`);
    if (provider.spec.type !== 'eks') throw new ProviderRejectedError(`InfrastructureProvider "${provider.name}" is of type ${provider.spec.type}, not eks`);
    const { region } = cloud.spec.aws;
    const { eks } = provider.spec;
    const key = `${region}\n${eks.roleArn ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = clientFor(region, eks.roleArn);
      clients.set(key, client);
    }
    return { name: target.id, region, eks, client };
  }

  /** Sends one request; errors named in `tolerated` resolve to undefined (already done, already gone). */
  async function send<T>(what: string, request: () => Promise<T>, tolerated: string[] = []): Promise<T | undefined> {
    try {
      return await request();
    } catch (error) {
      const name = errorName(error);
      if (name !== undefined && tolerated.includes(name)) return undefined;
      const hint = name === undefined ? undefined : REJECTED[name];
      if (hint !== undefined) throw new ProviderRejectedError(`EKS refused to ${what}: ${(error as Error).message}${hint && ` (${hint})`}`);
      throw error;
    }
  }

  async function describeCluster(client: EKSClient, name: string, region: string): Promise<Cluster | undefined> {
    const output = await send(`describe cluster ${name} in ${region}`, () => client.send(new DescribeClusterCommand({ name })), ['ResourceNotFoundException']);
    return output?.cluster;
  }

  async function describeNodegroup(client: EKSClient, name: string, region: string): Promise<Nodegroup | undefined> {
    const output = await send(
      `describe node group ${NODEGROUP} of cluster ${name} in ${region}`,
      () => client.send(new DescribeNodegroupCommand({ clusterName: name, nodegroupName: NODEGROUP })),
      ['ResourceNotFoundException'],
    );
    return output?.nodegroup;
  }

  function tags(target: ProvisionTarget): Record<string, string> {
    return { 'shoal.io/namespace': target.namespace, 'shoal.io/cluster': target.name };
  }

  async function createNodegroup(target: ProvisionTarget, client: EKSClient, name: string, region: string, eks: EksSpec): Promise<void> {
    context.logger.info('creating the EKS node group', { cluster: name, region, nodegroup: NODEGROUP });
    await send(
      `create node group ${NODEGROUP} of cluster ${name} in ${region}`,
      () =>
        client.send(
          new CreateNodegroupCommand({
            clusterName: name,
            nodegroupName: NODEGROUP,
            nodeRole: eks.nodeRoleArn,
            subnets: eks.subnetIds,
            scalingConfig: scalingFor(target.shape.nodes),
            instanceTypes: [target.shape.machineType ?? eks.defaultInstanceType],
            tags: tags(target),
          }),
        ),
      ['ResourceInUseException'],
    );
  }

  async function create(target: ProvisionTarget): Promise<void> {
    const { name, region, eks, client } = resolve(target);
    const cluster = await describeCluster(client, name, region);
    if (!cluster) {
      context.logger.info('creating the EKS cluster', { cluster: name, region });
      const version = minorVersion(target.shape.version);
      await send(
        `create cluster ${name} in ${region}`,
        () =>
          client.send(
            new CreateClusterCommand({
              name,
              roleArn: eks.clusterRoleArn,
              ...(version && { version }),
              resourcesVpcConfig: { subnetIds: eks.subnetIds, securityGroupIds: eks.securityGroupIds },
              // The identity that creates the cluster (Shoal's role) becomes its admin: credentials() signs as it.
              accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: true },
              tags: tags(target),
            }),
          ),
        ['ResourceInUseException'],
      );
      return;
    }
    if (cluster.status === 'DELETING') throw new Error(`EKS cluster ${name} in ${region} is still being deleted: it is created again once it is gone`);
    // The node group needs an ACTIVE cluster: until then, a later call creates it.
    if (cluster.status !== 'ACTIVE') return;
    if (!(await describeNodegroup(client, name, region))) await createNodegroup(target, client, name, region, eks);
  }

  return {
    create,

    async describe(target) {
      const { name, region, client } = resolve(target);
      const cluster = await describeCluster(client, name, region);
      if (!cluster) return { phase: 'absent' };
      const nodegroup = cluster.status === 'ACTIVE' || cluster.status === 'UPDATING' ? await describeNodegroup(client, name, region) : undefined;
      return observe(cluster, nodegroup);
    },

    async scale(target) {
      const { name, region, eks, client } = resolve(target);
      const nodegroup = await describeNodegroup(client, name, region);
      if (!nodegroup) {
        // Not created yet: creating it (once the cluster is ACTIVE) gives it the shape's size.
        const cluster = await describeCluster(client, name, region);
        if (!cluster) throw new Error(`EKS cluster ${name} in ${region} does not exist: create it before scaling`);
        if (cluster.status === 'ACTIVE') await createNodegroup(target, client, name, region, eks);
        return;
      }
      const { machineType, nodes } = target.shape;
      const current = nodegroup.instanceTypes ?? [];
      if (machineType !== undefined && current.length && !current.includes(machineType)) {
        throw new ProviderRejectedError(
          `EKS cannot change the instance type of a managed node group in place: node group ${NODEGROUP} of cluster ${name} runs ${current.join(', ')}, ` +
            `the shape asks for ${machineType}. Set machineType back to ${current[0]}, or create a new Cluster with ${machineType}`,
        );
      }
      const scaling = nodegroup.scalingConfig;
      if (scaling?.desiredSize === nodes && scaling.minSize === nodes) return;
      context.logger.info('scaling the EKS node group', { cluster: name, region, from: scaling?.desiredSize, to: nodes });
      await send(`scale node group ${NODEGROUP} of cluster ${name} in ${region}`, () =>
        client.send(new UpdateNodegroupConfigCommand({ clusterName: name, nodegroupName: NODEGROUP, scalingConfig: scalingFor(nodes, scaling?.maxSize) })),
      );
    },

    async upgrade(target) {
      const want = minorVersion(target.shape.version);
      if (want === undefined) return;
      const { name, region, client } = resolve(target);
      const cluster = await describeCluster(client, name, region);
      if (!cluster) throw new Error(`EKS cluster ${name} in ${region} does not exist: create it before upgrading`);
      // An update already running: the next call takes the next step.
      if (cluster.status !== 'ACTIVE') return;
      if (cluster.version !== want) {
        context.logger.info('upgrading the EKS control plane', { cluster: name, region, from: cluster.version, to: want });
        await send(`upgrade cluster ${name} in ${region} to ${want}`, () => client.send(new UpdateClusterVersionCommand({ name, version: want })));
        return;
      }
      const nodegroup = await describeNodegroup(client, name, region);
      if (!nodegroup || nodegroup.status !== 'ACTIVE' || nodegroup.version === want) return;
      context.logger.info('upgrading the EKS node group', { cluster: name, region, from: nodegroup.version, to: want });
      await send(`upgrade node group ${NODEGROUP} of cluster ${name} in ${region} to ${want}`, () =>
        client.send(new UpdateNodegroupVersionCommand({ clusterName: name, nodegroupName: NODEGROUP, version: want })),
      );
    },

    async delete(target) {
      const { name, region, client } = resolve(target);
      const listed = await send(`list the node groups of cluster ${name} in ${region}`, () => client.send(new ListNodegroupsCommand({ clusterName: name })), [
        'ResourceNotFoundException',
      ]);
      if (!listed) return;
      const nodegroups = listed.nodegroups ?? [];
      // EKS deletes a cluster only once its node groups are gone: a later call deletes the cluster.
      for (const nodegroupName of nodegroups) {
        context.logger.info('deleting the EKS node group', { cluster: name, region, nodegroup: nodegroupName });
        await send(`delete node group ${nodegroupName} of cluster ${name} in ${region}`, () => client.send(new DeleteNodegroupCommand({ clusterName: name, nodegroupName })), [
          'ResourceNotFoundException',
          'ResourceInUseException',
        ]);
      }
      if (nodegroups.length) return;
      context.logger.info('deleting the EKS cluster', { cluster: name, region });
      await send(`delete cluster ${name} in ${region}`, () => client.send(new DeleteClusterCommand({ name })), ['ResourceNotFoundException', 'ResourceInUseException']);
    },

    async credentials(target) {
      const { name, region, client } = resolve(target);
      const cluster = await describeCluster(client, name, region);
      const endpoint = cluster?.endpoint;
      const authority = cluster?.certificateAuthority?.data;
      if (!endpoint || !authority) throw new Error(`EKS cluster ${name} in ${region} has no endpoint yet (${cluster?.status ?? 'absent'}): credentials follow once it is ACTIVE`);
      const now = context.now();
      const token = await eksToken({ cluster: name, region, credentials: credentialsFor(client), now });
      const kubeconfig = stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name, cluster: { server: endpoint, 'certificate-authority-data': authority } }],
        users: [{ name, user: { token } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        'current-context': name,
      });
      return { kubeconfig, expiresAt: new Date(now.getTime() + EKS_TOKEN_LIFETIME_MS) };
    },
  };
}
