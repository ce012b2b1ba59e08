import { describe, expect, it, vi } from 'vitest';
import { MAX_BODY_BYTES, parseBody, ShoalApi, type ApiRequest, type ApiResponse } from '../../shared/api/router.ts';
import type { ResourceService } from '../../shared/api/resource-service.ts';
import { BadRequestError, NotFoundError, TooLargeError, UnsupportedMediaTypeError } from '../../shared/errors.ts';
import { logger } from '../../shared/observability.ts';
import { KIND_NAMES, KINDS } from '../../shared/resources/kinds.ts';
import type { DeleteOutcome, StoredResource } from '../../shared/store/resource-store.ts';

const BASE = '/apis/shoal.io/v1alpha1';

const stored = (name: string): StoredResource => ({
  apiVersion: 'shoal.io/v1alpha1',
  kind: 'Cluster',
  metadata: { name, namespace: 'default', uid: 'u-1', resourceVersion: '3', generation: 1 },
  spec: {},
});

/** A hand-written stand-in for ResourceService that records what the router asked of it. */
class FakeService {
  calls: { method: string; args: unknown[] }[] = [];
  deleteOutcome: DeleteOutcome = { removed: true, last: stored('gone') };
  failWith?: unknown;

  private record(method: string, args: unknown[]) {
    this.calls.push({ method, args });
    if (this.failWith !== undefined) throw this.failWith;
  }
  async get(...args: unknown[]) {
    this.record('get', args);
    return stored('one');
  }
  async list(...args: unknown[]) {
    this.record('list', args);
    return { items: [stored('one')], continueToken: 'next-page' };
  }
  async create(...args: unknown[]) {
    this.record('create', args);
    return stored('created');
  }
  async replace(...args: unknown[]): Promise<DeleteOutcome> {
    this.record('replace', args);
    return { removed: false, resource: stored('replaced') };
  }
  async patch(...args: unknown[]): Promise<DeleteOutcome> {
    this.record('patch', args);
    return { removed: true, last: stored('finalised') };
  }
  async delete(...args: unknown[]) {
    this.record('delete', args);
    return this.deleteOutcome;
  }
  async replaceStatus(...args: unknown[]) {
    this.record('replaceStatus', args);
    return stored('status-replaced');
  }
  async patchStatus(...args: unknown[]) {
    this.record('patchStatus', args);
    return stored('status-patched');
  }
}

function setup() {
  const service = new FakeService();
  const api = new ShoalApi(service as unknown as ResourceService);
  return { service, api };
}

function request(method: string, path: string, overrides: Partial<ApiRequest> = {}): ApiRequest {
  return { method, path, query: {}, headers: {}, body: null, ...overrides };
}

const bodyOf = (response: ApiResponse) => JSON.parse(response.body) as Record<string, unknown>;

