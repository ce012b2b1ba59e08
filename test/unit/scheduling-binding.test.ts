import { describe, expect, it } from 'vitest';
import type { ApplicationStatus } from '../../shared/resources/kinds.ts';
import { sameStatus, statusAfter } from '../../shared/scheduling/binding.ts';
import type { PlacementDecision } from '../../shared/scheduling/place.ts';

const NOW = new Date('2026-03-01T10:00:00.123Z');
const NOW_TEXT = '2026-03-01T10:00:00Z';
const EARLIER = '2026-03-01T09:00:00Z';
const placement = [{ cluster: 'c2', score: 0.7, metrics: { load: 0.8 } }];

describe('statusAfter', () => {
  it('binds a new application: scheduledTo, scheduledAt, placement, SCHEDULED, condition True', () => {
    // Prepare
    const decision: PlacementDecision = { action: 'bind', cluster: 'c2', reason: 'Bound', message: 'bound to c2', placement };
    // Act
    const status = statusAfter({}, decision, NOW);
    // Assess
    expect(status).toEqual({
      scheduledTo: 'c2',
      scheduledAt: NOW_TEXT,
      state: 'SCHEDULED',
      placement,
      conditions: [{ type: 'Scheduled', status: 'True', reason: 'Bound', message: 'bound to c2', lastTransitionTime: NOW_TEXT }],
    });
  });

  it("migrates without touching the deployer's fields or state", () => {
    // Prepare
    const current: ApplicationStatus = {
      state: 'RUNNING',
      runningOn: 'c1',
      scheduledTo: 'c1',
      scheduledAt: EARLIER,
      lastAppliedGeneration: 3,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Running', lastTransitionTime: EARLIER },
        { type: 'Scheduled', status: 'True', reason: 'Bound', message: 'bound to c1', lastTransitionTime: EARLIER },
      ],
    };
    const decision: PlacementDecision = { action: 'bind', cluster: 'c2', reason: 'Migrated', message: 'moved to c2', placement };
    // Act
    const status = statusAfter(current, decision, NOW);
    // Assess
    expect(status).toEqual({
      ...current,
      scheduledTo: 'c2',
      scheduledAt: NOW_TEXT,
      placement,
      conditions: [current.conditions![0], { type: 'Scheduled', status: 'True', reason: 'Migrated', message: 'moved to c2', lastTransitionTime: EARLIER }],
    });
  });

  it('marks an unbound application PENDING with the reason', () => {
    // Prepare
    const decision: PlacementDecision = { action: 'unschedulable', message: 'no ONLINE cluster (c1: OFFLINE)', placement: [] };
    // Act
    const status = statusAfter({}, decision, NOW);
    // Assess
    expect(status).toEqual({
      state: 'PENDING',
      placement: [],
      conditions: [{ type: 'Scheduled', status: 'False', reason: 'NoFittingCluster', message: 'no ONLINE cluster (c1: OFFLINE)', lastTransitionTime: NOW_TEXT }],
    });
  });

  it('leaves a bound application on its cluster and in its state when nothing fits', () => {
    // Prepare
    const current: ApplicationStatus = { state: 'RUNNING', scheduledTo: 'c1', runningOn: 'c1', scheduledAt: EARLIER };
    const decision: PlacementDecision = { action: 'unschedulable', message: 'c1 is OFFLINE and …', placement: [] };
    // Act
    const status = statusAfter(current, decision, NOW);
    // Assess
    expect(status).toMatchObject({ state: 'RUNNING', scheduledTo: 'c1', scheduledAt: EARLIER });
    expect(status.conditions).toEqual([expect.objectContaining({ status: 'False', reason: 'NoFittingCluster' })]);
  });

  it('drops a released binding, leaving state and runningOn to the deployer while a copy still runs', () => {
    // Prepare
    const running: ApplicationStatus = { state: 'RUNNING', scheduledTo: 'c1', runningOn: 'c1', scheduledAt: EARLIER };
    const bound: ApplicationStatus = { state: 'SCHEDULED', scheduledTo: 'c1', scheduledAt: EARLIER };
    const decision: PlacementDecision = { action: 'unschedulable', message: 'c1 is being deleted and …', placement: [], release: true };
    // Act
    const fromRunning = statusAfter(running, decision, NOW);
    const fromBound = statusAfter(bound, decision, NOW);
    // Assess
    expect(fromRunning).toMatchObject({ state: 'RUNNING', runningOn: 'c1', scheduledTo: undefined, scheduledAt: undefined });
    expect(fromBound).toMatchObject({ state: 'PENDING', scheduledTo: undefined });
  });

  it('changes nothing when the decision repeats and scores moved only a little', () => {
    // Prepare
    const current = statusAfter({}, { action: 'bind', cluster: 'c2', reason: 'Bound', message: 'bound to c2', placement }, new Date(EARLIER));
    const again: PlacementDecision = { action: 'stay', cluster: 'c2', message: 'c2 is still the best fit', placement: [{ cluster: 'c2', score: 0.703, metrics: { load: 0.801 } }] };
    // Act
    const status = statusAfter(current, again, NOW);
    // Assess
    expect(sameStatus(current, status)).toBe(true);
  });

  it('writes a placement whose scores moved materially', () => {
    // Prepare
    const current = statusAfter({}, { action: 'bind', cluster: 'c2', reason: 'Bound', message: 'bound to c2', placement }, new Date(EARLIER));
    const again: PlacementDecision = { action: 'stay', cluster: 'c2', message: 'c2 is still the best fit', placement: [{ cluster: 'c2', score: 0.5, metrics: { load: 0.5 } }] };
    // Act
    const status = statusAfter(current, again, NOW);
    // Assess
    expect(sameStatus(current, status)).toBe(false);
    expect(status.placement).toEqual(again.placement);
  });
});

describe('statusAfter keeps other controllers\' conditions where they are', () => {
  it('replaces the Scheduled condition in place, so an unchanged decision writes nothing', () => {
    // Prepare: the deployer's condition sits after the scheduler's
    const scheduled = { type: 'Scheduled', status: 'True' as const, reason: 'Bound', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const deployed = { type: 'Deployed', status: 'True' as const, reason: 'Applied', lastTransitionTime: '2026-01-01T00:00:01Z' };
    const current = { scheduledTo: 'c1', scheduledAt: '2026-01-01T00:00:00Z', placement: [], conditions: [scheduled, deployed] };
    // Act
    const next = statusAfter(current, { action: 'stay', cluster: 'c1', placement: [], message: 'ok' }, new Date('2026-01-02T00:00:00Z'));
    // Assess
    expect(next.conditions?.map((condition) => condition.type)).toEqual(['Scheduled', 'Deployed']);
    expect(sameStatus(current, next)).toBe(true);
  });
});
