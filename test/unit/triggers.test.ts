import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isKind } from '../../shared/resources/kinds.ts';
import { RECONCILERS, reconcilerDefinition, streamFilterPatterns, type StreamTrigger } from '../../shared/reconcilers/triggers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('RECONCILERS', () => {
  it.each(RECONCILERS.map((definition) => [definition.name, definition.entry]))('%s has its entry file %s', (_name, entry) => {
    // Prepare
    const path = `${ROOT}${entry}`;
    // Act
    const exists = existsSync(path);
    // Assess
    expect(exists).toBe(true);
    expect(entry).toMatch(/^lambdas\/[a-z0-9-]+\/handler\.ts$/);
  });

  it('has unique reconciler names and schedule names across all reconcilers', () => {
    // Prepare
    const names = RECONCILERS.map((definition) => definition.name);
    const schedules = RECONCILERS.flatMap((definition) => definition.schedules.map((schedule) => schedule.name));
    // Act
    const duplicates = [...names, ...schedules].filter((name, index, all) => all.indexOf(name) !== index);
    // Assess
    expect(duplicates).toEqual([]);
    expect(schedules.length).toBeGreaterThan(0);
  });

  it.each(RECONCILERS.map((definition) => [definition.name, definition] as const))('%s has sane settings', (_name, definition) => {
    // Prepare
    const { stream, schedules } = definition;
    // Act / Assess: names usable in AWS resource names, kinds real, limits within Lambda's
    expect(definition.name).toMatch(/^[a-z0-9-]+$/);
    expect(definition.owns.length).toBeGreaterThan(0);
    expect(definition.owns.every(isKind)).toBe(true);
    expect(definition.timeoutSeconds).toBeGreaterThan(0);
    expect(definition.timeoutSeconds).toBeLessThanOrEqual(900);
    for (const schedule of schedules) {
      expect(schedule.name).toMatch(/^[a-z0-9-]+$/);
      expect(schedule.rateMinutes).toBeGreaterThanOrEqual(1);
      expect(Number.isInteger(schedule.rateMinutes)).toBe(true);
    }
    expect(stream.kinds.every(isKind)).toBe(true);
    expect(stream.eventNames.length).toBeGreaterThan(0);
    expect(stream.batchSize).toBeGreaterThanOrEqual(1);
    expect(stream.batchSize).toBeLessThanOrEqual(10_000);
  });

  it('finds a definition by name and refuses an unknown one', () => {
    // Prepare
    const unknown = 'no-such-reconciler' as Parameters<typeof reconcilerDefinition>[0];
    // Act / Assess
    expect(reconcilerDefinition('cluster-probe').entry).toBe('lambdas/cluster-probe/handler.ts');
    expect(() => reconcilerDefinition(unknown)).toThrow('unknown reconciler no-such-reconciler');
  });
});

describe('streamFilterPatterns', () => {
  it('filters on event names and on the partition key (the kind)', () => {
    // Prepare
    const trigger: StreamTrigger = {
      kinds: ['Application', 'Cluster'],
      eventNames: ['INSERT', 'REMOVE'],
      batchSize: 1,
      maximumBatchingWindowSeconds: 0,
      maximumRetryAttempts: 1,
      bisectBatchOnFunctionError: false,
      startingPosition: 'LATEST',
    };
    // Act
    const patterns = streamFilterPatterns(trigger);
    // Assess
    expect(patterns).toEqual([{ eventName: ['INSERT', 'REMOVE'], dynamodb: { Keys: { pk: { S: ['Application', 'Cluster'] } } } }]);
    expect(JSON.parse(JSON.stringify(patterns))).toEqual(patterns);
  });

  it('passes writes only of objects being deleted, and every removal, for a deletingOnly trigger', () => {
    // Prepare
    const trigger: StreamTrigger = {
      kinds: ['Cloud'],
      eventNames: ['MODIFY', 'REMOVE'],
      deletingOnly: true,
      batchSize: 1,
      maximumBatchingWindowSeconds: 0,
      maximumRetryAttempts: 1,
      bisectBatchOnFunctionError: false,
      startingPosition: 'LATEST',
    };
    // Act
    const patterns = streamFilterPatterns(trigger);
    // Assess
    expect(patterns).toEqual([
      { eventName: ['MODIFY'], dynamodb: { Keys: { pk: { S: ['Cloud'] } }, NewImage: { deleting: { BOOL: [true] } } } },
      { eventName: ['REMOVE'], dynamodb: { Keys: { pk: { S: ['Cloud'] } } } },
    ]);
  });

  it('copies the lists, so a pattern cannot change a trigger', () => {
    // Prepare
    const [probe] = RECONCILERS;
    const [pattern] = streamFilterPatterns(probe.stream) as [{ eventName: string[] }];
    // Act
    pattern.eventName.push('REMOVE');
    // Assess
    expect(probe.stream.eventNames).toEqual(['INSERT', 'MODIFY']);
  });
});
