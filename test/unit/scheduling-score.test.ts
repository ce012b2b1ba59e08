import { describe, expect, it } from 'vitest';
import type { ClusterFacts } from '../../shared/scheduling/cluster-facts.ts';
import { rankScores, scoreCluster, type ClusterScore } from '../../shared/scheduling/score.ts';

function cluster(name: string, metrics: Record<string, number>, weights: Record<string, number> = {}): ClusterFacts {
  return {
    name,
    labels: {},
    state: 'ONLINE',
    deleting: false,
    customResources: [],
    weights: Object.keys(metrics).map((metric) => ({ name: metric, weight: weights[metric] ?? 1 })),
    metrics: Object.fromEntries(Object.entries(metrics).map(([metric, value]) => [metric, { value, raw: value }])),
  };
}

describe('scoreCluster', () => {
  it("computes Krake's (s_v·s_w + Σ m_v·m_w) / (s_w + Σ m_w)", () => {
    // Prepare: load 0.5 (weight 2), green 1 (weight 1), not the current cluster
    const facts = cluster('c1', { load: 0.5, green: 1 }, { load: 2 });
    // Act
    const score = scoreCluster(facts, false, 0.1);
    // Assess: (0·0.1 + 0.5·2 + 1·1) / (0.1 + 2 + 1)
    expect(score).toEqual({ cluster: 'c1', score: 0.645, metrics: { load: 0.5, green: 1 }, hasMetrics: true });
  });

  it('adds the stickiness for the current cluster', () => {
    // Prepare
    const facts = cluster('c1', { load: 0.5 });
    // Act
    const current = scoreCluster(facts, true, 0.1);
    const other = scoreCluster(facts, false, 0.1);
    // Assess: (0.1 + 0.5) / 1.1 against 0.5 / 1.1
    expect(current.score).toBe(0.545);
    expect(other.score).toBe(0.455);
  });

  it('leaves a metric that could not be read out of both sums', () => {
    // Prepare
    const facts: ClusterFacts = { ...cluster('c1', { load: 0.5 }), weights: [{ name: 'load', weight: 1 }, { name: 'heat', weight: 5 }] };
    const withMissing: ClusterFacts = { ...facts, metrics: { ...facts.metrics, heat: { missing: 'no sample' } } };
    // Act
    const score = scoreCluster(withMissing, false, 0.1);
    // Assess
    expect(score.score).toBe(0.455);
    expect(score.metrics).toEqual({ load: 0.5 });
  });

  it('scores a cluster without metrics by its stickiness alone', () => {
    // Prepare
    const facts = cluster('c1', {});
    // Act
    const current = scoreCluster(facts, true);
    const other = scoreCluster(facts, false);
    // Assess
    expect(current).toEqual({ cluster: 'c1', score: 1, metrics: {}, hasMetrics: false });
    expect(other.score).toBe(0);
  });
});

describe('rankScores', () => {
  it('puts clusters with metrics first, then higher scores, then names in order', () => {
    // Prepare
    const scores: ClusterScore[] = [
      { cluster: 'd', score: 1, metrics: {}, hasMetrics: false },
      { cluster: 'b', score: 0.5, metrics: { load: 0.5 }, hasMetrics: true },
      { cluster: 'a', score: 0.5, metrics: { load: 0.5 }, hasMetrics: true },
      { cluster: 'c', score: 0.9, metrics: { load: 0.9 }, hasMetrics: true },
    ];
    // Act
    const ranked = rankScores(scores);
    // Assess
    expect(ranked.map((score) => score.cluster)).toEqual(['c', 'a', 'b', 'd']);
  });
});
