import { ApiException, HttpMethod, type KubeConfig, type KubernetesObject, KubernetesObjectApi, PatchStrategy, type V1APIResource } from '@kubernetes/client-node';
import { DEFAULT_TARGET_NAMESPACE, type Manifest, type ObjectRef, refOf } from './manifests.ts';

/** Kubernetes field manager of every object Shoal applies: server-side apply then owns exactly Shoal's fields. */
export const FIELD_MANAGER = 'shoal';

/** The outcome of applying one object. */
export type ApplyOutcome =
  | { result: 'applied'; ref: ObjectRef; live: unknown }
  /** The API server refused the object (4xx): retrying the same object cannot help. */
  | { result: 'rejected'; ref: ObjectRef; message: string }
  /** The object's kind is not served (yet): a CRD may still be on its way. */
  | { result: 'unknown-kind'; ref: ObjectRef; message: string };

/**
 * Exposes discovery (protected upstream) and a verbatim server-side apply; constructed
 * without the context's namespace, so the default stays `default`.
 */
class DiscoveringObjectApi extends KubernetesObjectApi {
  describeKind(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }

  /**
   * `patch()` sends known kinds through client-node's typed serializer, which drops every
   * key it has no TypeScript name for (`x-kubernetes-preserve-unknown-fields` in a CRD
   * schema, fields newer than the client). Manifests are Kubernetes JSON: send them as written.
   */
  async serverSideApply(object: Manifest): Promise<unknown> {
    const request = this.configuration.baseServer.makeRequestContext(await this.specUriPath(object, 'patch'), HttpMethod.PATCH);
    request.setHeaderParam('Accept', 'application/json');
    request.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
    request.setQueryParam('fieldManager', FIELD_MANAGER);
    request.setQueryParam('force', 'true');
    request.setBody(JSON.stringify(object));
    return this.requestPromise(request);
  }
}

/** The Status message an API server sent back, without client-node's wrapping. */
function serverMessage(error: ApiException<unknown>): string {
  let body: unknown = error.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return (body as string).slice(0, 500) || `HTTP ${error.code}`;
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message ? message : `HTTP ${error.code}`;
}

/**
 * 4xx other than throttling/timeouts: the request itself is wrong, so retrying it is
 * pointless. The API server also answers 500 when an applied object does not fit its
 * CRD's schema ("failed to create typed patch object"), which no retry fixes either.
 */
const isRejection = (error: unknown): error is ApiException<unknown> =>
  error instanceof ApiException &&
  ((error.code >= 400 && error.code < 500 && error.code !== 429 && error.code !== 408 && error.code !== 409) ||
    (error.code === 500 && serverMessage(error).startsWith('failed to create typed patch object')));

/**
 * One target cluster's objects, as the deployer needs them: apply, read, delete, with
 * the API server's refusals told apart from transient failures (which are thrown).
 */
export class ClusterObjects {
  private readonly api: DiscoveringObjectApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(DiscoveringObjectApi);
  }

  /** The manifest as it will be addressed on the cluster: namespaced kinds get `default` when they name none. */
  private async place(manifest: Manifest): Promise<{ object: Manifest; ref: ObjectRef } | { unknown: string }> {
    const object = structuredClone(manifest);
    let resource: V1APIResource | undefined;
    try {
      resource = await this.api.describeKind(object.apiVersion, object.kind);
    } catch (error) {
      // Discovery answers 404 for an API group/version the cluster does not serve.
      if (error instanceof ApiException && error.code === 404) return { unknown: `the cluster does not serve apiVersion "${object.apiVersion}"` };
      throw error;
    }
    if (!resource) return { unknown: `the cluster does not serve kind "${object.kind}" in apiVersion "${object.apiVersion}"` };
    if (resource.namespaced) object.metadata.namespace ??= DEFAULT_TARGET_NAMESPACE;
    else delete object.metadata.namespace;
    return { object, ref: refOf(object) };
  }

  async apply(manifest: Manifest): Promise<ApplyOutcome> {
    const placed = await this.place(manifest);
    if ('unknown' in placed) return { result: 'unknown-kind', ref: refOf(manifest), message: placed.unknown };
    try {
      const live = await this.api.serverSideApply(placed.object);
      return { result: 'applied', ref: placed.ref, live };
    } catch (error) {
      if (isRejection(error)) return { result: 'rejected', ref: placed.ref, message: serverMessage(error) };
      throw error;
    }
  }

  /** The live object, or undefined when it does not exist (or its kind is not served). */
  async read(manifest: Manifest): Promise<unknown> {
    const placed = await this.place(manifest);
    if ('unknown' in placed) return undefined;
    try {
      return await this.api.read({ apiVersion: placed.object.apiVersion, kind: placed.object.kind, metadata: placed.object.metadata });
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  /** The objects of a kind in a namespace that match a label selector; none when the kind is not served. */
  async list(apiVersion: string, kind: string, namespace: string, labelSelector: string): Promise<KubernetesObject[]> {
    try {
      if (!(await this.api.describeKind(apiVersion, kind))) return [];
      return (await this.api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector)).items;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return [];
      throw error;
    }
  }

  /** Deletes the object; already gone (or its kind no longer served) counts as deleted. */
  async delete(manifest: Manifest): Promise<void> {
    const placed = await this.place(manifest);
    if ('unknown' in placed) return;
    try {
      await this.api.delete(placed.object, undefined, undefined, undefined, undefined, 'Background');
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return;
      throw error;
    }
  }
}
