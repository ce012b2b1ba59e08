import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { stringify } from 'yaml';
import { propagationPolicy } from '../resources/deletion.ts';
import { GROUP_VERSION } from '../resources/meta.ts';
import { KIND_NAMES, resolveKind, type Kind } from '../resources/kinds.ts';
import { parseMetricConstraint } from '../resources/metric-constraint.ts';
import { parseSelector } from '../resources/selector.ts';
import { applyManifest, manifestTarget, ManifestTargetError } from './apply.ts';
import { ApiError, ApiUnreachableError, DEFAULT_SERVER, ShoalClient, type ApiResource } from './client.ts';
import { CliError, formatError } from './errors.ts';
import { parseDuration, parseLabels, parseMetricWeights } from './flags.ts';
import { minifyKubeconfig, serializeKubeconfig } from './kubeconfig.ts';
import { describeLocation, parseManifests, type Manifest } from './manifests.ts';
import { canonicalOrder, describeResource, noResourcesMessage, resourceName, resourceTable, typeName } from './printers.ts';
import { createSigV4Signer, SigningError, sigv4Region } from './sigv4.ts';

/** Where the CLI reads and writes; injected so the commands can run inside tests. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
}

export function processIO(): CliIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
  };
}

const CLIENT_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

const OUTPUT_FORMATS = ['yaml', 'json', 'name', 'wide'] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Pagination size for `get`: large enough for one round trip in most fleets. */
const PAGE_SIZE = 500;

