import { stringify } from 'yaml';
import { API_GROUP } from '../resources/meta.ts';
import type { Kind } from '../resources/kinds.ts';
import type { ApiResource } from './client.ts';

const NONE = '<none>';

/** `application.shoal.io`: how kubectl names a resource type in its messages. */
export function typeName(kind: Kind): string {
  return `${kind.toLowerCase()}.${API_GROUP}`;
}

/** `application.shoal.io/web`, what `-o name` and apply print. */
export function resourceName(kind: Kind, name: string): string {
  return `${typeName(kind)}/${name}`;
}

/** kubectl's HumanDuration: short and coarser as it grows ("45s", "3m20s", "5h", "12d"). */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  // Clocks a second or two apart still read as "now".
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

export function age(timestamp: string | undefined, now: Date = new Date()): string {
  if (!timestamp) return '<unknown>';
  const then = Date.parse(timestamp);
  return Number.isNaN(then) ? '<unknown>' : humanDuration(now.getTime() - then);
}

export function formatLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? NONE : entries.map(([key, value]) => `${key}=${value}`).join(',');
}

/** Columns separated by three spaces, as kubectl's tabwriter does. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

interface Column {
  header: string;
  value: (resource: ApiResource, now: Date) => string;
  wideOnly?: boolean;
}

const text = (value: unknown): string => (value === undefined || value === null || value === '' ? NONE : String(value));
const status = (resource: ApiResource) => resource.status ?? {};

/** A resource being deleted shows that first, whatever its controller last wrote. */
function stateOf(resource: ApiResource): string {
  const state = status(resource).state;
  if (!resource.metadata.deletionTimestamp || state === 'DELETING') return text(state);
  return state ? `${String(state)} (deleting)` : 'DELETING';
}

const nameColumn: Column = { header: 'NAME', value: (resource) => resource.metadata.name };
const ageColumn: Column = { header: 'AGE', value: (resource, now) => age(resource.metadata.creationTimestamp, now) };
const labelsColumn: Column = { header: 'LABELS', value: (resource) => formatLabels(resource.metadata.labels), wideOnly: true };

function nodes(resource: ApiResource): string {
  const counts = status(resource).nodes as { ready?: number; total?: number } | undefined;
  return counts && typeof counts.total === 'number' ? `${counts.ready ?? 0}/${counts.total}` : NONE;
}

const COLUMNS: Partial<Record<Kind, Column[]>> = {
  Application: [
    nameColumn,
    { header: 'STATE', value: stateOf },
    { header: 'CLUSTER', value: (resource) => text(status(resource).runningOn ?? status(resource).scheduledTo) },
    ageColumn,
    { header: 'SCHEDULED-TO', value: (resource) => text(status(resource).scheduledTo), wideOnly: true },
    { header: 'MIGRATION', value: (resource) => String((resource.spec?.constraints as { migration?: boolean } | undefined)?.migration ?? true), wideOnly: true },
    { header: 'REASON', value: (resource) => text(status(resource).reason), wideOnly: true },
    labelsColumn,
  ],
  Cluster: [
    nameColumn,
    { header: 'STATE', value: stateOf },
    // Empty for a registered cluster: only clusters Shoal creates have an infrastructure phase.
    { header: 'PHASE', value: (resource) => String((status(resource).infrastructure as { phase?: string } | undefined)?.phase ?? '') },
    { header: 'VERSION', value: (resource) => text(status(resource).kubernetesVersion) },
    { header: 'NODES', value: nodes },
    ageColumn,
    {
      header: 'METRICS',
      value: (resource) => {
        const metrics = (resource.spec?.metrics ?? []) as { name: string; weight?: number }[];
        return metrics.length === 0 ? NONE : metrics.map((metric) => `${metric.name}=${metric.weight ?? 1}`).join(',');
      },
      wideOnly: true,
    },
    { header: 'REASON', value: (resource) => text(status(resource).reason), wideOnly: true },
    labelsColumn,
  ],
};

