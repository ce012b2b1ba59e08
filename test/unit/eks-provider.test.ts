import { createHash, createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  AccessDeniedException,
  CreateClusterCommand,
  CreateNodegroupCommand,
  DeleteClusterCommand,
  DeleteNodegroupCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  InvalidParameterException,
  ListNodegroupsCommand,
  ResourceInUseException,
  ResourceLimitExceededException,
  ResourceNotFoundException,
  ServerException,
  UnsupportedAvailabilityZoneException,
  UpdateClusterVersionCommand,
  UpdateNodegroupConfigCommand,
  UpdateNodegroupVersionCommand,
  type Cluster,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderRejectedError, type ProviderContext, type ProvisionTarget } from '../../shared/infrastructure/provider.ts';
import { eksProvider } from '../../shared/infrastructure/providers/eks.ts';
import { inspectKubeconfig } from '../../shared/kube/kubeconfig.ts';
import type { ClusterShape } from '../../shared/resources/kinds.ts';

const NOW = new Date('2026-01-02T03:04:05Z');
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+1' };
const EKS_SPEC = {
  clusterRoleArn: 'arn:aws:iam::123456789012:role/eks-cluster',
  nodeRoleArn: 'arn:aws:iam::123456789012:role/eks-node',
  subnetIds: ['subnet-a', 'subnet-b'],
  securityGroupIds: ['sg-1'],
  defaultInstanceType: 't3.medium',
};

function targetWith(shape: ClusterShape, roleArn?: string): ProvisionTarget {
  return {
    id: 'team-a-web',
    namespace: 'team-a',
    name: 'web',
    shape,
    cloud: { name: 'aws-eu', spec: { type: 'aws', infrastructureProvider: 'eks', metrics: [], aws: { region: 'eu-west-1' } } },
    provider: { name: 'eks', spec: { type: 'eks', eks: { ...EKS_SPEC, ...(roleArn && { roleArn }) } } },
  };
}

const context: ProviderContext = {
  store: {} as ProviderContext['store'],
  secrets: {} as ProviderContext['secrets'],
  logger: new Logger({ logLevel: 'SILENT' }),
  now: () => NOW,
};

const client = new EKSClient({ region: 'eu-west-1', credentials: CREDENTIALS });
const eks = mockClient(client);
const clientFor = vi.fn((_region: string, _roleArn?: string) => client);

function awsError<T extends Error>(Type: new (options: { message: string; $metadata: object }) => T, message: string): T {
  return new Type({ message, $metadata: {} });
}

const notFound = () => awsError(ResourceNotFoundException, 'No cluster found for name: team-a-web.');

