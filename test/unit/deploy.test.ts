import { describe, expect, it } from 'vitest';
import { statusAfterApply, withConditions, type ManifestOutcome } from '../../shared/deploy/deployment-status.ts';
import { applyOrder, implicitNamespaces, workloadReadiness, type Manifest } from '../../shared/deploy/manifests.ts';
import { deployedObjects, objectsDroppedFromSpec } from '../../shared/deploy/rollout.ts';
import { orphanAction, orphanManifests, withCleanupCondition, withOrphans } from '../../shared/deploy/orphans.ts';
import type { ApplicationStatus } from '../../shared/resources/kinds.ts';

const NOW = new Date('2026-03-01T10:00:00.123Z');
const EARLIER = '2026-02-28T09:00:00Z';

const m = (apiVersion: string, kind: string, name: string, namespace?: string, extra: object = {}): Manifest => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
  ...extra,
});

const widgetCrd = m('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'widgets.example.io', undefined, {
  spec: { group: 'example.io', names: { kind: 'Widget', plural: 'widgets' } },
});

const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' };
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'settings' };

describe('applyOrder', () => {
  it('puts namespaces first, then CRDs, then the rest, then instances of those CRDs, keeping the user order within each', () => {
    // Prepare
    const manifests = [
      m('example.io/v1', 'Widget', 'w', 'shop'),
      m('apps/v1', 'Deployment', 'web', 'shop'),
      widgetCrd,
      m('v1', 'ConfigMap', 'settings', 'shop'),
      m('v1', 'Namespace', 'shop'),
    ];
    // Act
    const order = applyOrder(manifests).map((manifest) => manifest.kind);
    // Assess
    expect(order).toEqual(['Namespace', 'CustomResourceDefinition', 'Deployment', 'ConfigMap', 'Widget']);
  });
});

describe('implicitNamespaces', () => {
  it('creates the namespaces manifests name but do not declare, never default', () => {
    const manifests = [m('v1', 'Namespace', 'shop'), m('v1', 'ConfigMap', 'a', 'shop'), m('v1', 'ConfigMap', 'b', 'billing'), m('v1', 'ConfigMap', 'c', 'default'), m('v1', 'ConfigMap', 'd')];
    expect(implicitNamespaces(manifests)).toEqual([m('v1', 'Namespace', 'billing')]);
  });
});

describe('workloadReadiness', () => {
  const liveDeployment = (status: object, generation = 2, replicas = 2) => ({ metadata: { generation }, spec: { replicas }, status: { observedGeneration: 2, ...status } });

  it('calls a Deployment ready when Available and every replica is updated and available', () => {
    const live = liveDeployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] });
    expect(workloadReadiness('Deployment', live)).toEqual({ ready: true });
  });

  it('is not ready while a rollout is partial or not yet observed', () => {
    const partial = liveDeployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] });
    const unobserved = liveDeployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] }, 3);
    expect(workloadReadiness('Deployment', partial)).toEqual({ ready: false, message: '1/2 replicas available' });
    expect(workloadReadiness('Deployment', unobserved).ready).toBe(false);
  });

  it('checks StatefulSets and DaemonSets by their own counts, and anything else is ready once applied', () => {
    expect(workloadReadiness('StatefulSet', { spec: { replicas: 3 }, status: { readyReplicas: 3, updatedReplicas: 3 } }).ready).toBe(true);
    expect(workloadReadiness('StatefulSet', { spec: { replicas: 3 }, status: { readyReplicas: 1, updatedReplicas: 3 } }).ready).toBe(false);
    expect(workloadReadiness('DaemonSet', { status: { desiredNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2 } }).ready).toBe(true);
    expect(workloadReadiness('DaemonSet', { status: { desiredNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2 } }).ready).toBe(false);
    expect(workloadReadiness('ConfigMap', {}).ready).toBe(true);
  });
});

