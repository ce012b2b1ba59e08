import type { PropagationPolicy } from '../resources/deletion.ts';
import { GROUP_VERSION } from '../resources/meta.ts';
import { KINDS, type Kind } from '../resources/kinds.ts';

/** A resource as the API returns it; the CLI reads fields defensively, so spec and status stay loose. */
export interface ApiResource {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    ownerReferences?: unknown[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface ApiList {
  apiVersion: string;
  kind: string;
  metadata: { continue?: string };
  items: ApiResource[];
}

/** The Kubernetes `Status` object every API error is answered with. */
export interface ApiStatus {
  kind: 'Status';
  apiVersion: string;
  status: 'Failure';
  code: number;
  reason: string;
  message: string;
  details?: {
    name?: string;
    kind?: string;
    causes?: { field?: string; message: string; reason?: string }[];
  };
}

/** The server answered with an error status. */
export class ApiError extends Error {
  constructor(readonly status: ApiStatus) {
    super(status.message);
    this.name = 'ApiError';
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string {
    return this.status.reason;
  }
}

/** Nothing answered at the server address: the control plane is not running or the address is wrong. */
export class ApiUnreachableError extends Error {
  constructor(
    readonly server: string,
    /** A connection error code (ECONNREFUSED, ...), or undici's reason when it refused to connect at all. */
    readonly causeCode: string,
    detail?: string,
  ) {
    super(
      detail
        ? `cannot reach the Shoal API at ${server}: ${detail} (set --server or SHOAL_SERVER)`
        : `cannot reach the Shoal API at ${server} (is \`npm start\` running? set --server or SHOAL_SERVER)`,
    );
    this.name = 'ApiUnreachableError';
  }
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** Codes undici puts on `fetch failed` causes when no HTTP exchange happened at all. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function unreachableCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return code;
    // AggregateError (happy-eyeballs over IPv4 and IPv6) keeps the real causes in `errors`.
    const nested = (current as Error & { errors?: unknown[] }).errors?.[0];
    current = (current as Error & { cause?: unknown }).cause ?? nested;
  }
  return undefined;
}

export interface ListQuery {
  /** Omit to list across every namespace. */
  namespace?: string;
  labelSelector?: string;
  limit?: number;
  continue?: string;
}

/** One request as the client is about to send it; `url` is absolute, `body` already serialised. */
export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** The request to send instead: a signer may rewrite the URL (query encoding) and adds headers. */
export interface SignedRequest {
  url: URL;
  headers: Record<string, string>;
}

/** Signs a request just before it is sent, e.g. with SigV4 (see sigv4.ts). */
export type RequestSigner = (request: OutgoingRequest) => Promise<SignedRequest>;

export interface ClientOptions {
  signer?: RequestSigner;
}

/**
 * The server URL with `path` (which may carry a `?query`) appended to its own path, so a base
 * like `https://abc.execute-api.eu-west-1.amazonaws.com/v1` keeps its stage prefix. (`new URL(path, base)`
 * would drop it for an absolute path.)
 */
export function requestUrl(server: string, path: string): URL {
  const url = new URL(server);
  const queryAt = path.indexOf('?');
  const pathname = queryAt < 0 ? path : path.slice(0, queryAt);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${pathname.replace(/^\/+/, '')}`;
  url.search = queryAt < 0 ? '' : path.slice(queryAt);
  url.hash = '';
  return url;
}

export type DeleteResult =
  /** The object is gone (200). */
  | { removed: true; object: ApiResource }
  /** Deletion is recorded, finalizers still hold the object (202). */
  | { removed: false; object: ApiResource };

/**
 * A typed client for Shoal's Kubernetes-style REST API. Every method either returns the
 * decoded object or throws `ApiError` (the server's Status) / `ApiUnreachableError`.
 */
export class ShoalClient {
  readonly server: string;
  private readonly signer?: RequestSigner;

  constructor(server: string = DEFAULT_SERVER, options: ClientOptions = {}) {
    this.server = server.replace(/\/+$/, '');
    this.signer = options.signer;
  }

  /** Whether requests are signed (SigV4 for API Gateway with IAM authorization). */
  get signed(): boolean {
    return this.signer !== undefined;
  }

  collectionPath(kind: Kind, namespace?: string): string {
    const plural = KINDS[kind].plural;
    return namespace === undefined
      ? `/apis/${GROUP_VERSION}/${plural}`
      : `/apis/${GROUP_VERSION}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
  }

  objectPath(kind: Kind, namespace: string, name: string): string {
    return `${this.collectionPath(kind, namespace)}/${encodeURIComponent(name)}`;
  }

  async health(): Promise<unknown> {
    return this.request('GET', '/healthz');
  }

  async get(kind: Kind, namespace: string, name: string): Promise<ApiResource> {
    return (await this.request('GET', this.objectPath(kind, namespace, name))) as ApiResource;
  }

  /** GET that answers `undefined` instead of throwing when the object does not exist. */
  async find(kind: Kind, namespace: string, name: string): Promise<ApiResource | undefined> {
    try {
      return await this.get(kind, namespace, name);
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  /** One page of a list. */
  async list(kind: Kind, query: ListQuery = {}): Promise<ApiList> {
    const params = new URLSearchParams();
    if (query.labelSelector) params.set('labelSelector', query.labelSelector);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.continue) params.set('continue', query.continue);
    const search = params.size > 0 ? `?${params}` : '';
    return (await this.request('GET', `${this.collectionPath(kind, query.namespace)}${search}`)) as ApiList;
  }

  /** Every item, following `continue` tokens page by page. */
  async listAll(kind: Kind, query: Omit<ListQuery, 'continue'> = {}, pageSize = 500): Promise<ApiResource[]> {
    const items: ApiResource[] = [];
    let token: string | undefined;
    do {
      const page = await this.list(kind, { ...query, limit: query.limit ?? pageSize, continue: token });
      items.push(...page.items);
      token = page.metadata?.continue || undefined;
    } while (token);
    return items;
  }

  async create(kind: Kind, namespace: string, body: unknown): Promise<ApiResource> {
    return (await this.request('POST', this.collectionPath(kind, namespace), body)) as ApiResource;
  }

  async replace(kind: Kind, namespace: string, name: string, body: unknown): Promise<ApiResource> {
    return (await this.request('PUT', this.objectPath(kind, namespace, name), body)) as ApiResource;
  }

  async patch(kind: Kind, namespace: string, name: string, mergePatch: unknown): Promise<ApiResource> {
    return (await this.request('PATCH', this.objectPath(kind, namespace, name), mergePatch, 'application/merge-patch+json')) as ApiResource;
  }

  async delete(kind: Kind, namespace: string, name: string, propagationPolicy?: PropagationPolicy): Promise<DeleteResult> {
    const query = propagationPolicy ? `?propagationPolicy=${propagationPolicy}` : '';
    const { status, body } = await this.exchange('DELETE', `${this.objectPath(kind, namespace, name)}${query}`);
    return { removed: status !== 202, object: body as ApiResource };
  }

  private async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    return (await this.exchange(method, path, body, contentType)).body;
  }

  private async exchange(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: unknown }> {
    let url: URL;
    try {
      url = requestUrl(this.server, path);
    } catch {
      throw new ApiUnreachableError(this.server, 'FETCH_FAILED', 'invalid URL');
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = payload === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': contentType };
    // Signing happens outside the try: a credentials problem is not an unreachable server.
    if (this.signer) ({ url, headers } = await this.signer({ method, url, headers, body: payload }));
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: payload });
    } catch (error) {
      const code = unreachableCode(error);
      if (code) throw new ApiUnreachableError(this.server, code);
      // undici's own refusals ("bad port", invalid URL) are a TypeError with the reason as cause.
      const cause = (error as Error & { cause?: unknown }).cause;
      if (error instanceof TypeError && cause instanceof Error) throw new ApiUnreachableError(this.server, 'FETCH_FAILED', cause.message);
      throw error;
    }
    const text = await response.text();
    let decoded: unknown = undefined;
    if (text.length > 0) {
      try {
        decoded = JSON.parse(text);
      } catch {
        decoded = text;
      }
    }
    if (!response.ok) throw new ApiError(asStatus(response, decoded, this.signed));
    return { status: response.status, body: decoded };
  }
}

