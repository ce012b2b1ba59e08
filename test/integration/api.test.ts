import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { BASE, call, collection } from './support/http.ts';

const ns = () => `api-${randomUUID().slice(0, 8)}`;

// A kind no reconciler writes to: what these tests read back is only what they wrote.
const metric = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'shoal.io/v1alpha1',
  kind: 'Metric',
  metadata: { name, labels: { team: 'platform' } },
  spec: { min: 0, max: 1, provider: { name: 'prom', metric: 'load' } },
  ...extra,
});

const app = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'shoal.io/v1alpha1',
  kind: 'Application',
  metadata: { name, labels: { team: 'platform' } },
  spec: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1' } }] },
  ...extra,
});

const TOKEN = `tok-${randomUUID()}`;
const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: remote
  cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: ${TOKEN}}
contexts:
- name: remote
  context: {cluster: remote, user: admin}
current-context: remote
`;

function expectStatus(result: { status: number; body: { kind?: string; code?: number; reason?: string } }, code: number, reason: string) {
  expect(result.status).toBe(code);
  expect(result.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason });
}

describe('REST API of the local control plane', () => {
  it('answers /healthz and serves an OpenAPI document generated from the schemas', async () => {
    // Act
    const health = await call('GET', '/healthz');
    const openapi = await call('GET', '/openapi.json');
    // Assess
    expect(health).toMatchObject({ status: 200, text: 'ok' });
    expect(openapi.status).toBe(200);
    expect(openapi.body.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.body.paths)).toContain(`${BASE}/namespaces/{namespace}/applications/{name}/status`);
    expect(openapi.body.components.schemas.Application.properties.spec.properties).toHaveProperty('manifests');
  });

  it('creates, reads, replaces, merge-patches and lists', async () => {
    // Prepare
    const namespace = ns();
    // Act
    const created = await call('POST', collection(namespace, 'metrics'), metric('load'));
    const read = await call('GET', `${collection(namespace, 'metrics')}/load`);
    const replaced = await call('PUT', `${collection(namespace, 'metrics')}/load`, { ...read.body, spec: { ...read.body.spec, max: 2 } });
    const patched = await call('PATCH', `${collection(namespace, 'metrics')}/load`, { metadata: { labels: { team: null, tier: 'gold' } } }, 'application/merge-patch+json');
    const listed = await call('GET', `${collection(namespace, 'metrics')}?labelSelector=tier%3Dgold`);
    // Assess
    expect(created.status).toBe(201);
    expect(read.body).toEqual(created.body);
    expect(replaced.body.metadata).toMatchObject({ generation: 2, resourceVersion: '2' });
    expect(replaced.body.spec.max).toBe(2);
    expect(patched.body.metadata.labels).toEqual({ tier: 'gold' });
    expect(patched.body.metadata.generation).toBe(2);
    expect(listed.body).toMatchObject({ kind: 'MetricList', items: [{ metadata: { name: 'load', namespace } }] });
  });

  it('accepts YAML bodies', async () => {
    // Act
    const result = await call(
      'POST',
      collection(ns(), 'metricsproviders'),
      'metadata: {name: prom}\nspec:\n  type: prometheus\n  prometheus: {url: "http://127.0.0.1:9090"}\n',
      'application/yaml',
    );
    // Assess
    expect(result.status).toBe(201);
    expect(result.body.spec).toEqual({ type: 'prometheus', prometheus: { url: 'http://127.0.0.1:9090' } });
  });

  it('lists across namespaces with pagination', async () => {
    // Prepare
    const label = `run-${randomUUID().slice(0, 8)}`;
    for (const namespace of [ns(), ns(), ns()]) {
      await call('POST', collection(namespace, 'clouds'), { metadata: { name: 'here', labels: { run: label } }, spec: { type: 'local', infrastructureProvider: 'laptop' } });
    }
    // Act
    const first = await call('GET', `${BASE}/clouds?labelSelector=run%3D${label}&limit=2`);
    const second = await call('GET', `${BASE}/clouds?labelSelector=run%3D${label}&limit=2&continue=${first.body.metadata.continue}`);
    // Assess
    expect(first.body.items).toHaveLength(2);
    expect(first.body.metadata.continue).toBeTruthy();
    expect(second.body.items).toHaveLength(1);
    expect(second.body.metadata.continue).toBeUndefined();
  });

  it('keeps status a subresource: status writes leave spec and generation, spec writes leave status', async () => {
    // Prepare
    const namespace = ns();
    const path = `${collection(namespace, 'metrics')}/load`;
    await call('POST', collection(namespace, 'metrics'), metric('load'));
    const ready = { type: 'Ready', status: 'True', reason: 'Read' };
    // Act
    const statusWrite = await call('PATCH', `${path}/status`, { status: { conditions: [ready] } }, 'application/merge-patch+json');
    const specWrite = await call('PUT', path, { ...metric('load', { spec: { min: 0, max: 5, provider: { name: 'prom', metric: 'load' } } }), status: { conditions: [] } });
    const badStatus = await call('PUT', `${path}/status`, { status: { conditions: [{ ...ready, status: 'Maybe' }] } });
    // Assess
    expect(statusWrite.body.metadata.generation).toBe(1);
    expect(statusWrite.body.status).toEqual({ conditions: [ready] });
    expect(specWrite.body.metadata.generation).toBe(2);
    expect(specWrite.body.status).toEqual({ conditions: [ready] });
    expectStatus(badStatus, 422, 'Invalid');
    expect(badStatus.body.details.causes[0].field).toBe('status.conditions[0].status');
  });

  it('deletes through finalizers with 202, then 200 when the last one is removed', async () => {
    // Prepare
    const namespace = ns();
    const path = `${collection(namespace, 'applications')}/held`;
    await call('POST', collection(namespace, 'applications'), app('held', { metadata: { name: 'held', finalizers: ['test.shoal.io/hold'] } }));
    // Act
    const marked = await call('DELETE', path);
    const stillThere = await call('GET', path);
    const released = await call('PATCH', path, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    const gone = await call('GET', path);
    // Assess
    expect(marked.status).toBe(202);
    expect(marked.body.metadata.deletionTimestamp).toBeTruthy();
    expect(stillThere.body.metadata.deletionTimestamp).toBe(marked.body.metadata.deletionTimestamp);
    expect(released.status).toBe(200);
    expectStatus(gone, 404, 'NotFound');
  });

  describe('errors are Kubernetes Status objects', () => {
    it('400 for malformed JSON and YAML, naming the problem', async () => {
      const json = await call('POST', collection('default', 'applications'), '{"metadata": {');
      const yaml = await call('POST', collection('default', 'applications'), 'metadata: {name: x\nspec: [', 'application/yaml');
      expectStatus(json, 400, 'BadRequest');
      expect(json.body.message).toMatch(/not valid JSON/);
      expectStatus(yaml, 400, 'BadRequest');
      expect(yaml.body.message).toMatch(/not valid YAML.*line/i);
    });

    it('404 for unknown objects, kinds and paths', async () => {
      expectStatus(await call('GET', `${collection('default', 'applications')}/nope`), 404, 'NotFound');
      const kind = await call('GET', collection('default', 'widgets'));
      expectStatus(kind, 404, 'NotFound');
      expect(kind.body.message).toContain('applications, clusters');
      expectStatus(await call('GET', '/nowhere'), 404, 'NotFound');
    });

    it('405 with an Allow header', async () => {
      const result = await call('DELETE', collection('default', 'applications'));
      expectStatus(result, 405, 'MethodNotAllowed');
      expect(result.headers.get('allow')).toBe('GET, POST');
    });

    it('409 AlreadyExists and 409 Conflict on a stale resourceVersion', async () => {
      const namespace = ns();
      const created = await call('POST', collection(namespace, 'metrics'), metric('dup'));
      expectStatus(await call('POST', collection(namespace, 'metrics'), metric('dup')), 409, 'AlreadyExists');
      await call('PATCH', `${collection(namespace, 'metrics')}/dup`, { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
      const stale = await call('PUT', `${collection(namespace, 'metrics')}/dup`, created.body);
      expectStatus(stale, 409, 'Conflict');
      expect(stale.body.message).toMatch(/resourceVersion 2, request had 1/);
    });

    it('exactly one of two racing PUTs with the same resourceVersion wins', async () => {
      const namespace = ns();
      const created = await call('POST', collection(namespace, 'metrics'), metric('race'));
      const put = (tier: string) =>
        call('PUT', `${collection(namespace, 'metrics')}/race`, { ...created.body, metadata: { ...created.body.metadata, labels: { tier } } });
      const results = await Promise.all([put('a'), put('b'), put('c')]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    });

    it('413 for a resource over the 400 KiB item limit, and nothing is written', async () => {
      const namespace = ns();
      const big = app('big', {
        spec: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'blob' }, data: { blob: 'x'.repeat(450 * 1024) } }] },
      });
      const result = await call('POST', collection(namespace, 'applications'), big);
      expectStatus(result, 413, 'RequestEntityTooLarge');
      expect(result.body.message).toMatch(/400 KiB/);
      expectStatus(await call('GET', `${collection(namespace, 'applications')}/big`), 404, 'NotFound');
    });

    it('415 for patch types it does not speak', async () => {
      const result = await call('PATCH', `${collection('default', 'applications')}/x`, '[]', 'application/json-patch+json');
      expectStatus(result, 415, 'UnsupportedMediaType');
      expect(result.body.message).toMatch(/merge-patch/);
    });

    it('422 naming every bad field', async () => {
      const result = await call('POST', collection('default', 'applications'), {
        metadata: { name: 'Not_A_Name', labels: { 'bad key!': 'v' } },
        spec: { manifests: [{ kind: 'Deployment', metadata: {} }], constraints: { cluster: { labels: ['tier in'], metrics: ['load <'] } } },
      });
      expectStatus(result, 422, 'Invalid');
      const fields = result.body.details.causes.map((cause: { field: string }) => cause.field).sort();
      expect(fields).toEqual(
        [
          'metadata.name',
          'metadata.labels.bad key!',
          'spec.manifests[0].apiVersion',
          'spec.manifests[0].metadata.name',
          'spec.constraints.cluster.labels[0]',
          'spec.constraints.cluster.metrics[0]',
        ].sort(),
      );
    });

    it('never answers with a stack trace', async () => {
      const responses = await Promise.all([
        call('POST', collection('default', 'applications'), '{'),
        call('PUT', `${collection('default', 'applications')}/x`, { kind: 'Cluster' }),
        call('GET', `${BASE}/applications?continue=garbage`),
        call('GET', `${BASE}/applications?labelSelector=a%20in`),
      ]);
      for (const response of responses) {
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(response.text).not.toMatch(/\n\s+at |\.ts:\d+/);
      }
    });
  });

  describe('cluster kubeconfigs', () => {
    it('stores the kubeconfig in the 0600 secret store and never returns it', async () => {
      // Prepare
      const namespace = ns();
      // Act
      const created = await call('POST', collection(namespace, 'clusters'), { metadata: { name: 'edge' }, spec: { kubeconfig } });
      const read = await call('GET', `${collection(namespace, 'clusters')}/edge`);
      const listed = await call('GET', `${BASE}/clusters`);
      // Assess
      expect(created.status).toBe(201);
      for (const response of [created, read, listed]) {
        expect(response.text).not.toContain(TOKEN);
        expect(response.text).not.toContain('"kubeconfig"');
      }
      expect(read.body.spec.kubeconfigSecret).toMatch(new RegExp(`^clusters/${namespace}/edge/`));
      expect(read.body.metadata.finalizers).toContain('shoal.io/kubeconfig-secret');
      const dir = inject('secretStore').replace(/^file:/, '');
      const file = join(dir, encodeURIComponent(read.body.spec.kubeconfigSecret));
      expect(await readFile(file, 'utf8')).toContain(TOKEN);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    });

    it('rejects unusable kubeconfigs without echoing them', async () => {
      const exec = kubeconfig.replace(`user: {token: ${TOKEN}}`, 'user: {exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}}');
      const result = await call('POST', collection(ns(), 'clusters'), { metadata: { name: 'evil' }, spec: { kubeconfig: exec, context: 'other' } });
      expectStatus(result, 422, 'Invalid');
      expect(result.body.details.causes[0]).toMatchObject({ field: 'spec.kubeconfig' });
      expect(result.body.message).toMatch(/no context "other"/);
      expect(result.text).not.toContain('/bin/sh');
    });

    it('replaces the secret on re-registration and releases it when the cluster is deleted', async () => {
      // Prepare
      const namespace = ns();
      const path = `${collection(namespace, 'clusters')}/edge`;
      const first = await call('POST', collection(namespace, 'clusters'), { metadata: { name: 'edge' }, spec: { kubeconfig } });
      const dir = inject('secretStore').replace(/^file:/, '');
      const secretsOf = async () => (await readdir(dir)).filter((file) => decodeURIComponent(file).startsWith(`clusters/${namespace}/edge/`));
      // Act
      const second = await call('PUT', path, { metadata: { name: 'edge' }, spec: { kubeconfig: kubeconfig.replace(TOKEN, 'other-token') } });
      // Assess
      expect(second.body.spec.kubeconfigSecret).not.toBe(first.body.spec.kubeconfigSecret);
      expect(await secretsOf()).toEqual([encodeURIComponent(second.body.spec.kubeconfigSecret)]);
      // Act: delete; the cluster-probe reconciler releases the secret and the finalizer.
      const deleted = await call('DELETE', path);
      expect(deleted.status).toBe(202);
      await expect.poll(async () => (await call('GET', path)).status, { timeout: 30_000, interval: 250 }).toBe(404);
      expect(await secretsOf()).toEqual([]);
    });
  });
});
