import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError } from '../errors.ts';
import { inspectKubeconfig, kubeconfigText } from '../kube/kubeconfig.ts';
import { DEFAULT_PROPAGATION_POLICY, deletionFinalizers, type PropagationPolicy } from '../resources/deletion.ts';
import { GROUP_VERSION } from '../resources/meta.ts';
import { isKind, KIND_NAMES, KINDS, resourceSchema, type Kind, type ResourceKey } from '../resources/kinds.ts';
import { sameJson } from '../resources/values.ts';
import type { Requirement } from '../resources/selector.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { DeleteOutcome, ResourceInput, ResourceStore, StoredResource } from '../store/resource-store.ts';
import { applyMergePatch, isPlainObject } from './merge-patch.ts';
import { causesFrom, validationError } from './status.ts';

/** Holds a Cluster in the table until its kubeconfig secret has been released. */
export const KUBECONFIG_FINALIZER = 'shoal.io/kubeconfig-secret';

const CONFLICT_RETRIES = 5;

/**
 * Runs a read-modify-write again when another writer got in between — unless the client
 * pinned a resourceVersion, in which case the 409 is exactly what it asked for.
 */
async function retryOnConflict<T>(pinned: boolean, attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ConflictError) || pinned || tries >= CONFLICT_RETRIES) throw error;
    }
  }
}

/**
 * What the REST API does with resources, independent of HTTP: validation against the
 * kind's schema, the write-only kubeconfig of Clusters, merge patches. Every method is
 * one store write (plus, for Clusters, a secret written before and released after).
 */
export class ResourceService {
  constructor(
    private readonly store: ResourceStore,
    private readonly secrets: SecretStore,
  ) {}

  get(key: ResourceKey): Promise<StoredResource> {
    return this.store.mustGet(key);
  }

  list(kind: Kind, namespace: string | undefined, selector: Requirement[] | undefined, limit?: number, continueToken?: string) {
    return this.store.list({ kind, namespace, selector, limit, continueToken });
  }

  async create(kind: Kind, namespace: string, body: unknown): Promise<StoredResource> {
    const input = this.validate(kind, namespace, undefined, body);
    await this.checkOwners(input);
    const { resource, newSecret } = await this.withKubeconfig(input, undefined);
    try {
      return await this.store.create(resource);
    } catch (error) {
      if (newSecret) await this.secrets.delete(newSecret);
      throw error;
    }
  }

  /** Full replace; without a resourceVersion in the body it is unconditional, as in Kubernetes. */
  async replace(key: ResourceKey, body: unknown): Promise<DeleteOutcome> {
    const input = this.validate(key.kind, key.namespace, key.name, body);
    return retryOnConflict(input.metadata.resourceVersion !== undefined, async () => this.write(input, await this.store.mustGet(key)));
  }

  /** JSON merge patch of metadata and spec; retried on a concurrent write unless the patch pins a resourceVersion. */
  async patch(key: ResourceKey, patch: unknown): Promise<DeleteOutcome> {
    if (!isPlainObject(patch)) throw new BadRequestError('a merge patch must be a JSON object');
    const pinned = isPlainObject(patch.metadata) && typeof patch.metadata.resourceVersion === 'string';
    return retryOnConflict(pinned, async () => {
      const current = await this.store.mustGet(key);
      const { status: _status, ...base } = current;
      const merged = applyMergePatch(base, patch) as Record<string, unknown>;
      return this.write(this.validate(key.kind, key.namespace, key.name, merged), current);
    });
  }

  /**
   * Starts a deletion with the propagation policy's finalizers (Foreground unless told
   * otherwise). Without a resourceVersion precondition, a concurrent status write must
   * not make a delete fail.
   */
  async delete(key: ResourceKey, options: { resourceVersion?: string; propagationPolicy?: PropagationPolicy } = {}): Promise<DeleteOutcome> {
    const finalizers = deletionFinalizers(key.kind, options.propagationPolicy ?? DEFAULT_PROPAGATION_POLICY);
    return retryOnConflict(options.resourceVersion !== undefined, () => this.store.delete(key, { resourceVersion: options.resourceVersion, finalizers }));
  }

