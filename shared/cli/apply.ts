import { GROUP_VERSION } from '../resources/meta.ts';
import { isKind, KIND_NAMES, type Kind } from '../resources/kinds.ts';
import { ApiError, type ApiResource, type ShoalClient } from './client.ts';
import type { ManifestObject } from './manifests.ts';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

/** What a manifest addresses: the REST path it will be written to. */
export interface ManifestTarget {
  kind: Kind;
  namespace: string;
  name: string;
}

/** A manifest the CLI refuses before sending it: it could not be addressed at all. */
export class ManifestTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestTargetError';
  }
}

/** Reads kind, name and namespace from a manifest; the manifest's namespace wins over `-n`. */
export function manifestTarget(object: ManifestObject, defaultNamespace: string): ManifestTarget {
  if (object.apiVersion !== GROUP_VERSION) {
    const given = object.apiVersion === undefined ? 'no apiVersion' : `apiVersion "${String(object.apiVersion)}"`;
    throw new ManifestTargetError(`${given}: Shoal serves ${GROUP_VERSION}`);
  }
  if (typeof object.kind !== 'string' || !isKind(object.kind)) {
    const given = typeof object.kind === 'string' ? `unknown kind "${object.kind}"` : 'no kind';
    throw new ManifestTargetError(`${given}: expected one of ${KIND_NAMES.join(', ')}`);
  }
  const name = object.metadata?.name;
  if (typeof name !== 'string' || name === '') throw new ManifestTargetError(`${object.kind} has no metadata.name`);
  const namespace = object.metadata?.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) {
    throw new ManifestTargetError(`${object.kind} "${name}": metadata.namespace must be a non-empty string`);
  }
  return { kind: object.kind, name, namespace: namespace ?? defaultNamespace };
}

/**
 * The server keeps resourceVersion when an update changes nothing, so comparing versions
 * tells "configured" from "unchanged" without second-guessing server-side defaults.
 */
export function applyOutcome(before: ApiResource | undefined, after: ApiResource): ApplyOutcome {
  if (!before) return 'created';
  return before.metadata.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured';
}

/** The body sent on create: status belongs to controllers, so it is never written by apply. */
export function creationBody(object: ManifestObject, target: ManifestTarget): Record<string, unknown> {
  const { status: _status, ...rest } = object;
  return { ...rest, metadata: { ...(object.metadata ?? {}), name: target.name, namespace: target.namespace } };
}

/**
 * The body sent on update. A PUT replaces metadata and spec wholesale, so fields that
 * controllers or the server own — finalizers added by the garbage collector, the
 * kubeconfig secret reference of a Cluster — are carried over from the live object when
 * the manifest does not mention them; otherwise re-applying a file would strip them.
 */
export function updateBody(object: ManifestObject, target: ManifestTarget, live: ApiResource): Record<string, unknown> {
  const body = creationBody(object, target);
  const metadata = body.metadata as Record<string, unknown>;
  metadata.resourceVersion = live.metadata.resourceVersion;
  if (metadata.finalizers === undefined && live.metadata.finalizers !== undefined) metadata.finalizers = live.metadata.finalizers;
  if (target.kind === 'Cluster' && live.spec?.kubeconfigSecret !== undefined) {
    const spec = { ...((body.spec ?? {}) as Record<string, unknown>) };
    if (spec.kubeconfig === undefined && spec.kubeconfigSecret === undefined) spec.kubeconfigSecret = live.spec.kubeconfigSecret;
    body.spec = spec;
  }
  return body;
}

const MAX_ATTEMPTS = 3;

/**
 * Create-or-update, like `kubectl apply` without the last-applied annotation: GET, then
 * POST or a PUT conditional on the fetched resourceVersion. A write raced by a controller
 * (409) is retried from a fresh read.
 */
export async function applyManifest(
  client: ShoalClient,
  object: ManifestObject,
  defaultNamespace: string,
): Promise<{ target: ManifestTarget; outcome: ApplyOutcome; resource: ApiResource }> {
  const target = manifestTarget(object, defaultNamespace);
  for (let attempt = 1; ; attempt++) {
    const live = await client.find(target.kind, target.namespace, target.name);
    try {
      const resource = live
        ? await client.replace(target.kind, target.namespace, target.name, updateBody(object, target, live))
        : await client.create(target.kind, target.namespace, creationBody(object, target));
      return { target, outcome: applyOutcome(live, resource), resource };
    } catch (error) {
      const raced = error instanceof ApiError && error.code === 409 && (error.reason === 'Conflict' || error.reason === 'AlreadyExists');
      if (!raced || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
