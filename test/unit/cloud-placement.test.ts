import { describe, expect, it } from 'vitest';
import { placeCluster, type CloudFacts } from '../../shared/infrastructure/cloud-placement.ts';

function cloud(name: string, options: { labels?: Record<string, string>; metrics?: Record<string, number>; full?: string } = {}): CloudFacts {
  const metrics = options.metrics ?? {};
  return {
    name,
    labels: options.labels ?? {},
    weights: Object.keys(metrics).map((metric) => ({ name: metric, weight: 1 })),
    metrics: Object.fromEntries(Object.entries(metrics).map(([metric, value]) => [metric, { value, raw: value }])),
    full: options.full,
  };
}

const none = { labels: [], metrics: [] };

describe('placeCluster', () => {
  it('chooses the best scoring cloud', () => {
    // Prepare
    const clouds = [cloud('a', { metrics: { green: 0.2 } }), cloud('b', { metrics: { green: 0.9 } })];
    // Act
    const placement = placeCluster(none, clouds);
    // Assess
    expect(placement.cloud).toBe('b');
    expect(placement.candidates).toEqual([
      { cloud: 'a', score: 0.2 },
      { cloud: 'b', score: 0.9 },
    ]);
  });

  it('breaks ties by name and ranks clouds with metrics first', () => {
    // Act
    const tie = placeCluster(none, [cloud('z'), cloud('m'), cloud('q')]);
    const withMetrics = placeCluster(none, [cloud('a'), cloud('b', { metrics: { green: 0 } })]);
    // Assess
    expect(tie.cloud).toBe('m');
    expect(withMetrics.cloud).toBe('b');
  });

  it('filters by label and metric constraints and says why', () => {
    // Prepare
    const clouds = [
      cloud('eu', { labels: { location: 'eu' }, metrics: { green: 0.3 } }),
      cloud('us', { labels: { location: 'us' }, metrics: { green: 0.9 } }),
      cloud('eu-dirty', { labels: { location: 'eu' }, metrics: { green: 0.1 } }),
    ];
    // Act
    const placement = placeCluster({ labels: ['location = eu'], metrics: ['green > 0.2'] }, clouds);
    // Assess
    expect(placement.cloud).toBe('eu');
    expect(placement.candidates).toContainEqual({ cloud: 'us', rejected: ['label location=us (needs location=eu)'] });
    expect(placement.candidates).toContainEqual({ cloud: 'eu-dirty', rejected: ['metric green=0.1 (needs green > 0.2)'] });
  });

  it('skips a full cloud', () => {
    // Act
    const placement = placeCluster(none, [cloud('a', { full: 'holds 4 of 4 clusters' }), cloud('b')]);
    // Assess
    expect(placement.cloud).toBe('b');
    expect(placement.candidates[0]).toEqual({ cloud: 'a', rejected: ['holds 4 of 4 clusters'] });
  });

  it('names what is missing when nothing fits', () => {
    // Act
    const empty = placeCluster(none, []);
    const unfit = placeCluster({ labels: ['location = eu'], metrics: [] }, [cloud('us', { labels: { location: 'us' } })]);
    // Assess
    expect(empty.cloud).toBeUndefined();
    expect(empty).toMatchObject({ message: expect.stringContaining('no Cloud in the namespace') });
    expect(unfit).toMatchObject({ message: 'no Cloud fits (location = eu): us: label location=us (needs location=eu)' });
  });
});