export interface TableOptions {
  allNamespaces?: boolean;
  wide?: boolean;
  now?: Date;
}

export function resourceTable(kind: Kind, resources: readonly ApiResource[], options: TableOptions = {}): string {
  const now = options.now ?? new Date();
  const columns = (COLUMNS[kind] ?? [nameColumn, ageColumn, labelsColumn]).filter((column) => options.wide || !column.wideOnly);
  const all: Column[] = options.allNamespaces ? [{ header: 'NAMESPACE', value: (resource) => text(resource.metadata.namespace) }, ...columns] : columns;
  return renderTable(
    all.map((column) => column.header),
    resources.map((resource) => all.map((column) => column.value(resource, now))),
  );
}

const TOP_LEVEL_ORDER = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const METADATA_ORDER = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'labels',
  'annotations',
  'finalizers',
  'ownerReferences',
];

function ordered<T extends object>(object: T, order: readonly string[]): T {
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => rank(a) - rank(b))) as T;
}

/**
 * The store does not keep key order, so `-o yaml|json` would print metadata after spec;
 * this restores the order people read Kubernetes objects in.
 */
export function canonicalOrder(resource: ApiResource): ApiResource {
  return ordered({ ...resource, metadata: ordered(resource.metadata ?? {}, METADATA_ORDER) }, TOP_LEVEL_ORDER);
}

/** kubectl's message for an empty list. */
export function noResourcesMessage(namespace: string | undefined): string {
  return namespace === undefined ? 'No resources found' : `No resources found in ${namespace} namespace.`;
}

/** Builds kubectl-describe-style text: `Key:  value` pairs aligned per block, nested by indentation. */
class DescribeWriter {
  private readonly lines: string[] = [];
  private block: { indent: number; pairs: [string, string][] } | undefined;

  field(indent: number, key: string, value: unknown): this {
    if (!this.block || this.block.indent !== indent) {
      this.flush();
      this.block = { indent, pairs: [] };
    }
    this.block.pairs.push([key, text(value)]);
    return this;
  }

  heading(indent: number, title: string): this {
    this.flush();
    this.lines.push(`${'  '.repeat(indent)}${title}:`);
    return this;
  }

  raw(indent: number, content: string): this {
    this.flush();
    for (const line of content.split('\n')) this.lines.push(line === '' ? '' : `${'  '.repeat(indent)}${line}`);
    return this;
  }

  toString(): string {
    this.flush();
    return this.lines.join('\n');
  }

  private flush() {
    if (!this.block) return;
    const width = Math.max(...this.block.pairs.map(([key]) => key.length)) + 2;
    const indent = '  '.repeat(this.block.indent);
    for (const [key, value] of this.block.pairs) {
      // Multi-line values (one label per line) continue under the value column.
      const [first, ...rest] = value.split('\n');
      this.lines.push(`${indent}${`${key}:`.padEnd(width)}${first ?? ''}`.trimEnd());
      for (const line of rest) this.lines.push(`${indent}${' '.repeat(width)}${line}`.trimEnd());
    }
    this.block = undefined;
  }
}

function list(values: readonly unknown[] | undefined): string {
  return values && values.length > 0 ? values.map(String).join(', ') : NONE;
}

function keyValueLines(map: Record<string, string> | undefined): string {
  const entries = Object.entries(map ?? {});
  return entries.length === 0 ? NONE : entries.map(([key, value]) => `${key}=${value}`).join('\n');
}

function timestampWithAge(timestamp: string | undefined, now: Date): string {
  return timestamp ? `${timestamp} (${age(timestamp, now)} ago)` : NONE;
}

