import { describe, expect, it } from 'vitest';
import type { ClusterFacts } from '../../shared/scheduling/cluster-facts.ts';
import { normalise } from '../../shared/scheduling/cluster-facts.ts';
import { healthProblem, rejectionReasons, type ClusterConstraints } from '../../shared/scheduling/filter.ts';

const NONE: ClusterConstraints = { labels: [], customResources: [], metrics: [] };

function cluster(overrides: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    name: 'c1',
    labels: { location: 'eu', tier: 'prod' },
    state: 'ONLINE',
    deleting: false,
    customResources: ['certificates.cert-manager.io'],
    weights: [{ name: 'load', weight: 1 }],
    metrics: { load: { value: 0.4, raw: 40 } },
    ...overrides,
  };
}

describe('rejectionReasons', () => {
  it('accepts an ONLINE cluster that meets every constraint', () => {
    // Prepare
    const constraints: ClusterConstraints = {
      labels: ['location = eu', 'tier in (prod, staging)', 'zone notin (z9)', 'tier not in (dev)', 'location != us'],
      customResources: ['certificates.cert-manager.io'],
      metrics: ['load < 0.8', 'load >= 0.4'],
    };
    // Act
    const reasons = rejectionReasons(constraints, cluster());
    // Assess
    expect(reasons).toEqual([]);
  });

  it.each<[string, Partial<ClusterFacts>, string]>([
    ['OFFLINE', { state: 'OFFLINE' }, 'OFFLINE'],
    ['UNHEALTHY', { state: 'UNHEALTHY' }, 'UNHEALTHY'],
    ['never probed', { state: undefined }, 'not probed yet'],
    ['being deleted', { deleting: true }, 'being deleted'],
  ])('rejects a cluster that is %s', (_case, overrides, reason) => {
    // Prepare
    const facts = cluster(overrides);
    // Act
    const reasons = rejectionReasons(NONE, facts);
    // Assess
    expect(reasons).toEqual([reason]);
  });

  it('names the label that does not match, and the constraint it fails', () => {
    // Prepare
    const constraints = { ...NONE, labels: ['location = us', 'gpu', 'tier notin (prod)'] };
    // Act
    const reasons = rejectionReasons(constraints, cluster());
    // Assess
    expect(reasons).toEqual(['label location=eu (needs location=us)', 'no label gpu (needs gpu)', 'label tier=prod (needs tier notin (prod))']);
  });

  it('rejects a cluster without a required custom resource', () => {
    // Prepare
    const constraints = { ...NONE, customResources: ['certificates.cert-manager.io', 'widgets.example.io'] };
    // Act
    const reasons = rejectionReasons(constraints, cluster());
    // Assess
    expect(reasons).toEqual(['no custom resource widgets.example.io']);
  });

  it('checks metric constraints against the normalised value, and rejects a cluster lacking the metric', () => {
    // Prepare
    const constraints = { ...NONE, metrics: ['load < 0.3'] };
    // Act
    const tooHigh = rejectionReasons(constraints, cluster());
    const unweighted = rejectionReasons(constraints, cluster({ weights: [], metrics: {} }));
    const unreadable = rejectionReasons(constraints, cluster({ metrics: { load: { missing: 'Prometheus at http://p: ECONNREFUSED' } } }));
    // Assess
    expect(tooHigh).toEqual(['metric load=0.4 (needs load < 0.3)']);
    expect(unweighted).toEqual(['no metric load (needs load < 0.3)']);
    expect(unreadable).toEqual(['metric load unavailable: Prometheus at http://p: ECONNREFUSED (needs load < 0.3)']);
  });

  it('lists every reason at once', () => {
    // Prepare
    const constraints = { labels: ['location = us'], customResources: ['widgets.example.io'], metrics: [] };
    // Act
    const reasons = rejectionReasons(constraints, cluster({ state: 'OFFLINE' }));
    // Assess
    expect(reasons).toEqual(['OFFLINE', 'label location=eu (needs location=us)', 'no custom resource widgets.example.io']);
  });
});

describe('healthProblem', () => {
  it('finds none in an ONLINE cluster', () => {
    // Prepare / Act
    const problem = healthProblem({ state: 'ONLINE', deleting: false });
    // Assess
    expect(problem).toBeUndefined();
  });
});

describe('normalise', () => {
  it.each([
    [50, 0, 100, 0.5],
    [-5, 0, 100, 0],
    [500, 0, 100, 1],
    [3, 2, 4, 0.5],
  ])('maps %d within [%d, %d] to %d', (raw, min, max, expected) => {
    // Prepare: the row
    // Act
    const value = normalise(raw, min, max);
    // Assess
    expect(value).toBe(expected);
  });
});
