import { describe, expect, it } from 'vitest';
import { parseMetricConstraint, satisfies, type MetricConstraint } from '../../shared/resources/metric-constraint.ts';

describe('parseMetricConstraint', () => {
  it.each<[string, MetricConstraint]>([
    ['load < 0.8', { metric: 'load', operator: '<', value: 0.8 }],
    ['load<0.8', { metric: 'load', operator: '<', value: 0.8 }],
    ['load <= 1', { metric: 'load', operator: '<=', value: 1 }],
    ['free-memory > 2', { metric: 'free-memory', operator: '>', value: 2 }],
    ['heat.index >= -3.5', { metric: 'heat.index', operator: '>=', value: -3.5 }],
    ['green == 1', { metric: 'green', operator: '==', value: 1 }],
    ['green = 1', { metric: 'green', operator: '==', value: 1 }],
    ['green != 0', { metric: 'green', operator: '!=', value: 0 }],
    ['  load   <   0.25  ', { metric: 'load', operator: '<', value: 0.25 }],
  ])('parses %j', (text, expected) => {
    // Prepare: the constraint text (table row)
    // Act
    const constraint = parseMetricConstraint(text);
    // Assess
    expect(constraint).toEqual(expected);
  });

  it.each([
    '',
    'load',
    'load <',
    '< 0.8',
    'load < x',
    'load < .8',
    'load < 0.8.1',
    'load << 0.8',
    'load ~ 0.8',
    'Load < 0.8',
    '-load < 0.8',
    'load- < 0.8',
    'load < 0.8 and more',
  ])('rejects %j with a message that quotes it and shows the expected form', (text) => {
    // Prepare: a malformed constraint (table row)
    // Act
    const parse = () => parseMetricConstraint(text);
    // Assess
    expect(parse).toThrow(`invalid metric constraint "${text}": expected "<metric> <op> <number>" with op one of <, <=, >, >=, ==, !=`);
  });
});

describe('satisfies', () => {
  it.each([
    ['load < 0.5', 0.4, true],
    ['load < 0.5', 0.5, false],
    ['load <= 0.5', 0.5, true],
    ['load <= 0.5', 0.6, false],
    ['load > 0.5', 0.6, true],
    ['load > 0.5', 0.5, false],
    ['load >= 0.5', 0.5, true],
    ['load >= 0.5', 0.4, false],
    ['load == 1', 1, true],
    ['load == 1', 0.99, false],
    ['load != 1', 0.99, true],
    ['load != 1', 1, false],
    ['load > -1', -0.5, true],
  ])('%j with value %d → %s', (text, value, expected) => {
    // Prepare
    const constraint = parseMetricConstraint(text);
    // Act
    const result = satisfies(constraint, value);
    // Assess
    expect(result).toBe(expected);
  });

  it('never satisfies an ordering constraint with NaN', () => {
    // Prepare
    const constraints = ['load < 1', 'load <= 1', 'load > 0', 'load >= 0', 'load == 0'].map(parseMetricConstraint);
    // Act
    const results = constraints.map((constraint) => satisfies(constraint, Number.NaN));
    // Assess
    expect(results).toEqual([false, false, false, false, false]);
  });
});
