import { describe, expect, it } from 'vitest';
import type { ApiResource } from '../../shared/cli/client.ts';
import { age, canonicalOrder, describeResource, formatLabels, humanDuration, renderTable, resourceTable } from '../../shared/cli/printers.ts';

const NOW = new Date('2026-01-10T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

function application(name: string, overrides: Partial<ApiResource> = {}): ApiResource {
  return {
    apiVersion: 'shoal.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'default', creationTimestamp: ago(300), labels: { tier: 'prod' } },
    spec: { manifests: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name } }] },
    ...overrides,
  };
}

describe('humanDuration', () => {
  it.each([
    [-5, '<invalid>'],
    [-1, '0s'],
    [0, '0s'],
    [119, '119s'],
    [120, '2m'],
    [200, '3m20s'],
    [600, '10m'],
    [179 * 60, '179m'],
    [3 * 3600 + 5 * 60, '3h5m'],
    [8 * 3600, '8h'],
    [47 * 3600, '47h'],
    [2 * 86400 + 3 * 3600, '2d3h'],
    [30 * 86400, '30d'],
    [3 * 365 * 86400 + 10 * 86400, '3y10d'],
    [9 * 365 * 86400, '9y'],
  ])('formats %i seconds as %s, like kubectl', (seconds, expected) => {
    expect(humanDuration(seconds * 1000)).toBe(expected);
  });

  it('shows <unknown> for a missing or unparsable timestamp', () => {
    expect(age(undefined, NOW)).toBe('<unknown>');
    expect(age('yesterday', NOW)).toBe('<unknown>');
    expect(age(ago(45), NOW)).toBe('45s');
  });
});

describe('renderTable', () => {
  it('pads columns with three spaces and leaves no trailing blanks', () => {
    expect(renderTable(['NAME', 'AGE'], [['web', '5m'], ['a-much-longer-name', '2d']])).toBe(
      ['NAME                 AGE', 'web                  5m', 'a-much-longer-name   2d'].join('\n'),
    );
  });
});

describe('resourceTable', () => {
  const running = application('web', { status: { state: 'RUNNING', runningOn: 'eu-1', scheduledTo: 'eu-1' } });
  const pending = application('api', { metadata: { name: 'api', namespace: 'team-b', creationTimestamp: ago(30) } });

  it('shows NAME STATE CLUSTER AGE for applications, <none> where nothing is known', () => {
    expect(resourceTable('Application', [running, pending], { now: NOW })).toBe(
      ['NAME   STATE     CLUSTER   AGE', 'web    RUNNING   eu-1      5m', 'api    <none>    <none>    30s'].join('\n'),
    );
  });

  it('adds NAMESPACE first with --all-namespaces and LABELS with -o wide', () => {
    const table = resourceTable('Application', [running, pending], { now: NOW, allNamespaces: true, wide: true });
    const [header, first, second] = table.split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAMESPACE', 'NAME', 'STATE', 'CLUSTER', 'AGE', 'SCHEDULED-TO', 'MIGRATION', 'REASON', 'LABELS']);
    expect(first).toMatch(/^default\s+web\s+RUNNING\s+eu-1\s+5m\s+eu-1\s+true\s+<none>\s+tier=prod$/);
    expect(second).toMatch(/^team-b\s+api\s/);
  });

  it('shows STATE VERSION NODES for clusters', () => {
    const cluster: ApiResource = {
      apiVersion: 'shoal.io/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'eu-1', creationTimestamp: ago(7200) },
      status: { state: 'ONLINE', kubernetesVersion: 'v1.33.1', nodes: { ready: 2, total: 3 } },
    };
    expect(resourceTable('Cluster', [cluster], { now: NOW })).toBe(
      ['NAME   STATE    PHASE   VERSION   NODES   AGE', 'eu-1   ONLINE           v1.33.1   2/3     120m'].join('\n'),
    );
  });

  it('shows the infrastructure phase of a created cluster', () => {
    const cluster: ApiResource = {
      apiVersion: 'shoal.io/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'edge', creationTimestamp: ago(60) },
      status: { state: 'PROVISIONING', infrastructure: { phase: 'PROVISIONING', cloud: 'laptop' } },
    };
    expect(resourceTable('Cluster', [cluster], { now: NOW }).split('\n')[1]).toMatch(/^edge\s+PROVISIONING\s+PROVISIONING\s+<none>\s+<none>\s+60s$/);
  });

  it('shows NAME AGE for the other kinds', () => {
    const metric: ApiResource = { apiVersion: 'shoal.io/v1alpha1', kind: 'Metric', metadata: { name: 'load', creationTimestamp: ago(10) } };
    expect(resourceTable('Metric', [metric], { now: NOW })).toBe(['NAME   AGE', 'load   10s'].join('\n'));
  });

  it('marks an object being deleted', () => {
    const deleting = application('old', { metadata: { name: 'old', deletionTimestamp: ago(1) }, status: { state: 'RUNNING' } });
    expect(resourceTable('Application', [deleting], { now: NOW })).toContain('RUNNING (deleting)');
  });
});

