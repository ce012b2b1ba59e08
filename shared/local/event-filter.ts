/**
 * Lambda event filtering (the FilterCriteria pattern language) for the local runtime.
 * Supports what Shoal's triggers use and a little more: exact values, `prefix`,
 * `suffix`, `anything-but` and `exists`. An unsupported operator is an error, not a
 * silent match, so a trigger cannot behave differently here than in AWS.
 */
export type FilterPattern = { [key: string]: FilterPattern | readonly unknown[] };

const OPERATORS = ['exists', 'prefix', 'suffix', 'anything-but'];

function matchesRule(rule: unknown, present: boolean, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return present && value === rule;
  const operator = rule as Record<string, unknown>;
  // Checked before presence, so an unsupported operator fails on every record, not only on those having the field.
  if (!OPERATORS.some((name) => name in operator)) throw new Error(`unsupported filter operator ${JSON.stringify(rule)}`);
  if ('exists' in operator) return operator.exists === present;
  if (!present) return false;
  if ('prefix' in operator) return typeof value === 'string' && value.startsWith(String(operator.prefix));
  if ('suffix' in operator) return typeof value === 'string' && value.endsWith(String(operator.suffix));
  if ('anything-but' in operator) {
    const excluded = operator['anything-but'];
    return !(Array.isArray(excluded) ? excluded : [excluded]).includes(value);
  }
  throw new Error(`unsupported filter operator ${JSON.stringify(rule)}`);
}

export function matchesPattern(pattern: FilterPattern, event: unknown): boolean {
  const record = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  return Object.entries(pattern).every(([key, rules]) => {
    const present = Object.prototype.hasOwnProperty.call(record, key);
    const value = record[key];
    if (Array.isArray(rules)) return rules.some((rule) => matchesRule(rule, present, value));
    return present && matchesPattern(rules as FilterPattern, value);
  });
}

/** Lambda keeps a record when any of the function's filters matches it. */
export function matchesAnyPattern(patterns: readonly FilterPattern[], event: unknown): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matchesPattern(pattern, event));
}
