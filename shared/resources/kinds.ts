import { z } from 'zod';
import { condition, dnsLabel, GROUP_VERSION, objectMeta } from './meta.ts';
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

/** What a created cluster should look like; providers read the fields that apply to them. */
export const clusterShape = z.object({
  /** Worker nodes. */
  nodes: z.number().int().min(0).max(1000).default(1),
  /** Kubernetes version (`1.31`); the provider's default when omitted. Changing it upgrades the cluster. */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'must be a Kubernetes version such as 1.31').optional(),
  /** Machine type of the workers (EKS instance type, Cluster API worker class); provider default when omitted. */
  machineType: z.string().min(1).optional(),
});

/** Which Cloud may hold a cluster Shoal creates: the same expressions as application constraints. */
export const cloudConstraints = z.object({
  labels: z.array(z.string()).default([]).superRefine(parsedBy(parseSelector)),
  metrics: z.array(z.string()).default([]).superRefine(parsedBy(parseMetricConstraint)),
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
  /**
   * Present when Shoal creates and owns the cluster: on `cloud`, or on the best Cloud of
   * the namespace by `constraints` (scored like applications) when `cloud` is omitted.
   */
  infrastructure: z
    .object({
      cloud: z.string().min(1).optional(),
      constraints: cloudConstraints.default({ labels: [], metrics: [] }),
      shape: clusterShape.default({ nodes: 1 }),
    })
    .optional(),
});

/** The infrastructure controller's part of a created Cluster's status. */
export const infrastructureStatus = z.object({
  /** Where the operation stands: FAILED carries the provider's message. */
  phase: z.enum(['PENDING', 'PROVISIONING', 'ONLINE', 'SCALING', 'UPGRADING', 'DELETING', 'FAILED']),
  message: z.string().optional(),
  /** The Cloud the cluster was placed on, and the InfrastructureProvider that created it. */
  cloud: z.string().optional(),
  provider: z.string().optional(),
  /** The provider's own id of the cluster (EKS name, Cluster API Cluster, local cluster name). */
  providerId: z.string().optional(),
  /** What the provider reports now. */
  nodes: z.object({ desired: z.number().int(), ready: z.number().int() }).optional(),
  version: z.string().optional(),
  /** When the current operation started, and when the provider was last asked. */
  operationStartedAt: z.string().optional(),
  lastPollTime: z.string().optional(),
  /** The spec generation whose shape has been reached (ONLINE), or that failed (FAILED: not retried until the spec changes). */
  observedGeneration: z.number().int().optional(),
  /** When the registered credentials expire (EKS tokens); they are replaced before then. */
  credentialsExpireAt: z.string().optional(),
});

export const clusterStatus = z.object({
  state: z.enum(['PENDING', 'PROVISIONING', 'ONLINE', 'UNHEALTHY', 'OFFLINE', 'FAILING_METRICS', 'DELETING', 'FAILED']).optional(),
  reason: z.string().optional(),
  kubernetesVersion: z.string().optional(),
  customResources: z.array(z.string()).optional(),
  nodes: z.object({ total: z.number().int(), ready: z.number().int() }).optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  lastProbeTime: z.string().optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z.array(condition).optional(),
  infrastructure: infrastructureStatus.optional(),
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

/** What every Cloud has: the provider that creates its clusters, and what placement scores. */
const cloudCommon = {
  /** The InfrastructureProvider (same namespace) that creates clusters on this cloud. */
  infrastructureProvider: z.string().min(1),
  /** Metrics scored when a cluster is placed on a cloud, weighted as Cluster.spec.metrics. */
  metrics: z.array(clusterMetricRef).default([]),
};

/** Where clusters are created. The location's type must suit its provider's type. */
export const cloudSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local'), ...cloudCommon, local: z.object({ maxClusters: z.number().int().positive().default(4) }).default({ maxClusters: 4 }) }),
  z.object({ type: z.literal('aws'), ...cloudCommon, aws: z.object({ region: z.string().min(1) }) }),
  z.object({
    type: z.literal('cluster-api'),
    ...cloudCommon,
    /** The namespace of the management cluster the Cluster API objects go to. */
    clusterApi: z.object({ namespace: dnsLabel.default('default') }).default({ namespace: 'default' }),
  }),
]);

/** How clusters are created. */
export const infrastructureProviderSpec = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('local'),
    /** Where the local clusters' state lives; `.shoal/provisioned` under the repository by default. */
    local: z.object({ stateDir: z.string().min(1).optional() }).default({}),
  }),
  z.object({
    type: z.literal('cluster-api'),
    clusterApi: z.object({
      /** A registered Shoal Cluster (same namespace) that runs the Cluster API controllers. */
      managementCluster: dnsLabel,
      /** The ClusterClass the workload clusters are created from (topology). */
      clusterClass: z.string().min(1),
      /** The worker MachineDeployment class; `default-worker` when omitted. */
      workerClass: z.string().min(1).default('default-worker'),
      /** Kubernetes version when the shape names none. */
      defaultVersion: z.string().min(1).default('v1.31.0'),
    }),
  }),
  z.object({
    type: z.literal('eks'),
    eks: z.object({
      /** IAM role of the EKS control plane, and of the managed node group's instances. */
      clusterRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
      nodeRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
      subnetIds: z.array(z.string().min(1)).min(2, 'EKS needs subnets in at least two availability zones'),
      securityGroupIds: z.array(z.string().min(1)).default([]),
      /** Role assumed for every EKS call (cross-account); the function's own role when omitted. */
      roleArn: z.string().optional(),
      defaultInstanceType: z.string().min(1).default('t3.medium'),
    }),
  }),
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
export type ClusterShape = z.infer<typeof clusterShape>;
export type InfrastructureStatus = z.infer<typeof infrastructureStatus>;
export type CloudSpec = z.infer<typeof cloudSpec>;
export type InfrastructureProviderSpec = z.infer<typeof infrastructureProviderSpec>;

/** The key a reconciler is given: which object changed, never what changed. */
export interface ResourceKey {
  kind: Kind;
  namespace: string;
  name: string;
}
