import { labelKeyProblem, labelValueProblem } from './meta.ts';

/** One term of a Kubernetes label selector, e.g. `tier in (prod, staging)`. */
export type Requirement =
  | { key: string; operator: 'Equals' | 'NotEquals'; value: string }
  | { key: string; operator: 'In' | 'NotIn'; values: string[] }
  | { key: string; operator: 'Exists' | 'DoesNotExist' };

export class SelectorSyntaxError extends Error {
  constructor(
    readonly selector: string,
    detail: string,
  ) {
    super(`invalid label selector "${selector}": ${detail}`);
    this.name = 'SelectorSyntaxError';
  }
}

const TOKEN = /\s*(\(|\)|,|!=|==|=|!|[^\s(),!=]+)/y;

function tokenize(selector: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < selector.length) {
    if (/^\s*$/.test(selector.slice(TOKEN.lastIndex))) break;
    const match = TOKEN.exec(selector);
    if (!match?.[1]) throw new SelectorSyntaxError(selector, `unexpected character at position ${TOKEN.lastIndex}`);
    tokens.push(match[1]);
  }
  return tokens;
}

/**
 * Parses the selector syntax kubectl's `-l` accepts (`=`, `==`, `!=`, `in`, `notin`,
 * `key`, `!key`, comma-separated). Krake's `not in` spelling is accepted too, because
 * placement constraints are written in it.
 */
export function parseSelector(selector: string): Requirement[] {
  const tokens = tokenize(selector);
  const requirements: Requirement[] = [];
  let i = 0;
  const peek = () => tokens[i];
  const next = (what: string) => {
    const token = tokens[i++];
    if (token === undefined) throw new SelectorSyntaxError(selector, `expected ${what} but the selector ended`);
    return token;
  };
  const checkKey = (key: string) => {
    const problem = labelKeyProblem(key);
    if (problem) throw new SelectorSyntaxError(selector, problem);
    return key;
  };
  const checkValue = (value: string) => {
    const problem = labelValueProblem(value);
    if (problem) throw new SelectorSyntaxError(selector, problem);
    return value;
  };
  const valueList = (): string[] => {
    if (next("'('") !== '(') throw new SelectorSyntaxError(selector, "expected '(' after in/notin");
    const values: string[] = [];
    for (;;) {
      const token = next("a value or ')'");
      if (token === ')') break;
      if (token === ',') continue;
      values.push(checkValue(token));
      const after = peek();
      if (after !== undefined && after !== ',' && after !== ')') throw new SelectorSyntaxError(selector, `expected ',' or ')' after value "${token}"`);
    }
    if (values.length === 0) throw new SelectorSyntaxError(selector, 'in/notin needs at least one value');
    return values;
  };

  while (i < tokens.length) {
    const first = next('a label key');
    if (first === '!') {
      requirements.push({ key: checkKey(next('a label key after !')), operator: 'DoesNotExist' });
    } else {
      const key = checkKey(first);
      const op = peek();
      if (op === undefined || op === ',') {
        requirements.push({ key, operator: 'Exists' });
      } else if (op === '=' || op === '==' || op === '!=') {
        i++;
        const raw = peek();
        const value = raw === undefined || raw === ',' ? '' : (i++, checkValue(raw));
        requirements.push({ key, operator: op === '!=' ? 'NotEquals' : 'Equals', value });
      } else if (op === 'in' || op === 'notin') {
        i++;
        requirements.push({ key, operator: op === 'in' ? 'In' : 'NotIn', values: valueList() });
      } else if (op === 'not' && tokens[i + 1] === 'in') {
        i += 2;
        requirements.push({ key, operator: 'NotIn', values: valueList() });
      } else {
        throw new SelectorSyntaxError(selector, `unexpected "${op}" after key "${key}"`);
      }
    }
    const separator = peek();
    if (separator !== undefined) {
      if (separator !== ',') throw new SelectorSyntaxError(selector, `expected ',' but found "${separator}"`);
      i++;
    }
  }
  return requirements;
}

export function matchesRequirement(requirement: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Equals':
      return has && value === requirement.value;
    case 'NotEquals':
      return !has || value !== requirement.value;
    case 'In':
      return has && requirement.values.includes(value ?? '');
    case 'NotIn':
      return !has || !requirement.values.includes(value ?? '');
  }
}

export function matchesSelector(requirements: readonly Requirement[], labels: Record<string, string> = {}): boolean {
  return requirements.every((requirement) => matchesRequirement(requirement, labels));
}

export function formatRequirement(requirement: Requirement): string {
  switch (requirement.operator) {
    case 'Exists':
      return requirement.key;
    case 'DoesNotExist':
      return `!${requirement.key}`;
    case 'Equals':
      return `${requirement.key}=${requirement.value}`;
    case 'NotEquals':
      return `${requirement.key}!=${requirement.value}`;
    case 'In':
      return `${requirement.key} in (${requirement.values.join(',')})`;
    case 'NotIn':
      return `${requirement.key} notin (${requirement.values.join(',')})`;
  }
}