interface GlobalOptions {
  server: string;
  namespace: string;
  awsSigv4?: boolean;
  awsRegion?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function kindArgument(text: string): Kind {
  const kind = resolveKind(text);
  if (!kind) {
    throw new CliError(`the server doesn't have a resource type "${text}" (known: ${KIND_NAMES.map((name) => name.toLowerCase()).join(', ')})`);
  }
  return kind;
}

function checkedSelector(selector: string | undefined): string | undefined {
  if (selector === undefined) return undefined;
  try {
    parseSelector(selector);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  return selector;
}

/** Reads `-f` arguments: files, `-` for stdin, or directories (their .yaml/.yml/.json files). */
async function readManifestSources(paths: readonly string[], io: CliIO): Promise<{ source: string; text: string }[]> {
  const sources: { source: string; text: string }[] = [];
  for (const path of paths) {
    if (path === '-') {
      sources.push({ source: '<stdin>', text: await io.readStdin() });
      continue;
    }
    let files = [path];
    try {
      if (statSync(path).isDirectory()) {
        files = readdirSync(path)
          .filter((file) => /\.(ya?ml|json)$/.test(file))
          .sort()
          .map((file) => join(path, file));
      }
      for (const file of files) sources.push({ source: file, text: readFileSync(file, 'utf8') });
    } catch (error) {
      throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return sources;
}

function printObjects(io: CliIO, format: 'yaml' | 'json', objects: readonly ApiResource[], single: boolean) {
  // One named object prints as itself; anything else as a kubectl-style List.
  const items = objects.map(canonicalOrder);
  const value = single && items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', metadata: {}, items };
  io.stdout(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 }));
}

/** A worker count for `--nodes`. */
function nodeCount(text: string): number {
  const nodes = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(nodes) || nodes > 1000) throw new CliError(`--nodes must be a whole number from 0 to 1000, got "${text}"`);
  return nodes;
}

function sleep(milliseconds: number) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

export async function runShoal(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let failed = false;
  const program = new Command('shoal');
  const client = () => {
    const { server, awsSigv4, awsRegion } = program.opts<GlobalOptions>();
    try {
      new URL(server);
    } catch {
      throw new CliError(`invalid --server "${server}": expected a URL such as ${DEFAULT_SERVER}`);
    }
    const region = sigv4Region({ server, flag: awsSigv4, region: awsRegion, env: io.env });
    return new ShoalClient(server, region ? { signer: createSigV4Signer({ region }) } : {});
  };
  const namespace = () => program.opts<GlobalOptions>().namespace;
  const report = (error: unknown, context?: string) => {
    failed = true;
    io.stderr(`${formatError(error, context)}\n`);
  };
  /** Fetches each named object; a missing one is reported and the rest still come back. */
  const getNamed = async (api: ShoalClient, kind: Kind, names: readonly string[]) => {
    const objects: ApiResource[] = [];
    for (const name of names) {
      try {
        objects.push(await api.get(kind, namespace(), name));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        report(error);
      }
    }
    return objects;
  };

  program
    .description('Places applications on a fleet of Kubernetes clusters. Talks only to the Shoal REST API.')
    .option('--server <url>', 'Shoal API address (env SHOAL_SERVER)', io.env.SHOAL_SERVER || DEFAULT_SERVER)
    .option('-n, --namespace <namespace>', 'namespace of the resources', 'default')
    .option('--aws-sigv4', 'sign requests with AWS SigV4 (env SHOAL_AWS_SIGV4=1; automatic for *.execute-api.<region>.amazonaws.com)')
    .option('--aws-region <region>', 'region to sign for when the server address has none (env AWS_REGION, AWS_DEFAULT_REGION)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(text) });

  program
    .command('apply')
    .description('Create or update resources from YAML/JSON files (multi-document, lists)')
    .requiredOption('-f, --filename <file>', 'file, directory or - for stdin; repeatable', collect, [])
    .action(async (options: { filename: string[] }) => {
      const api = client();
      for (const { source, text } of await readManifestSources(options.filename, io)) {
        for (const entry of parseManifests(text, source)) {
          if (entry.error) {
            report(entry.error);
            continue;
          }
          await applyOne(api, entry.manifest);
        }
      }
    });

  async function applyOne(api: ShoalClient, manifest: Manifest) {
    const where = describeLocation(manifest);
    const declared = manifest.object.metadata?.namespace;
    if (program.getOptionValueSource('namespace') === 'cli' && typeof declared === 'string' && declared !== namespace()) {
      // As kubectl: an explicit -n that contradicts the file is more likely a mistake than an intent.
      return report(new CliError(`${where}: the manifest's namespace "${declared}" does not match --namespace "${namespace()}"`));
    }
    try {
      const { target, outcome } = await applyManifest(api, manifest.object, namespace());
      io.stdout(`${resourceName(target.kind, target.name)} ${outcome}\n`);
    } catch (error) {
      // Without a server every other document would fail the same way: say it once.
      if (error instanceof ApiUnreachableError || error instanceof SigningError) throw error;
      if (error instanceof ManifestTargetError) return report(new CliError(`${where}: ${error.message}`));
      const target = manifestTarget(manifest.object, namespace());
      report(error, `error when applying ${resourceName(target.kind, target.name)} (${where})`);
    }
  }

  program
    .command('get')
    .description('List resources or show some by name')
    .argument('<kind>', 'kind, plural or short name (app, cluster, ...)')
    .argument('[names...]', 'names; all when omitted')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS))
    .option('-l, --selector <selector>', 'label selector, e.g. tier=prod,location in (eu)')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('--chunk-size <n>', 'objects per list request; pages are followed to the end', String(PAGE_SIZE))
    .action(async (kindText: string, names: string[], options: { output?: OutputFormat; selector?: string; allNamespaces?: boolean; chunkSize: string }) => {
      const chunkSize = Number(options.chunkSize);
      if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new CliError(`--chunk-size must be a positive integer, got "${options.chunkSize}"`);
      const kind = kindArgument(kindText);
      const selector = checkedSelector(options.selector);
      if (names.length > 0 && selector) throw new CliError('names cannot be given together with a label selector');
      if (names.length > 0 && options.allNamespaces) throw new CliError('a resource cannot be retrieved by name across all namespaces');
      const api = client();
      let objects: ApiResource[];
      if (names.length > 0) {
        objects = await getNamed(api, kind, names);
      } else {
        objects = await api.listAll(kind, { namespace: options.allNamespaces ? undefined : namespace(), labelSelector: selector }, chunkSize);
      }

      if (options.output === 'json' || options.output === 'yaml') return printObjects(io, options.output, objects, names.length === 1);
      if (options.output === 'name') return io.stdout(objects.map((object) => `${resourceName(kind, object.metadata.name)}\n`).join(''));
      if (objects.length === 0) {
        if (names.length === 0) io.stderr(`${noResourcesMessage(options.allNamespaces ? undefined : namespace())}\n`);
        return;
      }
      io.stdout(`${resourceTable(kind, objects, { allNamespaces: options.allNamespaces, wide: options.output === 'wide' })}\n`);
    });

