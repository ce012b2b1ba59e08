import { describe, expect, it } from 'vitest';
import { clusterDrain, unreachableSince } from '../../shared/garbage-collection/cluster-drain.ts';
import { dependentAction, misplacedOwners, OwnershipGraph, withoutOwner } from '../../shared/garbage-collection/ownership.ts';
import { deletionFinalizers, DRAIN_FINALIZER, FOREGROUND_FINALIZER, ORPHAN_FINALIZER, propagationPolicy } from '../../shared/resources/deletion.ts';
import type { ApplicationStatus, Kind } from '../../shared/resources/kinds.ts';
import type { StoredResource } from '../../shared/store/resource-store.ts';

const NOW = new Date('2026-11-21T12:00:00Z');

interface Options {
  owners?: StoredResource[];
  deleting?: boolean;
  finalizers?: string[];
  namespace?: string;
  status?: unknown;
  spec?: unknown;
}

function object(kind: Kind, name: string, options: Options = {}): StoredResource {
  return {
    apiVersion: 'shoal.io/v1alpha1',
    kind,
    metadata: {
      name,
      namespace: options.namespace ?? 'default',
      uid: `uid-${options.namespace ?? 'default'}-${name}`,
      resourceVersion: '1',
      generation: 1,
      finalizers: options.finalizers,
      deletionTimestamp: options.deleting ? '2026-11-21T11:59:00Z' : undefined,
      ownerReferences: options.owners?.map((owner) => ({ apiVersion: 'shoal.io/v1alpha1', kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid })),
    },
    spec: options.spec ?? {},
    status: options.status,
  };
}

describe('deletion policies', () => {
  it('start Foreground and Orphan deletions with the collector finalizer, and every Cluster deletion with the drain', () => {
    // Assess
    expect(deletionFinalizers('Application', 'Foreground')).toEqual([FOREGROUND_FINALIZER]);
    expect(deletionFinalizers('Application', 'Background')).toEqual([]);
    expect(deletionFinalizers('Metric', 'Orphan')).toEqual([ORPHAN_FINALIZER]);
    expect(deletionFinalizers('Cluster', 'Background')).toEqual([DRAIN_FINALIZER]);
    expect(propagationPolicy('orphan')).toBe('Orphan');
    expect(propagationPolicy('cascade')).toBeUndefined();
  });
});

describe('dependentAction', () => {
  const cloud = object('Cloud', 'eu');
  const provider = object('InfrastructureProvider', 'capi');

  it('keeps a dependent while an owner is solid', () => {
    // Prepare
    const cluster = object('Cluster', 'a', { owners: [cloud] });
    const graph = new OwnershipGraph('default', [cloud, cluster]);
    // Act / Assess
    expect(dependentAction(graph, cluster)).toEqual({ action: 'keep' });
  });

  it('deletes a dependent whose owners are all gone (Background), or waiting for it (Foreground)', () => {
    // Prepare
    const cluster = object('Cluster', 'a', { owners: [cloud] });
    const waitingCloud = object('Cloud', 'eu', { deleting: true, finalizers: [FOREGROUND_FINALIZER] });
    // Act / Assess
    expect(dependentAction(new OwnershipGraph('default', [cluster]), cluster)).toEqual({ action: 'delete', policy: 'Background' });
    expect(dependentAction(new OwnershipGraph('default', [waitingCloud, cluster]), cluster)).toEqual({ action: 'delete', policy: 'Foreground' });
  });

  it('treats an owner of the same name but another uid as gone (the owner was deleted and created again)', () => {
    // Prepare
    const cluster = object('Cluster', 'a', { owners: [cloud] });
    const recreated = { ...cloud, metadata: { ...cloud.metadata, uid: 'uid-new' } };
    // Act / Assess
    expect(dependentAction(new OwnershipGraph('default', [recreated, cluster]), cluster)).toEqual({ action: 'delete', policy: 'Background' });
  });

  it('only detaches the gone owner when another owner is solid', () => {
    // Prepare
    const cluster = object('Cluster', 'a', { owners: [cloud, provider] });
    const graph = new OwnershipGraph('default', [provider, cluster]);
    // Act
    const action = dependentAction(graph, cluster);
    // Assess
    expect(action).toEqual({ action: 'detach', refs: [cluster.metadata.ownerReferences?.[0]] });
    expect(withoutOwner(cluster, new Set(['uid-default-eu']))?.metadata.ownerReferences).toEqual([cluster.metadata.ownerReferences?.[1]]);
    expect(withoutOwner(cluster, new Set(['uid-other']))).toBeUndefined();
  });

  it('never deletes for an owner in another namespace: the reference is invalid, not dangling', () => {
    // Prepare
    const foreign = object('Cloud', 'eu', { namespace: 'team-b' });
    const cluster = object('Cluster', 'a', { owners: [foreign] });
    const graph = new OwnershipGraph('default', [cluster], new Map([[foreign.metadata.uid, 'team-b']]));
    // Act / Assess
    expect(dependentAction(graph, cluster)).toEqual({ action: 'keep' });
    expect(misplacedOwners(graph, cluster)).toEqual(cluster.metadata.ownerReferences);
  });

  it('leaves a dependent already being deleted alone', () => {
    // Prepare
    const cluster = object('Cluster', 'a', { owners: [cloud], deleting: true, finalizers: ['x'] });
    // Act / Assess
    expect(dependentAction(new OwnershipGraph('default', [cluster]), cluster)).toEqual({ action: 'keep' });
  });
});

