import { describe, expect, it } from 'vitest';
import { matchesAnyPattern, matchesPattern, type FilterPattern } from '../../shared/local/event-filter.ts';
import { RECONCILERS, streamFilterPatterns } from '../../shared/reconcilers/triggers.ts';

/** A DynamoDB stream record as Lambda hands it to a filter (keys only, as Shoal's table streams). */
function streamRecord(eventName: string, kind: string, name = 'default/one') {
  return {
    eventID: 'e-1',
    eventName,
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-central-1',
    dynamodb: {
      Keys: { pk: { S: kind }, sk: { S: name } },
      SequenceNumber: '100',
      SizeBytes: 42,
      StreamViewType: 'KEYS_ONLY',
    },
  };
}

describe('matchesPattern with the cluster-probe stream filter', () => {
  const [probe] = RECONCILERS;
  const [pattern] = streamFilterPatterns(probe.stream) as [FilterPattern];

  it.each([
    ['INSERT', 'Cluster', true],
    ['MODIFY', 'Cluster', true],
    ['REMOVE', 'Cluster', false],
    ['INSERT', 'Application', false],
    ['MODIFY', 'Metric', false],
    ['INSERT', 'cluster', false],
  ])('%s of a %s record → %s', (eventName, kind, expected) => {
    // Prepare
    const record = streamRecord(eventName, kind);
    // Act
    const matched = matchesPattern(pattern, record);
    // Assess
    expect(matched).toBe(expected);
  });

  it('does not match a record without keys or with a non-string partition key', () => {
    // Prepare
    const noKeys = { eventName: 'INSERT', dynamodb: {} };
    const numericKey = { eventName: 'INSERT', dynamodb: { Keys: { pk: { N: '1' } } } };
    // Act / Assess
    expect(matchesPattern(pattern, noKeys)).toBe(false);
    expect(matchesPattern(pattern, numericKey)).toBe(false);
    expect(matchesPattern(pattern, null)).toBe(false);
    expect(matchesPattern(pattern, 'INSERT')).toBe(false);
  });
});

describe('matchesPattern operators', () => {
  it.each<[string, FilterPattern, unknown, boolean]>([
    ['exact value', { a: ['x'] }, { a: 'x' }, true],
    ['exact value, other value', { a: ['x'] }, { a: 'y' }, false],
    ['exact number is not the string', { a: [1] }, { a: '1' }, false],
    ['null matches a null value', { a: [null] }, { a: null }, true],
    ['null does not match a missing field', { a: [null] }, {}, false],
    ['any of several values', { a: ['x', 'y'] }, { a: 'y' }, true],
    ['prefix', { a: [{ prefix: 'shoal-' }] }, { a: 'shoal-probe' }, true],
    ['prefix, no match', { a: [{ prefix: 'shoal-' }] }, { a: 'krake-probe' }, false],
    ['prefix on a number', { a: [{ prefix: '1' }] }, { a: 12 }, false],
    ['suffix', { a: [{ suffix: '.io' }] }, { a: 'shoal.io' }, true],
    ['suffix, no match', { a: [{ suffix: '.io' }] }, { a: 'shoal.com' }, false],
    ['anything-but list', { a: [{ 'anything-but': ['REMOVE'] }] }, { a: 'INSERT' }, true],
    ['anything-but list, excluded', { a: [{ 'anything-but': ['REMOVE'] }] }, { a: 'REMOVE' }, false],
    ['anything-but single value', { a: [{ 'anything-but': 'REMOVE' }] }, { a: 'REMOVE' }, false],
    ['anything-but, field missing', { a: [{ 'anything-but': 'REMOVE' }] }, {}, false],
    ['exists: true, present', { a: [{ exists: true }] }, { a: 'x' }, true],
    ['exists: true, missing', { a: [{ exists: true }] }, {}, false],
    ['exists: false, missing', { a: [{ exists: false }] }, {}, true],
    ['exists: false, present', { a: [{ exists: false }] }, { a: 'x' }, false],
    ['nested objects', { a: { b: { c: ['x'] } } }, { a: { b: { c: 'x' } } }, true],
    ['nested object missing', { a: { b: ['x'] } }, { b: 'x' }, false],
    ['nested pattern against a scalar', { a: { b: ['x'] } }, { a: 'x' }, false],
    ['every key must match', { a: ['x'], b: ['y'] }, { a: 'x', b: 'z' }, false],
    ['inherited properties are not fields', { toString: [{ exists: true }] }, {}, false],
    ['empty pattern matches everything', {}, { a: 'x' }, true],
  ])('%s', (_what, pattern, event, expected) => {
    // Prepare: pattern and event (table row)
    // Act
    const matched = matchesPattern(pattern, event);
    // Assess
    expect(matched).toBe(expected);
  });

  it.each([
    [{ numeric: ['>', 0] }, { a: 5 }],
    [{ numeric: ['>', 0] }, {}],
    [{ 'equals-ignore-case': 'x' }, { a: 'X' }],
    [{ cidr: '10.0.0.0/24' }, { b: 'other' }],
  ])('throws on the unsupported operator %j whatever the event', (rule, event) => {
    // Prepare
    const pattern: FilterPattern = { a: [rule] };
    // Act
    const match = () => matchesPattern(pattern, event);
    // Assess
    expect(match).toThrow(`unsupported filter operator ${JSON.stringify(rule)}`);
  });
});

describe('matchesAnyPattern', () => {
  it('keeps a record when any pattern matches, and every record when there are none', () => {
    // Prepare
    const patterns: FilterPattern[] = [{ a: ['x'] }, { a: ['y'] }];
    // Act / Assess
    expect(matchesAnyPattern(patterns, { a: 'y' })).toBe(true);
    expect(matchesAnyPattern(patterns, { a: 'z' })).toBe(false);
    expect(matchesAnyPattern([], { a: 'z' })).toBe(true);
  });
});
