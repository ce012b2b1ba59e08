import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

/** The user-facing problem with a kubeconfig file: always names the file and the entry. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

type Entry = Record<string, unknown>;
interface Named {
  name: string;
  [section: string]: unknown;
}

export interface MinifiedKubeconfig {
  /** The self-contained kubeconfig: one context, its cluster and user, files inlined. */
  config: Entry;
  context: string;
  cluster: string;
  user?: string;
}

export interface MinifyOptions {
  /** The context to keep; the kubeconfig's current-context when omitted. */
  context?: string;
  /** Where the kubeconfig came from: relative file references resolve against its directory. */
  path?: string;
  readFile?: (path: string) => Buffer;
}

/** Path fields whose content kubeconfig can also carry inline as base64 `*-data`. */
const FILE_FIELDS = {
  cluster: [['certificate-authority', 'certificate-authority-data']],
  user: [
    ['client-certificate', 'client-certificate-data'],
    ['client-key', 'client-key-data'],
  ],
} as const;

function namedEntries(config: Entry, section: 'clusters' | 'users' | 'contexts', where: string): Named[] {
  const entries = config[section] ?? [];
  if (!Array.isArray(entries)) throw new KubeconfigError(`${where}: "${section}" must be a list`);
  return entries.filter((entry): entry is Named => typeof entry === 'object' && entry !== null && typeof (entry as Named).name === 'string');
}

function available(entries: Named[]): string {
  return entries.length === 0 ? 'it has none' : `available: ${entries.map((entry) => entry.name).join(', ')}`;
}

/**
 * Reduces a kubeconfig to the one context the control plane needs and makes it
 * self-contained: certificate and key files become `*-data` fields and a `tokenFile`
 * becomes `token`, because the file paths mean nothing where the reconcilers run.
 */
export function minifyKubeconfig(text: string, options: MinifyOptions = {}): MinifiedKubeconfig {
  const where = options.path ? `kubeconfig ${options.path}` : 'kubeconfig';
  const readFile = options.readFile ?? ((path: string) => readFileSync(path));
  const baseDir = options.path ? dirname(resolve(options.path)) : process.cwd();

  let config: unknown;
  try {
    config = parse(text);
  } catch (error) {
    throw new KubeconfigError(`${where} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new KubeconfigError(`${where} is not a kubeconfig: expected a mapping with clusters, users and contexts`);
  }
  const source = config as Entry;
  const contexts = namedEntries(source, 'contexts', where);
  const clusters = namedEntries(source, 'clusters', where);
  const users = namedEntries(source, 'users', where);

  const contextName = options.context ?? (typeof source['current-context'] === 'string' ? source['current-context'] : '');
  if (!contextName) throw new KubeconfigError(`${where} has no current-context; choose one with --context (${available(contexts)})`);
  const context = contexts.find((entry) => entry.name === contextName);
  if (!context) throw new KubeconfigError(`context "${contextName}" not found in ${where} (${available(contexts)})`);
  const contextBody = (context.context ?? {}) as Entry;

  const clusterName = contextBody.cluster;
  if (typeof clusterName !== 'string' || clusterName === '') {
    throw new KubeconfigError(`context "${contextName}" in ${where} names no cluster`);
  }
  const cluster = clusters.find((entry) => entry.name === clusterName);
  if (!cluster) throw new KubeconfigError(`cluster "${clusterName}" (used by context "${contextName}") not found in ${where} (${available(clusters)})`);
  const clusterBody = { ...((cluster.cluster ?? {}) as Entry) };
  if (typeof clusterBody.server !== 'string' || clusterBody.server === '') {
    throw new KubeconfigError(`cluster "${clusterName}" in ${where} has no server address`);
  }

  const userName = typeof contextBody.user === 'string' && contextBody.user !== '' ? contextBody.user : undefined;
  const user = userName === undefined ? undefined : users.find((entry) => entry.name === userName);
  if (userName !== undefined && !user) {
    throw new KubeconfigError(`user "${userName}" (used by context "${contextName}") not found in ${where} (${available(users)})`);
  }
  const userBody = user ? { ...((user.user ?? {}) as Entry) } : undefined;

  const read = (owner: string, field: string, file: string): Buffer => {
    const path = isAbsolute(file) ? file : resolve(baseDir, file);
    try {
      return readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new KubeconfigError(`${owner} in ${where}: cannot read ${field} file ${path} (${code})`);
    }
  };
  const inlineFiles = (body: Entry, owner: string, fields: readonly (readonly [string, string])[]) => {
    for (const [fileField, dataField] of fields) {
      const file = body[fileField];
      if (typeof file !== 'string' || file === '') continue;
      // Like client-go, inline data wins over a file when both are given.
      if (typeof body[dataField] !== 'string') body[dataField] = read(owner, fileField, file).toString('base64');
      delete body[fileField];
    }
  };

  inlineFiles(clusterBody, `cluster "${clusterName}"`, FILE_FIELDS.cluster);
  if (userBody) {
    const owner = `user "${userName}"`;
    inlineFiles(userBody, owner, FILE_FIELDS.user);
    if (typeof userBody.tokenFile === 'string' && userBody.tokenFile !== '') {
      if (typeof userBody.token !== 'string') userBody.token = read(owner, 'tokenFile', userBody.tokenFile).toString('utf8').trim();
      delete userBody.tokenFile;
    }
    // The control plane never runs commands named by a client, so fail here rather than at the server.
    if (userBody.exec || userBody['auth-provider']) {
      throw new KubeconfigError(
        `${owner} in ${where} gets its credentials from an ${userBody.exec ? 'exec' : 'auth-provider'} plugin, which Shoal does not run: use a context whose user has a token or a client certificate`,
      );
    }
  }

  const minified: Entry = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': contextName,
    clusters: [{ name: clusterName, cluster: clusterBody }],
    contexts: [{ name: contextName, context: { ...contextBody } }],
    users: user && userBody ? [{ name: userName, user: userBody }] : [],
  };
  return { config: minified, context: contextName, cluster: clusterName, user: userName };
}

export function serializeKubeconfig(config: Entry): string {
  return stringify(config, { lineWidth: 0 });
}
