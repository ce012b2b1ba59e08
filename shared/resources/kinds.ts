import { z } from 'zod';
import { condition, GROUP_VERSION, objectMeta } from './meta.ts';
import { parseSelector } from './selector.ts';
import { parseMetricConstraint } from './metric-constraint.ts';
import { identifies, invalidLeaf } from '../deploy/observer.ts';

/** Adds a zod issue for every entry the parser rejects, naming the entry. */
function parsedBy(parse: (text: string) => unknown) {
  return (entries: string[], ctx: z.RefinementCtx) => {
    entries.forEach((entry, index) => {
      try {
        parse(entry);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message, path: [index] });
      }
    });
  };
}

/** A Kubernetes object to deploy: only what every object needs is checked here. */
export const manifest = z
  .object({
    apiVersion: z.string().min(1, 'is required'),
    kind: z.string().min(1, 'is required'),
    metadata: z
      .object({
        name: z.string().min(1, 'is required').max(253),
        namespace: z.string().optional(),
      })
      .passthrough(),
  })
  .passthrough();

export const clusterConstraints = z.object({
  labels: z.array(z.string()).default([]).superRefine(parsedBy(parseSelector)),
  customResources: z
    .array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9.-]+$/, 'must be a CRD name such as certificates.cert-manager.io'))
    .default([]),
  metrics: z.array(z.string()).default([]).superRefine(parsedBy(parseMetricConstraint)),
});

export const applicationSpec = z.object({
  manifests: z.array(manifest).min(1, 'an application needs at least one manifest'),
  constraints: z
    .object({
      cluster: clusterConstraints.default({ labels: [], customResources: [], metrics: [] }),
      migration: z.boolean().default(true),
    })
    .default({ cluster: { labels: [], customResources: [], metrics: [] }, migration: true }),
  /**
   * Which live fields of each deployed object Shoal watches for drift (Krake's observer
   * schema): partial objects naming a manifest, `null` leaves for the watched fields.
   */
  observerSchema: z.array(z.record(z.string(), z.unknown())).optional(),
}).superRefine((spec, ctx) => {
  spec.observerSchema?.forEach((entry, index) => {
    const path = ['observerSchema', index];
    const meta = entry.metadata as { name?: unknown; namespace?: unknown } | undefined;
    if (typeof entry.apiVersion !== 'string' || typeof entry.kind !== 'string' || typeof meta?.name !== 'string') {
      ctx.addIssue({ code: 'custom', message: 'must name a manifest by apiVersion, kind and metadata.name', path });
      return;
    }
    if (meta.namespace !== undefined && typeof meta.namespace !== 'string') {
      ctx.addIssue({ code: 'custom', message: 'metadata.namespace must be a string', path });
      return;
    }
    const name = `${entry.kind} ${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${meta.name}`;
    if (!Array.isArray(spec.manifests) || !spec.manifests.some((manifest) => identifies(entry, manifest))) {
      ctx.addIssue({ code: 'custom', message: `names no manifest of this application (${entry.apiVersion} ${name})`, path });
      return;
    }
    if (spec.observerSchema?.slice(0, index).some((earlier) => spec.manifests.some((m) => identifies(entry, m) && identifies(earlier, m)))) {
      ctx.addIssue({ code: 'custom', message: `another entry already names ${name}`, path });
      return;
    }
    const invalid = invalidLeaf(entry);
    if (invalid) ctx.addIssue({ code: 'custom', message: invalid, path });
  });
});

export const placementCandidate = z.object({
  cluster: z.string(),
  score: z.number().optional(),
  rejected: z.array(z.string()).optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  /** Metrics of a candidate that could not be read (metric name → why); they did not count in its score. */
  missingMetrics: z.record(z.string(), z.string()).optional(),
});

/** What the deployer last saw of one manifest on the cluster (an entry of Application `status.manifests`). */
export const manifestStatus = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  applied: z.boolean(),
  ready: z.boolean(),
  message: z.string().optional(),
  /** Watched fields found changed on the cluster (and restored) since this generation was applied. */
  drift: z.array(z.string()).optional(),
  /** Watched fields the manifest does not set, as read from the live object (path → value). */
  observed: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Objects the deployer had to leave on a cluster it could not reach when the application
 * moved away (an entry of Application `status.orphans`); removal is retried while that
 * cluster is ONLINE, and the entry goes once they are removed or the Cluster is gone.
 */
export const orphanedObjects = z.object({
  cluster: z.string(),
  objects: z.array(z.object({ apiVersion: z.string(), kind: z.string(), namespace: z.string().optional(), name: z.string() })),
});

export const applicationStatus = z.object({
  state: z
    .enum(['PENDING', 'SCHEDULED', 'CREATING', 'RUNNING', 'RECONCILING', 'MIGRATING', 'DELETING', 'FAILED', 'DEGRADED'])
    .optional(),
  reason: z.string().optional(),
  scheduledTo: z.string().optional(),
  scheduledAt: z.string().optional(),
  runningOn: z.string().optional(),
  placement: z.array(placementCandidate).optional(),
  manifests: z.array(manifestStatus).optional(),
  orphans: z.array(orphanedObjects).optional(),
  conditions: z.array(condition).optional(),
  lastAppliedGeneration: z.number().int().optional(),
  observedGeneration: z.number().int().optional(),
});

const kubeconfigInput = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

export const clusterMetricRef = z.object({
  name: z.string().min(1),
  weight: z.number().positive().default(1),
});

