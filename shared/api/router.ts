import { parseAllDocuments } from 'yaml';
import { BadRequestError, MethodNotAllowedError, NotFoundError, TooLargeError, UnsupportedMediaTypeError } from '../errors.ts';
import { logger } from '../observability.ts';
import { PROPAGATION_POLICIES, propagationPolicy, type PropagationPolicy } from '../resources/deletion.ts';
import { GROUP_VERSION } from '../resources/meta.ts';
import { KIND_NAMES, KINDS, kindForPlural, type Kind, type ResourceKey } from '../resources/kinds.ts';
import { parseSelector, SelectorSyntaxError } from '../resources/selector.ts';
import type { DeleteOutcome } from '../store/resource-store.ts';
import { isPlainObject } from './merge-patch.ts';
import { openApiDocument } from './openapi.ts';
import type { ResourceService } from './resource-service.ts';
import { statusFor } from './status.ts';

/** An HTTP request, independent of API Gateway's event shape. */
export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  body: string | null;
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Larger bodies cannot become a resource anyway (400 KiB item limit); refuse before parsing. */
export const MAX_BODY_BYTES = 1024 * 1024;
const BASE = `/apis/${GROUP_VERSION}`;
const NAME = '([^/]+)';
const ROUTES: { pattern: RegExp; methods: string[]; target: 'collection' | 'allNamespaces' | 'object' | 'status' }[] = [
  { pattern: new RegExp(`^${BASE}/${NAME}$`), methods: ['GET'], target: 'allNamespaces' },
  { pattern: new RegExp(`^${BASE}/namespaces/${NAME}/${NAME}$`), methods: ['GET', 'POST'], target: 'collection' },
  { pattern: new RegExp(`^${BASE}/namespaces/${NAME}/${NAME}/${NAME}$`), methods: ['GET', 'PUT', 'PATCH', 'DELETE'], target: 'object' },
  { pattern: new RegExp(`^${BASE}/namespaces/${NAME}/${NAME}/${NAME}/status$`), methods: ['GET', 'PUT', 'PATCH'], target: 'status' },
];

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

function header(request: ApiRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return Object.entries(request.headers).find(([key]) => key.toLowerCase() === wanted)?.[1];
}

