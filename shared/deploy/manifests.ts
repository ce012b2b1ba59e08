import type { KubernetesObject } from '@kubernetes/client-node';

/** Where a namespaced manifest without `metadata.namespace` goes: the cluster's own default, as kubectl does. */
export const DEFAULT_TARGET_NAMESPACE = 'default';

/** What names one object on a cluster; also the shape of an entry of `status.manifests`. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export type Manifest = KubernetesObject & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

const CRD_KIND = 'CustomResourceDefinition';

export function refOf(manifest: Manifest): ObjectRef {
  const ref: ObjectRef = { apiVersion: manifest.apiVersion, kind: manifest.kind, name: manifest.metadata.name };
  if (manifest.metadata.namespace) ref.namespace = manifest.metadata.namespace;
  return ref;
}

export const refId = (ref: ObjectRef) => `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

export const describeRef = (ref: ObjectRef) => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/** `group/Kind` of every custom resource the manifests define themselves. */
export function kindsDefinedBy(manifests: readonly Manifest[]): Set<string> {
  const kinds = new Set<string>();
  for (const manifest of manifests) {
    if (manifest.kind !== CRD_KIND) continue;
    const spec = (manifest as { spec?: { group?: string; names?: { kind?: string } } }).spec;
    if (spec?.group && spec.names?.kind) kinds.add(`${spec.group}/${spec.names.kind}`);
  }
  return kinds;
}

/** True when the object's kind comes from a CRD among the same manifests (it can only be applied after that CRD). */
export function isInstanceOfOwnCrd(ref: ObjectRef, ownKinds: ReadonlySet<string>): boolean {
  return ownKinds.has(`${groupOf(ref.apiVersion)}/${ref.kind}`);
}

/**
 * Namespaces the manifests put objects into without declaring them: they are created
 * first so that those objects can be applied at all. They are not deleted with the
 * application, since other applications may share them.
 */
export function implicitNamespaces(manifests: readonly Manifest[]): Manifest[] {
  const declared = new Set(manifests.filter((m) => m.apiVersion === 'v1' && m.kind === 'Namespace').map((m) => m.metadata.name));
  const named = new Set(manifests.map((m) => m.metadata.namespace).filter((ns): ns is string => Boolean(ns) && ns !== DEFAULT_TARGET_NAMESPACE));
  return [...named]
    .filter((ns) => !declared.has(ns))
    .sort()
    .map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
}

/**
 * The order objects go onto a cluster: Namespaces, then CRDs, then everything else,
 * then instances of the CRDs the manifests define (their API exists only once the CRD
 * is Established). Stable within each rank, so the user's order decides ties.
 * Deletion runs the same list backwards.
 */
export function applyOrder(manifests: readonly Manifest[]): Manifest[] {
  const ownKinds = kindsDefinedBy(manifests);
  const rank = (m: Manifest) => {
    if (m.apiVersion === 'v1' && m.kind === 'Namespace') return 0;
    if (m.kind === CRD_KIND) return 1;
    if (isInstanceOfOwnCrd(refOf(m), ownKinds)) return 3;
    return 2;
  };
  return manifests
    .map((manifest, index) => ({ manifest, index }))
    .sort((a, b) => rank(a.manifest) - rank(b.manifest) || a.index - b.index)
    .map(({ manifest }) => manifest);
}

interface Counts {
  generation?: number;
  observedGeneration?: number;
}

interface LiveObject {
  metadata?: Counts;
  spec?: { replicas?: number };
  status?: Record<string, unknown> & { observedGeneration?: number; conditions?: { type?: string; status?: string }[] };
}

const num = (value: unknown) => (typeof value === 'number' ? value : 0);

/**
 * Whether a workload the cluster reports is actually serving: its controller has seen
 * the latest spec and every desired replica is updated and available. Other kinds are
 * ready once applied. Returns the reason when not ready.
 */
export function workloadReadiness(kind: string, live: unknown): { ready: boolean; message?: string } {
  const object = (live ?? {}) as LiveObject;
  const status = object.status ?? {};
  const stale = (object.metadata?.generation ?? 0) > num(status.observedGeneration);
  const desired = object.spec?.replicas ?? 1;
  switch (kind) {
    case 'Deployment': {
      const available = status.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
      const counts = [num(status.replicas), num(status.updatedReplicas), num(status.availableReplicas)];
      if (!stale && available && counts.every((count) => count === desired)) return { ready: true };
      return { ready: false, message: `${num(status.availableReplicas)}/${desired} replicas available${stale ? ', rollout not observed yet' : ''}` };
    }
    case 'StatefulSet': {
      if (!stale && num(status.readyReplicas) === desired && num(status.updatedReplicas) === desired) return { ready: true };
      return { ready: false, message: `${num(status.readyReplicas)}/${desired} replicas ready` };
    }
    case 'DaemonSet': {
      const scheduled = num(status.desiredNumberScheduled);
      if (!stale && num(status.numberReady) === scheduled && num(status.updatedNumberScheduled) === scheduled) return { ready: true };
      return { ready: false, message: `${num(status.numberReady)}/${scheduled} pods ready` };
    }
    default:
      return { ready: true };
  }
}

/** Whether a CRD the cluster reports can be used: its API is served once Established. */
export function isEstablished(live: unknown): boolean {
  const conditions = (live as LiveObject | undefined)?.status?.conditions ?? [];
  return conditions.some((c) => c.type === 'Established' && c.status === 'True');
}
