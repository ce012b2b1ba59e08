import { describe, expect, it } from 'vitest';
import {
  formatRequirement,
  matchesSelector,
  parseSelector,
  SelectorSyntaxError,
  type Requirement,
} from '../../shared/resources/selector.ts';

describe('parseSelector', () => {
  it.each<[string, Requirement[]]>([
    ['tier=prod', [{ key: 'tier', operator: 'Equals', value: 'prod' }]],
    ['tier==prod', [{ key: 'tier', operator: 'Equals', value: 'prod' }]],
    ['tier!=prod', [{ key: 'tier', operator: 'NotEquals', value: 'prod' }]],
    ['location = eu', [{ key: 'location', operator: 'Equals', value: 'eu' }]],
    ['tier=', [{ key: 'tier', operator: 'Equals', value: '' }]],
    ['tier in (prod,staging)', [{ key: 'tier', operator: 'In', values: ['prod', 'staging'] }]],
    ['tier in ( prod , staging )', [{ key: 'tier', operator: 'In', values: ['prod', 'staging'] }]],
    ['tier notin (dev)', [{ key: 'tier', operator: 'NotIn', values: ['dev'] }]],
    ['tier not in (dev, test)', [{ key: 'tier', operator: 'NotIn', values: ['dev', 'test'] }]],
    ['gpu', [{ key: 'gpu', operator: 'Exists' }]],
    ['!legacy', [{ key: 'legacy', operator: 'DoesNotExist' }]],
    ['example.com/zone=a', [{ key: 'example.com/zone', operator: 'Equals', value: 'a' }]],
    ['', []],
    ['   ', []],
    [
      'env=prod,tier in (a,b),!legacy,gpu',
      [
        { key: 'env', operator: 'Equals', value: 'prod' },
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'gpu', operator: 'Exists' },
      ],
    ],
  ])('parses %j', (selector, expected) => {
    // Prepare: the selector text (table row)
    // Act
    const requirements = parseSelector(selector);
    // Assess
    expect(requirements).toEqual(expected);
  });

  it.each([
    ['tier in', "expected '(' but the selector ended"],
    ['tier in prod', "expected '(' after in/notin"],
    ['tier in (prod', "expected a value or ')' but the selector ended"],
    ['tier in (prod,', "expected a value or ')' but the selector ended"],
    ['tier in ()', 'in/notin needs at least one value'],
    ['tier in (a b)', `expected ',' or ')' after value "a"`],
    ['tier prod', 'unexpected "prod" after key "tier"'],
    ['tier not (a)', 'unexpected "not" after key "tier"'],
    ['a=b=c', `expected ',' but found "="`],
    ['a=b c=d', `expected ',' but found "c"`],
    ['!', 'expected a label key after ! but the selector ended'],
    ['a b!c', 'unexpected "b" after key "a"'],
  ])('rejects %j, saying %s', (selector, problem) => {
    // Prepare: a malformed selector (table row)
    // Act
    const parse = () => parseSelector(selector);
    // Assess: the error names the selector and the problem
    expect(parse).toThrow(SelectorSyntaxError);
    expect(parse).toThrow(`invalid label selector "${selector}": ${problem}`);
  });

  it.each([
    ['tier.=x', 'label key "tier."'],
    ['-tier=prod', 'label key "-tier"'],
    ['Bad_Prefix/tier=prod', 'label key "Bad_Prefix/tier": prefix must be a DNS-1123 subdomain'],
    [`${'k'.repeat(64)}=v`, `label key "${'k'.repeat(64)}": name part must be 1-63`],
    ['tier=-prod', 'label value "-prod"'],
    [`tier=${'v'.repeat(64)}`, `label value "${'v'.repeat(64)}"`],
    ['tier in (ok, bad.)', 'label value "bad."'],
    ['!9-', 'label key "9-"'],
  ])('rejects invalid label syntax in %j', (selector, problem) => {
    // Prepare: a selector with an invalid key or value (table row)
    // Act
    const parse = () => parseSelector(selector);
    // Assess
    expect(parse).toThrow(SelectorSyntaxError);
    expect(parse).toThrow(problem);
  });

  it('keeps the selector on the error for callers that report it', () => {
    // Prepare
    const selector = 'tier in (';
    // Act
    let caught: unknown;
    try {
      parseSelector(selector);
    } catch (error) {
      caught = error;
    }
    // Assess
    expect(caught).toBeInstanceOf(SelectorSyntaxError);
    expect((caught as SelectorSyntaxError).selector).toBe(selector);
    expect((caught as SelectorSyntaxError).name).toBe('SelectorSyntaxError');
  });
});

describe('matchesSelector', () => {
  const labels = { tier: 'prod', zone: 'eu-1', gpu: '' };

  it.each([
    ['tier=prod', true],
    ['tier=dev', false],
    ['missing=prod', false],
    ['tier!=dev', true],
    ['tier!=prod', false],
    ['missing!=prod', true],
    ['tier in (dev,prod)', true],
    ['tier in (dev)', false],
    ['missing in (prod)', false],
    ['tier notin (prod)', false],
    ['tier notin (dev)', true],
    ['missing notin (prod)', true],
    ['gpu', true],
    ['missing', false],
    ['!missing', true],
    ['!gpu', false],
    ['gpu=', true],
    ['tier=prod,zone=eu-1', true],
    ['tier=prod,zone=us-1', false],
    ['', true],
  ])('%j against {tier: prod, zone: eu-1, gpu: ""} → %s', (selector, expected) => {
    // Prepare
    const requirements = parseSelector(selector);
    // Act
    const matched = matchesSelector(requirements, labels);
    // Assess
    expect(matched).toBe(expected);
  });

  it('treats missing labels as an empty set', () => {
    // Prepare
    const requirements = parseSelector('!tier,tier notin (a)');
    // Act / Assess
    expect(matchesSelector(requirements)).toBe(true);
    expect(matchesSelector(parseSelector('tier'))).toBe(false);
  });

  it('does not take inherited properties for labels', () => {
    // Prepare: keys that exist on Object.prototype
    const requirements = parseSelector('constructor,toString');
    // Act
    const matched = matchesSelector(requirements, {});
    // Assess
    expect(matched).toBe(false);
  });
});

describe('formatRequirement', () => {
  it.each([
    ['tier=prod', 'tier=prod'],
    ['tier==prod', 'tier=prod'],
    ['tier!=prod', 'tier!=prod'],
    ['tier in (a, b)', 'tier in (a,b)'],
    ['tier not in (a)', 'tier notin (a)'],
    ['gpu', 'gpu'],
    ['!gpu', '!gpu'],
    ['tier=', 'tier='],
  ])('formats %j as %j, which parses back to the same requirement', (selector, formatted) => {
    // Prepare
    const [requirement] = parseSelector(selector);
    // Act
    const text = formatRequirement(requirement!);
    // Assess
    expect(text).toBe(formatted);
    expect(parseSelector(text)).toEqual([requirement]);
  });
});
