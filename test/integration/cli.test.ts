import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';

const REPO = resolve(import.meta.dirname, '../..');
const SHOAL = join(REPO, 'bin/shoal.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as a child process, as a user would. */
function shoal(args: readonly string[], options: { server?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SHOAL, ...args], {
      cwd: REPO,
      env: { ...process.env, SHOAL_SERVER: options.server ?? inject('shoalServer'), NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

let sequence = 0;
/** A namespace of its own for every test, so tests never see each other's resources. */
function uniqueNamespace(prefix: string): string {
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}-${sequence++}`.slice(0, 63);
}

function application(name: string, labels: Record<string, string> = {}, replicas = 1) {
  return {
    apiVersion: 'shoal.io/v1alpha1',
    kind: 'Application',
    metadata: { name, labels },
    spec: {
      manifests: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name },
          spec: {
            replicas,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'nginx:1.27' }] } },
          },
        },
      ],
    },
  };
}

const manifestsYaml = (...objects: unknown[]) => objects.map((object) => stringify(object)).join('---\n');

describe('shoal CLI against the local control plane', () => {
  let dir: string;
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies a multi-document file: created, then unchanged, then configured', async () => {
    // Prepare
    const ns = uniqueNamespace('apply');
    const path = file('apply.yaml', manifestsYaml(application('web'), application('api')));

    // Act
    const first = await shoal(['apply', '-f', path, '-n', ns]);
    const second = await shoal(['apply', '-f', path, '-n', ns]);
    writeFileSync(path, manifestsYaml(application('web', { tier: 'prod' }), application('api')));
    const third = await shoal(['apply', '-f', path, '-n', ns]);

    // Assess
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe('application.shoal.io/web created\napplication.shoal.io/api created\n');
    expect(second.stdout).toBe('application.shoal.io/web unchanged\napplication.shoal.io/api unchanged\n');
    expect(third.stdout).toBe('application.shoal.io/web configured\napplication.shoal.io/api unchanged\n');
    expect(third.code).toBe(0);
  });

  it('applies from stdin, JSON arrays included, into the namespace the document names', async () => {
    const ns = uniqueNamespace('stdin');
    const body = JSON.stringify([{ ...application('from-json'), metadata: { name: 'from-json', namespace: ns } }]);

    const run = await shoal(['apply', '-f', '-'], { input: body });
    const get = await shoal(['get', 'app', 'from-json', '-n', ns, '-o', 'name']);
    const contradicted = await shoal(['apply', '-f', '-', '-n', 'elsewhere'], { input: body });

    expect(run).toMatchObject({ code: 0, stdout: 'application.shoal.io/from-json created\n' });
    expect(get).toMatchObject({ code: 0, stdout: 'application.shoal.io/from-json\n' });
    expect(contradicted.code).toBe(1);
    expect(contradicted.stderr).toContain(`<stdin>, document 1, item 1: the manifest's namespace "${ns}" does not match --namespace "elsewhere"`);
  });

  it('gets tables, JSON and label-selected lists', async () => {
    // Prepare
    const ns = uniqueNamespace('get');
    const path = file('get.yaml', manifestsYaml(application('web', { tier: 'prod' }), application('batch', { tier: 'dev' })));
    expect((await shoal(['apply', '-f', path, '-n', ns])).code).toBe(0);

    // Act
    const table = await shoal(['get', 'applications', '-n', ns]);
    const wide = await shoal(['get', 'app', '-n', ns, '-o', 'wide']);
    const selected = await shoal(['get', 'app', '-n', ns, '-l', 'tier=prod', '-o', 'json']);
    const single = await shoal(['get', 'app', 'batch', '-n', ns, '-o', 'json']);
    const yaml = await shoal(['get', 'app', 'batch', '-n', ns, '-o', 'yaml']);
    const everywhere = await shoal(['get', 'app', '-A', '-l', 'tier=prod']);
    const empty = await shoal(['get', 'app', '-n', uniqueNamespace('empty')]);

    // Assess
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+STATE\s+CLUSTER\s+AGE$/);
    expect(rows.map((row) => row.split(/\s+/)[0]).sort()).toEqual(['batch', 'web']);
    expect(wide.stdout.split('\n')[0]).toMatch(/LABELS$/);
    expect(wide.stdout).toContain('tier=prod');

    const list = JSON.parse(selected.stdout) as { kind: string; items: { metadata: { name: string } }[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((item) => item.metadata.name)).toEqual(['web']);
    expect(JSON.parse(single.stdout)).toMatchObject({ kind: 'Application', metadata: { name: 'batch', namespace: ns } });
    expect(yaml.stdout).toMatch(/^apiVersion: shoal\.io\/v1alpha1\nkind: Application\n/);

    expect(everywhere.stdout.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+STATE/);
    expect(everywhere.stdout).toMatch(new RegExp(`^${ns}\\s+web\\s`, 'm'));

    expect(empty).toMatchObject({ code: 0, stdout: '' });
    expect(empty.stderr).toMatch(/^No resources found in empty-.* namespace\.\n$/);
  });

  it('follows continue tokens to list more objects than one page', async () => {
    const ns = uniqueNamespace('pages');
    const many = Array.from({ length: 12 }, (_, index) => application(`app-${index}`));
    expect((await shoal(['apply', '-f', file('many.yaml', manifestsYaml(...many)), '-n', ns])).code).toBe(0);

    const run = await shoal(['get', 'app', '-n', ns, '-o', 'name', '--chunk-size', '5']);

    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n').sort()).toEqual(many.map((app) => `application.shoal.io/${app.metadata.name}`).sort());
  });

  it('describes an application', async () => {
    const ns = uniqueNamespace('describe');
    expect((await shoal(['apply', '-f', file('describe.yaml', manifestsYaml(application('web', { tier: 'prod' }))), '-n', ns])).code).toBe(0);

    const run = await shoal(['describe', 'app', 'web', '-n', ns]);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Name:\s+web$/m);
    expect(run.stdout).toMatch(new RegExp(`^Namespace:\\s+${ns}$`, 'm'));
    expect(run.stdout).toMatch(/^Labels:\s+tier=prod$/m);
    expect(run.stdout).toMatch(/Deployment\/web/);
    expect(run.stdout).toMatch(/^Status:$/m);
    expect(run.stdout).toMatch(/^Conditions:$/m);
  });

  it('deletes by name and waits until the object is gone', async () => {
    const ns = uniqueNamespace('delete');
    const path = file('delete.yaml', manifestsYaml(application('web'), application('api')));
    expect((await shoal(['apply', '-f', path, '-n', ns])).code).toBe(0);

    const byName = await shoal(['delete', 'app', 'web', '-n', ns, '--wait', '--timeout', '60s']);
    const byFile = await shoal(['delete', '-f', path, '-n', ns, '--ignore-not-found', '--wait']);
    const after = await shoal(['get', 'app', 'web', '-n', ns]);

    expect(byName.code).toBe(0);
    expect(byName.stdout).toMatch(/application\.shoal\.io "web" deleted\n$/);
    expect(byFile.code).toBe(0);
    expect(byFile.stdout).toMatch(/application\.shoal\.io "api" deleted\n$/);
    expect(after.code).toBe(1);
  });

  it('deletes with --cascade: orphan keeps the dependents, background takes them after the owner', async () => {
    const ns = uniqueNamespace('cascade');
    const owner = (name: string) => ({ apiVersion: 'shoal.io/v1alpha1', kind: 'MetricsProvider', metadata: { name }, spec: { type: 'static', static: { metrics: { load: 1 } } } });
    expect((await shoal(['apply', '-f', file('owners.yaml', manifestsYaml(owner('kept'), owner('taken'))), '-n', ns])).code).toBe(0);
    const uid = async (name: string) => (JSON.parse((await shoal(['get', 'mp', name, '-n', ns, '-o', 'json'])).stdout) as { metadata: { uid: string } }).metadata.uid;
    const dependent = async (name: string, ownerName: string) => ({
      apiVersion: 'shoal.io/v1alpha1',
      kind: 'Metric',
      metadata: { name, ownerReferences: [{ apiVersion: 'shoal.io/v1alpha1', kind: 'MetricsProvider', name: ownerName, uid: await uid(ownerName) }] },
      spec: { min: 0, max: 1, provider: { name: ownerName, metric: 'load' } },
    });
    expect((await shoal(['apply', '-f', file('dependents.yaml', manifestsYaml(await dependent('a', 'kept'), await dependent('b', 'taken'))), '-n', ns])).code).toBe(0);

    const orphan = await shoal(['delete', 'mp', 'kept', '-n', ns, '--cascade', 'orphan', '--wait']);
    const background = await shoal(['delete', 'mp', 'taken', '-n', ns, '--cascade=background']);
    const bogus = await shoal(['delete', 'mp', 'x', '-n', ns, '--cascade', 'sideways']);

    expect(orphan.code, orphan.stderr).toBe(0);
    expect(background.code, background.stderr).toBe(0);
    expect(background.stdout).toBe('metricsprovider.shoal.io "taken" deleted\n');
    const a = JSON.parse((await shoal(['get', 'metric', 'a', '-n', ns, '-o', 'json'])).stdout) as { metadata: { ownerReferences?: unknown } };
    expect(a.metadata.ownerReferences).toBeUndefined();
    await expect.poll(async () => (await shoal(['get', 'metric', 'b', '-n', ns])).code, { timeout: 30_000, interval: 250 }).toBe(1);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toMatch(/--cascade.*sideways.*foreground, background, orphan/);
  });

  it('reports a missing object like kubectl and exits 1', async () => {
    const ns = uniqueNamespace('missing');

    const get = await shoal(['get', 'app', 'nothing-here', '-n', ns]);
    const del = await shoal(['delete', 'application', 'nothing-here', '-n', ns]);

    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/^Error from server \(NotFound\): .*nothing-here.*\n$/);
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(/^Error from server \(NotFound\): /);
  });

  it('prints every validation cause and bad YAML location, applies the rest, and exits 1', async () => {
    // Prepare: a valid document, one the server rejects, and one that is not YAML.
    const ns = uniqueNamespace('invalid');
    const invalid = { ...application('broken'), spec: { manifests: [] } };
    const path = file('invalid.yaml', `${manifestsYaml(application('good'), invalid)}---\nkind: [unclosed\n`);

    // Act
    const run = await shoal(['apply', '-f', path, '-n', ns]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('application.shoal.io/good created\n');
    expect(run.stderr).toMatch(/^Error from server \(Invalid\): error when applying application\.shoal\.io\/broken \(.*invalid\.yaml, document 2\): /m);
    expect(run.stderr).toMatch(/^ {2}\* spec\.manifests: /m);
    expect(run.stderr).toMatch(/invalid\.yaml: document 3 \(line \d+\): invalid YAML: /);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack traces
  });

  it('says in one line that the API cannot be reached', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((done) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => done(free));
      });
    });
    const server = `http://127.0.0.1:${port}`;

    const run = await shoal(['get', 'app'], { server });

    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toBe(`cannot reach the Shoal API at ${server} (is \`npm start\` running? set --server or SHOAL_SERVER)\n`);
  });

  it('registers a cluster from a kubeconfig with files, and never shows the credentials back', async () => {
    // Prepare: a kubeconfig with file references, pointing where no cluster answers.
    const ns = uniqueNamespace('register');
    const secretKey = `-----BEGIN PRIVATE KEY-----\nS3CR3T-KEY-${Date.now()}\n-----END PRIVATE KEY-----\n`;
    file('ca.crt', '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n');
    file('client.crt', '-----BEGIN CERTIFICATE-----\nQ0xJRU5U\n-----END CERTIFICATE-----\n');
    file('client.key', secretKey);
    const kubeconfig = file(
      'kubeconfig',
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'other',
        clusters: [
          { name: 'nowhere', cluster: { server: 'https://127.0.0.1:1', 'certificate-authority': 'ca.crt' } },
          { name: 'elsewhere', cluster: { server: 'https://127.0.0.1:2' } },
        ],
        users: [{ name: 'admin', user: { 'client-certificate': 'client.crt', 'client-key': 'client.key' } }],
        contexts: [
          { name: 'edge', context: { cluster: 'nowhere', user: 'admin' } },
          { name: 'other', context: { cluster: 'elsewhere', user: 'admin' } },
        ],
      }),
    );

    // Act
    const register = await shoal(['cluster', 'register', 'edge-1', '--kubeconfig', kubeconfig, '--context', 'edge', '-l', 'location=eu', '--metric', 'load=2', '-n', ns]);
    const again = await shoal(['cluster', 'register', 'edge-1', '--kubeconfig', kubeconfig, '--context', 'edge', '-l', 'location=eu', '--metric', 'load=2', '-n', ns]);
    const json = await shoal(['get', 'cluster', 'edge-1', '-n', ns, '-o', 'json']);
    const described = await shoal(['describe', 'cluster', 'edge-1', '-n', ns]);
    const missingContext = await shoal(['cluster', 'register', 'edge-2', '--kubeconfig', kubeconfig, '--context', 'nope', '-n', ns]);

    // Assess
    expect(register.code, register.stderr).toBe(0);
    expect(register.stdout).toMatch(/^cluster\.shoal\.io\/edge-1 created \(context "edge", server https:\/\/127\.0\.0\.1:1\)\n$/);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^cluster\.shoal\.io\/edge-1 (configured|unchanged) /);
    for (const output of [register.stdout + register.stderr, json.stdout, described.stdout]) {
      expect(output).not.toContain('S3CR3T-KEY');
      expect(output).not.toContain(Buffer.from(secretKey).toString('base64'));
      expect(output).not.toContain('client-key-data');
    }
    const cluster = JSON.parse(json.stdout) as { metadata: { labels?: Record<string, string> }; spec: Record<string, unknown> };
    expect(cluster.spec.kubeconfig).toBeUndefined();
    expect(cluster.spec.kubeconfigSecret).toEqual(expect.any(String));
    expect(cluster.spec).toMatchObject({ context: 'edge', metrics: [{ name: 'load', weight: 2 }] });
    expect(cluster.metadata.labels).toEqual({ location: 'eu' });
    expect(missingContext.code).toBe(1);
    expect(missingContext.stderr).toMatch(/^error: context "nope" not found in kubeconfig .* \(available: edge, other\)\n$/);

    // The kubeconfig-secret finalizer is released by the control plane, then the Cluster goes.
    const removed = await shoal(['delete', 'cluster', 'edge-1', '-n', ns, '--wait', '--timeout', '90s']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/cluster\.shoal\.io "edge-1" deleted\n$/);
  });
});