  program
    .command('describe')
    .description('Show a readable view of resources: metadata, spec, status, placement, conditions')
    .argument('<kind>', 'kind, plural or short name')
    .argument('[names...]', 'names; all in the namespace when omitted')
    .option('-l, --selector <selector>', 'label selector')
    .action(async (kindText: string, names: string[], options: { selector?: string }) => {
      const kind = kindArgument(kindText);
      const selector = checkedSelector(options.selector);
      const api = client();
      const objects: ApiResource[] = [];
      if (names.length === 0) objects.push(...(await api.listAll(kind, { namespace: namespace(), labelSelector: selector }, PAGE_SIZE)));
      objects.push(...(await getNamed(api, kind, names)));
      if (objects.length === 0 && names.length === 0) io.stderr(`${noResourcesMessage(namespace())}\n`);
      io.stdout(objects.map((object) => `${describeResource(kind, object)}\n`).join('\n'));
    });

  program
    .command('delete')
    .description('Delete resources by kind and name, by selector, or as listed in files')
    .argument('[kind]', 'kind, plural or short name')
    .argument('[names...]', 'names')
    .option('-f, --filename <file>', 'delete what these files describe; repeatable', collect, [])
    .option('-l, --selector <selector>', 'delete every resource of the kind matching this label selector')
    .option('--wait', 'wait until the resources are gone (finalizers done)')
    .option('--timeout <duration>', 'how long --wait waits', '60s')
    .option('--ignore-not-found', 'treat a missing resource as deleted')
    .addOption(
      new Option('--cascade <policy>', 'what happens to dependents (ownerReferences): deleted first, deleted after, or kept')
        .choices(['foreground', 'background', 'orphan'])
        .default('foreground'),
    )
    .action(
      async (
        kindText: string | undefined,
        names: string[],
        options: { filename: string[]; selector?: string; wait?: boolean; timeout: string; ignoreNotFound?: boolean; cascade: string },
      ) => {
        const timeout = parseDuration(options.timeout);
        const cascade = propagationPolicy(options.cascade);
        const api = client();
        const targets: { kind: Kind; namespace: string; name: string; where?: string }[] = [];
        if (options.filename.length > 0) {
          if (kindText) throw new CliError('give either -f or a kind and names, not both');
          for (const { source, text } of await readManifestSources(options.filename, io)) {
            for (const entry of parseManifests(text, source)) {
              if (entry.error) {
                report(entry.error);
                continue;
              }
              try {
                targets.push({ ...manifestTarget(entry.manifest.object, namespace()), where: describeLocation(entry.manifest) });
              } catch (error) {
                report(new CliError(`${describeLocation(entry.manifest)}: ${(error as Error).message}`));
              }
            }
          }
        } else {
          if (!kindText) throw new CliError('give a kind and names, a kind and -l SELECTOR, or -f FILE');
          const kind = kindArgument(kindText);
          const selector = checkedSelector(options.selector);
          if (names.length === 0 && !selector) throw new CliError(`give the names of the ${kind} resources to delete, or -l SELECTOR`);
          if (names.length > 0 && selector) throw new CliError('names cannot be given together with a label selector');
          const selected = selector ? (await api.listAll(kind, { namespace: namespace(), labelSelector: selector })).map((object) => object.metadata.name) : names;
          targets.push(...selected.map((name) => ({ kind, namespace: namespace(), name })));
          if (selector && selected.length === 0) io.stderr(`${noResourcesMessage(namespace())}\n`);
        }

        const pending: typeof targets = [];
        for (const target of targets) {
          const label = `${typeName(target.kind)} "${target.name}"`;
          try {
            const result = await api.delete(target.kind, target.namespace, target.name, cascade);
            if (result.removed) {
              io.stdout(`${label} deleted\n`);
              continue;
            }
            const finalizers = result.object?.metadata?.finalizers ?? [];
            io.stdout(`${label} deletion requested; waiting for finalizers: ${finalizers.join(', ') || '<none>'}\n`);
            pending.push(target);
          } catch (error) {
            if (error instanceof ApiError && error.code === 404 && options.ignoreNotFound) continue;
            if (!(error instanceof ApiError)) throw error;
            report(error, target.where ? `error when deleting ${resourceName(target.kind, target.name)} (${target.where})` : undefined);
          }
        }
        if (options.wait) await Promise.all(pending.map((target) => waitUntilGone(api, target, timeout)));
      },
    );

