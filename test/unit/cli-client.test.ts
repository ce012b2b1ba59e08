import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, ApiUnreachableError, ShoalClient } from '../../shared/cli/client.ts';

// A canned HTTP peer: the client's decoding and paging are pure logic over real HTTP.
let server: Server | undefined;
const seen: string[] = [];

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  seen.length = 0;
  server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const json = (response: ServerResponse, code: number, body: unknown) => response.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('ShoalClient', () => {
  it('follows continue tokens until the list is complete', async () => {
    // Prepare
    const url = await serve((request, response) => {
      const token = new URL(request.url ?? '/', 'http://x').searchParams.get('continue');
      const page = token === null ? { items: [{ metadata: { name: 'a' } }], metadata: { continue: 'p2' } } : { items: [{ metadata: { name: 'b' } }], metadata: {} };
      json(response, 200, { apiVersion: 'shoal.io/v1alpha1', kind: 'ApplicationList', ...page });
    });

    // Act
    const items = await new ShoalClient(url).listAll('Application', { namespace: 'team-a', labelSelector: 'tier=prod' }, 1);

    // Assess
    expect(items.map((item) => item.metadata.name)).toEqual(['a', 'b']);
    expect(seen).toEqual([
      'GET /apis/shoal.io/v1alpha1/namespaces/team-a/applications?labelSelector=tier%3Dprod&limit=1',
      'GET /apis/shoal.io/v1alpha1/namespaces/team-a/applications?labelSelector=tier%3Dprod&limit=1&continue=p2',
    ]);
  });

  it('lists across namespaces without a namespace segment', async () => {
    const url = await serve((_request, response) => json(response, 200, { items: [], metadata: {} }));
    await new ShoalClient(url).listAll('Cluster');
    expect(seen).toEqual(['GET /apis/shoal.io/v1alpha1/clusters?limit=500']);
  });

  it('turns a Status body into an ApiError with reason and causes', async () => {
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 422, reason: 'Invalid', message: 'bad', details: { causes: [{ field: 'spec', message: 'is required' }] } };
    const url = await serve((_request, response) => json(response, 422, status));

    const error = await new ShoalClient(url).create('Application', 'default', {}).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toMatchObject({ code: 422, reason: 'Invalid', details: { causes: [{ field: 'spec' }] } });
  });

  it('gives a non-Status error body a reason from the HTTP code', async () => {
    const url = await serve((_request, response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>'));
    const error = (await new ShoalClient(url).get('Application', 'default', 'web').catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toMatchObject({ code: 502, reason: 'Unknown', message: '<html>bad gateway</html>' });
  });

  it('tells a pending deletion (202) from a completed one (200) and answers undefined on find of a missing object', async () => {
    const url = await serve((request, response) => {
      if (request.method === 'DELETE') return json(response, request.url?.endsWith('/held') ? 202 : 200, { metadata: { name: 'x', finalizers: ['f'] } });
      json(response, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'application "x" not found' });
    });
    const client = new ShoalClient(url);

    expect((await client.delete('Application', 'default', 'held')).removed).toBe(false);
    expect((await client.delete('Application', 'default', 'gone')).removed).toBe(true);
    expect(await client.find('Application', 'default', 'x')).toBeUndefined();
  });

  it('sends merge patches with their content type', async () => {
    let contentType: string | undefined;
    const url = await serve((request, response) => {
      contentType = request.headers['content-type'];
      json(response, 200, { metadata: { name: 'web' } });
    });
    await new ShoalClient(url).patch('Application', 'default', 'web', { metadata: { labels: { a: 'b' } } });
    expect(contentType).toBe('application/merge-patch+json');
  });

  it('reports a server that does not listen as unreachable', async () => {
    const url = await serve(() => undefined);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;

    const error = await new ShoalClient(url).health().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect((error as ApiUnreachableError).causeCode).toBe('ECONNREFUSED');
  });
});
