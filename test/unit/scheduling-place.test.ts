import { describe, expect, it } from 'vitest';
import type { ClusterFacts } from '../../shared/scheduling/cluster-facts.ts';
import { placeApplication, type PlacementInput } from '../../shared/scheduling/place.ts';

const NOW = new Date('2026-03-01T10:00:00Z');
const LONG_AGO = '2026-03-01T09:00:00Z';
const JUST_NOW = '2026-03-01T09:59:58Z';

function cluster(name: string, load: number | undefined, overrides: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    name,
    labels: { location: name === 'c1' ? 'eu' : 'us' },
    state: 'ONLINE',
    deleting: false,
    customResources: [],
    weights: load === undefined ? [] : [{ name: 'load', weight: 1 }],
    metrics: load === undefined ? {} : { load: { value: load, raw: load } },
    ...overrides,
  };
}

function input(overrides: Partial<PlacementInput>): PlacementInput {
  return {
    constraints: { labels: [], customResources: [], metrics: [] },
    migration: true,
    clusters: [cluster('c1', 0.2), cluster('c2', 0.8)],
    now: NOW,
    stablePeriodSeconds: 300,
    ...overrides,
  };
}

describe('placeApplication', () => {
  it('binds a new application to the best scoring cluster and lists every candidate', () => {
    // Prepare
    const request = input({});
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision).toEqual({
      action: 'bind',
      cluster: 'c2',
      reason: 'Bound',
      message: 'bound to c2',
      // scored as it will be read after the binding: c2 sticky
      placement: [
        { cluster: 'c2', score: 0.818, metrics: { load: 0.8 } },
        { cluster: 'c1', score: 0.182, metrics: { load: 0.2 } },
      ],
    });
  });

  it('binds by labels and records the rejected cluster with the reason', () => {
    // Prepare
    const request = input({ constraints: { labels: ['location = eu'], customResources: [], metrics: [] } });
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision.action).toBe('bind');
    expect(decision.placement).toEqual([
      { cluster: 'c1', score: 0.273, metrics: { load: 0.2 } },
      { cluster: 'c2', rejected: ['label location=us (needs location=eu)'] },
    ]);
  });

  it('ranks clusters with metrics before those without, and breaks ties by name', () => {
    // Prepare
    const request = input({ clusters: [cluster('c3', undefined), cluster('c2', 0.5), cluster('c1', 0.5)] });
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision.placement.map((entry) => entry.cluster)).toEqual(['c1', 'c2', 'c3']);
    expect(decision).toMatchObject({ action: 'bind', cluster: 'c1' });
  });

  it('records why a metric of a candidate was missing', () => {
    // Prepare
    const broken = cluster('c2', 0.8, { metrics: { load: { missing: 'Prometheus at http://p: ECONNREFUSED' } } });
    // Act
    const decision = placeApplication(input({ clusters: [cluster('c1', 0.2), broken] }));
    // Assess
    expect(decision).toMatchObject({ action: 'bind', cluster: 'c1' });
    expect(decision.placement[1]).toEqual({ cluster: 'c2', score: 0, metrics: {}, missingMetrics: { load: 'Prometheus at http://p: ECONNREFUSED' } });
  });

  it('says why nothing fits, cluster by cluster', () => {
    // Prepare
    const request = input({
      constraints: { labels: ['location = eu'], customResources: [], metrics: [] },
      clusters: [cluster('c1', 0.2, { labels: { location: 'us' } }), cluster('c2', 0.8, { state: 'OFFLINE' })],
    });
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision).toMatchObject({
      action: 'unschedulable',
      message: 'no ONLINE cluster matches location = eu (c1: label location=us (needs location=eu); c2: OFFLINE, label location=us (needs location=eu))',
    });
  });

  it('says so when the namespace has no clusters', () => {
    // Prepare / Act
    const decision = placeApplication(input({ clusters: [] }));
    // Assess
    expect(decision).toEqual({ action: 'unschedulable', message: 'no Cluster is registered in this namespace', placement: [] });
  });

  it('keeps the current cluster when the other one wins by less than the stickiness', () => {
    // Prepare: 0.5 + stickiness against 0.55
    const request = input({ scheduledTo: 'c1', scheduledAt: LONG_AGO, clusters: [cluster('c1', 0.5), cluster('c2', 0.55)] });
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision).toMatchObject({ action: 'stay', cluster: 'c1', message: 'c1 is still the best fit' });
  });

  it('migrates to a cluster that wins by more than the stickiness once the placement is stable', () => {
    // Prepare
    const request = input({ scheduledTo: 'c1', scheduledAt: LONG_AGO });
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision).toMatchObject({ action: 'bind', cluster: 'c2', reason: 'Migrated', message: 'c2 scores 0.727 against 0.273 of c1; moved to c2' });
  });

  it('does not migrate within the stable period, and says when to look again', () => {
    // Prepare
    const request = input({ scheduledTo: 'c1', scheduledAt: JUST_NOW });
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision).toMatchObject({ action: 'stay', cluster: 'c1', reconsiderAfterSeconds: 298 });
  });

  it('does not migrate when migration is disabled', () => {
    // Prepare
    const request = input({ scheduledTo: 'c1', scheduledAt: LONG_AGO, migration: false });
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision).toMatchObject({ action: 'stay', cluster: 'c1', message: 'c2 scores 0.727 against 0.273 of c1; migration is disabled' });
  });

  it.each<[string, ClusterFacts[], string]>([
    ['OFFLINE', [cluster('c1', 0.9, { state: 'OFFLINE' }), cluster('c2', 0.1)], 'c1 is OFFLINE; moved to c2'],
    ['being deleted', [cluster('c1', 0.9, { deleting: true }), cluster('c2', 0.1)], 'c1 is being deleted; moved to c2'],
    ['gone', [cluster('c2', 0.1)], 'c1 is gone; moved to c2'],
  ])('fails over when the current cluster is %s, even with migration disabled and within the stable period', (_case, clusters, message) => {
    // Prepare
    const request = input({ scheduledTo: 'c1', scheduledAt: JUST_NOW, migration: false, clusters });
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision).toMatchObject({ action: 'bind', cluster: 'c2', reason: 'FailedOver', message });
  });

  it('keeps a failed placement when nothing else fits, and says why', () => {
    // Prepare
    const request = input({ scheduledTo: 'c1', clusters: [cluster('c1', 0.9, { state: 'OFFLINE' })] });
    // Act
    const decision = placeApplication(request);
    // Assess
    expect(decision).toMatchObject({ action: 'unschedulable', message: 'c1 is OFFLINE and no ONLINE cluster (c1: OFFLINE)' });
  });

  it('releases the binding to a cluster being deleted or gone when nothing else fits', () => {
    // Act
    const deleting = placeApplication(input({ scheduledTo: 'c1', clusters: [cluster('c1', 0.9, { deleting: true })] }));
    const gone = placeApplication(input({ scheduledTo: 'c9', clusters: [] }));
    // Assess
    expect(deleting).toMatchObject({ action: 'unschedulable', release: true, message: 'c1 is being deleted and no ONLINE cluster (c1: being deleted)' });
    expect(gone).toMatchObject({ action: 'unschedulable', release: true });
  });

  it('moves an application whose cluster no longer meets its constraints, unless migration is disabled', () => {
    // Prepare
    const constraints = { labels: ['location = us'], customResources: [], metrics: [] };
    // Act
    const moved = placeApplication(input({ constraints, scheduledTo: 'c1', scheduledAt: JUST_NOW }));
    const kept = placeApplication(input({ constraints, scheduledTo: 'c1', scheduledAt: JUST_NOW, migration: false }));
    // Assess
    expect(moved).toMatchObject({ action: 'bind', cluster: 'c2', reason: 'Migrated' });
    expect(kept).toMatchObject({ action: 'stay', cluster: 'c1' });
  });
});
