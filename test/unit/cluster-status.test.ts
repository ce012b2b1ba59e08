import { describe, expect, it } from 'vitest';
import type { ProbeObservation } from '../../shared/kube/probe.ts';
import { clusterStatusFrom } from '../../shared/reconcilers/cluster-probe.ts';
import type { ClusterStatus } from '../../shared/resources/kinds.ts';

const NOW = new Date('2026-03-01T10:00:00.123Z');
const NOW_TEXT = '2026-03-01T10:00:00Z';
const EARLIER = '2026-02-28T09:00:00Z';

const healthy: ProbeObservation = {
  reachable: true,
  ready: true,
  version: 'v1.31.2',
  nodes: { total: 3, ready: 3 },
  customResources: ['certificates.cert-manager.io'],
};

function previous(state: ClusterStatus['state'], readyStatus: 'True' | 'False'): ClusterStatus {
  return {
    state,
    kubernetesVersion: 'v1.30.0',
    customResources: ['issuers.cert-manager.io'],
    nodes: { total: 2, ready: 2 },
    metrics: { load: 0.4 },
    lastProbeTime: EARLIER,
    observedGeneration: 1,
    conditions: [{ type: 'Ready', status: readyStatus, reason: state, lastTransitionTime: EARLIER }],
  };
}

describe('clusterStatusFrom', () => {
  it('marks a reachable, ready cluster with ready nodes ONLINE', () => {
    // Prepare: no previous status
    // Act
    const status = clusterStatusFrom(healthy, undefined, 4, NOW);
    // Assess
    expect(status).toEqual({
      state: 'ONLINE',
      reason: undefined,
      kubernetesVersion: 'v1.31.2',
      nodes: { total: 3, ready: 3 },
      customResources: ['certificates.cert-manager.io'],
      metrics: undefined,
      lastProbeTime: NOW_TEXT,
      observedGeneration: 4,
      conditions: [{ type: 'Ready', status: 'True', reason: 'ONLINE', message: undefined, lastTransitionTime: NOW_TEXT }],
    });
  });

  it('marks an unreachable cluster OFFLINE with the probe error, keeping the last known version and CRDs', () => {
    // Prepare
    const observation: ProbeObservation = { reachable: false, error: 'connect ECONNREFUSED 10.0.0.1:6443' };
    // Act
    const status = clusterStatusFrom(observation, previous('ONLINE', 'True'), 2, NOW);
    // Assess
    expect(status.state).toBe('OFFLINE');
    expect(status.reason).toBe('connect ECONNREFUSED 10.0.0.1:6443');
    expect(status.kubernetesVersion).toBe('v1.30.0');
    expect(status.customResources).toEqual(['issuers.cert-manager.io']);
    expect(status.metrics).toEqual({ load: 0.4 });
    expect(status.conditions).toEqual([
      { type: 'Ready', status: 'False', reason: 'OFFLINE', message: 'connect ECONNREFUSED 10.0.0.1:6443', lastTransitionTime: NOW_TEXT },
    ]);
  });

  it('marks a cluster whose API server is not ready UNHEALTHY, saying so', () => {
    // Prepare
    const observation: ProbeObservation = { ...healthy, ready: false };
    // Act
    const status = clusterStatusFrom(observation, undefined, 1, NOW);
    // Assess
    expect(status.state).toBe('UNHEALTHY');
    expect(status.reason).toBe('the API server reports not ready (/readyz)');
    expect(status.conditions?.[0]).toMatchObject({ status: 'False', reason: 'UNHEALTHY', message: status.reason });
  });

  it.each([
    [{ total: 2, ready: 0 }, 'no Ready nodes (2 registered)'],
    [{ total: 0, ready: 0 }, 'no Ready nodes (0 registered)'],
  ])('marks a ready API server with nodes %j UNHEALTHY: %s', (nodes, reason) => {
    // Prepare
    const observation: ProbeObservation = { ...healthy, nodes };
    // Act
    const status = clusterStatusFrom(observation, undefined, 1, NOW);
    // Assess
    expect(status.state).toBe('UNHEALTHY');
    expect(status.reason).toBe(reason);
    expect(status.nodes).toEqual(nodes);
  });

  it('keeps the Ready transition time while the condition status is unchanged', () => {
    // Prepare
    const before = previous('ONLINE', 'True');
    // Act
    const status = clusterStatusFrom(healthy, before, 2, NOW);
    // Assess
    expect(status.conditions?.[0]?.lastTransitionTime).toBe(EARLIER);
    expect(status.lastProbeTime).toBe(NOW_TEXT);
  });

  it('keeps the transition time between two not-ready states (OFFLINE → UNHEALTHY)', () => {
    // Prepare
    const before = previous('OFFLINE', 'False');
    // Act
    const status = clusterStatusFrom({ ...healthy, ready: false }, before, 2, NOW);
    // Assess
    expect(status.conditions?.[0]).toMatchObject({ status: 'False', reason: 'UNHEALTHY', lastTransitionTime: EARLIER });
  });

  it.each<[ClusterStatus['state'], 'True' | 'False', ProbeObservation]>([
    ['ONLINE', 'True', { reachable: false, error: 'timeout' }],
    ['OFFLINE', 'False', healthy],
  ])('updates the transition time when Ready flips (%s → other)', (state, readyStatus, observation) => {
    // Prepare
    const before = previous(state, readyStatus);
    // Act
    const status = clusterStatusFrom(observation, before, 2, NOW);
    // Assess
    expect(status.conditions?.[0]?.status).not.toBe(readyStatus);
    expect(status.conditions?.[0]?.lastTransitionTime).toBe(NOW_TEXT);
  });

  it("sets observedGeneration to the generation probed and keeps others' conditions in place", () => {
    // Prepare
    const drained = { type: 'Drained', status: 'False' as const, reason: 'ApplicationsRemaining' };
    const before = { ...previous('ONLINE', 'True'), conditions: [drained] };
    // Act
    const status = clusterStatusFrom(healthy, before, 7, NOW);
    const again = clusterStatusFrom(healthy, status, 7, NOW);
    // Assess
    expect(status.observedGeneration).toBe(7);
    expect(status.conditions).toEqual([expect.objectContaining({ type: 'Ready', lastTransitionTime: NOW_TEXT }), drained]);
    expect(again.conditions).toEqual(status.conditions);
  });
});
