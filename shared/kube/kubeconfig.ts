import { KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import type { SecretStore } from '../secrets/secret-store.ts';

/**
 * Parses a kubeconfig that Shoal will use from its control plane, and lists what makes
 * it unusable there. Messages name the offending entry, never its secret contents.
 *
 * Files and commands on the user's machine are not available to a Lambda, so
 * credentials must be embedded (`*-data`, `token`) and `exec`/`auth-provider` plugins
 * are refused: running a command chosen by an API client would be remote code execution.
 */
export function inspectKubeconfig(text: string, context?: string): { kubeConfig?: KubeConfig; problems: string[] } {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    return { problems: [`is not valid YAML (${(error as Error).message.split('\n')[0]})`] };
  }
  if (typeof document !== 'object' || document === null) return { problems: ['must be a kubeconfig document'] };
  // client-node reads `token-file` while loading, so refuse it before: the path is the API client's choice.
  const tokenFileUsers = tokenFileUserNames(document);
  if (tokenFileUsers.length) return { problems: tokenFileUsers.map((name) => `user "${name}" refers to a token file: embed the token`) };
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromString(text);
  } catch (error) {
    return { problems: [`is not a valid kubeconfig: ${(error as Error).message.split('\n')[0]}`] };
  }
  const problems: string[] = [];
  const contextName = context ?? kubeConfig.getCurrentContext();
  const contextObject = contextName ? kubeConfig.getContextObject(contextName) : null;
  if (!contextObject) {
    problems.push(context ? `has no context "${context}"` : 'has no current-context: set one or give spec.context');
    return { problems };
  }
  kubeConfig.setCurrentContext(contextObject.name);
  const cluster = kubeConfig.getCluster(contextObject.cluster);
  if (!cluster) problems.push(`context "${contextObject.name}" names cluster "${contextObject.cluster}", which is not defined`);
  else {
    if (!/^https?:\/\//.test(cluster.server)) problems.push(`cluster "${cluster.name}" has no http(s) server URL`);
    if (cluster.caFile) problems.push(`cluster "${cluster.name}" refers to a certificate-authority file: embed it as certificate-authority-data`);
  }
  const user = contextObject.user ? kubeConfig.getUser(contextObject.user) : null;
  if (contextObject.user && !user) problems.push(`context "${contextObject.name}" names user "${contextObject.user}", which is not defined`);
  if (user) {
    if (user.exec || user.authProvider) problems.push(`user "${user.name}" uses an exec/auth-provider plugin, which Shoal does not run: use a token or client certificate`);
    if (user.certFile || user.keyFile) problems.push(`user "${user.name}" refers to certificate files: embed them as client-certificate-data/client-key-data`);
  }
  return problems.length ? { problems } : { kubeConfig, problems };
}

function tokenFileUserNames(document: object): string[] {
  const users: unknown = (document as { users?: unknown }).users;
  if (!Array.isArray(users)) return [];
  return users.flatMap((entry: unknown) => {
    const { name, user } = (typeof entry === 'object' && entry !== null ? entry : {}) as { name?: unknown; user?: unknown };
    const fields = typeof user === 'object' && user !== null ? user : {};
    return 'token-file' in fields || 'tokenFile' in fields ? [String(name ?? '')] : [];
  });
}

/** Loads a stored kubeconfig for use, selecting the registered context. */
export function loadKubeconfig(text: string, context?: string): KubeConfig {
  const { kubeConfig, problems } = inspectKubeconfig(text, context);
  if (!kubeConfig) throw new Error(`stored kubeconfig is unusable: ${problems.join('; ')}`);
  return kubeConfig;
}

/** Where a Cluster's spec points for its kubeconfig. */
export interface ClusterKubeconfigRef {
  kubeconfigSecret?: string;
  context?: string;
}

/** The kubeconfig a Cluster was registered with, ready to use, or why it cannot be had (never its contents). */
export async function registeredKubeconfig(secrets: SecretStore, ref: ClusterKubeconfigRef): Promise<{ kubeConfig: KubeConfig } | { problem: string }> {
  if (!ref.kubeconfigSecret) return { problem: 'no kubeconfig registered' };
  const text = await secrets.get(ref.kubeconfigSecret);
  if (text === undefined) return { problem: 'the kubeconfig secret is missing: register the cluster again' };
  try {
    return { kubeConfig: loadKubeconfig(text, ref.context) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** Accepts the kubeconfig as a YAML/JSON string or as an already-parsed object. */
export function kubeconfigText(value: string | Record<string, unknown>): string {
  return typeof value === 'string' ? value : stringify(value);
}