function describeMetadata(out: DescribeWriter, resource: ApiResource, now: Date) {
  const meta = resource.metadata;
  out
    .field(0, 'Name', meta.name)
    .field(0, 'Namespace', meta.namespace)
    .field(0, 'Kind', resource.kind)
    .field(0, 'API Version', resource.apiVersion)
    .field(0, 'Labels', keyValueLines(meta.labels))
    .field(0, 'Annotations', keyValueLines(meta.annotations))
    .field(0, 'UID', meta.uid)
    .field(0, 'Generation', meta.generation)
    .field(0, 'Resource Version', meta.resourceVersion)
    .field(0, 'Created', timestampWithAge(meta.creationTimestamp, now))
    .field(0, 'Finalizers', list(meta.finalizers));
  if (meta.deletionTimestamp) out.field(0, 'Deletion Requested', timestampWithAge(meta.deletionTimestamp, now));
}

function describeConditions(out: DescribeWriter, conditions: unknown, now: Date) {
  const rows = Array.isArray(conditions) ? (conditions as Record<string, unknown>[]) : [];
  out.heading(0, 'Conditions');
  if (rows.length === 0) return void out.raw(1, NONE);
  out.raw(
    1,
    renderTable(
      ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
      rows.map((condition) => [
        text(condition.type),
        text(condition.status),
        text(condition.reason),
        condition.lastTransitionTime ? age(String(condition.lastTransitionTime), now) : NONE,
        text(condition.message),
      ]),
    ),
  );
}

function describeApplication(out: DescribeWriter, resource: ApiResource) {
  const spec = resource.spec ?? {};
  const manifests = (Array.isArray(spec.manifests) ? spec.manifests : []) as { kind?: string; metadata?: { name?: string; namespace?: string } }[];
  const constraints = (spec.constraints ?? {}) as { cluster?: { labels?: string[]; customResources?: string[]; metrics?: string[] }; migration?: boolean };
  out.heading(0, 'Spec');
  out.field(1, 'Manifests', manifests.length);
  out.raw(2, manifests.map((manifest) => `${text(manifest.kind)}/${text(manifest.metadata?.name)}`).join('\n'));
  out.heading(1, 'Cluster Constraints');
  out
    .field(2, 'Labels', list(constraints.cluster?.labels))
    .field(2, 'Custom Resources', list(constraints.cluster?.customResources))
    .field(2, 'Metrics', list(constraints.cluster?.metrics));
  out.field(1, 'Migration', constraints.migration ?? true);

  const status = resource.status ?? {};
  out.heading(0, 'Status');
  out
    .field(1, 'State', status.state)
    .field(1, 'Reason', status.reason)
    .field(1, 'Scheduled To', status.scheduledTo)
    .field(1, 'Scheduled At', status.scheduledAt)
    .field(1, 'Running On', status.runningOn)
    .field(1, 'Applied Generation', status.lastAppliedGeneration)
    .field(1, 'Observed Generation', status.observedGeneration);

  const placement = (Array.isArray(status.placement) ? status.placement : []) as {
    cluster: string;
    score?: number;
    rejected?: string[];
    metrics?: Record<string, number>;
  }[];
  out.heading(1, 'Placement');
  if (placement.length === 0) out.raw(2, NONE);
  else {
    // Best candidate first, rejected ones last: the order a user reads a scheduling decision in.
    const ordered = [...placement].sort((a, b) => (b.score ?? -Infinity) - (a.score ?? -Infinity));
    out.raw(
      2,
      renderTable(
        ['CLUSTER', 'SCORE', 'METRICS', 'REJECTED'],
        ordered.map((candidate) => [
          candidate.cluster + (candidate.cluster === status.scheduledTo ? ' *' : ''),
          candidate.score === undefined ? '-' : candidate.score.toFixed(3),
          candidate.metrics && Object.keys(candidate.metrics).length > 0
            ? Object.entries(candidate.metrics)
                .map(([name, value]) => `${name}=${Number(value).toFixed(2)}`)
                .join(',')
            : '-',
          candidate.rejected && candidate.rejected.length > 0 ? candidate.rejected.join('; ') : '-',
        ]),
      ),
    );
  }

  const manifestStatus = (Array.isArray(status.manifests) ? status.manifests : []) as Record<string, unknown>[];
  if (manifestStatus.length > 0) {
    out.heading(1, 'Manifests');
    out.raw(2, stringify(manifestStatus, { lineWidth: 0 }).trimEnd());
  }
}

