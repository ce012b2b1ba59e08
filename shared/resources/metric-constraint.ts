/** A placement constraint on a metric's normalised value, e.g. `load < 0.8`. */
export interface MetricConstraint {
  metric: string;
  operator: '<' | '<=' | '>' | '>=' | '==' | '!=';
  value: number;
}

const METRIC_CONSTRAINT = /^\s*([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\s*(<=|>=|==|!=|<|>|=)\s*(-?\d+(\.\d+)?)\s*$/;

export function parseMetricConstraint(text: string): MetricConstraint {
  const match = METRIC_CONSTRAINT.exec(text);
  if (!match?.[1] || !match[3] || !match[4]) {
    throw new Error(`invalid metric constraint "${text}": expected "<metric> <op> <number>" with op one of <, <=, >, >=, ==, !=`);
  }
  const operator = match[3] === '=' ? '==' : (match[3] as MetricConstraint['operator']);
  return { metric: match[1], operator, value: Number(match[4]) };
}

export function satisfies(constraint: MetricConstraint, value: number): boolean {
  switch (constraint.operator) {
    case '<':
      return value < constraint.value;
    case '<=':
      return value <= constraint.value;
    case '>':
      return value > constraint.value;
    case '>=':
      return value >= constraint.value;
    case '==':
      return value === constraint.value;
    case '!=':
      return value !== constraint.value;
  }
}
