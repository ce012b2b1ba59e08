import { ApiextensionsV1Api, CoreV1Api, Health, type KubeConfig, VersionApi } from '@kubernetes/client-node';

/** What one look at a cluster's API found. */
export type ProbeObservation =
  | { reachable: false; error: string }
  | {
      reachable: true;
      ready: boolean;
      version: string;
      nodes: { total: number; ready: number };
      customResources: string[];
    };

const PROBE_TIMEOUT_MS = 10_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS / 1000}s`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A short, secret-free description of why a call failed. */
export function describeFailure(error: unknown): string {
  const candidate = error as { code?: number | string; message?: string; cause?: { code?: string } };
  if (typeof candidate.code === 'number') {
    if (candidate.code === 401) return 'the API server rejected the credentials (401 Unauthorized)';
    if (candidate.code === 403) return 'the credentials are not allowed to read cluster information (403 Forbidden)';
    return `the API server answered HTTP ${candidate.code}`;
  }
  const code = candidate.cause?.code ?? (typeof candidate.code === 'string' ? candidate.code : undefined);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code?.startsWith('ERR_TLS') || code?.includes('CERT')) return `TLS error (${code})`;
  return (candidate.message ?? String(error)).split('\n')[0]?.slice(0, 200) ?? 'unknown error';
}

/** Asks the cluster's API for its version, readiness, nodes and established CRDs. */
export async function probeCluster(kubeConfig: KubeConfig): Promise<ProbeObservation> {
  try {
    const version = await withTimeout(kubeConfig.makeApiClient(VersionApi).getCode(), 'the API server');
    const [nodes, crds, ready] = await withTimeout(
      Promise.all([
        kubeConfig.makeApiClient(CoreV1Api).listNode(),
        kubeConfig.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition(),
        new Health(kubeConfig).readyz({ timeout: PROBE_TIMEOUT_MS }),
      ]),
      'the API server',
    );
    const readyNodes = nodes.items.filter((node) =>
      node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'),
    ).length;
    const customResources = crds.items
      .filter((crd) => crd.status?.conditions?.some((condition) => condition.type === 'Established' && condition.status === 'True'))
      .map((crd) => crd.metadata?.name ?? '')
      .filter(Boolean)
      .sort();
    return { reachable: true, ready, version: version.gitVersion, nodes: { total: nodes.items.length, ready: readyNodes }, customResources };
  } catch (error) {
    return { reachable: false, error: describeFailure(error) };
  }
}
