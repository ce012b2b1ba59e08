import { describe, expect, it } from 'vitest';
import { causesFrom } from '../../shared/api/status.ts';
import { isKind, KIND_NAMES, KINDS, kindForPlural, resolveKind, resourceSchema, type Kind } from '../../shared/resources/kinds.ts';

const API_VERSION = 'shoal.io/v1alpha1';

function object(kind: Kind, spec: unknown, metadata: Record<string, unknown> = {}) {
  return { apiVersion: API_VERSION, kind, metadata: { name: 'one', namespace: 'default', ...metadata }, spec };
}

const application = (spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
  object('Application', { manifests: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }], ...spec }, metadata);

/** Field → message of every problem, for assertions that name the path. */
function problems(kind: Kind, input: unknown): Record<string, string> {
  const result = resourceSchema(kind).safeParse(input);
  if (result.success) return {};
  return Object.fromEntries(causesFrom(result.error).map((cause) => [cause.field, cause.message]));
}

describe('resourceSchema accepts valid objects of every kind', () => {
  it.each<[Kind, unknown]>([
    ['Application', { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } }] }],
    [
      'Application',
      {
        manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }],
        constraints: {
          cluster: { labels: ['location = eu', 'tier in (a,b)', 'zone not in (x)'], customResources: ['certificates.cert-manager.io'], metrics: ['load < 0.8'] },
          migration: false,
        },
      },
    ],
    ['Cluster', { kubeconfig: 'apiVersion: v1\nkind: Config\n', context: 'dev', metrics: [{ name: 'load', weight: 2 }] }],
    ['Cluster', { infrastructure: { cloud: 'laptop' } }],
    ['Cluster', { infrastructure: { constraints: { labels: ['region = eu'], metrics: ['cost < 5'] }, shape: { nodes: 3, version: '1.31', machineType: 'm7g.large' } } }],
    ['Metric', { min: 0, max: 100, provider: { name: 'prom', metric: 'node_load1' } }],
    ['MetricsProvider', { type: 'prometheus', prometheus: { url: 'http://prometheus:9090' } }],
    ['MetricsProvider', { type: 'static', static: { metrics: { load: 0.5 } } }],
    ['Cloud', { type: 'local', infrastructureProvider: 'laptop' }],
    ['Cloud', { type: 'aws', infrastructureProvider: 'eks', aws: { region: 'eu-central-1' }, metrics: [{ name: 'cost', weight: 2 }] }],
    ['Cloud', { type: 'cluster-api', infrastructureProvider: 'capi', clusterApi: { namespace: 'fleet' } }],
    ['InfrastructureProvider', { type: 'local' }],
    ['InfrastructureProvider', { type: 'cluster-api', clusterApi: { managementCluster: 'mgmt', clusterClass: 'quick-start' } }],
    [
      'InfrastructureProvider',
      {
        type: 'eks',
        eks: { clusterRoleArn: 'arn:aws:iam::123456789012:role/eks', nodeRoleArn: 'arn:aws:iam::123456789012:role/node', subnetIds: ['subnet-a', 'subnet-b'] },
      },
    ],
  ])('%s %j', (kind, spec) => {
    // Prepare
    const input = object(kind, spec, { labels: { 'example.com/team': 'core', tier: '' } });
    // Act
    const result = resourceSchema(kind).safeParse(input);
    // Assess
    expect(result.error?.issues).toBeUndefined();
    expect(result.success).toBe(true);
  });
});

