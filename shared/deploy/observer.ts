import { isDeepStrictEqual } from 'node:util';
import type { ManifestStatus } from '../resources/kinds.ts';
import type { Condition } from '../resources/meta.ts';
import type { ManifestOutcome } from './deployment-status.ts';
import { DEFAULT_TARGET_NAMESPACE, describeRef, type Manifest, refId } from './manifests.ts';

/**
 * Krake's observer schema, kept small: an entry is a partial Kubernetes object naming one
 * manifest (`apiVersion`, `kind`, `metadata.name`, optionally `metadata.namespace`) whose
 * other leaves are `null`, each meaning "watch this field". Objects nest; an array is
 * matched element by element (its n-th entry describes the live list's n-th element).
 * Without an entry, a manifest's watched fields are the ones it sets itself.
 */
export type ObserverEntry = Record<string, unknown>;

/** A field path as segments: keys and list indexes. */
export type FieldPath = readonly (string | number)[];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `spec.template.spec.containers[0].image` */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) out += typeof segment === 'number' ? `[${segment}]` : out ? `.${segment}` : segment;
  return out;
}

/** The value at `path`, or undefined when any step is missing. */
export function valueAt(object: unknown, path: FieldPath): unknown {
  let current = object;
  for (const segment of path) {
    if (typeof segment === 'number' ? !Array.isArray(current) : !isObject(current)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** The fields that name an object rather than describe it: never watched. */
const isIdentity = (path: FieldPath) =>
  (path.length === 1 && (path[0] === 'apiVersion' || path[0] === 'kind')) ||
  (path.length === 2 && path[0] === 'metadata' && (path[1] === 'name' || path[1] === 'namespace'));

/** Why an entry's body is malformed (a leaf that is not null), or undefined when it is fine. */
export function invalidLeaf(entry: ObserverEntry): string | undefined {
  const walk = (node: unknown, path: FieldPath): string | undefined => {
    if (node === null || isIdentity(path)) return undefined;
    if (Array.isArray(node)) {
      for (const [index, element] of node.entries()) {
        const found = walk(element, [...path, index]);
        if (found) return found;
      }
      return undefined;
    }
    if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        const found = walk(value, [...path, key]);
        if (found) return found;
      }
      return undefined;
    }
    return `${formatPath(path)} must be null (a watched field), an object or a list`;
  };
  return walk(entry, []);
}

/** The paths an observer entry watches: its `null` leaves (the identifying fields excluded). */
export function watchedPaths(entry: ObserverEntry): FieldPath[] {
  const paths: FieldPath[] = [];
  const walk = (node: unknown, path: FieldPath) => {
    if (isIdentity(path)) return;
    if (node === null) paths.push(path);
    else if (Array.isArray(node)) node.forEach((element, index) => walk(element, [...path, index]));
    else if (isObject(node)) for (const [key, value] of Object.entries(node)) walk(value, [...path, key]);
  };
  walk(entry, []);
  return paths;
}

/**
 * The default when a manifest has no entry: every field the manifest sets (what server-side
 * apply owns for Shoal), as leaf paths. Empty objects and lists and nulls set nothing.
 */
export function manifestPaths(manifest: unknown): FieldPath[] {
  const paths: FieldPath[] = [];
  const walk = (node: unknown, path: FieldPath) => {
    if (isIdentity(path) || node === null || node === undefined) return;
    if (Array.isArray(node)) node.forEach((element, index) => walk(element, [...path, index]));
    else if (isObject(node)) for (const [key, value] of Object.entries(node)) walk(value, [...path, key]);
    else paths.push(path);
  };
  walk(manifest, []);
  return paths;
}

interface Identity {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
}

/**
 * Whether the entry names this manifest. A namespace in the entry must be the manifest's
 * (`default` for a manifest that names none); an entry without one matches any namespace.
 */
export function identifies(entry: ObserverEntry, manifest: Identity): boolean {
  const meta = isObject(entry.metadata) ? (entry.metadata as Identity['metadata'] & object) : {};
  if (entry.apiVersion !== manifest.apiVersion || entry.kind !== manifest.kind || meta.name !== manifest.metadata?.name) return false;
  if (meta.namespace === undefined || meta.namespace === null) return true;
  return meta.namespace === (manifest.metadata?.namespace ?? DEFAULT_TARGET_NAMESPACE);
}

/** The entry for a manifest, if the schema has one (the first that names it). */
export function entryFor(schema: readonly ObserverEntry[] | undefined, manifest: Manifest): ObserverEntry | undefined {
  return schema?.find((entry) => identifies(entry, manifest));
}

/** Leaf paths under `path` where the live value differs from what the manifest sets there. */
function differences(want: unknown, got: unknown, path: FieldPath): FieldPath[] {
  if (Array.isArray(want)) {
    if (want.length === 0) return [];
    return want.flatMap((element, index) => differences(element, Array.isArray(got) ? got[index] : undefined, [...path, index]));
  }
  if (isObject(want)) return Object.entries(want).flatMap(([key, value]) => differences(value, isObject(got) ? got[key] : undefined, [...path, key]));
  if (want === null || want === undefined) return [];
  return isDeepStrictEqual(want, got) ? [] : [path];
}

export interface Observation {
  /** Watched fields the manifest sets whose live value differs from it, as formatted paths. */
  drift: string[];
  /** Watched fields the manifest does not set (widening), with their live value; absent ones are left out. */
  observed: Record<string, unknown>;
}

/**
 * Pure: compares a live object with its manifest on the watched fields. `before` is the
 * live object as it was before Shoal applied (drift), `after` the one the apply returned
 * (widened fields); `before` undefined means there is nothing to compare yet.
 */
export function observe(manifest: Manifest, entry: ObserverEntry | undefined, before: unknown, after: unknown): Observation {
  const paths = entry ? watchedPaths(entry) : manifestPaths(manifest);
  const drift: string[] = [];
  const observed: Record<string, unknown> = {};
  for (const path of paths) {
    const want = valueAt(manifest, path);
    if (want === undefined) {
      const value = valueAt(after, path);
      if (value !== undefined) observed[formatPath(path)] = value;
      continue;
    }
    if (before === undefined) continue;
    for (const differing of differences(want, valueAt(before, path), path)) {
      const text = formatPath(differing);
      if (!drift.includes(text)) drift.push(text);
    }
  }
  return { drift, observed };
}

/**
 * Pure: `status.manifests` (one entry per manifest, in order) with what the observer
 * saw. `sameGeneration`: the live objects were read before applying the generation that
 * was already applied there, so a difference is drift rather than the user's change.
 * A drift list stays until this generation is replaced or drift is found again, since
 * the apply that follows restores the fields at once.
 */
export function withObservations(
  entries: readonly ManifestStatus[],
  manifests: readonly Manifest[],
  outcomes: readonly ManifestOutcome[],
  recorded: readonly ManifestStatus[],
  schema: readonly ObserverEntry[] | undefined,
  sameGeneration: boolean,
): ManifestStatus[] {
  return entries.map((entry, index) => {
    const manifest = manifests[index];
    const outcome = outcomes[index];
    if (!manifest || !outcome || !entry.applied) return entry;
    const previous = recorded.find((r) => r.applied && refId(r) === refId(outcome.ref));
    const before = sameGeneration && previous ? outcome.before : undefined;
    const { drift, observed } = observe(manifest, entryFor(schema, manifest), before, outcome.live);
    const kept = drift.length ? drift : sameGeneration ? previous?.drift : undefined;
    const next: ManifestStatus = { ...entry };
    if (kept?.length) next.drift = kept;
    if (Object.keys(observed).length) next.observed = observed;
    return next;
  });
}

/**
 * The `DriftCorrected` condition: True while any manifest lists drift (the message says
 * which fields were restored), False once a condition was set and no drift is listed any more.
 */
export function driftCondition(entries: readonly ManifestStatus[], previous: readonly Condition[] | undefined, cluster: string): Condition | undefined {
  const drifted = entries.filter((entry) => entry.drift?.length);
  if (drifted.length) {
    const message = `restored on ${cluster}: ${drifted.map((entry) => `${describeRef(entry)} ${(entry.drift ?? []).join(', ')}`).join('; ')}`;
    return { type: 'DriftCorrected', status: 'True', reason: 'FieldsRestored', message };
  }
  if (previous?.some((c) => c.type === 'DriftCorrected')) return { type: 'DriftCorrected', status: 'False', reason: 'NoDrift', message: 'no drift since this generation was applied' };
  return undefined;
}