/** Parses a JSON or YAML body; YAML errors carry the line and column. */
export function parseBody(request: ApiRequest): unknown {
  const text = request.body ?? '';
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new TooLargeError(`the request body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
  }
  if (text.trim() === '') throw new BadRequestError('the request needs a body');
  const type = (header(request, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.includes('json-patch') || type.includes('strategic-merge-patch') || type.includes('apply-patch')) {
    throw new UnsupportedMediaTypeError(`content type "${type}" is not supported: send a JSON merge patch (application/merge-patch+json)`);
  }
  if (type.includes('yaml')) return parseYaml(text);
  if (type === '' || type.includes('json')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      if (type === '') return parseYaml(text);
      throw new BadRequestError(`the body is not valid JSON: ${(error as Error).message}`);
    }
  }
  throw new UnsupportedMediaTypeError(`content type "${type}" is not supported: use application/json or application/yaml`);
}

function parseYaml(text: string): unknown {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) throw new BadRequestError('the body is empty');
  if (documents.length !== 1) throw new BadRequestError(`the body holds ${documents.length} YAML documents; send one object per request`);
  const [document] = documents;
  const [first] = document?.errors ?? [];
  if (first) throw new BadRequestError(`the body is not valid YAML: ${first.message.split('\n')[0]}`);
  return document?.toJS();
}

function listQuery(request: ApiRequest) {
  const { labelSelector, limit, continue: continueToken } = request.query;
  let selector;
  try {
    selector = labelSelector ? parseSelector(labelSelector) : undefined;
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw new BadRequestError(error.message);
    throw error;
  }
  const parsedLimit = limit === undefined ? undefined : Number(limit);
  if (parsedLimit !== undefined && (!Number.isInteger(parsedLimit) || parsedLimit < 1)) {
    throw new BadRequestError(`limit must be a positive integer, got "${limit}"`);
  }
  return { selector, limit: parsedLimit, continueToken: continueToken || undefined };
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError(`the path segment "${segment}" is not valid percent-encoding`);
  }
}

function kindOf(plural: string): Kind {
  const kind = kindForPlural(plural);
  if (!kind) {
    const known = KIND_NAMES.map((name) => KINDS[name].plural).join(', ');
    throw new NotFoundError(`the server does not serve "${plural}" in ${GROUP_VERSION}; it serves ${known}`);
  }
  return kind;
}

function deleteResponse(outcome: DeleteOutcome): ApiResponse {
  return outcome.removed ? json(200, outcome.last) : json(202, outcome.resource);
}

/**
 * Kubernetes' DeleteOptions, from the query (`propagationPolicy`, `resourceVersion`) or
 * a DeleteOptions body (`propagationPolicy`, `preconditions.resourceVersion`); the query wins.
 */
function deleteOptions(request: ApiRequest): { resourceVersion?: string; propagationPolicy?: PropagationPolicy } {
  const body = request.body?.trim() ? parseBody(request) : {};
  if (!isPlainObject(body)) throw new BadRequestError('a DELETE body must be a DeleteOptions object');
  const preconditions = isPlainObject(body.preconditions) ? body.preconditions : {};
  const resourceVersion = request.query.resourceVersion || (typeof preconditions.resourceVersion === 'string' ? preconditions.resourceVersion : undefined);
  const policyText = request.query.propagationPolicy ?? body.propagationPolicy;
  if (policyText === undefined) return { resourceVersion };
  const policy = typeof policyText === 'string' ? propagationPolicy(policyText) : undefined;
  if (!policy) {
    throw new BadRequestError(`propagationPolicy ${JSON.stringify(policyText)} is not one of ${PROPAGATION_POLICIES.join(', ')}`);
  }
  return { resourceVersion, propagationPolicy: policy };
}

/** Routes a request to the resource service and turns every outcome, errors included, into a response. */
export class ShoalApi {
  private openApi?: string;

  constructor(private readonly service: ResourceService) {}

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const started = performance.now();
    const response = await this.respond(request);
    // Method, path and code only: bodies may carry kubeconfigs.
    logger.info('request', { method: request.method, path: request.path, code: response.statusCode, ms: Math.round(performance.now() - started) });
    return response;
  }

  private async respond(request: ApiRequest): Promise<ApiResponse> {
    try {
      return await this.route(request);
    } catch (error) {
      const status = statusFor(error);
      if (status.code >= 500) logger.error('request failed', { method: request.method, path: request.path, error: error as Error });
      const headers: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: error.allow.join(', ') } : {};
      return json(status.code, status, headers);
    }
  }

  private async route(request: ApiRequest): Promise<ApiResponse> {
    const path = request.path.replace(/\/+$/, '') || '/';
    const method = request.method.toUpperCase();
    if (path === '/healthz') return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
    if (path === '/openapi.json') {
      this.openApi ??= JSON.stringify(openApiDocument());
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: this.openApi };
    }
    if (path === BASE && method === 'GET') return json(200, this.discovery());
    for (const route of ROUTES) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      if (!route.methods.includes(method)) {
        throw new MethodNotAllowedError(`${method} is not allowed on ${path}; allowed: ${route.methods.join(', ')}`, route.methods);
      }
      const parts = match.slice(1).map((part) => decodePathSegment(part ?? ''));
      if (route.target === 'allNamespaces') return this.list(request, kindOf(parts[0] ?? ''), undefined);
      const [namespace = '', plural = '', name = ''] = parts;
      const kind = kindOf(plural);
      if (route.target === 'collection') {
        return method === 'GET' ? this.list(request, kind, namespace) : json(201, await this.service.create(kind, namespace, parseBody(request)));
      }
      const key: ResourceKey = { kind, namespace, name };
      if (route.target === 'object') {
        switch (method) {
          case 'GET':
            return json(200, await this.service.get(key));
          case 'PUT':
            return json(200, await this.updated(await this.service.replace(key, parseBody(request))));
          case 'PATCH':
            return json(200, await this.updated(await this.service.patch(key, parseBody(request))));
          default:
            return deleteResponse(await this.service.delete(key, deleteOptions(request)));
        }
      }
      switch (method) {
        case 'GET':
          return json(200, await this.service.get(key));
        case 'PUT':
          return json(200, await this.service.replaceStatus(key, parseBody(request)));
        default:
          return json(200, await this.service.patchStatus(key, parseBody(request)));
      }
    }
    throw new NotFoundError(`no route for ${method} ${path}: resources live under ${BASE}/namespaces/{namespace}/{plural}`);
  }

  /** An update that removed the last finalizer of a deleting object answers with its final state. */
  private async updated(outcome: DeleteOutcome) {
    return outcome.removed ? outcome.last : outcome.resource;
  }

  private async list(request: ApiRequest, kind: Kind, namespace: string | undefined): Promise<ApiResponse> {
    const { selector, limit, continueToken } = listQuery(request);
    const result = await this.service.list(kind, namespace, selector, limit, continueToken);
    return json(200, {
      apiVersion: GROUP_VERSION,
      kind: `${kind}List`,
      metadata: result.continueToken ? { continue: result.continueToken } : {},
      items: result.items,
    });
  }

  private discovery() {
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: GROUP_VERSION,
      resources: KIND_NAMES.flatMap((kind) => [
        { name: KINDS[kind].plural, namespaced: true, kind, shortNames: [...KINDS[kind].shortNames], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'] },
        { name: `${KINDS[kind].plural}/status`, namespaced: true, kind, verbs: ['get', 'patch', 'update'] },
      ]),
    };
  }
}
