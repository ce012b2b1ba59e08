import { z } from 'zod';
import { PROPAGATION_POLICIES } from '../resources/deletion.ts';
import { GROUP_VERSION } from '../resources/meta.ts';
import { KIND_NAMES, KINDS, resourceSchema, type Kind } from '../resources/kinds.ts';

const BASE = `/apis/${GROUP_VERSION}`;

function schemaOf(type: z.ZodType) {
  const { $schema: _drop, ...schema } = z.toJSONSchema(type, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  return schema;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function errorResponses(...codes: number[]) {
  const descriptions: Record<number, string> = {
    400: 'malformed body or parameter',
    404: 'not found',
    409: 'already exists, or resourceVersion conflict',
    413: 'resource larger than the 400 KiB storage limit',
    415: 'unsupported content type',
    422: 'validation failed; details.causes names every bad field',
  };
  return Object.fromEntries(
    codes.map((code) => [String(code), { description: descriptions[code], content: { 'application/json': { schema: ref('Status') } } }]),
  );
}

const bodyOf = (kind: Kind) => ({
  required: true,
  content: { 'application/json': { schema: ref(kind) }, 'application/yaml': { schema: ref(kind) } },
});
const mergePatch = { required: true, content: { 'application/merge-patch+json': { schema: { type: 'object' } } } };
const ok = (schema: object, code = '200') => ({ [code]: { description: 'OK', content: { 'application/json': { schema } } } });
const listParams = [
  { name: 'labelSelector', in: 'query', schema: { type: 'string' }, description: 'e.g. `env=prod,tier in (a,b),!legacy`' },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } },
  { name: 'continue', in: 'query', schema: { type: 'string' } },
];
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });

/** The OpenAPI 3 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    Status: {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['Status'] },
        apiVersion: { type: 'string' },
        status: { type: 'string' },
        code: { type: 'integer' },
        reason: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            kind: { type: 'string' },
            causes: {
              type: 'array',
              items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' }, reason: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
  const paths: Record<string, unknown> = {
    '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3 document' } } } },
  };
  for (const kind of KIND_NAMES) {
    const { plural } = KINDS[kind];
    schemas[kind] = schemaOf(resourceSchema(kind));
    schemas[`${kind}List`] = {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object', properties: { continue: { type: 'string' } } },
        items: { type: 'array', items: ref(kind) },
      },
    };
    const tags = [kind];
    paths[`${BASE}/${plural}`] = {
      get: { tags, summary: `List ${kind} objects in every namespace`, parameters: listParams, responses: { ...ok(ref(`${kind}List`)), ...errorResponses(400) } },
    };
    paths[`${BASE}/namespaces/{namespace}/${plural}`] = {
      parameters: [pathParam('namespace')],
      get: { tags, summary: `List ${kind} objects`, parameters: listParams, responses: { ...ok(ref(`${kind}List`)), ...errorResponses(400) } },
      post: { tags, summary: `Create a ${kind}`, requestBody: bodyOf(kind), responses: { ...ok(ref(kind), '201'), ...errorResponses(400, 409, 413, 422) } },
    };
    paths[`${BASE}/namespaces/{namespace}/${plural}/{name}`] = {
      parameters: [pathParam('namespace'), pathParam('name')],
      get: { tags, summary: `Read a ${kind}`, responses: { ...ok(ref(kind)), ...errorResponses(404) } },
      put: { tags, summary: `Replace a ${kind}`, requestBody: bodyOf(kind), responses: { ...ok(ref(kind)), ...errorResponses(400, 404, 409, 413, 422) } },
      patch: { tags, summary: `Merge-patch a ${kind}`, requestBody: mergePatch, responses: { ...ok(ref(kind)), ...errorResponses(400, 404, 409, 413, 415, 422) } },
      delete: {
        tags,
        summary: `Delete a ${kind} (202 while finalizers remain)`,
        parameters: [
          { name: 'resourceVersion', in: 'query', schema: { type: 'string' } },
          {
            name: 'propagationPolicy',
            in: 'query',
            description: 'What happens to the dependents (ownerReferences); Foreground by default',
            schema: { type: 'string', enum: [...PROPAGATION_POLICIES] },
          },
        ],
        requestBody: {
          required: false,
          description: 'DeleteOptions, as an alternative to the query parameters',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  propagationPolicy: { type: 'string', enum: [...PROPAGATION_POLICIES] },
                  preconditions: { type: 'object', properties: { resourceVersion: { type: 'string' } } },
                },
              },
            },
          },
        },
        responses: { ...ok(ref(kind)), ...ok(ref(kind), '202'), ...errorResponses(400, 404, 409) },
      },
    };
    paths[`${BASE}/namespaces/{namespace}/${plural}/{name}/status`] = {
      parameters: [pathParam('namespace'), pathParam('name')],
      get: { tags, summary: `Read a ${kind}'s status`, responses: { ...ok(ref(kind)), ...errorResponses(404) } },
      put: { tags, summary: `Replace a ${kind}'s status`, requestBody: bodyOf(kind), responses: { ...ok(ref(kind)), ...errorResponses(400, 404, 409, 422) } },
      patch: { tags, summary: `Merge-patch a ${kind}'s status`, requestBody: mergePatch, responses: { ...ok(ref(kind)), ...errorResponses(400, 404, 409, 415, 422) } },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Shoal API', version: GROUP_VERSION, description: 'Multi-cluster application placement, Kubernetes-style.' },
    paths,
    components: { schemas },
  };
}