describe('statusAfterApply', () => {
  const ready: ManifestOutcome[] = [
    { ref: configMap, outcome: 'ready' },
    { ref: deployment, outcome: 'ready' },
  ];
  const unready: ManifestOutcome[] = [
    { ref: configMap, outcome: 'ready' },
    { ref: deployment, outcome: 'unready', message: '0/2 replicas available' },
  ];

  it('is CREATING while the workloads come up, with the objects already recorded on the cluster', () => {
    const { status, requeueAfterSeconds } = statusAfterApply({ scheduledTo: 'c1', state: 'SCHEDULED' }, 'c1', 1, unready, NOW);
    expect(status).toMatchObject({ state: 'CREATING', runningOn: 'c1', lastAppliedGeneration: 1, observedGeneration: 1 });
    expect(status.manifests).toContainEqual({ ...deployment, applied: true, ready: false, message: '0/2 replicas available' });
    expect(requeueAfterSeconds).toBe(5);
  });

  it('is RUNNING once every workload is available', () => {
    const { status, requeueAfterSeconds } = statusAfterApply({ scheduledTo: 'c1', state: 'CREATING', runningOn: 'c1' }, 'c1', 1, ready, NOW);
    expect(status).toMatchObject({ state: 'RUNNING', runningOn: 'c1' });
    expect(status.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['Deployed', 'True'],
      ['Available', 'True'],
    ]);
    expect(requeueAfterSeconds).toBeUndefined();
  });

  it('is DEGRADED when a running copy loses availability without a change of ours', () => {
    const previous: ApplicationStatus = { scheduledTo: 'c1', state: 'RUNNING', runningOn: 'c1', lastAppliedGeneration: 1 };
    expect(statusAfterApply(previous, 'c1', 1, unready, NOW).status.state).toBe('DEGRADED');
    // A new generation rolling out is progress, not degradation.
    expect(statusAfterApply(previous, 'c1', 2, unready, NOW).status.state).toBe('CREATING');
  });

  it('is MIGRATING, still running on the old cluster, until the new copy is available', () => {
    const previous: ApplicationStatus = { scheduledTo: 'c2', state: 'RUNNING', runningOn: 'c1', lastAppliedGeneration: 1 };
    expect(statusAfterApply(previous, 'c2', 2, unready, NOW).status).toMatchObject({ state: 'MIGRATING', runningOn: 'c1' });
    expect(statusAfterApply(previous, 'c2', 2, ready, NOW).status).toMatchObject({ state: 'RUNNING', runningOn: 'c2' });
  });

  it('is FAILED with the server’s message when a manifest is rejected, keeping what was applied before', () => {
    const previous: ApplicationStatus = { scheduledTo: 'c1', state: 'RUNNING', runningOn: 'c1', lastAppliedGeneration: 1 };
    const outcomes: ManifestOutcome[] = [{ ref: deployment, outcome: 'rejected', message: 'spec.replicas: Invalid value: -1' }];
    const { status, requeueAfterSeconds } = statusAfterApply(previous, 'c1', 2, outcomes, NOW);
    expect(status).toMatchObject({ state: 'FAILED', runningOn: 'c1', lastAppliedGeneration: 1, observedGeneration: 2 });
    expect(status.reason).toContain('spec.replicas: Invalid value: -1');
    expect(status.conditions).toContainEqual(expect.objectContaining({ type: 'Deployed', status: 'False', reason: 'ManifestRejected' }));
    expect(requeueAfterSeconds).toBeUndefined();
  });

  it('gives the same status for the same observation, so a repeated reconcile writes nothing', () => {
    const first = statusAfterApply({ scheduledTo: 'c1' }, 'c1', 1, ready, NOW).status;
    const again = statusAfterApply({ scheduledTo: 'c1', ...first }, 'c1', 1, ready, new Date('2026-03-01T11:00:00Z')).status;
    expect(again).toEqual(first);
  });
});

describe('withConditions', () => {
  it('keeps other reconcilers’ conditions and every condition’s place, and transition times of unchanged ones', () => {
    const previous = [
      { type: 'Deployed', status: 'True' as const, lastTransitionTime: EARLIER },
      { type: 'Scheduled', status: 'True' as const, lastTransitionTime: EARLIER },
    ];
    const next = withConditions(previous, [{ type: 'Deployed', status: 'True' }, { type: 'Available', status: 'False' }], NOW);
    expect(next).toEqual([
      { type: 'Deployed', status: 'True', lastTransitionTime: EARLIER },
      { type: 'Scheduled', status: 'True', lastTransitionTime: EARLIER },
      { type: 'Available', status: 'False', lastTransitionTime: '2026-03-01T10:00:00Z' },
    ]);
  });
});

