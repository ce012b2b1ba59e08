import { parseMetricConstraint, satisfies, type MetricConstraint } from '../resources/metric-constraint.ts';
import { formatRequirement, matchesRequirement, parseSelector, type Requirement } from '../resources/selector.ts';
import type { ClusterFacts } from './cluster-facts.ts';

/** An Application's `spec.constraints.cluster`, as written. */
export interface ClusterConstraints {
  labels: readonly string[];
  customResources: readonly string[];
  metrics: readonly string[];
}

/** Why the cluster cannot run the application; empty when it can. */
export function rejectionReasons(constraints: ClusterConstraints, cluster: ClusterFacts): string[] {
  const health = healthProblem(cluster);
  const reasons = health ? [health] : [];
  const requirements: Requirement[] = constraints.labels.flatMap((selector) => parseSelector(selector));
  for (const requirement of requirements) {
    if (matchesRequirement(requirement, { ...cluster.labels })) continue;
    const actual = cluster.labels[requirement.key];
    reasons.push(
      actual === undefined
        ? `no label ${requirement.key} (needs ${formatRequirement(requirement)})`
        : `label ${requirement.key}=${actual} (needs ${formatRequirement(requirement)})`,
    );
  }
  for (const crd of constraints.customResources) {
    if (!cluster.customResources.includes(crd)) reasons.push(`no custom resource ${crd}`);
  }
  for (const constraint of constraints.metrics.map((text) => parseMetricConstraint(text))) {
    const problem = metricProblem(constraint, cluster);
    if (problem) reasons.push(problem);
  }
  return reasons;
}

/** Why the cluster cannot take any application right now, whatever its constraints. */
export function healthProblem(cluster: Pick<ClusterFacts, 'state' | 'deleting'>): string | undefined {
  if (cluster.deleting) return 'being deleted';
  if (cluster.state === undefined) return 'not probed yet';
  return cluster.state === 'ONLINE' ? undefined : cluster.state;
}

function metricProblem(constraint: MetricConstraint, cluster: ClusterFacts): string | undefined {
  const text = `${constraint.metric} ${constraint.operator} ${constraint.value}`;
  if (!cluster.weights.some((metric) => metric.name === constraint.metric)) return `no metric ${constraint.metric} (needs ${text})`;
  const reading = cluster.metrics[constraint.metric];
  if (!reading || 'missing' in reading) return `metric ${constraint.metric} unavailable: ${reading?.missing ?? 'not read'} (needs ${text})`;
  return satisfies(constraint, reading.value) ? undefined : `metric ${constraint.metric}=${round(reading.value)} (needs ${text})`;
}

/** The constraints in one line, for messages. */
export function describeConstraints(constraints: ClusterConstraints): string {
  return [...constraints.labels, ...constraints.customResources.map((crd) => `custom resource ${crd}`), ...constraints.metrics].join(', ');
}

export const round = (value: number) => Math.round(value * 1000) / 1000;
