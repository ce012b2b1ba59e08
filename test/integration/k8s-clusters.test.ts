// The local clusters from test/k8s/global-setup.ts are real and independent:
// server-side apply works on each, kwok's fake nodes run the pods so that a
// Deployment becomes Available, and what is applied to one is absent from the other.
import { randomBytes } from 'node:crypto';
import {
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
  type KubernetesObject,
  type V1CustomResourceDefinition,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from './support/eventually.ts';

const fieldManager = 'shoal';
const group = 'it.shoal.io';
const crdName = `widgets.${group}`;
const run = randomBytes(3).toString('hex');

interface ClusterUnderTest {
  name: string;
  kc: KubeConfig;
  objects: KubernetesObjectApi;
  namespace: string;
}

function clusterUnderTest(name: string, kubeconfigPath: string): ClusterUnderTest {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return { name, kc, objects: KubernetesObjectApi.makeApiClient(kc), namespace: `it-${name}-${run}` };
}

async function apply<T extends KubernetesObject>(objects: KubernetesObjectApi, object: T): Promise<T> {
  return objects.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
}

async function statusOfRead(objects: KubernetesObjectApi, header: KubernetesObject): Promise<number> {
  try {
    const { name = '', namespace } = header.metadata ?? {};
    await objects.read({ apiVersion: header.apiVersion ?? '', kind: header.kind ?? '', metadata: { name, namespace } });
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

/** Everything applied to one cluster; names carry the cluster's name. */
function manifestsFor(cluster: ClusterUnderTest): KubernetesObject[] {
  const { name, namespace } = cluster;
  const labels = { app: `web-${name}` };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `settings-${name}`, namespace },
      data: { cluster: name },
    } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `web-${name}`, namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'web', image: 'registry.example/web:1', ports: [{ containerPort: 8080 }] }] },
        },
      },
    } as V1Deployment,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `web-${name}`, namespace },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    } as KubernetesObject,
  ];
}

const widgetCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: crdName },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
          },
        },
      },
    ],
  },
};

function widgetFor(cluster: ClusterUnderTest): KubernetesObject {
  return {
    apiVersion: `${group}/v1`,
    kind: 'Widget',
    metadata: { name: `widget-${cluster.name}`, namespace: cluster.namespace },
    spec: { size: cluster.name.length },
  } as KubernetesObject;
}