export const clusterSpec = z.object({
  /**
   * Write-only: accepted on create/update, moved to the secret store, never stored in
   * the table nor returned. Either a kubeconfig document (YAML/JSON string) or an object.
   */
  kubeconfig: kubeconfigInput.optional(),
  /** Server-owned reference into the secret store. */
  kubeconfigSecret: z.string().optional(),
  /** The kubeconfig context to use; the current context when omitted. */
  context: z.string().optional(),
  metrics: z.array(clusterMetricRef).default([]),
  /** Present when Shoal creates and owns the cluster through an infrastructure provider. */
  infrastructure: z
    .object({
      provider: z.string().min(1),
      cloud: z.string().optional(),
      shape: z.record(z.string(), z.unknown()).default({}),
    })
    .optional(),
});

export const clusterStatus = z.object({
  state: z.enum(['PENDING', 'ONLINE', 'UNHEALTHY', 'OFFLINE', 'FAILING_METRICS', 'DELETING']).optional(),
  reason: z.string().optional(),
  kubernetesVersion: z.string().optional(),
  customResources: z.array(z.string()).optional(),
  nodes: z.object({ total: z.number().int(), ready: z.number().int() }).optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  lastProbeTime: z.string().optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z.array(condition).optional(),
});

export const metricSpec = z
  .object({
    /** Values are normalised to [0, 1] with these bounds before scoring. */
    min: z.number(),
    max: z.number(),
    provider: z.object({ name: z.string().min(1), metric: z.string().min(1) }),
  })
  .refine((spec) => spec.max > spec.min, { message: 'max must be greater than min', path: ['max'] });

export const metricsProviderSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('prometheus'), prometheus: z.object({ url: z.url() }) }),
  z.object({ type: z.literal('static'), static: z.object({ metrics: z.record(z.string(), z.number()) }) }),
]);

export const cloudSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local'), local: z.object({ maxClusters: z.number().int().positive().default(4) }).default({ maxClusters: 4 }) }),
  z.object({ type: z.literal('aws'), aws: z.object({ region: z.string().min(1), roleArn: z.string().optional() }) }),
  z.object({ type: z.literal('openstack'), openstack: z.object({ authUrl: z.url(), project: z.string().min(1) }) }),
]);

export const infrastructureProviderSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local'), local: z.object({ binDir: z.string().optional() }).default({}) }),
  z.object({ type: z.literal('cluster-api'), clusterApi: z.object({ managementCluster: z.string().min(1) }) }),
  z.object({ type: z.literal('eks'), eks: z.object({ region: z.string().min(1), version: z.string().optional() }) }),
]);

const genericStatus = z.object({ conditions: z.array(condition).optional() }).passthrough();

/** Every kind Shoal serves, with its REST plural, short names and schemas. */
export const KINDS = {
  Application: { plural: 'applications', shortNames: ['app', 'apps'], spec: applicationSpec, status: applicationStatus },
  Cluster: { plural: 'clusters', shortNames: ['cluster', 'cl'], spec: clusterSpec, status: clusterStatus },
  Metric: { plural: 'metrics', shortNames: ['metric', 'm'], spec: metricSpec, status: genericStatus },
  MetricsProvider: { plural: 'metricsproviders', shortNames: ['metricsprovider', 'mp'], spec: metricsProviderSpec, status: genericStatus },
  Cloud: { plural: 'clouds', shortNames: ['cloud'], spec: cloudSpec, status: genericStatus },
  InfrastructureProvider: {
    plural: 'infrastructureproviders',
    shortNames: ['infrastructureprovider', 'ip'],
    spec: infrastructureProviderSpec,
    status: genericStatus,
  },
} as const;

export type Kind = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as Kind[];

export function isKind(value: string): value is Kind {
  return Object.prototype.hasOwnProperty.call(KINDS, value);
}

export function kindForPlural(plural: string): Kind | undefined {
  return KIND_NAMES.find((kind) => KINDS[kind].plural === plural);
}

/** Resolves what a user types (`app`, `applications`, `Application`) to a kind. */
export function resolveKind(text: string): Kind | undefined {
  const lower = text.toLowerCase();
  return KIND_NAMES.find(
    (kind) =>
      kind.toLowerCase() === lower ||
      KINDS[kind].plural === lower ||
      (KINDS[kind].shortNames as readonly string[]).includes(lower),
  );
}

export function resourceSchema<K extends Kind>(kind: K) {
  return z.object({
    apiVersion: z.literal(GROUP_VERSION, { error: `must be ${GROUP_VERSION}` }),
    kind: z.literal(kind, { error: `must be ${kind}` }),
    metadata: objectMeta,
    // Property access through a generic index widens to the union of all kinds; keep K's own schemas.
    spec: KINDS[kind].spec as (typeof KINDS)[K]['spec'],
    status: (KINDS[kind].status as (typeof KINDS)[K]['status']).optional(),
  });
}

export type Resource<K extends Kind = Kind> = z.infer<ReturnType<typeof resourceSchema<K>>>;
export type Application = Resource<'Application'>;
export type Cluster = Resource<'Cluster'>;
export type ApplicationStatus = z.infer<typeof applicationStatus>;
export type ClusterStatus = z.infer<typeof clusterStatus>;
export type ManifestStatus = z.infer<typeof manifestStatus>;
export type OrphanedObjects = z.infer<typeof orphanedObjects>;

/** The key a reconciler is given: which object changed, never what changed. */
export interface ResourceKey {
  kind: Kind;
  namespace: string;
  name: string;
}
