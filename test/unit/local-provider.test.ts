import { describe, expect, it } from 'vitest';
import { parseKubernetesVersion, planFakeNodes } from '../../shared/local/kube-cluster.ts';

describe('parseKubernetesVersion', () => {
  it('reads k8s.io/kubernetes from the output of k8s-local version', () => {
    // Prepare
    const output = 'go go1.26.1\ngo.etcd.io/etcd/server/v3 v3.6.5\nk8s.io/kubernetes v1.36.3\nsigs.k8s.io/kwok v0.8.0\n';

    // Act / Assess
    expect(parseKubernetesVersion(output)).toBe('1.36.3');
    expect(parseKubernetesVersion('no build info\n')).toBeUndefined();
  });
});

describe('planFakeNodes', () => {
  it('creates the missing nodes up to the desired count', () => {
    expect(planFakeNodes(['kwok-node-0'], 3)).toEqual({ create: ['kwok-node-1', 'kwok-node-2'], remove: [] });
  });

  it('removes the nodes beyond the desired count', () => {
    expect(planFakeNodes(['kwok-node-0', 'kwok-node-1', 'kwok-node-2'], 1)).toEqual({
      create: [],
      remove: ['kwok-node-1', 'kwok-node-2'],
    });
  });

  it('fills gaps and removes nodes with other names', () => {
    expect(planFakeNodes(['kwok-node-1', 'extra'], 2)).toEqual({ create: ['kwok-node-0'], remove: ['extra'] });
  });

  it('does nothing when the count is right', () => {
    expect(planFakeNodes(['kwok-node-0', 'kwok-node-1'], 2)).toEqual({ create: [], remove: [] });
  });
});