describe('local Kubernetes clusters', () => {
  const kubeconfigs = inject('kubeconfigs');
  const clusters: ClusterUnderTest[] = Object.entries(kubeconfigs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, path]) => clusterUnderTest(name, path));

  beforeAll(() => {
    expect(clusters.map((c) => c.name)).toEqual(['c1', 'c2']);
  });

  afterAll(async () => {
    for (const cluster of clusters) {
      await cluster.objects
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: cluster.namespace } })
        .catch(() => undefined);
    }
  });

  it('applies a Deployment, Service, ConfigMap, CRD and custom resource to each cluster and the Deployments become Available', async () => {
    // Prepare
    const applied = new Map<string, KubernetesObject[]>();

    // Act
    await Promise.all(
      clusters.map(async (cluster) => {
        const objects = [...manifestsFor(cluster)];
        for (const object of objects) await apply(cluster.objects, object);
        await apply(cluster.objects, widgetCrd);
        await eventually(`CRD ${crdName} Established on ${cluster.name}`, async () => {
          const crd = await cluster.objects.read<V1CustomResourceDefinition>({
            apiVersion: widgetCrd.apiVersion!,
            kind: widgetCrd.kind!,
            metadata: { name: crdName },
          });
          return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? crd : undefined;
        });
        const widget = widgetFor(cluster);
        // Discovery of the new group may lag Established by a moment.
        await eventually(`Widget on ${cluster.name}`, () => apply(cluster.objects, widget), 30_000);
        applied.set(cluster.name, [...objects, widget]);
      }),
    );

    // Assess
    for (const cluster of clusters) {
      const deployment = await eventually(`Deployment web-${cluster.name} Available`, async () => {
        const live = await cluster.objects.read<V1Deployment>({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: `web-${cluster.name}`, namespace: cluster.namespace },
        });
        const available = live.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
        return available && live.status?.availableReplicas === 2 ? live : undefined;
      });
      expect(deployment.status?.readyReplicas).toBe(2);

      const widget = await cluster.objects.read({
        apiVersion: `${group}/v1`,
        kind: 'Widget',
        metadata: { name: `widget-${cluster.name}`, namespace: cluster.namespace },
      });
      expect((widget as KubernetesObject & { spec?: { size?: number } }).spec?.size).toBe(cluster.name.length);
      expect(widget.metadata?.managedFields?.some((f) => f.manager === fieldManager && f.operation === 'Apply')).toBe(
        true,
      );
    }

    const [first, second] = clusters;
    if (!first || !second) throw new Error('expected two clusters');
    for (const [cluster, other] of [
      [first, second],
      [second, first],
    ] as const) {
      for (const object of applied.get(cluster.name) ?? []) {
        expect(await statusOfRead(cluster.objects, object), `${object.kind} ${object.metadata?.name} on ${cluster.name}`).toBe(
          200,
        );
        expect(await statusOfRead(other.objects, object), `${object.kind} ${object.metadata?.name} on ${other.name}`).toBe(
          404,
        );
      }
    }
  });

  it('serves Kubernetes v1.x and runs the pods on kwok fake nodes, placed by the scheduler', async () => {
    for (const cluster of clusters) {
      const version = await cluster.kc.makeApiClient(VersionApi).getCode();
      expect(version.gitVersion).toMatch(/^v1\.(3[4-9]|[4-9]\d)\.\d+$/);

      const pods = await cluster.objects.list('v1', 'Pod', cluster.namespace);
      const running = pods.items.filter(
        (pod) => (pod as KubernetesObject & { status?: { phase?: string } }).status?.phase === 'Running',
      );
      expect(running).toHaveLength(2);
      for (const pod of running) {
        const nodeName = (pod as KubernetesObject & { spec?: { nodeName?: string } }).spec?.nodeName ?? '';
        expect(nodeName).toMatch(/^kwok-node-\d+$/);
      }
    }
  });

  it('issues service-account tokens that authenticate, and RBAC limits what they may do', async () => {
    for (const cluster of clusters) {
      // Prepare: the service-account controller creates "default" in the new namespace.
      const core = cluster.kc.makeApiClient(CoreV1Api);
      await eventually(`service account default in ${cluster.namespace}`, () =>
        core.readNamespacedServiceAccount({ name: 'default', namespace: cluster.namespace }),
      );

      // Act
      const tokenRequest = await core.createNamespacedServiceAccountToken({
        name: 'default',
        namespace: cluster.namespace,
        body: { spec: { audiences: [], expirationSeconds: 600 } },
      });
      const token = tokenRequest.status?.token ?? '';
      const admin = cluster.kc.getCurrentCluster();
      if (!admin) throw new Error(`no cluster in the kubeconfig of ${cluster.name}`);
      const asServiceAccount = new KubeConfig();
      asServiceAccount.loadFromOptions({
        clusters: [{ name: cluster.name, server: admin.server, caData: admin.caData, skipTLSVerify: false }],
        users: [{ name: 'sa', token }],
        contexts: [{ name: cluster.name, cluster: cluster.name, user: 'sa' }],
        currentContext: cluster.name,
      });
      const review = await asServiceAccount.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
      const listNodes = await asServiceAccount
        .makeApiClient(CoreV1Api)
        .listNode()
        .then(
          () => 200,
          (error: unknown) => (error instanceof ApiException ? error.code : -1),
        );

      // Assess
      expect(token.split('.')).toHaveLength(3);
      expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${cluster.namespace}:default`);
      expect(listNodes).toBe(403);
    }
  });
});
