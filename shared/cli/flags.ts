import { labelKeyProblem, labelValueProblem } from '../resources/meta.ts';
import { CliError } from './errors.ts';

/** `60s`, `2m`, `500ms`, `1h`, or a bare number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new CliError(`invalid duration "${text}": use e.g. 30s, 2m, 500ms`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * factor;
}

/** `k=v` pairs from repeated and/or comma-separated `-l` flags. */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of values.flatMap((value) => value.split(',')).filter((pair) => pair.trim() !== '')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new CliError(`invalid label "${pair}": expected key=value`);
    const key = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) throw new CliError(`invalid ${problem}`);
    labels[key] = value;
  }
  return labels;
}

/** `name=weight` (weight defaults to 1) from repeated `--metric` flags. */
export function parseMetricWeights(values: readonly string[]): { name: string; weight: number }[] {
  return values.map((value) => {
    const [name = '', weightText] = value.split('=', 2);
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (name.trim() === '') throw new CliError(`invalid metric "${value}": expected name=weight`);
    if (!Number.isFinite(weight) || weight <= 0) throw new CliError(`invalid metric "${value}": the weight must be a positive number`);
    return { name: name.trim(), weight };
  });
}
