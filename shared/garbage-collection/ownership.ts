import { FOREGROUND_FINALIZER } from '../resources/deletion.ts';
import type { Kind, ResourceKey } from '../resources/kinds.ts';
import { keyOf, type StoredResource } from '../store/resource-store.ts';

export type OwnerReference = NonNullable<StoredResource['metadata']['ownerReferences']>[number];

/**
 * What an owner reference leads to, Kubernetes' garbage collector's terms:
 * - solid: the owner exists (same uid) and is not waiting for its dependents;
 * - waiting: the owner is being deleted in the foreground, waiting for its dependents;
 * - absent: no object of that kind and name with that uid in the namespace (dangling);
 * - elsewhere: the uid belongs to an object in another namespace. Owners must be in
 *   the dependent's namespace, so the reference is invalid: it neither keeps the
 *   dependent nor gets it deleted.
 */
export type OwnerState = 'solid' | 'waiting' | 'absent' | 'elsewhere';

export const objectId = (key: { kind: string; namespace: string; name: string }) => `${key.kind}/${key.namespace}/${key.name}`;

/** Being deleted in the foreground: waiting for its dependents to go first. */
export function isWaiting(object: StoredResource): boolean {
  return Boolean(object.metadata.deletionTimestamp) && (object.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER);
}

/**
 * The ownership graph of one namespace, from a consistent listing of its objects. Pure:
 * every decision of the garbage collector is made on it and tested without DynamoDB.
 */
export class OwnershipGraph {
  private readonly byId = new Map<string, StoredResource>();

  /**
   * @param objects every object of the namespace
   * @param uidsElsewhere uids of objects in other namespaces that references of this
   *   namespace name (only needed to tell `elsewhere` from `absent`)
   */
  constructor(
    readonly namespace: string,
    objects: readonly StoredResource[],
    private readonly uidsElsewhere: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const object of objects) this.byId.set(objectId(keyOf(object)), object);
  }

  get(key: ResourceKey): StoredResource | undefined {
    return this.byId.get(objectId(key));
  }

  /** The owner a reference names, when it resolves (same kind, name and uid). */
  ownerOf(ref: OwnerReference): StoredResource | undefined {
    const owner = this.byId.get(objectId({ kind: ref.kind, namespace: this.namespace, name: ref.name }));
    return owner && owner.metadata.uid === ref.uid ? owner : undefined;
  }

  stateOf(ref: OwnerReference): OwnerState {
    const owner = this.ownerOf(ref);
    if (owner) return isWaiting(owner) ? 'waiting' : 'solid';
    return this.uidsElsewhere.has(ref.uid) ? 'elsewhere' : 'absent';
  }

  /** Objects whose owner references name `owner` (by uid when given, else by kind and name). */
  dependentsOf(owner: { kind: Kind; name: string; uid?: string }): StoredResource[] {
    return [...this.byId.values()].filter((object) =>
      (object.metadata.ownerReferences ?? []).some((ref) => ref.kind === owner.kind && ref.name === owner.name && (owner.uid === undefined || ref.uid === owner.uid)),
    );
  }

  /**
   * The ownership path from `from` down to `to` through dependents, when there is one:
   * a foreground deletion of `to` that waits for `from` while `from` (transitively)
   * waits for `to` would wait forever.
   */
  pathDown(from: StoredResource, to: StoredResource): StoredResource[] | undefined {
    const seen = new Set<string>([from.metadata.uid]);
    const queue: StoredResource[][] = [[from]];
    while (queue.length) {
      const path = queue.shift() as StoredResource[];
      const last = path[path.length - 1] as StoredResource;
      for (const dependent of this.dependentsOf({ kind: last.kind, name: last.metadata.name, uid: last.metadata.uid })) {
        if (dependent.metadata.uid === to.metadata.uid) return [...path, dependent];
        if (seen.has(dependent.metadata.uid)) continue;
        seen.add(dependent.metadata.uid);
        queue.push([...path, dependent]);
      }
    }
    return undefined;
  }
}

/** What the garbage collector does with one dependent whose owners it has looked at. */
export type DependentAction =
  | { action: 'keep' }
  /** Some owners are solid: only the references to these owners go. */
  | { action: 'detach'; refs: OwnerReference[] }
  /** No owner is left to keep it: delete it (Foreground when an owner waits for it). */
  | { action: 'delete'; policy: 'Foreground' | 'Background' };

/**
 * Kubernetes' rule for a dependent: it stays as long as one owner is solid (references to
 * absent or waiting owners are removed); with no solid owner left it is deleted, in the
 * foreground when an owner waits for it so that the wait covers its own dependents too.
 * References to owners in other namespaces are left alone and count for nothing.
 */
export function dependentAction(graph: OwnershipGraph, dependent: StoredResource): DependentAction {
  const refs = dependent.metadata.ownerReferences ?? [];
  const states = refs.map((ref) => ({ ref, state: graph.stateOf(ref) }));
  const valid = states.filter(({ state }) => state !== 'elsewhere');
  if (valid.length === 0) return { action: 'keep' };
  const gone = valid.filter(({ state }) => state === 'absent' || state === 'waiting');
  if (gone.length === 0) return { action: 'keep' };
  if (valid.some(({ state }) => state === 'solid')) return { action: 'detach', refs: gone.map(({ ref }) => ref) };
  if (dependent.metadata.deletionTimestamp) return { action: 'keep' };
  return { action: 'delete', policy: gone.some(({ state }) => state === 'waiting') ? 'Foreground' : 'Background' };
}

/** References to `owner` (by uid) removed; undefined when the object has none. */
export function withoutOwner(object: StoredResource, uids: ReadonlySet<string>): StoredResource | undefined {
  const refs = object.metadata.ownerReferences ?? [];
  const kept = refs.filter((ref) => !uids.has(ref.uid));
  if (kept.length === refs.length) return undefined;
  return { ...object, metadata: { ...object.metadata, ownerReferences: kept.length ? kept : undefined } };
}

/** Invalid references of an object (owners in other namespaces), for its condition. */
export function misplacedOwners(graph: OwnershipGraph, object: StoredResource): OwnerReference[] {
  return (object.metadata.ownerReferences ?? []).filter((ref) => graph.stateOf(ref) === 'elsewhere');
}