function cluster(overrides: Partial<Cluster> = {}): { cluster: Cluster } {
  return {
    cluster: {
      name: 'team-a-web',
      status: 'ACTIVE',
      version: '1.31',
      endpoint: 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
      certificateAuthority: { data: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64') },
      ...overrides,
    },
  };
}

function nodegroup(overrides: Partial<Nodegroup> = {}): { nodegroup: Nodegroup } {
  return {
    nodegroup: {
      nodegroupName: 'workers',
      status: 'ACTIVE',
      version: '1.31',
      instanceTypes: ['t3.medium'],
      scalingConfig: { minSize: 2, maxSize: 2, desiredSize: 2 },
      ...overrides,
    },
  };
}

beforeEach(() => {
  eks.reset();
  clientFor.mockClear();
});

describe('create', () => {
  it('creates the cluster when it does not exist, with the caller as admin', async () => {
    // Prepare
    eks.on(DescribeClusterCommand).rejects(notFound());
    eks.on(CreateClusterCommand).resolves({});
    const provider = eksProvider(context, { clientFor });

    // Act
    await provider.create(targetWith({ nodes: 2, version: '1.31.4' }));

    // Assess
    expect(eks.commandCalls(CreateClusterCommand).map((call) => call.args[0].input)).toEqual([
      {
        name: 'team-a-web',
        roleArn: EKS_SPEC.clusterRoleArn,
        version: '1.31',
        resourcesVpcConfig: { subnetIds: ['subnet-a', 'subnet-b'], securityGroupIds: ['sg-1'] },
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: true },
        tags: { 'shoal.io/namespace': 'team-a', 'shoal.io/cluster': 'web' },
      },
    ]);
    expect(eks.commandCalls(CreateNodegroupCommand)).toHaveLength(0);
  });

  it("leaves the version to EKS when the shape names none", async () => {
    eks.on(DescribeClusterCommand).rejects(notFound());
    eks.on(CreateClusterCommand).resolves({});

    await eksProvider(context, { clientFor }).create(targetWith({ nodes: 1 }));

    expect(eks.commandCalls(CreateClusterCommand)[0]?.args[0].input).not.toHaveProperty('version');
  });

  it('is a no-op when CreateCluster says the cluster already exists', async () => {
    eks.on(DescribeClusterCommand).rejects(notFound());
    eks.on(CreateClusterCommand).rejects(awsError(ResourceInUseException, 'Cluster already exists with name: team-a-web'));

    await expect(eksProvider(context, { clientFor }).create(targetWith({ nodes: 1 }))).resolves.toBeUndefined();
  });

  it('waits for an ACTIVE cluster before creating the node group', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster({ status: 'CREATING' }));

    await eksProvider(context, { clientFor }).create(targetWith({ nodes: 1 }));

    expect(eks.commandCalls(CreateClusterCommand)).toHaveLength(0);
    expect(eks.commandCalls(DescribeNodegroupCommand)).toHaveLength(0);
    expect(eks.commandCalls(CreateNodegroupCommand)).toHaveLength(0);
  });

  it('creates the node group once the cluster is ACTIVE', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster());
    eks.on(DescribeNodegroupCommand).rejects(awsError(ResourceNotFoundException, 'No node group found'));
    eks.on(CreateNodegroupCommand).resolves({});

    await eksProvider(context, { clientFor }).create(targetWith({ nodes: 3 }));

    expect(eks.commandCalls(CreateClusterCommand)).toHaveLength(0);
    expect(eks.commandCalls(CreateNodegroupCommand).map((call) => call.args[0].input)).toEqual([
      {
        clusterName: 'team-a-web',
        nodegroupName: 'workers',
        nodeRole: EKS_SPEC.nodeRoleArn,
        subnets: ['subnet-a', 'subnet-b'],
        scalingConfig: { minSize: 3, maxSize: 3, desiredSize: 3 },
        instanceTypes: ['t3.medium'],
        tags: { 'shoal.io/namespace': 'team-a', 'shoal.io/cluster': 'web' },
      },
    ]);
  });

  it("uses the shape's machine type, and keeps maxSize at least 1 for an empty group", async () => {
    eks.on(DescribeClusterCommand).resolves(cluster());
    eks.on(DescribeNodegroupCommand).rejects(awsError(ResourceNotFoundException, 'No node group found'));
    eks.on(CreateNodegroupCommand).rejects(awsError(ResourceInUseException, 'NodeGroup already exists'));

    await eksProvider(context, { clientFor }).create(targetWith({ nodes: 0, machineType: 'm5.large' }));

    expect(eks.commandCalls(CreateNodegroupCommand)[0]?.args[0].input).toMatchObject({
      scalingConfig: { minSize: 0, maxSize: 1, desiredSize: 0 },
      instanceTypes: ['m5.large'],
    });
  });

  it('does nothing more once the node group exists', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster());
    eks.on(DescribeNodegroupCommand).resolves(nodegroup());

    await eksProvider(context, { clientFor }).create(targetWith({ nodes: 2 }));

    expect(eks.commandCalls(CreateClusterCommand)).toHaveLength(0);
    expect(eks.commandCalls(CreateNodegroupCommand)).toHaveLength(0);
  });

  it('fails transiently while a cluster of that name is still being deleted', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster({ status: 'DELETING' }));

    const failure = await eksProvider(context, { clientFor })
      .create(targetWith({ nodes: 1 }))
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(ProviderRejectedError);
    expect((failure as Error).message).toMatch(/still being deleted/);
  });
});

describe('clients', () => {
  it('are made once per region and role', async () => {
    eks.on(DescribeClusterCommand).rejects(notFound());
    const provider = eksProvider(context, { clientFor });

    await provider.describe(targetWith({ nodes: 1 }));
    await provider.describe(targetWith({ nodes: 1 }));
    await provider.describe(targetWith({ nodes: 1 }, 'arn:aws:iam::210987654321:role/shoal'));

    expect(clientFor.mock.calls).toEqual([['eu-west-1', undefined], ['eu-west-1', 'arn:aws:iam::210987654321:role/shoal']]);
  });

  it('refuse a Cloud that is not on AWS', async () => {
    const target = targetWith({ nodes: 1 });
    target.cloud = { name: 'laptop', spec: { type: 'local', infrastructureProvider: 'eks', metrics: [], local: { maxClusters: 4 } } };

    await expect(eksProvider(context, { clientFor }).describe(target)).rejects.toThrow(ProviderRejectedError);
  });
});