  async function waitUntilGone(api: ShoalClient, target: { kind: Kind; namespace: string; name: string }, timeout: number) {
    const label = `${typeName(target.kind)} "${target.name}"`;
    const deadline = Date.now() + timeout;
    let last: ApiResource | undefined;
    for (let interval = 200; Date.now() < deadline; interval = Math.min(interval * 2, 2000)) {
      last = await api.find(target.kind, target.namespace, target.name);
      if (!last) return void io.stdout(`${label} deleted\n`);
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
    }
    if (!(await api.find(target.kind, target.namespace, target.name))) return void io.stdout(`${label} deleted\n`);
    const finalizers = last?.metadata.finalizers ?? [];
    report(new CliError(`timed out after ${timeout / 1000}s waiting for ${label} to be deleted (finalizers left: ${finalizers.join(', ') || '<none>'})`));
  }

  const cluster = program.command('cluster').description('Register existing clusters, or have Shoal create and scale them');
  cluster
    .command('register')
    .description('Register an existing Kubernetes cluster from a kubeconfig (create or update)')
    .argument('<name>', 'name of the Cluster resource')
    .requiredOption('--kubeconfig <path>', 'kubeconfig file to read the context from')
    .option('--context <context>', 'kubeconfig context to use (default: its current-context)')
    .option('-l, --label <key=value>', 'label for placement constraints; repeatable', collect, [])
    .option('--metric <name=weight>', 'metric to score this cluster with; repeatable', collect, [])
    .action(async (name: string, options: { kubeconfig: string; context?: string; label: string[]; metric: string[] }) => {
      const labels = parseLabels(options.label);
      const metrics = parseMetricWeights(options.metric);
      let text: string;
      try {
        text = readFileSync(options.kubeconfig, 'utf8');
      } catch (error) {
        throw new CliError(`cannot read kubeconfig ${options.kubeconfig}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      const minified = minifyKubeconfig(text, { path: options.kubeconfig, context: options.context });
      const object = {
        apiVersion: GROUP_VERSION,
        kind: 'Cluster',
        metadata: { name, namespace: namespace(), ...(Object.keys(labels).length > 0 ? { labels } : {}) },
        spec: { kubeconfig: serializeKubeconfig(minified.config), context: minified.context, metrics },
      };
      try {
        const { outcome } = await applyManifest(client(), object, namespace());
        const server = String(((minified.config.clusters as { cluster: { server?: string } }[])[0]?.cluster.server) ?? '');
        io.stdout(`${resourceName('Cluster', name)} ${outcome} (context "${minified.context}", server ${server})\n`);
      } catch (error) {
        // Never echo the request body: it carries credentials.
        report(error, `error when registering ${resourceName('Cluster', name)}`);
      }
    });

  cluster
    .command('create')
    .description('Have Shoal create a cluster through the InfrastructureProvider of a Cloud (the best fitting Cloud when --cloud is omitted)')
    .argument('<name>', 'name of the Cluster resource')
    .option('--cloud <cloud>', 'Cloud to create it on (default: chosen by --cloud-label, --cloud-metric and the clouds\' metrics)')
    .option('--nodes <n>', 'worker nodes', '1')
    .option('--kubernetes-version <version>', 'Kubernetes version, e.g. 1.36 (default: the provider\'s)')
    .option('--machine-type <type>', 'machine type of the workers (default: the provider\'s)')
    .option('--cloud-label <expr>', 'label constraint on the Cloud, e.g. "location = eu"; repeatable', collect, [])
    .option('--cloud-metric <expr>', 'metric constraint on the Cloud, e.g. "green > 0.5"; repeatable', collect, [])
    .option('-l, --label <key=value>', 'label of the Cluster, for placement constraints of applications; repeatable', collect, [])
    .option('--metric <name=weight>', 'metric to score this cluster with; repeatable', collect, [])
    .option('--wait', 'wait until the cluster is ONLINE (or FAILED)')
    .option('--timeout <duration>', 'how long --wait waits', '10m')
    .action(
      async (
        name: string,
        options: {
          cloud?: string;
          nodes: string;
          kubernetesVersion?: string;
          machineType?: string;
          cloudLabel: string[];
          cloudMetric: string[];
          label: string[];
          metric: string[];
          wait?: boolean;
          timeout: string;
        },
      ) => {
        const timeout = parseDuration(options.timeout);
        const labels = parseLabels(options.label);
        for (const expression of options.cloudLabel) checkedSelector(expression);
        for (const expression of options.cloudMetric) {
          try {
            parseMetricConstraint(expression);
          } catch (error) {
            throw new CliError((error as Error).message);
          }
        }
        const shape = {
          nodes: nodeCount(options.nodes),
          ...(options.kubernetesVersion ? { version: options.kubernetesVersion.replace(/^v/, '') } : {}),
          ...(options.machineType ? { machineType: options.machineType } : {}),
        };
        const object = {
          apiVersion: GROUP_VERSION,
          kind: 'Cluster',
          metadata: { name, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
          spec: {
            metrics: parseMetricWeights(options.metric),
            infrastructure: { ...(options.cloud ? { cloud: options.cloud } : {}), constraints: { labels: options.cloudLabel, metrics: options.cloudMetric }, shape },
          },
        };
        const api = client();
        const created = await api.create('Cluster', namespace(), object);
        io.stdout(`${resourceName('Cluster', name)} created\n`);
        if (options.wait) await waitUntilOnline(api, name, created.metadata.generation ?? 1, timeout);
      },
    );

  cluster
    .command('scale')
    .description('Change the worker count of a cluster Shoal created')
    .argument('<name>', 'name of the Cluster resource')
    .requiredOption('--nodes <n>', 'worker nodes')
    .option('--wait', 'wait until the cluster is ONLINE at the new size (or FAILED)')
    .option('--timeout <duration>', 'how long --wait waits', '10m')
    .action(async (name: string, options: { nodes: string; wait?: boolean; timeout: string }) => {
      const nodes = nodeCount(options.nodes);
      const timeout = parseDuration(options.timeout);
      const api = client();
      const current = await api.get('Cluster', namespace(), name);
      if (!current.spec?.infrastructure) {
        throw new CliError(`${resourceName('Cluster', name)} was registered from a kubeconfig, not created by Shoal: scale it with its own tools`);
      }
      const patched = await api.patch('Cluster', namespace(), name, { spec: { infrastructure: { shape: { nodes } } } });
      io.stdout(`${resourceName('Cluster', name)} scaled to ${nodes} node${nodes === 1 ? '' : 's'}\n`);
      if (options.wait) await waitUntilOnline(api, name, patched.metadata.generation ?? 1, timeout);
    });

  /** Polls until the infrastructure reconciler reports this generation ONLINE, or FAILED. */
  async function waitUntilOnline(api: ShoalClient, name: string, generation: number, timeout: number) {
    const label = resourceName('Cluster', name);
    const deadline = Date.now() + timeout;
    let phase: string | undefined;
    for (let interval = 500; ; interval = Math.min(interval * 2, 2000)) {
      const object = await api.get('Cluster', namespace(), name);
      const infrastructure = (object.status?.infrastructure ?? {}) as { phase?: string; message?: string; observedGeneration?: number; nodes?: { ready: number; desired: number } };
      const current = (infrastructure.observedGeneration ?? 0) >= generation;
      // The ONLINE of the generation before this change is not news.
      if (infrastructure.phase !== phase && !(infrastructure.phase === 'ONLINE' && !current)) {
        phase = infrastructure.phase;
        if (phase) io.stdout(`${label} ${phase}${infrastructure.message ? `: ${infrastructure.message}` : ''}\n`);
      }
      if (infrastructure.phase === 'ONLINE' && current) return;
      if (infrastructure.phase === 'FAILED' && current) return report(new CliError(`${label} failed: ${infrastructure.message ?? 'no message'}`));
      if (Date.now() >= deadline) return report(new CliError(`timed out after ${timeout / 1000}s waiting for ${label} to be ONLINE (phase ${phase ?? '<none>'})`));
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
    }
  }

  program
    .command('version')
    .description('Print the client version and whether the server answers')
    .option('--client', 'client version only')
    .action(async (options: { client?: boolean }) => {
      io.stdout(`Client Version: v${CLIENT_VERSION}\n`);
      if (options.client) return;
      const api = client();
      const health = (await api.health()) as { version?: unknown; status?: unknown } | string | undefined;
      const version = typeof health === 'object' && health && typeof health.version === 'string' ? health.version : undefined;
      io.stdout(`Server: ${api.server}${version ? ` (v${version.replace(/^v/, '')})` : ' (healthy)'}\n`);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version are successful exits; usage errors were already printed by commander.
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.help' ? 0 : 1;
    }
    report(error);
  }
  return failed ? 1 : 0;
}
