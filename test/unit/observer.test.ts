import { describe, expect, it } from 'vitest';
import { causesFrom } from '../../shared/api/status.ts';
import type { ManifestOutcome } from '../../shared/deploy/deployment-status.ts';
import type { Manifest } from '../../shared/deploy/manifests.ts';
import {
  driftCondition,
  entryFor,
  formatPath,
  identifies,
  manifestPaths,
  observe,
  valueAt,
  watchedPaths,
  withObservations,
} from '../../shared/deploy/observer.ts';
import { resourceSchema, type ManifestStatus } from '../../shared/resources/kinds.ts';

const web: Manifest = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { spec: { containers: [{ name: 'web', image: 'web:1', args: [] }] } },
  },
} as Manifest;

const live = (changes: { replicas?: number; image?: string; available?: number } = {}) => ({
  ...structuredClone(web),
  metadata: { ...web.metadata, uid: 'u1', resourceVersion: '7' },
  spec: {
    replicas: changes.replicas ?? 2,
    strategy: { type: 'RollingUpdate' },
    selector: { matchLabels: { app: 'web' } },
    template: { spec: { containers: [{ name: 'web', image: changes.image ?? 'web:1', imagePullPolicy: 'IfNotPresent' }] } },
  },
  status: { availableReplicas: changes.available ?? 2 },
});

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' };
const watchReplicas = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: null }, status: { availableReplicas: null } };

describe('observer paths', () => {
  it('formats keys and list indexes and reads values along a path, undefined when a step is missing', () => {
    // Prepare
    const path = ['spec', 'template', 'spec', 'containers', 0, 'image'];
    // Act
    const text = formatPath(path);
    // Assess
    expect(text).toBe('spec.template.spec.containers[0].image');
    expect(valueAt(web, path)).toBe('web:1');
    expect(valueAt(web, ['spec', 'template', 'spec', 'containers', 3, 'image'])).toBeUndefined();
    expect(valueAt(web, ['spec', 'replicas', 'x'])).toBeUndefined();
  });

  it('watches the null leaves of an entry, through nested objects and lists, never the identifying fields', () => {
    // Prepare
    const entry = { ...watchReplicas, spec: { replicas: null, template: { spec: { containers: [{ image: null }] } } } };
    // Act
    const paths = watchedPaths(entry).map(formatPath);
    // Assess
    expect(paths).toEqual(['spec.replicas', 'spec.template.spec.containers[0].image', 'status.availableReplicas']);
  });

  it('defaults to every field the manifest sets, skipping identity, empty lists and objects', () => {
    // Act
    const paths = manifestPaths(web).map(formatPath);
    // Assess
    expect(paths).toEqual([
      'metadata.labels.app',
      'spec.replicas',
      'spec.selector.matchLabels.app',
      'spec.template.spec.containers[0].name',
      'spec.template.spec.containers[0].image',
    ]);
  });

  it('matches an entry to its manifest by apiVersion, kind, name and namespace (default when the manifest names none)', () => {
    // Prepare
    const bare = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } } as Manifest;
    // Act / Assess
    expect(identifies(watchReplicas, web)).toBe(true);
    expect(identifies({ ...watchReplicas, metadata: { name: 'web' } }, web)).toBe(true);
    expect(identifies({ ...watchReplicas, metadata: { name: 'web', namespace: 'other' } }, web)).toBe(false);
    expect(identifies({ ...watchReplicas, apiVersion: 'apps/v1beta1' }, web)).toBe(false);
    expect(identifies({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } }, bare)).toBe(true);
    expect(entryFor([watchReplicas], bare)).toBeUndefined();
    expect(entryFor([watchReplicas], web)).toBe(watchReplicas);
  });
});

describe('observe', () => {
  it('finds no drift when the live object only adds defaults to what the manifest sets', () => {
    // Act
    const seen = observe(web, undefined, live(), live());
    // Assess
    expect(seen).toEqual({ drift: [], observed: {} });
  });

  it('reports every watched field the manifest sets that differs on the live object, by default', () => {
    // Act
    const seen = observe(web, undefined, live({ replicas: 5, image: 'web:evil' }), live());
    // Assess
    expect(seen.drift).toEqual(['spec.replicas', 'spec.template.spec.containers[0].image']);
  });

  it('with an entry, reports only the fields it watches, and widens to fields the manifest does not set', () => {
    // Act
    const seen = observe(web, watchReplicas, live({ replicas: 5, image: 'web:evil' }), live({ available: 3 }));
    // Assess
    expect(seen).toEqual({ drift: ['spec.replicas'], observed: { 'status.availableReplicas': 3 } });
  });

  it('watches a whole subtree named by a null leaf at an object the manifest sets', () => {
    // Prepare
    const entry = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: null } };
    // Act
    const seen = observe(web, entry, live({ image: 'web:evil' }), live());
    // Assess
    expect(seen.drift).toEqual(['spec.template.spec.containers[0].image']);
  });

  it('compares nothing without a previous live object, and leaves absent widened fields out', () => {
    // Prepare
    const withoutStatus = { ...live(), status: {} };
    // Act
    const seen = observe(web, watchReplicas, undefined, withoutStatus);
    // Assess
    expect(seen).toEqual({ drift: [], observed: {} });
  });
});