describe('describe', () => {
  const issues = { issues: [{ code: 'InsufficientFreeAddresses' as const, message: 'subnet-a has no free addresses' }] };

  it('reports absent when there is no such cluster', async () => {
    eks.on(DescribeClusterCommand).rejects(notFound());

    await expect(eksProvider(context, { clientFor }).describe(targetWith({ nodes: 1 }))).resolves.toEqual({ phase: 'absent' });
  });

  it.each([
    ['CREATING cluster', cluster({ status: 'CREATING' }), undefined, { phase: 'provisioning', version: '1.31' }],
    ['DELETING cluster', cluster({ status: 'DELETING' }), undefined, { phase: 'deleting' }],
    ['FAILED cluster', cluster({ status: 'FAILED', health: issues }), undefined, { phase: 'failed', message: 'InsufficientFreeAddresses: subnet-a has no free addresses' }],
    ['UPDATING cluster', cluster({ status: 'UPDATING', version: '1.30' }), nodegroup(), { phase: 'updating', version: '1.30', nodes: { desired: 2, ready: 2 } }],
    ['no node group', cluster(), undefined, { phase: 'provisioning', message: 'creating the node group' }],
    ['CREATING node group', cluster(), nodegroup({ status: 'CREATING' }), { phase: 'provisioning', nodes: { desired: 2, ready: 0 } }],
    ['UPDATING node group', cluster(), nodegroup({ status: 'UPDATING' }), { phase: 'updating', nodes: { desired: 2, ready: 0 } }],
    ['CREATE_FAILED node group', cluster(), nodegroup({ status: 'CREATE_FAILED', health: { issues: [{ code: 'AccessDenied', message: 'role cannot be assumed' }] } }), { phase: 'failed', message: 'AccessDenied: role cannot be assumed' }],
    ['DEGRADED node group', cluster(), nodegroup({ status: 'DEGRADED' }), { phase: 'failed', message: 'the node group is DEGRADED' }],
    ['DELETING node group', cluster(), nodegroup({ status: 'DELETING' }), { phase: 'deleting' }],
    ['ACTIVE at the shape', cluster(), nodegroup(), { phase: 'ready', nodes: { desired: 2, ready: 2 }, version: '1.31' }],
    // Ready with what it has: the controller compares it with the shape and calls scale or upgrade.
    ['ACTIVE, other node count', cluster(), nodegroup({ scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 } }), { phase: 'ready', nodes: { desired: 1, ready: 1 }, version: '1.31' }],
    ['ACTIVE, older control plane', cluster({ version: '1.30' }), nodegroup({ version: '1.30' }), { phase: 'ready', version: '1.30' }],
    ['ACTIVE, older node group', cluster(), nodegroup({ version: '1.30' }), { phase: 'ready', version: '1.30' }],
  ])('maps a %s', async (_case, clusterOutput, nodegroupOutput, expected) => {
    // Prepare
    eks.on(DescribeClusterCommand).resolves(clusterOutput);
    if (nodegroupOutput) eks.on(DescribeNodegroupCommand).resolves(nodegroupOutput);
    else eks.on(DescribeNodegroupCommand).rejects(awsError(ResourceNotFoundException, 'No node group found'));

    // Act
    const observation = await eksProvider(context, { clientFor }).describe(targetWith({ nodes: 2, version: '1.31.2' }));

    // Assess
    expect(observation).toMatchObject(expected);
  });

  it('only reads', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster());
    eks.on(DescribeNodegroupCommand).rejects(awsError(ResourceNotFoundException, 'No node group found'));

    await eksProvider(context, { clientFor }).describe(targetWith({ nodes: 2 }));

    expect(eks.calls().map((call) => call.args[0].constructor.name)).toEqual(['DescribeClusterCommand', 'DescribeNodegroupCommand']);
  });
});

