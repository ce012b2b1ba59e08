import { describe, expect, it } from 'vitest';
import { applyOutcome, manifestTarget, updateBody } from '../../shared/cli/apply.ts';
import { ApiError, ApiUnreachableError, type ApiResource } from '../../shared/cli/client.ts';
import { formatError } from '../../shared/cli/errors.ts';
import { parseDuration, parseLabels, parseMetricWeights } from '../../shared/cli/flags.ts';

const live = (resourceVersion: string, extra: Partial<ApiResource> = {}): ApiResource => ({
  apiVersion: 'shoal.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'web', namespace: 'default', resourceVersion },
  ...extra,
});

describe('applyOutcome', () => {
  it('is created without a live object, unchanged when the version stayed, configured otherwise', () => {
    expect(applyOutcome(undefined, live('1'))).toBe('created');
    expect(applyOutcome(live('4'), live('4'))).toBe('unchanged');
    expect(applyOutcome(live('4'), live('5'))).toBe('configured');
  });
});

describe('manifestTarget', () => {
  const base = { apiVersion: 'shoal.io/v1alpha1', kind: 'Application', metadata: { name: 'web' } };

  it('takes the namespace from the manifest, else the default', () => {
    expect(manifestTarget(base, 'team-a')).toEqual({ kind: 'Application', name: 'web', namespace: 'team-a' });
    expect(manifestTarget({ ...base, metadata: { name: 'web', namespace: 'team-b' } }, 'team-a').namespace).toBe('team-b');
  });

  it.each([
    [{ ...base, apiVersion: 'apps/v1' }, 'apiVersion "apps/v1": Shoal serves shoal.io/v1alpha1'],
    [{ ...base, kind: 'Deployment' }, 'unknown kind "Deployment": expected one of Application, Cluster'],
    [{ ...base, metadata: {} }, 'Application has no metadata.name'],
  ])('refuses a manifest it cannot address', (manifest, message) => {
    expect(() => manifestTarget(manifest, 'default')).toThrow(message);
  });
});

describe('updateBody', () => {
  it('sends the live resourceVersion, drops status and keeps server-owned finalizers and secret references', () => {
    // Prepare
    const manifest = {
      apiVersion: 'shoal.io/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'eu-1' },
      spec: { metrics: [] },
      status: { state: 'ONLINE' },
    };
    const current = live('7', { kind: 'Cluster', metadata: { name: 'eu-1', resourceVersion: '7', finalizers: ['shoal.io/cleanup'] }, spec: { kubeconfigSecret: 'ref' } });

    // Act
    const body = updateBody(manifest, { kind: 'Cluster', name: 'eu-1', namespace: 'default' }, current);

    // Assess
    expect(body).toEqual({
      apiVersion: 'shoal.io/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'eu-1', namespace: 'default', resourceVersion: '7', finalizers: ['shoal.io/cleanup'] },
      spec: { metrics: [], kubeconfigSecret: 'ref' },
    });
  });

  it('lets the manifest replace finalizers and the kubeconfig when it names them', () => {
    const manifest = { apiVersion: 'shoal.io/v1alpha1', kind: 'Cluster', metadata: { name: 'eu-1', finalizers: [] }, spec: { kubeconfig: 'new' } };
    const current = live('7', { kind: 'Cluster', metadata: { name: 'eu-1', resourceVersion: '7', finalizers: ['x'] }, spec: { kubeconfigSecret: 'ref' } });
    const body = updateBody(manifest, { kind: 'Cluster', name: 'eu-1', namespace: 'default' }, current);
    expect(body.metadata).toMatchObject({ finalizers: [] });
    expect(body.spec).toEqual({ kubeconfig: 'new' });
  });
});

describe('formatError', () => {
  it('prints server errors kubectl-style with each validation cause on its own line', () => {
    const error = new ApiError({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: 422,
      reason: 'Invalid',
      message: 'Application "web" is invalid: spec.manifests: an application needs at least one manifest; metadata.name: is required',
      details: {
        causes: [
          { field: 'spec.manifests', message: 'an application needs at least one manifest' },
          { field: 'metadata.name', message: 'is required' },
        ],
      },
    });
    expect(formatError(error)).toBe(
      [
        'Error from server (Invalid): Application "web" is invalid:',
        '  * spec.manifests: an application needs at least one manifest',
        '  * metadata.name: is required',
      ].join('\n'),
    );
  });

  it('prints NotFound with the server message and an unreachable server as one line', () => {
    const notFound = new ApiError({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'application "x" not found' });
    expect(formatError(notFound)).toBe('Error from server (NotFound): application "x" not found');
    expect(formatError(new ApiUnreachableError('http://127.0.0.1:8080', 'ECONNREFUSED'))).toBe(
      'cannot reach the Shoal API at http://127.0.0.1:8080 (is `npm start` running? set --server or SHOAL_SERVER)',
    );
    expect(formatError(new Error('boom'), 'error when applying x')).toBe('error: error when applying x: boom');
  });
});

describe('flag parsing', () => {
  it('reads labels from repeated and comma-separated flags and rejects invalid ones', () => {
    expect(parseLabels(['location=eu', 'tier=prod,zone=a'])).toEqual({ location: 'eu', tier: 'prod', zone: 'a' });
    expect(() => parseLabels(['location'])).toThrow('invalid label "location": expected key=value');
    expect(() => parseLabels(['bad key=x'])).toThrow(/label key "bad key"/);
  });

  it('reads metric weights, defaulting to 1', () => {
    expect(parseMetricWeights(['load=2', 'latency'])).toEqual([
      { name: 'load', weight: 2 },
      { name: 'latency', weight: 1 },
    ]);
    expect(() => parseMetricWeights(['load=-1'])).toThrow('the weight must be a positive number');
  });

  it('reads durations', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5')).toBe(5000);
    expect(() => parseDuration('soon')).toThrow('invalid duration "soon"');
  });
});