/**
 * Non-Status error bodies still become a Status the CLI can print: API Gateway's own answers
 * (`{"message": "..."}`, or `{"Message": "..."}` for an IAM deny) on 403/429/502/504, a proxy's
 * HTML page, plain text.
 */
function asStatus(response: Response, body: unknown, signed: boolean): ApiStatus {
  if (body && typeof body === 'object' && (body as { kind?: unknown }).kind === 'Status') {
    const status = body as ApiStatus;
    return { ...status, code: status.code ?? response.status, reason: status.reason || reasonFor(response.status) };
  }
  let message = response.statusText || `HTTP ${response.status}`;
  if (typeof body === 'string' && body.trim().length > 0) message = body.trim().slice(0, 500);
  const gatewayMessage = gatewayMessageOf(body);
  if (gatewayMessage !== undefined) message = gatewayMessage.slice(0, 500);
  if (response.status === 403 && !signed && message === 'Missing Authentication Token') {
    // API Gateway's answer to an unsigned request (or to a path it has no route for).
    message += ' (an API with IAM authorization needs signed requests: pass --aws-sigv4 or set SHOAL_AWS_SIGV4=1)';
  }
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: response.status, reason: reasonFor(response.status), message };
}

function gatewayMessageOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { message, Message } = body as { message?: unknown; Message?: unknown };
  const text = typeof message === 'string' ? message : typeof Message === 'string' ? Message : undefined;
  return text?.trim() || undefined;
}

function reasonFor(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    413: 'RequestEntityTooLarge',
    415: 'UnsupportedMediaType',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code] ?? 'Unknown';
}