describe('scale', () => {
  it('moves the node group to the shape, raising maxSize', async () => {
    eks.on(DescribeNodegroupCommand).resolves(nodegroup());
    eks.on(UpdateNodegroupConfigCommand).resolves({});

    await eksProvider(context, { clientFor }).scale(targetWith({ nodes: 5 }));

    expect(eks.commandCalls(UpdateNodegroupConfigCommand).map((call) => call.args[0].input)).toEqual([
      { clusterName: 'team-a-web', nodegroupName: 'workers', scalingConfig: { minSize: 5, maxSize: 5, desiredSize: 5 } },
    ]);
  });

  it('keeps maxSize when scaling down', async () => {
    eks.on(DescribeNodegroupCommand).resolves(nodegroup({ scalingConfig: { minSize: 4, maxSize: 4, desiredSize: 4 } }));
    eks.on(UpdateNodegroupConfigCommand).resolves({});

    await eksProvider(context, { clientFor }).scale(targetWith({ nodes: 0 }));

    expect(eks.commandCalls(UpdateNodegroupConfigCommand)[0]?.args[0].input.scalingConfig).toEqual({ minSize: 0, maxSize: 4, desiredSize: 0 });
  });

  it('is a no-op at the shape already', async () => {
    eks.on(DescribeNodegroupCommand).resolves(nodegroup());

    await eksProvider(context, { clientFor }).scale(targetWith({ nodes: 2, machineType: 't3.medium' }));

    expect(eks.commandCalls(UpdateNodegroupConfigCommand)).toHaveLength(0);
  });

  it('refuses to change the instance type, saying why', async () => {
    eks.on(DescribeNodegroupCommand).resolves(nodegroup());

    const failure = eksProvider(context, { clientFor }).scale(targetWith({ nodes: 2, machineType: 'm5.large' }));

    await expect(failure).rejects.toThrow(ProviderRejectedError);
    await expect(failure).rejects.toThrow(/cannot change the instance type.*runs t3\.medium.*m5\.large/);
    expect(eks.commandCalls(UpdateNodegroupConfigCommand)).toHaveLength(0);
  });

  it('creates a node group that does not exist yet', async () => {
    eks.on(DescribeNodegroupCommand).rejects(awsError(ResourceNotFoundException, 'No node group found'));
    eks.on(DescribeClusterCommand).resolves(cluster());
    eks.on(CreateNodegroupCommand).resolves({});

    await eksProvider(context, { clientFor }).scale(targetWith({ nodes: 4 }));

    expect(eks.commandCalls(CreateNodegroupCommand)[0]?.args[0].input.scalingConfig).toEqual({ minSize: 4, maxSize: 4, desiredSize: 4 });
    expect(eks.commandCalls(UpdateNodegroupConfigCommand)).toHaveLength(0);
  });

  it('does not create a cluster that does not exist', async () => {
    eks.on(DescribeNodegroupCommand).rejects(notFound());
    eks.on(DescribeClusterCommand).rejects(notFound());

    await expect(eksProvider(context, { clientFor }).scale(targetWith({ nodes: 4 }))).rejects.toThrow(/does not exist/);

    expect(eks.commandCalls(CreateClusterCommand)).toHaveLength(0);
  });
});