describe('resourceSchema defaults', () => {
  it('fills Application constraints with empty lists and migration true', () => {
    // Prepare
    const input = application();
    // Act
    const parsed = resourceSchema('Application').parse(input);
    // Assess
    expect(parsed.spec.constraints).toEqual({ cluster: { labels: [], customResources: [], metrics: [] }, migration: true });
  });

  it('keeps migration true when only cluster constraints are given, and honours false', () => {
    // Prepare
    const withLabels = application({ constraints: { cluster: { labels: ['tier=prod'] } } });
    const pinned = application({ constraints: { migration: false } });
    // Act
    const a = resourceSchema('Application').parse(withLabels);
    const b = resourceSchema('Application').parse(pinned);
    // Assess
    expect(a.spec.constraints).toEqual({ cluster: { labels: ['tier=prod'], customResources: [], metrics: [] }, migration: true });
    expect(b.spec.constraints.migration).toBe(false);
  });

  it('defaults cluster metric weight to 1, cluster metrics to [], a created cluster to one node and local cloud capacity to 4', () => {
    // Prepare / Act
    const cluster = resourceSchema('Cluster').parse(object('Cluster', { metrics: [{ name: 'load' }] }));
    const bare = resourceSchema('Cluster').parse(object('Cluster', {}));
    const cloud = resourceSchema('Cloud').parse(object('Cloud', { type: 'local', infrastructureProvider: 'laptop' }));
    const created = resourceSchema('Cluster').parse(object('Cluster', { infrastructure: {} }));
    // Assess
    expect(cluster.spec.metrics).toEqual([{ name: 'load', weight: 1 }]);
    expect(bare.spec.metrics).toEqual([]);
    expect(cloud.spec).toEqual({ type: 'local', infrastructureProvider: 'laptop', metrics: [], local: { maxClusters: 4 } });
    expect(created.spec.infrastructure).toEqual({ constraints: { labels: [], metrics: [] }, shape: { nodes: 1 } });
  });
});

describe('resourceSchema rejections name the field', () => {
  it.each(['Web', 'web_app', '-web', 'web-', 'a.b', '', 'x'.repeat(64)])('rejects the name %j as not DNS-1123', (name) => {
    // Prepare
    const input = application({}, { name });
    // Act
    const found = problems('Application', input);
    // Assess
    expect(Object.keys(found)).toEqual(['metadata.name']);
    expect(found['metadata.name']).toMatch(/DNS-1123|no more than 63/);
  });

  it('rejects a bad namespace', () => {
    // Prepare / Act
    const found = problems('Application', application({}, { namespace: 'Default' }));
    // Assess
    expect(found['metadata.namespace']).toContain('DNS-1123');
  });

  it.each([
    [{ 'bad key': 'x' }, 'metadata.labels.bad key', 'label key "bad key"'],
    [{ 'Bad_Prefix/tier': 'x' }, 'metadata.labels.Bad_Prefix/tier', 'prefix must be a DNS-1123 subdomain'],
    [{ tier: 'not ok' }, 'metadata.labels.tier', 'label value "not ok"'],
    [{ tier: 'v'.repeat(64) }, 'metadata.labels.tier', 'label value'],
  ])('rejects labels %j at %s', (labels, field, message) => {
    // Prepare
    const input = application({}, { labels });
    // Act
    const found = problems('Application', input);
    // Assess
    expect(Object.keys(found)).toEqual([field]);
    expect(found[field]).toContain(message);
  });

  it('reports each bad constraint at its index with the parser message', () => {
    // Prepare
    const input = application({
      constraints: { cluster: { labels: ['tier=prod', 'tier in (', 'ok'], metrics: ['load < 0.5', 'load ~ 1'], customResources: ['Certificates'] } },
    });
    // Act
    const found = problems('Application', input);
    // Assess
    expect(found).toEqual({
      'spec.constraints.cluster.labels[1]': `invalid label selector "tier in (": expected a value or ')' but the selector ended`,
      'spec.constraints.cluster.metrics[1]': expect.stringContaining('invalid metric constraint "load ~ 1"'),
      'spec.constraints.cluster.customResources[0]': 'must be a CRD name such as certificates.cert-manager.io',
    });
  });

  it('lists every bad field of a manifest and rejects an empty manifest list', () => {
    // Prepare
    const noManifests = application({ manifests: [] });
    const badManifest = application({ manifests: [{ apiVersion: '', metadata: {} }] });
    // Act
    const empty = problems('Application', noManifests);
    const bad = problems('Application', badManifest);
    // Assess
    expect(empty).toEqual({ 'spec.manifests': 'an application needs at least one manifest' });
    expect(bad).toEqual({
      'spec.manifests[0].apiVersion': 'is required',
      'spec.manifests[0].kind': 'is required (string)',
      'spec.manifests[0].metadata.name': 'is required (string)',
    });
  });

  it('rejects the wrong apiVersion and kind, saying what they must be', () => {
    // Prepare
    const input = { ...application(), apiVersion: 'v1', kind: 'Cluster' };
    // Act
    const found = problems('Application', input);
    // Assess
    expect(found).toEqual({ apiVersion: 'must be shoal.io/v1alpha1', kind: 'must be Application' });
  });

  it.each<[Kind, unknown, string]>([
    ['Metric', { min: 1, max: 1, provider: { name: 'p', metric: 'm' } }, 'spec.max'],
    ['MetricsProvider', { type: 'prometheus', prometheus: { url: 'not a url' } }, 'spec.prometheus.url'],
    ['MetricsProvider', { type: 'graphite' }, 'spec.type'],
    ['Cloud', { type: 'local', infrastructureProvider: 'p', local: { maxClusters: 0 } }, 'spec.local.maxClusters'],
    ['Cloud', { type: 'aws', infrastructureProvider: 'p', aws: { region: '' } }, 'spec.aws.region'],
    ['Cloud', { type: 'local' }, 'spec.infrastructureProvider'],
    ['InfrastructureProvider', { type: 'eks', eks: { clusterRoleArn: 'role', nodeRoleArn: 'arn:aws:iam::123456789012:role/n', subnetIds: ['a', 'b'] } }, 'spec.eks.clusterRoleArn'],
    ['InfrastructureProvider', { type: 'eks', eks: { clusterRoleArn: 'arn:aws:iam::123456789012:role/c', nodeRoleArn: 'arn:aws:iam::123456789012:role/n', subnetIds: ['a'] } }, 'spec.eks.subnetIds'],
    ['Cluster', { infrastructure: { shape: { nodes: -1 } } }, 'spec.infrastructure.shape.nodes'],
    ['Cluster', { infrastructure: { shape: { version: 'latest' } } }, 'spec.infrastructure.shape.version'],
    ['Cluster', { infrastructure: { constraints: { labels: ['region in ('] } } }, 'spec.infrastructure.constraints.labels[0]'],
    ['Cluster', { metrics: [{ name: 'load', weight: 0 }] }, 'spec.metrics[0].weight'],
    ['Cluster', { kubeconfig: '' }, 'spec.kubeconfig'],
  ])('rejects a bad %s spec %j at %s', (kind, spec, field) => {
    // Prepare
    const input = object(kind, spec);
    // Act
    const found = problems(kind, input);
    // Assess
    expect(Object.keys(found)).toEqual([field]);
  });
});