function describeCluster(out: DescribeWriter, resource: ApiResource) {
  const spec = resource.spec ?? {};
  const metrics = (Array.isArray(spec.metrics) ? spec.metrics : []) as { name: string; weight?: number }[];
  out.heading(0, 'Spec');
  out
    .field(1, 'Kubeconfig Secret', spec.kubeconfigSecret)
    .field(1, 'Context', spec.context ?? '<current-context>')
    .field(1, 'Metrics', metrics.length === 0 ? NONE : metrics.map((metric) => `${metric.name} (weight ${metric.weight ?? 1})`).join(', '));
  if (spec.infrastructure) {
    out.heading(1, 'Infrastructure');
    out.raw(2, stringify(spec.infrastructure, { lineWidth: 0 }).trimEnd());
  }

  const status = resource.status ?? {};
  const nodes = status.nodes as { ready?: number; total?: number } | undefined;
  const values = (status.metrics ?? {}) as Record<string, number>;
  const customResources = (Array.isArray(status.customResources) ? status.customResources : []) as string[];
  out.heading(0, 'Status');
  out
    .field(1, 'State', status.state)
    .field(1, 'Reason', status.reason)
    .field(1, 'Kubernetes Version', status.kubernetesVersion)
    .field(1, 'Nodes', nodes && typeof nodes.total === 'number' ? `${nodes.ready ?? 0} ready of ${nodes.total}` : NONE)
    .field(1, 'Last Probe', status.lastProbeTime)
    .field(1, 'Observed Generation', status.observedGeneration)
    .field(
      1,
      'Metric Values',
      Object.keys(values).length === 0
        ? NONE
        : Object.entries(values)
            .map(([name, value]) => `${name}=${value}`)
            .join(', '),
    );
  out.field(1, 'Custom Resources', customResources.length);
  if (customResources.length > 0) out.raw(2, [...customResources].sort().join('\n'));

  const infrastructure = status.infrastructure as Record<string, unknown> | undefined;
  if (infrastructure) {
    const counts = infrastructure.nodes as { desired?: number; ready?: number } | undefined;
    out.heading(1, 'Infrastructure');
    out
      .field(2, 'Phase', infrastructure.phase)
      .field(2, 'Message', infrastructure.message)
      .field(2, 'Cloud', infrastructure.cloud)
      .field(2, 'Provider', infrastructure.provider)
      .field(2, 'Provider ID', infrastructure.providerId)
      .field(2, 'Nodes', counts && typeof counts.desired === 'number' ? `${counts.ready ?? 0} ready of ${counts.desired}` : NONE)
      .field(2, 'Version', infrastructure.version)
      .field(2, 'Operation Started', infrastructure.operationStartedAt)
      .field(2, 'Last Poll', infrastructure.lastPollTime)
      .field(2, 'Observed Generation', infrastructure.observedGeneration);
    if (infrastructure.credentialsExpireAt) out.field(2, 'Credentials Expire', infrastructure.credentialsExpireAt);
  }
}

function describeGeneric(out: DescribeWriter, resource: ApiResource) {
  out.heading(0, 'Spec');
  out.raw(1, resource.spec ? stringify(resource.spec, { lineWidth: 0 }).trimEnd() : NONE);
  const { conditions: _conditions, ...status } = resource.status ?? {};
  out.heading(0, 'Status');
  out.raw(1, Object.keys(status).length > 0 ? stringify(status, { lineWidth: 0 }).trimEnd() : NONE);
}

/** The multi-section `shoal describe` view. */
export function describeResource(kind: Kind, resource: ApiResource, now: Date = new Date()): string {
  const out = new DescribeWriter();
  describeMetadata(out, resource, now);
  if (kind === 'Application') describeApplication(out, resource);
  else if (kind === 'Cluster') describeCluster(out, resource);
  else describeGeneric(out, resource);
  describeConditions(out, resource.status?.conditions, now);
  return out.toString();
}