describe('OwnershipGraph', () => {
  it('finds dependents by uid, or by kind and name for an owner that is gone', () => {
    // Prepare
    const owner = object('Application', 'parent');
    const child = object('Application', 'child', { owners: [owner] });
    const other = object('Application', 'other');
    const graph = new OwnershipGraph('default', [owner, child, other]);
    // Act / Assess
    expect(graph.dependentsOf({ kind: 'Application', name: 'parent', uid: owner.metadata.uid })).toEqual([child]);
    expect(graph.dependentsOf({ kind: 'Application', name: 'parent' })).toEqual([child]);
    expect(graph.dependentsOf({ kind: 'Application', name: 'parent', uid: 'another' })).toEqual([]);
    expect(graph.dependentsOf({ kind: 'Cluster', name: 'parent' })).toEqual([]);
  });

  it('finds the ownership path that closes a cycle, and none in a tree', () => {
    // Prepare: a owns b, b owns c, c owns a
    const a0 = object('Application', 'a');
    const b = object('Application', 'b', { owners: [a0] });
    const c = object('Application', 'c', { owners: [b] });
    const a = object('Application', 'a', { owners: [c] });
    const cyclic = new OwnershipGraph('default', [a, b, c]);
    const tree = new OwnershipGraph('default', [a0, b, c]);
    // Act
    const path = cyclic.pathDown(b, a);
    // Assess
    expect(path?.map((o) => o.metadata.name)).toEqual(['b', 'c', 'a']);
    expect(tree.pathDown(b, a0)).toBeUndefined();
  });
});

describe('clusterDrain', () => {
  const app = (name: string, status: ApplicationStatus) => ({ name, status });
  const reachable = object('Cluster', 'c1', { deleting: true, spec: { kubeconfigSecret: 's' }, status: { state: 'DELETING' } });

  it('releases a deleted cluster that no application uses', () => {
    // Act / Assess
    expect(clusterDrain(reachable, [app('web', { runningOn: 'c2', scheduledTo: 'c2' })], NOW, 300)).toEqual({ action: 'release' });
  });

  it('waits while an application runs there, is bound there or left objects there, naming them', () => {
    // Prepare
    const apps = [
      app('web', { runningOn: 'c1', scheduledTo: 'c2' }),
      app('api', { scheduledTo: 'c1' }),
      app('db', { runningOn: 'c2', orphans: [{ cluster: 'c1', objects: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x' }] }] }),
    ];
    // Act / Assess
    expect(clusterDrain(reachable, apps, NOW, 300)).toEqual({ action: 'wait', message: 'waiting for 3 applications (api, db, web) to leave the cluster' });
  });

  it('lets an unreachable cluster go after the grace period, counted from the later of deletion and losing it', () => {
    // Prepare
    const lost = (lastTransitionTime: string) =>
      object('Cluster', 'c1', {
        deleting: true,
        spec: { kubeconfigSecret: 's' },
        status: { state: 'OFFLINE', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime }] },
      });
    const apps = [app('web', { runningOn: 'c1' })];
    // Act
    const early = clusterDrain(lost('2026-11-21T11:00:00Z'), apps, new Date('2026-11-21T12:03:00Z'), 300);
    const late = clusterDrain(lost('2026-11-21T11:00:00Z'), apps, new Date('2026-11-21T12:05:00Z'), 300);
    const recentlyLost = clusterDrain(lost('2026-11-21T12:01:00Z'), apps, new Date('2026-11-21T12:05:00Z'), 300);
    // Assess
    expect(early).toEqual({ action: 'wait', message: 'waiting for 1 application (web) to leave the cluster; it is unreachable and goes anyway after 300 s' });
    expect(late.action).toBe('abandon');
    expect(recentlyLost.action).toBe('wait');
  });

  it('counts a cluster without credentials (never created) as unreachable', () => {
    // Prepare
    const uncreated = object('Cluster', 'c1', { deleting: true, spec: { infrastructure: {} }, status: { state: 'ONLINE' } });
    // Act / Assess
    expect(unreachableSince(uncreated)).toEqual(new Date('2026-11-21T11:59:00Z'));
    expect(unreachableSince(reachable)).toBeUndefined();
  });
});