describe('ShoalApi service endpoints', () => {
  it('answers /healthz with ok', async () => {
    // Prepare
    const { api } = setup();
    // Act
    const response = await api.handle(request('GET', '/healthz'));
    // Assess
    expect(response).toEqual({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' });
  });

  it('serves an OpenAPI document with paths for every plural and a schema for every kind', async () => {
    // Prepare
    const { api } = setup();
    // Act
    const response = await api.handle(request('GET', '/openapi.json'));
    const document = JSON.parse(response.body) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    // Assess
    expect(response.statusCode).toBe(200);
    expect(document.openapi).toMatch(/^3\./);
    for (const kind of KIND_NAMES) {
      const { plural } = KINDS[kind];
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining([
          `${BASE}/${plural}`,
          `${BASE}/namespaces/{namespace}/${plural}`,
          `${BASE}/namespaces/{namespace}/${plural}/{name}`,
          `${BASE}/namespaces/{namespace}/${plural}/{name}/status`,
        ]),
      );
      expect(document.components.schemas[kind]).toMatchObject({ type: 'object' });
      expect(document.components.schemas[`${kind}List`]).toBeDefined();
    }
    expect(document.components.schemas.Status).toBeDefined();
  });

  it('serves discovery for the group version, with every plural and its status subresource', async () => {
    // Prepare
    const { api } = setup();
    // Act
    const response = await api.handle(request('GET', `${BASE}/`));
    const body = bodyOf(response) as { kind: string; groupVersion: string; resources: { name: string; kind: string; shortNames?: string[] }[] };
    // Assess
    expect(response.statusCode).toBe(200);
    expect(body.kind).toBe('APIResourceList');
    expect(body.groupVersion).toBe('shoal.io/v1alpha1');
    expect(body.resources.map((resource) => resource.name)).toEqual(
      KIND_NAMES.flatMap((kind) => [KINDS[kind].plural, `${KINDS[kind].plural}/status`]),
    );
    expect(body.resources.find((resource) => resource.name === 'applications')?.shortNames).toEqual(['app', 'apps']);
  });
});

describe('ShoalApi routing', () => {
  it('lists in one namespace with selector, limit and continue token passed to the service', async () => {
    // Prepare
    const { api, service } = setup();
    const query = { labelSelector: 'tier in (a,b),!legacy', limit: '5', continue: 'tok' };
    // Act
    const response = await api.handle(request('GET', `${BASE}/namespaces/team-a/clusters`, { query }));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(service.calls).toEqual([
      {
        method: 'list',
        args: [
          'Cluster',
          'team-a',
          [
            { key: 'tier', operator: 'In', values: ['a', 'b'] },
            { key: 'legacy', operator: 'DoesNotExist' },
          ],
          5,
          'tok',
        ],
      },
    ]);
    expect(bodyOf(response)).toEqual({ apiVersion: 'shoal.io/v1alpha1', kind: 'ClusterList', metadata: { continue: 'next-page' }, items: [stored('one')] });
  });

  it('lists across namespaces without a namespace', async () => {
    // Prepare
    const { api, service } = setup();
    // Act
    const response = await api.handle(request('GET', `${BASE}/applications`));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(service.calls).toEqual([{ method: 'list', args: ['Application', undefined, undefined, undefined, undefined] }]);
  });

  it('creates with 201 and the parsed body', async () => {
    // Prepare
    const { api, service } = setup();
    const body = JSON.stringify({ metadata: { name: 'created' }, spec: {} });
    // Act
    const response = await api.handle(request('POST', `${BASE}/namespaces/default/clusters`, { body, headers: { 'Content-Type': 'application/json' } }));
    // Assess
    expect(response.statusCode).toBe(201);
    expect(bodyOf(response)).toEqual(stored('created'));
    expect(service.calls).toEqual([{ method: 'create', args: ['Cluster', 'default', { metadata: { name: 'created' }, spec: {} }] }]);
  });

  it('routes GET, PUT and PATCH of an object and of its status, decoding path segments', async () => {
    // Prepare
    const { api, service } = setup();
    const object = `${BASE}/namespaces/default/metrics/my%2Dload`;
    const key = { kind: 'Metric', namespace: 'default', name: 'my-load' };
    // Act
    const responses = [
      await api.handle(request('GET', object)),
      await api.handle(request('PUT', object, { body: 'spec: {min: 0}', headers: { 'content-type': 'application/yaml' } })),
      await api.handle(request('PATCH', object, { body: '{"spec":{"max":2}}', headers: { 'content-type': 'application/merge-patch+json' } })),
      await api.handle(request('GET', `${object}/status`)),
      await api.handle(request('PUT', `${object}/status`, { body: '{"status":{}}' })),
      await api.handle(request('PATCH', `${object}/status`, { body: '{"status":{}}' })),
    ];
    // Assess
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(service.calls).toEqual([
      { method: 'get', args: [key] },
      { method: 'replace', args: [key, { spec: { min: 0 } }] },
      { method: 'patch', args: [key, { spec: { max: 2 } }] },
      { method: 'get', args: [key] },
      { method: 'replaceStatus', args: [key, { status: {} }] },
      { method: 'patchStatus', args: [key, { status: {} }] },
    ]);
    // An update that removed the last finalizer answers with the final state.
    expect(bodyOf(responses[1]!)).toEqual(stored('replaced'));
    expect(bodyOf(responses[2]!)).toEqual(stored('finalised'));
  });

  it.each<[DeleteOutcome, number, string]>([
    [{ removed: true, last: stored('gone') }, 200, 'gone'],
    [{ removed: false, resource: stored('finalizing') }, 202, 'finalizing'],
  ])('answers DELETE with the outcome %#: %i', async (outcome, code, name) => {
    // Prepare
    const { api, service } = setup();
    service.deleteOutcome = outcome;
    // Act
    const response = await api.handle(request('DELETE', `${BASE}/namespaces/default/clusters/x`, { query: { resourceVersion: '7' } }));
    // Assess
    expect(response.statusCode).toBe(code);
    expect(bodyOf(response)).toEqual(stored(name));
    expect(service.calls).toEqual([{ method: 'delete', args: [{ kind: 'Cluster', namespace: 'default', name: 'x' }, { resourceVersion: '7' }] }]);
  });

  it('takes the DELETE precondition from DeleteOptions in the body', async () => {
    // Prepare
    const { api, service } = setup();
    const body = JSON.stringify({ kind: 'DeleteOptions', preconditions: { resourceVersion: '9' } });
    // Act
    await api.handle(request('DELETE', `${BASE}/namespaces/default/clusters/x`, { body }));
    await api.handle(request('DELETE', `${BASE}/namespaces/default/clusters/y`));
    // Assess
    expect(service.calls.map((call) => call.args[1])).toEqual([{ resourceVersion: '9' }, { resourceVersion: undefined }]);
  });

  it.each([
    [{ query: { propagationPolicy: 'Orphan' } }, 'Orphan'],
    [{ query: { propagationPolicy: 'background' } }, 'Background'],
    [{ body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' }) }, 'Foreground'],
    [{ query: { propagationPolicy: 'Orphan' }, body: JSON.stringify({ propagationPolicy: 'Foreground' }) }, 'Orphan'],
  ])('takes the propagation policy from the query or a DeleteOptions body %#', async (parts, policy) => {
    // Prepare
    const { api, service } = setup();
    // Act
    const response = await api.handle(request('DELETE', `${BASE}/namespaces/default/clusters/x`, parts));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(service.calls[0]?.args[1]).toMatchObject({ propagationPolicy: policy });
  });

  it('refuses an unknown propagation policy, naming the allowed ones', async () => {
    // Prepare
    const { api, service } = setup();
    // Act
    const response = await api.handle(request('DELETE', `${BASE}/namespaces/default/clusters/x`, { query: { propagationPolicy: 'Cascade' } }));
    // Assess
    expect(response.statusCode).toBe(400);
    expect((bodyOf(response) as { message: string }).message).toBe('propagationPolicy "Cascade" is not one of Foreground, Background, Orphan');
    expect(service.calls).toEqual([]);
  });
});

describe('ShoalApi errors', () => {
  it.each([
    ['/nowhere', 'no route for GET /nowhere: resources live under /apis/shoal.io/v1alpha1/namespaces/{namespace}/{plural}'],
    [`${BASE}/namespaces/default/clusters/x/logs`, 'no route for GET'],
  ])('answers an unknown path %s with 404', async (path, message) => {
    // Prepare
    const { api, service } = setup();
    // Act
    const response = await api.handle(request('GET', path));
    // Assess
    expect(response.statusCode).toBe(404);
    expect(bodyOf(response)).toMatchObject({ kind: 'Status', status: 'Failure', code: 404, reason: 'NotFound' });
    expect(bodyOf(response).message).toContain(message);
    expect(service.calls).toEqual([]);
  });

  it('answers an unknown plural with 404 naming every served plural', async () => {
    // Prepare
    const { api } = setup();
    // Act
    const response = await api.handle(request('GET', `${BASE}/namespaces/default/pods/x`));
    // Assess
    expect(response.statusCode).toBe(404);
    expect(bodyOf(response).message).toBe(
      `the server does not serve "pods" in shoal.io/v1alpha1; it serves ${KIND_NAMES.map((kind) => KINDS[kind].plural).join(', ')}`,
    );
  });

  it.each([
    ['DELETE', `${BASE}/namespaces/default/clusters`, 'GET, POST'],
    ['POST', `${BASE}/namespaces/default/clusters/x`, 'GET, PUT, PATCH, DELETE'],
    ['DELETE', `${BASE}/namespaces/default/clusters/x/status`, 'GET, PUT, PATCH'],
    ['POST', `${BASE}/clusters`, 'GET'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    // Prepare
    const { api, service } = setup();
    // Act
    const response = await api.handle(request(method, path));
    // Assess
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(bodyOf(response)).toMatchObject({ code: 405, reason: 'MethodNotAllowed', message: `${method} is not allowed on ${path}; allowed: ${allow}` });
    expect(service.calls).toEqual([]);
  });

  it('answers a malformed percent-encoding in the path with 400', async () => {
    // Prepare
    const { api, service } = setup();
    // Act
    const response = await api.handle(request('GET', `${BASE}/namespaces/default/clusters/%E0%A4%A`));
    // Assess
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).message).toContain('%E0%A4%A');
    expect(service.calls).toEqual([]);
  });

  it.each([
    [{ labelSelector: 'tier in (' }, `invalid label selector "tier in (": expected a value or ')' but the selector ended`],
    [{ labelSelector: 'Bad Key=x' }, 'invalid label selector "Bad Key=x"'],
    [{ limit: '0' }, 'limit must be a positive integer, got "0"'],
    [{ limit: 'ten' }, 'limit must be a positive integer, got "ten"'],
    [{ limit: '2.5' }, 'limit must be a positive integer, got "2.5"'],
  ])('answers list query %j with 400', async (query, message) => {
    // Prepare
    const { api, service } = setup();
    // Act
    const response = await api.handle(request('GET', `${BASE}/namespaces/default/clusters`, { query }));
    // Assess
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(bodyOf(response).message).toContain(message);
    expect(service.calls).toEqual([]);
  });

  it('answers a malformed body with 400 before calling the service', async () => {
    // Prepare
    const { api, service } = setup();
    // Act
    const response = await api.handle(
      request('POST', `${BASE}/namespaces/default/clusters`, { body: '{"metadata": ', headers: { 'content-type': 'application/json' } }),
    );
    // Assess
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).message).toMatch(/^the body is not valid JSON: /);
    expect(service.calls).toEqual([]);
  });

  it('turns a plain Error into a 500 Status without its message or stack, and logs it', async () => {
    // Prepare
    const { api, service } = setup();
    service.failWith = new Error('secret stack detail');
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    // Act
    const response = await api.handle(request('GET', `${BASE}/namespaces/default/clusters/x`));
    // Assess
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response)).toMatchObject({ kind: 'Status', code: 500, reason: 'InternalError' });
    expect(response.body).not.toContain('secret stack detail');
    expect(response.body).not.toMatch(/\bat /);
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
  });

  it('passes a ShoalError from the service through with its code', async () => {
    // Prepare
    const { api, service } = setup();
    service.failWith = new NotFoundError('clusters "x" not found');
    // Act
    const response = await api.handle(request('GET', `${BASE}/namespaces/default/clusters/x`));
    // Assess
    expect(response.statusCode).toBe(404);
    expect(bodyOf(response).message).toBe('clusters "x" not found');
  });
});

