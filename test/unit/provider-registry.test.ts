import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import type { ProviderContext } from '../../shared/infrastructure/provider.ts';
import { providerFor } from '../../shared/infrastructure/providers/index.ts';
import type { InfrastructureProviderSpec } from '../../shared/resources/kinds.ts';

// Nothing here talks to a store, a secret store or AWS: creating a provider only builds it.
const context = (): ProviderContext => ({ store: {} as never, secrets: {} as never, logger: new Logger({ logLevel: 'ERROR' }), now: () => new Date() });

const eks: InfrastructureProviderSpec = {
  type: 'eks',
  eks: {
    clusterRoleArn: 'arn:aws:iam::123456789012:role/eks',
    nodeRoleArn: 'arn:aws:iam::123456789012:role/node',
    subnetIds: ['subnet-a', 'subnet-b'],
    securityGroupIds: [],
    defaultInstanceType: 't3.medium',
  },
};

describe('providerFor', () => {
  it('serves every provider type, reusing one provider per spec and context (its clients and assumed-role credentials)', () => {
    // Prepare
    const first = context();
    const local: InfrastructureProviderSpec = { type: 'local', local: {} };
    const capi: InfrastructureProviderSpec = { type: 'cluster-api', clusterApi: { managementCluster: 'mgmt', clusterClass: 'quick-start', workerClass: 'default-worker', defaultVersion: 'v1.31.0' } };
    // Act
    const providers = [local, capi, eks].map((spec) => providerFor(spec, first));
    // Assess
    expect(new Set(providers).size).toBe(3);
    expect(providerFor(eks, first)).toBe(providers[2]);
    expect(providerFor({ ...eks, eks: { ...eks.eks, roleArn: 'arn:aws:iam::210987654321:role/shoal' } }, first)).not.toBe(providers[2]);
    expect(providerFor(eks, context())).not.toBe(providers[2]);
  });
});
