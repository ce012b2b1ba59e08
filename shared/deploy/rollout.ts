import type { ClusterObjects } from './cluster-objects.ts';
import type { ManifestStatus } from '../resources/kinds.ts';
import type { ManifestOutcome } from './deployment-status.ts';
import {
  applyOrder,
  implicitNamespaces,
  isEstablished,
  isInstanceOfOwnCrd,
  kindsDefinedBy,
  type Manifest,
  refId,
  refOf,
  workloadReadiness,
} from './manifests.ts';

/** How long one reconcile waits for a CRD to become Established before requeueing instead. */
const CRD_ESTABLISH_WAIT_MS = 5_000;
const CRD_POLL_MS = 250;

async function waitUntilEstablished(objects: ClusterObjects, crd: Manifest, live: unknown): Promise<boolean> {
  const deadline = Date.now() + CRD_ESTABLISH_WAIT_MS;
  let current = live;
  while (!isEstablished(current)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, CRD_POLL_MS));
    current = await objects.read(crd);
  }
  return true;
}

/**
 * Server-side applies every manifest to one cluster in dependency order (namespaces, CRDs,
 * the rest, instances of the CRDs) and reports each manifest's outcome in the user's
 * order. A refused manifest does not stop the others, so the status shows every problem
 * at once. Transient failures (unreachable, 5xx) are thrown.
 */
export async function applyManifests(objects: ClusterObjects, manifests: readonly Manifest[], readFirst = false): Promise<ManifestOutcome[]> {
  const ownKinds = kindsDefinedBy(manifests);
  const outcomes = new Map<Manifest, ManifestOutcome>();
  let crdsPending = false;
  for (const manifest of applyOrder([...implicitNamespaces(manifests), ...manifests])) {
    const instance = isInstanceOfOwnCrd(refOf(manifest), ownKinds);
    if (instance && crdsPending) {
      outcomes.set(manifest, { ref: refOf(manifest), outcome: 'waiting', message: 'waiting for its CustomResourceDefinition to be Established' });
      continue;
    }
    // With `readFirst`, the object as it was before this apply, for drift (the apply itself restores it).
    const before = readFirst && manifests.includes(manifest) ? await objects.read(manifest) : undefined;
    const applied = await objects.apply(manifest);
    if (applied.result === 'applied') {
      let readiness = workloadReadiness(manifest.kind, applied.live);
      if (manifest.kind === 'CustomResourceDefinition' && !(await waitUntilEstablished(objects, manifest, applied.live))) {
        crdsPending = true;
        readiness = { ready: false, message: 'not Established yet' };
      }
      outcomes.set(manifest, { ref: applied.ref, outcome: readiness.ready ? 'ready' : 'unready', message: readiness.message, before, live: applied.live });
    } else if (applied.result === 'unknown-kind' && instance) {
      // Discovery can lag a freshly Established CRD by a moment.
      outcomes.set(manifest, { ref: applied.ref, outcome: 'waiting', message: applied.message });
    } else {
      outcomes.set(manifest, { ref: applied.ref, outcome: 'rejected', message: applied.message });
    }
  }
  return manifests.map((manifest) => outcomes.get(manifest) ?? { ref: refOf(manifest), outcome: 'waiting' });
}

const asManifest = ({ apiVersion, kind, name, namespace }: ManifestStatus): Manifest => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

/**
 * Everything of the application that may be on a cluster: the current manifests plus
 * objects a previous generation applied (they are listed in `status.manifests`).
 */
export function deployedObjects(manifests: readonly Manifest[], recorded: readonly ManifestStatus[] = []): Manifest[] {
  const current = new Set(manifests.map((m) => refId(refOf(m))));
  const earlier = recorded.filter((entry) => entry.applied && !current.has(refId(entry))).map(asManifest);
  return [...manifests, ...earlier];
}

/**
 * Objects a previous generation applied that the current manifests no longer contain
 * (compared as placed on the cluster, so with their effective namespace).
 */
export function objectsDroppedFromSpec(recorded: readonly ManifestStatus[], outcomes: readonly ManifestOutcome[]): Manifest[] {
  const current = new Set(outcomes.map((o) => refId(o.ref)));
  // A namespace still holding current objects stays: deleting it would take them along.
  const inUse = new Set(outcomes.map((o) => o.ref.namespace));
  const keep = (entry: ManifestStatus) => current.has(refId(entry)) || (entry.kind === 'Namespace' && inUse.has(entry.name));
  return recorded.filter((entry) => entry.applied && !keep(entry)).map(asManifest);
}

/** Deletes objects in reverse apply order (workloads before their namespace and CRDs); already gone is fine. */
export async function removeObjects(objects: ClusterObjects, manifests: readonly Manifest[]): Promise<void> {
  for (const manifest of applyOrder(manifests).reverse()) await objects.delete(manifest);
}
