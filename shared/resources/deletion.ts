import type { Kind } from './kinds.ts';

/**
 * How a DELETE treats the object's dependents (objects naming it in
 * `metadata.ownerReferences`), as in Kubernetes:
 * - Foreground: the dependents are deleted first (the same way), then the object.
 * - Background: the object goes now; the garbage collector deletes the dependents after.
 * - Orphan: the dependents stay; their owner references to the object are removed.
 */
export const PROPAGATION_POLICIES = ['Foreground', 'Background', 'Orphan'] as const;
export type PropagationPolicy = (typeof PROPAGATION_POLICIES)[number];
/** Krake's cascading deletion. */
export const DEFAULT_PROPAGATION_POLICY: PropagationPolicy = 'Foreground';

/** Held by the garbage collector while a Foreground deletion waits for the dependents to go. */
export const FOREGROUND_FINALIZER = 'shoal.io/cascading-deletion';
/** Held by the garbage collector while an Orphan deletion detaches the dependents. */
export const ORPHAN_FINALIZER = 'shoal.io/orphan-dependents';
/**
 * Held by the garbage collector while a deleted Cluster still has applications on it:
 * they are moved elsewhere (or go PENDING), not deleted.
 */
export const DRAIN_FINALIZER = 'shoal.io/drain-applications';

/** Parses a policy as Kubernetes spells it; undefined when it is not one. */
export function propagationPolicy(text: string): PropagationPolicy | undefined {
  return PROPAGATION_POLICIES.find((policy) => policy.toLowerCase() === text.toLowerCase());
}

/** The finalizers a deletion starts with, besides those the object already has. */
export function deletionFinalizers(kind: Kind, policy: PropagationPolicy): string[] {
  const finalizers: string[] = [];
  if (policy === 'Foreground') finalizers.push(FOREGROUND_FINALIZER);
  if (policy === 'Orphan') finalizers.push(ORPHAN_FINALIZER);
  if (kind === 'Cluster') finalizers.push(DRAIN_FINALIZER);
  return finalizers;
}

type WithFinalizers = { metadata: { finalizers?: string[] } };

export function hasFinalizer(object: WithFinalizers, finalizer: string): boolean {
  return (object.metadata.finalizers ?? []).includes(finalizer);
}

/** The object with `finalizer` added (at the end, once), everything else as it was. */
export function withFinalizer<T extends WithFinalizers>(object: T, finalizer: string): T {
  if (hasFinalizer(object, finalizer)) return object;
  return { ...object, metadata: { ...object.metadata, finalizers: [...(object.metadata.finalizers ?? []), finalizer] } };
}

/** The object without `finalizer`, everything else as it was. */
export function withoutFinalizer<T extends WithFinalizers>(object: T, finalizer: string): T {
  return { ...object, metadata: { ...object.metadata, finalizers: (object.metadata.finalizers ?? []).filter((f) => f !== finalizer) } };
}