  async replaceStatus(key: ResourceKey, body: unknown): Promise<StoredResource> {
    if (!isPlainObject(body)) throw new BadRequestError('the body must be a JSON or YAML object');
    const status = this.validateStatus(key, body.status);
    const metadata = isPlainObject(body.metadata) ? body.metadata : {};
    const version = typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
    return retryOnConflict(version !== undefined, () => this.store.updateStatus(key, status, version));
  }

  async patchStatus(key: ResourceKey, patch: unknown): Promise<StoredResource> {
    if (!isPlainObject(patch)) throw new BadRequestError('a merge patch must be a JSON object');
    const pinned = isPlainObject(patch.metadata) && typeof patch.metadata.resourceVersion === 'string' ? patch.metadata.resourceVersion : undefined;
    return retryOnConflict(pinned !== undefined, async () => {
      const current = await this.store.mustGet(key);
      const status = this.validateStatus(key, applyMergePatch(current.status ?? {}, patch.status ?? {}));
      return this.store.updateStatus(key, status, pinned ?? current.metadata.resourceVersion);
    });
  }

  private async write(input: ResourceInput & { metadata: { namespace: string } }, current: StoredResource) {
    if (!sameJson(input.metadata.ownerReferences ?? [], current.metadata.ownerReferences ?? [])) await this.checkOwners(input);
    const { resource, newSecret, oldSecret } = await this.withKubeconfig(input, current);
    let outcome: DeleteOutcome;
    try {
      outcome = await this.store.update(resource);
    } catch (error) {
      if (newSecret) await this.secrets.delete(newSecret);
      throw error;
    }
    if (oldSecret) await this.secrets.delete(oldSecret);
    return outcome;
  }