describe('upgrade', () => {
  it('upgrades the control plane first, to major.minor', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster({ version: '1.30' }));
    eks.on(UpdateClusterVersionCommand).resolves({});

    await eksProvider(context, { clientFor }).upgrade(targetWith({ nodes: 2, version: '1.31.4' }));

    expect(eks.commandCalls(UpdateClusterVersionCommand).map((call) => call.args[0].input)).toEqual([{ name: 'team-a-web', version: '1.31' }]);
    expect(eks.commandCalls(UpdateNodegroupVersionCommand)).toHaveLength(0);
  });

  it('then the node group, once the control plane is ACTIVE at the version', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster({ version: '1.31' }));
    eks.on(DescribeNodegroupCommand).resolves(nodegroup({ version: '1.30' }));
    eks.on(UpdateNodegroupVersionCommand).resolves({});

    await eksProvider(context, { clientFor }).upgrade(targetWith({ nodes: 2, version: '1.31' }));

    expect(eks.commandCalls(UpdateClusterVersionCommand)).toHaveLength(0);
    expect(eks.commandCalls(UpdateNodegroupVersionCommand).map((call) => call.args[0].input)).toEqual([
      { clusterName: 'team-a-web', nodegroupName: 'workers', version: '1.31' },
    ]);
  });

  it('waits while the control plane is UPDATING, and is a no-op once everything runs the version', async () => {
    eks.on(DescribeClusterCommand).resolvesOnce(cluster({ status: 'UPDATING', version: '1.30' })).resolves(cluster());
    eks.on(DescribeNodegroupCommand).resolves(nodegroup());
    const provider = eksProvider(context, { clientFor });

    await provider.upgrade(targetWith({ nodes: 2, version: '1.31' }));
    await provider.upgrade(targetWith({ nodes: 2, version: '1.31' }));

    expect(eks.commandCalls(UpdateClusterVersionCommand)).toHaveLength(0);
    expect(eks.commandCalls(UpdateNodegroupVersionCommand)).toHaveLength(0);
  });

  it("rejects a version EKS refuses, with AWS's message", async () => {
    eks.on(DescribeClusterCommand).resolves(cluster({ version: '1.29' }));
    eks.on(UpdateClusterVersionCommand).rejects(awsError(InvalidParameterException, 'Unsupported Kubernetes minor version update from 1.29 to 1.31'));

    const failure = eksProvider(context, { clientFor }).upgrade(targetWith({ nodes: 2, version: '1.31' }));

    await expect(failure).rejects.toThrow(ProviderRejectedError);
    await expect(failure).rejects.toThrow(/Unsupported Kubernetes minor version update from 1\.29 to 1\.31/);
  });

  it('retries when an update is in progress', async () => {
    const inUse = awsError(ResourceInUseException, 'An update is already in progress');
    eks.on(DescribeClusterCommand).resolves(cluster({ version: '1.30' }));
    eks.on(UpdateClusterVersionCommand).rejects(inUse);

    const failure = await eksProvider(context, { clientFor })
      .upgrade(targetWith({ nodes: 2, version: '1.31' }))
      .catch((error: unknown) => error);

    expect(failure).toBe(inUse);
  });
});

describe('delete', () => {
  it('deletes the node group first', async () => {
    eks.on(ListNodegroupsCommand).resolves({ nodegroups: ['workers'] });
    eks.on(DeleteNodegroupCommand).resolves({});

    await eksProvider(context, { clientFor }).delete(targetWith({ nodes: 2 }));

    expect(eks.commandCalls(DeleteNodegroupCommand).map((call) => call.args[0].input)).toEqual([{ clusterName: 'team-a-web', nodegroupName: 'workers' }]);
    expect(eks.commandCalls(DeleteClusterCommand)).toHaveLength(0);
  });

  it('tolerates a node group already gone or going', async () => {
    eks.on(ListNodegroupsCommand).resolves({ nodegroups: ['workers'] });
    eks.on(DeleteNodegroupCommand).rejects(awsError(ResourceInUseException, 'Nodegroup is in DELETING state'));

    await expect(eksProvider(context, { clientFor }).delete(targetWith({ nodes: 2 }))).resolves.toBeUndefined();
  });

  it('deletes the cluster once no node group is left', async () => {
    eks.on(ListNodegroupsCommand).resolves({ nodegroups: [] });
    eks.on(DeleteClusterCommand).resolves({});

    await eksProvider(context, { clientFor }).delete(targetWith({ nodes: 2 }));

    expect(eks.commandCalls(DeleteNodegroupCommand)).toHaveLength(0);
    expect(eks.commandCalls(DeleteClusterCommand).map((call) => call.args[0].input)).toEqual([{ name: 'team-a-web' }]);
  });

  it('is a no-op when the cluster is gone', async () => {
    eks.on(ListNodegroupsCommand).rejects(notFound());

    await eksProvider(context, { clientFor }).delete(targetWith({ nodes: 2 }));

    expect(eks.commandCalls(DeleteClusterCommand)).toHaveLength(0);
  });

  it('is a no-op when the cluster is already being deleted', async () => {
    eks.on(ListNodegroupsCommand).resolves({ nodegroups: [] });
    eks.on(DeleteClusterCommand).rejects(awsError(ResourceInUseException, 'Cluster is in DELETING state'));

    await expect(eksProvider(context, { clientFor }).delete(targetWith({ nodes: 2 }))).resolves.toBeUndefined();
  });
});