describe('resolveKind', () => {
  it.each<[string, Kind | undefined]>([
    ['Application', 'Application'],
    ['application', 'Application'],
    ['APPLICATIONS', 'Application'],
    ['app', 'Application'],
    ['apps', 'Application'],
    ['cl', 'Cluster'],
    ['clusters', 'Cluster'],
    ['m', 'Metric'],
    ['metrics', 'Metric'],
    ['mp', 'MetricsProvider'],
    ['MetricsProviders', 'MetricsProvider'],
    ['cloud', 'Cloud'],
    ['clouds', 'Cloud'],
    ['ip', 'InfrastructureProvider'],
    ['infrastructureprovider', 'InfrastructureProvider'],
    ['pods', undefined],
    ['', undefined],
  ])('%j → %s', (text, expected) => {
    // Prepare / Act
    const kind = resolveKind(text);
    // Assess
    expect(kind).toBe(expected);
  });

  it('gives every kind a unique plural and unique short names', () => {
    // Prepare
    const names = KIND_NAMES.flatMap((kind) => [KINDS[kind].plural, ...KINDS[kind].shortNames]);
    // Act
    const resolved = KIND_NAMES.map((kind) => kindForPlural(KINDS[kind].plural));
    // Assess
    expect(new Set(names).size).toBe(names.length);
    expect(resolved).toEqual(KIND_NAMES);
  });

  it('isKind is exact and ignores inherited properties', () => {
    // Prepare / Act / Assess
    expect(isKind('Cluster')).toBe(true);
    expect(isKind('cluster')).toBe(false);
    expect(isKind('toString')).toBe(false);
    expect(kindForPlural('Clusters')).toBeUndefined();
  });
});