describe('parseBody', () => {
  const withBody = (body: string | null, contentType?: string) =>
    request('POST', '/', { body, headers: contentType === undefined ? {} : { 'Content-Type': contentType } });

  it.each([
    ['{"a":1}', 'application/json', { a: 1 }],
    ['{"a":1}', 'application/json; charset=utf-8', { a: 1 }],
    ['{"a":1}', 'application/merge-patch+json', { a: 1 }],
    ['a: 1\nb: [x, y]\n', 'application/yaml', { a: 1, b: ['x', 'y'] }],
    ['a: 1\n', 'application/x-yaml', { a: 1 }],
    ['{"a":1}', undefined, { a: 1 }],
    ['a: 1\n', undefined, { a: 1 }],
    ['---\na: 1\n', 'application/yaml', { a: 1 }],
  ])('parses %j sent as %s', (body, contentType, expected) => {
    // Prepare
    const req = withBody(body, contentType);
    // Act
    const parsed = parseBody(req);
    // Assess
    expect(parsed).toEqual(expected);
  });

  it.each<[string | null, string | undefined, new (message: string) => Error, string | RegExp]>([
    [null, 'application/json', BadRequestError, 'the request needs a body'],
    ['  \n', 'application/json', BadRequestError, 'the request needs a body'],
    ['{"a":', 'application/json', BadRequestError, /^the body is not valid JSON: /],
    ['a: [1, 2\n', 'application/yaml', BadRequestError, /^the body is not valid YAML: .+line \d+, column \d+/],
    ['{"a": [1, 2\n', undefined, BadRequestError, /^the body is not valid YAML: /],
    ['a: 1\n---\nb: 2\n', 'application/yaml', BadRequestError, 'the body holds 2 YAML documents; send one object per request'],
    ['a: 1\n---\nb: 2\n---\nc: 3\n', undefined, BadRequestError, 'the body holds 3 YAML documents; send one object per request'],
    ['[]', 'application/json-patch+json', UnsupportedMediaTypeError, 'content type "application/json-patch+json" is not supported: send a JSON merge patch (application/merge-patch+json)'],
    ['{}', 'application/strategic-merge-patch+json', UnsupportedMediaTypeError, 'is not supported'],
    ['{}', 'application/apply-patch+yaml', UnsupportedMediaTypeError, 'is not supported'],
    ['<a/>', 'application/xml', UnsupportedMediaTypeError, 'content type "application/xml" is not supported: use application/json or application/yaml'],
  ])('rejects %j sent as %s', (body, contentType, errorClass, message) => {
    // Prepare
    const req = withBody(body, contentType);
    // Act
    const parse = () => parseBody(req);
    // Assess
    expect(parse).toThrow(errorClass);
    expect(parse).toThrow(message);
  });

  it('refuses a body over 1 MiB with 413, counting bytes rather than characters', async () => {
    // Prepare: under the limit in characters, over it in UTF-8 bytes
    const { api, service } = setup();
    const body = JSON.stringify({ data: 'é'.repeat(MAX_BODY_BYTES / 2) });
    // Act
    const parse = () => parseBody(withBody(body, 'application/json'));
    const response = await api.handle(request('POST', `${BASE}/namespaces/default/clusters`, { body }));
    // Assess
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    expect(parse).toThrow(TooLargeError);
    expect(response.statusCode).toBe(413);
    expect(bodyOf(response)).toMatchObject({ reason: 'RequestEntityTooLarge', message: 'the request body is larger than 1024 KiB' });
    expect(service.calls).toEqual([]);
  });

  it('accepts a body of exactly 1 MiB', () => {
    // Prepare
    const body = `"${'x'.repeat(MAX_BODY_BYTES - 2)}"`;
    // Act
    const parsed = parseBody(withBody(body, 'application/json'));
    // Assess
    expect(parsed).toHaveLength(MAX_BODY_BYTES - 2);
  });

  it('answers json-patch with 415 and several YAML documents with 400 through the API', async () => {
    // Prepare
    const { api } = setup();
    const object = `${BASE}/namespaces/default/clusters/x`;
    // Act
    const jsonPatch = await api.handle(request('PATCH', object, { body: '[]', headers: { 'content-type': 'application/json-patch+json' } }));
    const twoDocs = await api.handle(request('PUT', object, { body: 'a: 1\n---\nb: 2\n', headers: { 'content-type': 'application/yaml' } }));
    const badYaml = await api.handle(request('PUT', object, { body: 'a: [1\n', headers: { 'content-type': 'application/yaml' } }));
    // Assess
    expect(jsonPatch.statusCode).toBe(415);
    expect(bodyOf(jsonPatch).reason).toBe('UnsupportedMediaType');
    expect(twoDocs.statusCode).toBe(400);
    expect(bodyOf(twoDocs).message).toContain('2 YAML documents');
    expect(badYaml.statusCode).toBe(400);
    expect(bodyOf(badYaml).message).toMatch(/^the body is not valid YAML: .+line \d+, column \d+/);
  });
});