describe('withObservations and driftCondition', () => {
  const entry: ManifestStatus = { ...ref, applied: true, ready: true };
  const outcome = (before: unknown, after: unknown): ManifestOutcome => ({ ref, outcome: 'ready', before, live: after });

  it('records drift and observed values in the manifest entry of an app already running this generation', () => {
    // Act
    const [next] = withObservations([entry], [web], [outcome(live({ replicas: 1 }), live())], [entry], [watchReplicas], true);
    // Assess
    expect(next).toEqual({ ...entry, drift: ['spec.replicas'], observed: { 'status.availableReplicas': 2 } });
  });

  it('keeps a recorded drift while the generation stays, drops it with a new generation, and ignores objects not applied before', () => {
    // Prepare
    const recorded = { ...entry, drift: ['spec.replicas'] };
    // Act
    const [kept] = withObservations([entry], [web], [outcome(live(), live())], [recorded], undefined, true);
    const [dropped] = withObservations([entry], [web], [outcome(live({ replicas: 1 }), live())], [recorded], undefined, false);
    const [fresh] = withObservations([entry], [web], [outcome(live({ replicas: 1 }), live())], [], undefined, true);
    // Assess
    expect(kept).toEqual(recorded);
    expect(dropped).toEqual(entry);
    expect(fresh).toEqual(entry);
  });

  it('says which fields were restored, turns False once none are listed, and is absent when there never was drift', () => {
    // Prepare
    const drifted = [{ ...entry, drift: ['spec.replicas'] }];
    // Act
    const on = driftCondition(drifted, [], 'c1');
    const off = driftCondition([entry], [{ type: 'DriftCorrected', status: 'True', reason: 'FieldsRestored', lastTransitionTime: 'x' }], 'c1');
    const none = driftCondition([entry], [], 'c1');
    // Assess
    expect(on).toEqual({ type: 'DriftCorrected', status: 'True', reason: 'FieldsRestored', message: 'restored on c1: Deployment shop/web spec.replicas' });
    expect(off).toMatchObject({ type: 'DriftCorrected', status: 'False', reason: 'NoDrift' });
    expect(none).toBeUndefined();
  });
});

describe('spec.observerSchema validation', () => {
  const app = (observerSchema: unknown[]) => ({
    apiVersion: 'shoal.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'one', namespace: 'default' },
    spec: { manifests: [web], observerSchema },
  });
  const problems = (input: unknown) => {
    const result = resourceSchema('Application').safeParse(input);
    return result.success ? {} : Object.fromEntries(causesFrom(result.error, '').map((cause) => [cause.field, cause.message]));
  };

  it('accepts entries naming a manifest with null leaves', () => {
    // Act / Assess
    expect(problems(app([watchReplicas]))).toEqual({});
  });

  it('names the entry that matches no manifest, is a duplicate, lacks its identity or has a non-null leaf', () => {
    // Act
    const found = problems(
      app([
        { ...watchReplicas, metadata: { name: 'api' } },
        watchReplicas,
        { ...watchReplicas, metadata: { name: 'web' } },
        { kind: 'Deployment', metadata: { name: 'web' } },
      ]),
    );
    const leaf = problems(app([{ ...watchReplicas, spec: { replicas: 3 } }]));
    // Assess
    expect(found).toEqual({
      'spec.observerSchema[0]': 'names no manifest of this application (apps/v1 Deployment api)',
      'spec.observerSchema[2]': 'another entry already names Deployment web',
      'spec.observerSchema[3]': 'must name a manifest by apiVersion, kind and metadata.name',
    });
    expect(leaf).toEqual({ 'spec.observerSchema[0]': 'spec.replicas must be null (a watched field), an object or a list' });
  });
});
