import type { ApplicationStatus, ManifestStatus } from '../resources/kinds.ts';
import type { Condition } from '../resources/meta.ts';
import { kubeTimestamp } from '../resources/values.ts';
import { describeRef, type ObjectRef } from './manifests.ts';

/** How soon the deployer looks again while objects are being created or a migration waits. */
export const PROGRESS_RECHECK_SECONDS = 5;
/** How soon a degraded application is looked at again, ahead of the scheduled resync. */
export const DEGRADED_RECHECK_SECONDS = 30;

/** What became of one manifest on the target cluster in this reconcile. */
export interface ManifestOutcome {
  ref: ObjectRef;
  outcome: 'ready' | 'unready' | 'rejected' | 'waiting';
  message?: string;
  /** The live object as it was before this apply (read only when asked for), and as the apply returned it. */
  before?: unknown;
  live?: unknown;
}

/** The part of an Application's status the deployer owns (see the scheduler/deployer contract). */
export type DeployerStatus = Pick<
  ApplicationStatus,
  'state' | 'reason' | 'runningOn' | 'manifests' | 'lastAppliedGeneration' | 'observedGeneration' | 'conditions' | 'orphans'
>;

export function manifestStatus({ ref, outcome, message }: ManifestOutcome): ManifestStatus {
  const status: ManifestStatus = { ...ref, applied: outcome === 'ready' || outcome === 'unready', ready: outcome === 'ready' };
  if (message) status.message = message;
  return status;
}

/**
 * Replaces the deployer's conditions, keeping others' (Scheduled) and unchanged transition
 * times. Each condition keeps its place in the list: moving them would make every write
 * of another reconciler that appends its own condition look like a change, and the two
 * would wake each other forever.
 */
export function withConditions(previous: readonly Condition[] | undefined, mine: readonly Condition[], now: Date): Condition[] {
  const stamped = mine.map((condition) => {
    const before = previous?.find((c) => c.type === condition.type);
    const lastTransitionTime = before && before.status === condition.status ? before.lastTransitionTime : kubeTimestamp(now);
    return { ...condition, lastTransitionTime };
  });
  const replaced = (previous ?? []).map((c) => stamped.find((mineNow) => mineNow.type === c.type) ?? c);
  return [...replaced, ...stamped.filter((c) => !replaced.includes(c))];
}

const listed = (outcomes: readonly ManifestOutcome[]) =>
  outcomes.map((o) => (o.message ? `${describeRef(o.ref)}: ${o.message}` : describeRef(o.ref))).join('; ');

/**
 * Pure: the deployer's status after applying an application's manifests to `cluster`.
 * A rejection is FAILED and not retried until something changes; objects still coming
 * up are CREATING (or MIGRATING when they replace a copy on another cluster); a copy
 * that was running and lost availability without any change of ours is DEGRADED.
 * When the result is RUNNING on a new cluster, the caller removes the old copy first.
 */
export function statusAfterApply(
  previous: ApplicationStatus,
  cluster: string,
  generation: number,
  outcomes: readonly ManifestOutcome[],
  now: Date,
): { status: DeployerStatus; requeueAfterSeconds?: number } {
  const migrating = previous.runningOn !== undefined && previous.runningOn !== cluster;
  const rejected = outcomes.filter((o) => o.outcome === 'rejected');
  const waiting = outcomes.filter((o) => o.outcome === 'waiting');
  const unready = outcomes.filter((o) => o.outcome === 'unready');
  const common = { manifests: outcomes.map(manifestStatus), observedGeneration: generation };
  const conditions = (deployed: Condition, available: Condition) => withConditions(previous.conditions, [deployed, available], now);

  if (rejected.length) {
    const reason = `${cluster} rejected ${listed(rejected)}`;
    return {
      status: {
        ...common,
        state: 'FAILED',
        reason,
        runningOn: previous.runningOn,
        lastAppliedGeneration: previous.lastAppliedGeneration,
        conditions: conditions(
          { type: 'Deployed', status: 'False', reason: 'ManifestRejected', message: reason },
          { type: 'Available', status: 'False', reason: 'NotDeployed', message: 'the manifests could not be applied' },
        ),
      },
    };
  }

  const applied = waiting.length === 0;
  const ready = applied && unready.length === 0;
  const deployed: Condition = applied
    ? { type: 'Deployed', status: 'True', reason: 'Applied', message: `applied to ${cluster}` }
    : { type: 'Deployed', status: 'False', reason: 'WaitingForCustomResources', message: listed(waiting) };
  const available: Condition = ready
    ? { type: 'Available', status: 'True', reason: 'WorkloadsAvailable', message: `available on ${cluster}` }
    : { type: 'Available', status: 'False', reason: 'WorkloadsUnavailable', message: listed([...waiting, ...unready]) };
  const lastAppliedGeneration = applied ? generation : previous.lastAppliedGeneration;

  if (ready) {
    return { status: { ...common, state: 'RUNNING', reason: undefined, runningOn: cluster, lastAppliedGeneration, conditions: conditions(deployed, available) } };
  }
  const wasRunningThis =
    (previous.state === 'RUNNING' || previous.state === 'DEGRADED') &&
    previous.runningOn === cluster &&
    previous.lastAppliedGeneration === generation;
  if (!migrating && wasRunningThis) {
    return {
      status: {
        ...common,
        state: 'DEGRADED',
        reason: `unavailable on ${cluster}: ${listed(unready)}`,
        runningOn: cluster,
        lastAppliedGeneration,
        conditions: conditions(deployed, available),
      },
      requeueAfterSeconds: DEGRADED_RECHECK_SECONDS,
    };
  }
  return {
    status: {
      ...common,
      state: migrating ? 'MIGRATING' : 'CREATING',
      reason: migrating ? `moving from ${previous.runningOn} to ${cluster}` : undefined,
      // The objects exist on `cluster` from now on, so deletion and migration must know it.
      runningOn: previous.runningOn ?? cluster,
      lastAppliedGeneration,
      conditions: conditions(deployed, available),
    },
    requeueAfterSeconds: PROGRESS_RECHECK_SECONDS,
  };
}