describe('formatLabels', () => {
  it('joins labels kubectl-style', () => {
    expect(formatLabels({ a: '1', b: '2' })).toBe('a=1,b=2');
    expect(formatLabels(undefined)).toBe('<none>');
  });
});

describe('describeResource', () => {
  it('shows placement best-first with rejection reasons and conditions for an application', () => {
    // Prepare
    const app = application('web', {
      status: {
        state: 'RUNNING',
        scheduledTo: 'eu-1',
        runningOn: 'eu-1',
        placement: [
          { cluster: 'us-1', rejected: ['label location = eu does not hold'] },
          { cluster: 'eu-2', score: 0.41, metrics: { load: 0.3 } },
          { cluster: 'eu-1', score: 0.87, metrics: { load: 0.9 } },
        ],
        conditions: [{ type: 'Ready', status: 'True', reason: 'Deployed', lastTransitionTime: ago(60) }],
      },
    });

    // Act
    const text = describeResource('Application', app, NOW);

    // Assess
    expect(text).toMatch(/^Name:\s+web$/m);
    expect(text).toMatch(/^Labels:\s+tier=prod$/m);
    expect(text).toMatch(/^ {4}Deployment\/web$/m);
    const placement = text.slice(text.indexOf('Placement:'));
    expect(placement.indexOf('eu-1 *')).toBeLessThan(placement.indexOf('eu-2'));
    expect(placement.indexOf('eu-2')).toBeLessThan(placement.indexOf('us-1'));
    expect(placement).toMatch(/eu-1 \*\s+0\.870\s+load=0\.90/);
    expect(placement).toMatch(/us-1\s+-\s+-\s+label location = eu does not hold/);
    expect(text).toMatch(/Ready\s+True\s+Deployed\s+60s/);
  });

  it('shows the kubeconfig secret reference, version, nodes and custom resources for a cluster', () => {
    const cluster: ApiResource = {
      apiVersion: 'shoal.io/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'eu-1', labels: { location: 'eu', tier: 'prod' } },
      spec: { kubeconfigSecret: 'shoal/default/eu-1', metrics: [{ name: 'load', weight: 2 }] },
      status: { state: 'ONLINE', kubernetesVersion: 'v1.33.1', nodes: { ready: 3, total: 3 }, customResources: ['certificates.cert-manager.io'] },
    };

    const text = describeResource('Cluster', cluster, NOW);

    expect(text).toMatch(/^Labels:\s+location=eu\n\s{10,}tier=prod$/m);
    expect(text).toMatch(/Kubeconfig Secret:\s+shoal\/default\/eu-1/);
    expect(text).toMatch(/Metrics:\s+load \(weight 2\)/);
    expect(text).toMatch(/Kubernetes Version:\s+v1\.33\.1/);
    expect(text).toMatch(/Nodes:\s+3 ready of 3/);
    expect(text).toContain('certificates.cert-manager.io');
    expect(text).toMatch(/^Conditions:\n\s+<none>$/m);
    expect(text).not.toContain('Infrastructure');
  });

  it('shows the infrastructure status of a created cluster', () => {
    const cluster: ApiResource = {
      apiVersion: 'shoal.io/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'edge' },
      spec: { infrastructure: { shape: { nodes: 2 } } },
      status: {
        state: 'ONLINE',
        infrastructure: { phase: 'SCALING', message: 'scaling workers from 1 to 2', cloud: 'laptop', provider: 'local', providerId: 'default-edge', nodes: { desired: 2, ready: 1 } },
      },
    };

    const text = describeResource('Cluster', cluster, NOW);

    expect(text).toMatch(/^ {2}Infrastructure:\n {4}Phase:\s+SCALING$/m);
    expect(text).toMatch(/Message:\s+scaling workers from 1 to 2/);
    expect(text).toMatch(/Cloud:\s+laptop/);
    expect(text).toMatch(/Provider ID:\s+default-edge/);
    expect(text).toMatch(/Nodes:\s+1 ready of 2/);
  });
});

describe('canonicalOrder', () => {
  it('puts apiVersion, kind, metadata, spec, status first and name, namespace first in metadata', () => {
    const shuffled = { status: {}, spec: {}, metadata: { labels: {}, namespace: 'n', name: 'x' }, kind: 'Application', apiVersion: 'shoal.io/v1alpha1' } as ApiResource;
    const result = canonicalOrder(shuffled);
    expect(Object.keys(result)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    expect(Object.keys(result.metadata)).toEqual(['name', 'namespace', 'labels']);
  });
});