describe('what to remove', () => {
  it('removes objects an earlier generation applied that the spec no longer has', () => {
    const recorded = [
      { ...configMap, applied: true, ready: true },
      { ...deployment, applied: true, ready: true },
      { apiVersion: 'v1', kind: 'Secret', namespace: 'shop', name: 'never', applied: false, ready: false },
    ];
    expect(objectsDroppedFromSpec(recorded, [{ ref: deployment, outcome: 'ready' }])).toEqual([m('v1', 'ConfigMap', 'settings', 'shop')]);
    // The namespace the deployment still lives in is not removed with its manifest.
    const withNamespace = [...recorded, { apiVersion: 'v1', kind: 'Namespace', name: 'shop', applied: true, ready: true }];
    expect(objectsDroppedFromSpec(withNamespace, [{ ref: deployment, outcome: 'ready' }]).map((o) => o.kind)).toEqual(['ConfigMap']);
    expect(deployedObjects([m('apps/v1', 'Deployment', 'web', 'shop')], recorded).map((o) => o.kind)).toEqual(['Deployment', 'ConfigMap']);
  });
});

describe('objects left behind on an unreachable cluster', () => {
  const web = [m('v1', 'ConfigMap', 'settings', 'shop'), m('apps/v1', 'Deployment', 'web', 'shop')];

  it('records what a move left on a cluster, merging repeated records without duplicates', () => {
    // Prepare
    const first = withOrphans(undefined, 'c3', web);
    // Act
    const again = withOrphans(first, 'c3', [...web, m('v1', 'Service', 'web', 'shop')]);
    const other = withOrphans(again, 'c2', [m('v1', 'ConfigMap', 'flags')]);
    // Assess
    expect(first).toEqual([
      {
        cluster: 'c3',
        objects: [
          { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'settings' },
          { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
        ],
      },
    ]);
    expect(withOrphans(first, 'c3', web)).toEqual(first);
    expect(again[0]?.objects.map((o) => o.kind)).toEqual(['ConfigMap', 'Deployment', 'Service']);
    expect(other.map((o) => o.cluster)).toEqual(['c3', 'c2']);
    expect(other[1]?.objects).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'flags' }]);
  });

  it('turns a record back into manifests that can be deleted', () => {
    // Act
    const manifests = orphanManifests(withOrphans(undefined, 'c3', [...web, m('v1', 'Namespace', 'shop')])[0]!);
    // Assess
    expect(manifests).toEqual([...web, m('v1', 'Namespace', 'shop')]);
  });

  it('retries removal only on a reachable (ONLINE or DELETING) cluster and forgets a gone cluster or one deployed to again', () => {
    // Assess
    expect(orphanAction({ state: 'ONLINE' }, false)).toBe('remove');
    expect(orphanAction({ state: 'DELETING' }, false)).toBe('remove');
    expect(orphanAction({ state: 'OFFLINE' }, false)).toBe('keep');
    expect(orphanAction({ state: 'UNHEALTHY' }, false)).toBe('keep');
    expect(orphanAction({}, false)).toBe('keep');
    expect(orphanAction(undefined, false)).toBe('drop');
    expect(orphanAction({ state: 'ONLINE' }, true)).toBe('drop');
  });

  it('says CleanedUp False while anything is left, True once it is gone, and nothing for an app that never left anything', () => {
    // Prepare
    const deployed = [{ type: 'Deployed', status: 'True' as const, reason: 'Applied', lastTransitionTime: EARLIER }];
    const orphans = withOrphans(undefined, 'c3', web);
    // Act
    const left = withCleanupCondition(deployed, orphans, NOW);
    const stillLeft = withCleanupCondition(left, orphans, new Date('2026-03-01T11:00:00Z'));
    const cleaned = withCleanupCondition(left, [], NOW);
    // Assess
    expect(withCleanupCondition(deployed, [], NOW)).toEqual(deployed);
    expect(withCleanupCondition(undefined, undefined, NOW)).toBeUndefined();
    expect(left).toEqual([
      ...deployed,
      {
        type: 'CleanedUp',
        status: 'False',
        reason: 'ClusterUnreachable',
        message: 'objects left behind on c3 (2); removal is retried while the cluster is ONLINE',
        lastTransitionTime: '2026-03-01T10:00:00Z',
      },
    ]);
    expect(stillLeft).toEqual(left);
    expect(cleaned?.[1]).toMatchObject({ type: 'CleanedUp', status: 'True', reason: 'OrphansRemoved' });
  });
});
