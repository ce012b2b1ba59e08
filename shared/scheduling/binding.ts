import { isDeepStrictEqual } from 'node:util';
import type { ApplicationStatus } from '../resources/kinds.ts';
import type { Condition } from '../resources/meta.ts';
import { kubeTimestamp, sameJson } from '../resources/values.ts';
import type { PlacementDecision, PlacementEntry } from './place.ts';

export const SCHEDULED_CONDITION = 'Scheduled';

/** Scores and metric values closer than this are not worth a status write (each write is a stream event). */
const PLACEMENT_TOLERANCE = 0.01;

/**
 * The application status after a placement decision: only the fields the scheduler owns
 * (scheduledTo, scheduledAt, placement, the Scheduled condition, and state PENDING or
 * SCHEDULED) change; everything the deployer writes is kept.
 */
export function statusAfter(current: ApplicationStatus, decision: PlacementDecision, now: Date): ApplicationStatus {
  const nowText = kubeTimestamp(now);
  const next: ApplicationStatus = {
    ...current,
    placement: samePlacement(current.placement, decision.placement) ? current.placement : decision.placement,
  };
  const previous = current.conditions?.find((condition) => condition.type === SCHEDULED_CONDITION);
  let condition: Condition;
  switch (decision.action) {
    case 'bind':
      condition = { type: SCHEDULED_CONDITION, status: 'True', reason: decision.reason, message: decision.message };
      if (current.scheduledTo !== decision.cluster) {
        next.scheduledTo = decision.cluster;
        next.scheduledAt = nowText;
        // The deployer owns every later state; SCHEDULED only says "bound, nothing deployed yet".
        if (!current.runningOn) next.state = 'SCHEDULED';
      }
      break;
    case 'stay':
      condition =
        previous?.status === 'True' ? previous : { type: SCHEDULED_CONDITION, status: 'True', reason: 'Bound', message: decision.message };
      break;
    case 'unschedulable':
      condition = { type: SCHEDULED_CONDITION, status: 'False', reason: 'NoFittingCluster', message: decision.message };
      if (decision.release) {
        // The deployer removes what runs on the departing cluster and then says PENDING itself.
        next.scheduledTo = undefined;
        next.scheduledAt = undefined;
      }
      if (!next.scheduledTo && !next.runningOn) next.state = 'PENDING';
      break;
  }
  condition = { ...condition, lastTransitionTime: previous?.status === condition.status ? previous.lastTransitionTime : nowText };
  // Replace in place: moving the condition would make an unchanged status look changed.
  const conditions = current.conditions ?? [];
  next.conditions = previous
    ? conditions.map((other) => (other.type === SCHEDULED_CONDITION ? condition : other))
    : [...conditions, condition];
  return next;
}

/** True when writing `next` would change nothing a reader cares about. */
export function sameStatus(current: ApplicationStatus | undefined, next: ApplicationStatus): boolean {
  return sameJson(current ?? {}, next);
}

function samePlacement(before: readonly PlacementEntry[] | undefined, after: readonly PlacementEntry[]): boolean {
  if (!before || before.length !== after.length) return false;
  return before.every((entry, index) => {
    const other = after[index];
    return (
      other !== undefined &&
      entry.cluster === other.cluster &&
      isDeepStrictEqual(entry.rejected, other.rejected) &&
      isDeepStrictEqual(entry.missingMetrics, other.missingMetrics) &&
      close(entry.score, other.score) &&
      sameKeys(entry.metrics, other.metrics) &&
      Object.entries(entry.metrics ?? {}).every(([name, value]) => close(value, other.metrics?.[name]))
    );
  });
}

const close = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? a === b : Math.abs(a - b) < PLACEMENT_TOLERANCE);

const sameKeys = (a: object | undefined, b: object | undefined) => isDeepStrictEqual(Object.keys(a ?? {}).sort(), Object.keys(b ?? {}).sort());
