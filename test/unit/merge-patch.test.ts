import { describe, expect, it } from 'vitest';
import { applyMergePatch, isPlainObject } from '../../shared/api/merge-patch.ts';

describe('applyMergePatch', () => {
  // RFC 7386, Appendix A.
  it.each([
    ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
    ['{"a":"b"}', '{"a":null}', '{}'],
    ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
    ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
    ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
    ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
    ['["a","b"]', '["c","d"]', '["c","d"]'],
    ['{"a":"b"}', '["c"]', '["c"]'],
    ['{"a":"foo"}', 'null', 'null'],
    ['{"a":"foo"}', '"bar"', '"bar"'],
    ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
    ['[1,2]', '{"a":"b","c":null}', '{"a":"b"}'],
    ['{}', '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
  ])('RFC 7386 example: %s patched with %s is %s', (target, patch, expected) => {
    // Prepare
    const original = JSON.parse(target) as unknown;
    // Act
    const result = applyMergePatch(original, JSON.parse(patch));
    // Assess
    expect(result).toEqual(JSON.parse(expected));
  });

  it('does not modify the target', () => {
    // Prepare
    const target = { spec: { replicas: 1, labels: { a: 'b' } } };
    const snapshot = structuredClone(target);
    // Act
    const result = applyMergePatch(target, { spec: { replicas: 2, labels: { a: null } } });
    // Assess
    expect(target).toEqual(snapshot);
    expect(result).toEqual({ spec: { replicas: 2, labels: {} } });
  });

  it('keeps a member named __proto__ as a member instead of setting the prototype', () => {
    // Prepare: JSON.parse makes __proto__ an own property, as an API body would
    const patch = JSON.parse('{"spec":{"__proto__":{"polluted":true}}}') as unknown;
    // Act
    const result = applyMergePatch({ spec: {} }, patch) as { spec: Record<string, unknown> };
    // Assess
    expect(Object.getPrototypeOf(result.spec)).toBe(Object.prototype);
    expect((result.spec as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(result)).toBe('{"spec":{"__proto__":{"polluted":true}}}');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('isPlainObject', () => {
  it.each([
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ['text', false],
    [1, false],
    [undefined, false],
  ])('%j → %s', (value, expected) => {
    // Prepare / Act
    const result = isPlainObject(value);
    // Assess
    expect(result).toBe(expected);
  });
});