  private validate(kind: Kind, namespace: string, name: string | undefined, body: unknown) {
    if (!isPlainObject(body)) throw new BadRequestError('the body must be a JSON or YAML object');
    const envelope: Record<string, unknown> = { apiVersion: GROUP_VERSION, kind, ...body };
    if (envelope.kind !== kind) {
      throw new BadRequestError(`the body's kind "${String(envelope.kind)}" does not match the URL, which is for ${kind}`);
    }
    const metadata = isPlainObject(envelope.metadata) ? envelope.metadata : {};
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
      throw new BadRequestError(`metadata.namespace "${String(metadata.namespace)}" does not match the namespace in the URL, "${namespace}"`);
    }
    if (name !== undefined && metadata.name !== undefined && metadata.name !== name) {
      throw new BadRequestError(`metadata.name "${String(metadata.name)}" does not match the name in the URL, "${name}"`);
    }
    const candidate = { ...envelope, metadata: { ...metadata, namespace, ...(name ? { name } : {}) } };
    const parsed = resourceSchema(kind).safeParse(candidate);
    const displayName = typeof candidate.metadata.name === 'string' ? candidate.metadata.name : undefined;
    if (!parsed.success) throw validationError(kind, displayName, causesFrom(parsed.error));
    const resource = parsed.data as unknown as ResourceInput & { metadata: { namespace: string } };
    if (kind === 'Cluster') this.validateKubeconfig(resource);
    return resource;
  }

  /**
   * Owner references must name a Shoal object of the same namespace (the garbage
   * collector follows nothing else): another apiVersion or kind, the object itself, or an
   * owner found in another namespace is a 422 naming the reference. An owner that does not
   * exist (yet) is accepted, as in Kubernetes; the garbage collector treats it as dangling.
   */
  private async checkOwners(resource: ResourceInput & { metadata: { namespace: string } }) {
    const causes: { field: string; message: string; reason: 'FieldValueInvalid' }[] = [];
    for (const [index, ref] of (resource.metadata.ownerReferences ?? []).entries()) {
      const field = `metadata.ownerReferences[${index}]`;
      const invalid = (message: string) => causes.push({ field, message, reason: 'FieldValueInvalid' });
      if (ref.apiVersion !== GROUP_VERSION || !isKind(ref.kind)) {
        invalid(`must name a ${GROUP_VERSION} kind (${KIND_NAMES.join(', ')}), not ${ref.apiVersion} ${ref.kind}`);
        continue;
      }
      if (ref.kind === resource.kind && ref.name === resource.metadata.name) {
        invalid('an object cannot own itself');
        continue;
      }
      const here = await this.store.get({ kind: ref.kind, namespace: resource.metadata.namespace, name: ref.name });
      if (here?.metadata.uid === ref.uid) continue;
      const elsewhere = (await this.store.namespacesOf(ref.kind, new Set([ref.uid]))).get(ref.uid);
      if (elsewhere) invalid(`${ref.kind} "${ref.name}" is in namespace "${elsewhere}": an owner must be in the same namespace`);
    }
    if (causes.length) throw validationError(resource.kind, resource.metadata.name, causes);
  }

  private validateStatus(key: ResourceKey, status: unknown) {
    const parsed = KINDS[key.kind].status.safeParse(status ?? {});
    if (!parsed.success) throw validationError(key.kind, key.name, causesFrom(parsed.error, 'status'));
    return parsed.data;
  }

  private validateKubeconfig(resource: ResourceInput) {
    const spec = resource.spec as { kubeconfig?: string | Record<string, unknown>; context?: string; infrastructure?: unknown };
    if (spec.kubeconfig === undefined) return;
    const { problems } = inspectKubeconfig(kubeconfigText(spec.kubeconfig), spec.context);
    if (problems.length) {
      throw validationError(
        'Cluster',
        resource.metadata.name,
        problems.map((message) => ({ field: 'spec.kubeconfig', message, reason: 'FieldValueInvalid' as const })),
      );
    }
  }

  /**
   * Moves a Cluster's write-only kubeconfig into the secret store under a fresh id, so
   * that a failed table write can never leave another object's secret overwritten.
   */
  private async withKubeconfig(
    input: ResourceInput & { metadata: { namespace: string } },
    current: StoredResource | undefined,
  ): Promise<{ resource: ResourceInput & { metadata: { namespace: string } }; newSecret?: string; oldSecret?: string }> {
    if (input.kind !== 'Cluster') return { resource: input };
    const { kubeconfig, kubeconfigSecret: _ignored, ...spec } = input.spec as {
      kubeconfig?: string | Record<string, unknown>;
      kubeconfigSecret?: string;
      infrastructure?: unknown;
    };
    const currentSecret = (current?.spec as { kubeconfigSecret?: string } | undefined)?.kubeconfigSecret;
    if (kubeconfig === undefined && !currentSecret && !spec.infrastructure) {
      throw validationError('Cluster', input.metadata.name, [
        { field: 'spec.kubeconfig', message: 'is required unless spec.infrastructure is set', reason: 'FieldValueRequired' },
      ]);
    }
    let secretRef = currentSecret;
    let newSecret: string | undefined;
    if (kubeconfig !== undefined) {
      newSecret = `clusters/${input.metadata.namespace}/${input.metadata.name}/${randomUUID()}`;
      await this.secrets.put(newSecret, kubeconfigText(kubeconfig));
      secretRef = newSecret;
    }
    const finalizers = input.metadata.finalizers ?? [];
    const deleting = Boolean(current?.metadata.deletionTimestamp);
    const keepFinalizer = secretRef && !deleting && !finalizers.includes(KUBECONFIG_FINALIZER);
    return {
      resource: {
        ...input,
        metadata: { ...input.metadata, finalizers: keepFinalizer ? [...finalizers, KUBECONFIG_FINALIZER] : finalizers },
        spec: { ...spec, ...(secretRef ? { kubeconfigSecret: secretRef } : {}) },
      },
      newSecret,
      oldSecret: newSecret && currentSecret ? currentSecret : undefined,
    };
  }
}