describe('errors', () => {
  it.each([
    ['AccessDeniedException', awsError(AccessDeniedException, 'User is not authorized to perform eks:CreateCluster')],
    ['InvalidParameterException', awsError(InvalidParameterException, 'Subnets specified must be in at least two different AZs')],
    ['UnsupportedAvailabilityZoneException', awsError(UnsupportedAvailabilityZoneException, 'Cannot create cluster because us-east-1e does not have sufficient capacity')],
    ['ResourceLimitExceededException', awsError(ResourceLimitExceededException, 'Cluster limit exceeded for account')],
    ['AccessDenied (STS, assuming roleArn)', Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' })],
  ])("turn %s into a ProviderRejectedError with AWS's message", async (_name, error) => {
    eks.on(DescribeClusterCommand).rejects(notFound());
    eks.on(CreateClusterCommand).rejects(error);

    const failure = eksProvider(context, { clientFor }).create(targetWith({ nodes: 1 }));

    await expect(failure).rejects.toThrow(ProviderRejectedError);
    await expect(failure).rejects.toThrow(error.message);
  });

  it.each([
    ['throttling', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
    ['a server error', awsError(ServerException, 'Internal failure')],
  ])('rethrow %s as it is, to be retried', async (_case, error) => {
    eks.on(DescribeClusterCommand).rejects(error);

    const failure = await eksProvider(context, { clientFor })
      .describe(targetWith({ nodes: 1 }))
      .catch((caught: unknown) => caught);

    expect(failure).toBe(error);
  });
});

/** The SigV4 signature of a presigned URL, recomputed as STS does from what it receives. */
function expectedSignature(url: URL, clusterName: string): string {
  const escape = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...url.searchParams]
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => `${escape(key)}=${escape(value)}`)
    .sort()
    .join('&');
  const canonical = ['GET', '/', query, `host:${url.host}`, `x-k8s-aws-id:${clusterName}`, '', 'host;x-k8s-aws-id', createHash('sha256').update('').digest('hex')].join('\n');
  const date = url.searchParams.get('X-Amz-Date') ?? '';
  const scope = `${date.slice(0, 8)}/eu-west-1/sts/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = Buffer.from(`AWS4${CREDENTIALS.secretAccessKey}`);
  for (const part of [date.slice(0, 8), 'eu-west-1', 'sts', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex');
}

describe('credentials', () => {
  it('give a kubeconfig with the endpoint, CA and a bearer token, that Shoal accepts', async () => {
    // Prepare
    eks.on(DescribeClusterCommand).resolves(cluster());

    // Act
    const { kubeconfig, expiresAt } = await eksProvider(context, { clientFor }).credentials(targetWith({ nodes: 2 }));

    // Assess
    const { kubeConfig, problems } = inspectKubeconfig(kubeconfig);
    expect(problems).toEqual([]);
    expect(kubeConfig?.getCurrentCluster()).toMatchObject({ server: 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com', caData: cluster().cluster.certificateAuthority?.data });
    expect(kubeConfig?.getCurrentUser()?.token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(expiresAt).toEqual(new Date(NOW.getTime() + 14 * 60 * 1000));
  });

  it('sign the token as `aws eks get-token` does', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster());
    const provider = eksProvider(context, { clientFor });

    const { kubeconfig } = await provider.credentials(targetWith({ nodes: 2 }));
    const token = inspectKubeconfig(kubeconfig).kubeConfig?.getCurrentUser()?.token ?? '';

    expect(token).not.toMatch(/=/);
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
    expect(url.origin + url.pathname).toBe('https://sts.eu-west-1.amazonaws.com/');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20260102/eu-west-1/sts/aws4_request',
      'X-Amz-Date': '20260102T030405Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': CREDENTIALS.sessionToken,
    });
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, 'team-a-web'));
    // Fixed credentials and clock: the same token every time.
    expect((await provider.credentials(targetWith({ nodes: 2 }))).kubeconfig).toBe(kubeconfig);
  });

  it('wait for the cluster to have an endpoint', async () => {
    eks.on(DescribeClusterCommand).resolves(cluster({ status: 'CREATING', endpoint: undefined, certificateAuthority: undefined }));

    const failure = eksProvider(context, { clientFor }).credentials(targetWith({ nodes: 2 }));

    await expect(failure).rejects.toThrow(/has no endpoint yet \(CREATING\)/);
    await expect(failure).rejects.not.toThrow(ProviderRejectedError);
  });
});
