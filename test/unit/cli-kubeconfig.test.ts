import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { KubeconfigError, minifyKubeconfig, serializeKubeconfig } from '../../shared/cli/kubeconfig.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

function kubeconfig(overrides: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'dev',
    clusters: [
      { name: 'dev-cluster', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': 'ca.crt' } },
      { name: 'prod-cluster', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64('PROD CA') } },
    ],
    users: [
      { name: 'dev-user', user: { 'client-certificate': 'certs/dev.crt', 'client-key': 'certs/dev.key' } },
      { name: 'prod-user', user: { tokenFile: 'token' } },
    ],
    contexts: [
      { name: 'dev', context: { cluster: 'dev-cluster', user: 'dev-user', namespace: 'apps' } },
      { name: 'prod', context: { cluster: 'prod-cluster', user: 'prod-user' } },
      { name: 'broken', context: { cluster: 'nowhere', user: 'dev-user' } },
      { name: 'no-user', context: { cluster: 'prod-cluster', user: 'ghost' } },
    ],
    ...overrides,
  };
}

describe('minifyKubeconfig', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-kubeconfig-'));
    path = join(dir, 'config');
    writeFileSync(join(dir, 'ca.crt'), 'DEV CA');
    writeFileSync(join(dir, 'token'), 'secret-token\n');
    writeFileSync(path, stringify(kubeconfig()));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps only the current context, its cluster and user, and inlines files relative to the kubeconfig', () => {
    // Prepare: client cert and key in a subdirectory, referenced relatively.
    const certs = join(dir, 'certs');
    mkdirSync(certs);
    writeFileSync(join(certs, 'dev.crt'), 'DEV CERT');
    writeFileSync(join(certs, 'dev.key'), 'DEV KEY');

    // Act
    const result = minifyKubeconfig(stringify(kubeconfig()), { path });

    // Assess
    expect(result).toMatchObject({ context: 'dev', cluster: 'dev-cluster', user: 'dev-user' });
    expect(result.config).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'dev',
      clusters: [{ name: 'dev-cluster', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64('DEV CA') } }],
      contexts: [{ name: 'dev', context: { cluster: 'dev-cluster', user: 'dev-user', namespace: 'apps' } }],
      users: [{ name: 'dev-user', user: { 'client-certificate-data': b64('DEV CERT'), 'client-key-data': b64('DEV KEY') } }],
    });
  });

  it('uses the chosen context, keeps inline data and turns tokenFile into token', () => {
    const result = minifyKubeconfig(stringify(kubeconfig()), { path, context: 'prod' });

    expect(result.config['current-context']).toBe('prod');
    expect(result.config.clusters).toEqual([{ name: 'prod-cluster', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64('PROD CA') } }]);
    expect(result.config.users).toEqual([{ name: 'prod-user', user: { token: 'secret-token' } }]);
  });

  it('serialises to a kubeconfig that parses back to the same object', () => {
    const result = minifyKubeconfig(stringify(kubeconfig()), { path, context: 'prod' });
    expect(parse(serializeKubeconfig(result.config))).toEqual(result.config);
  });

  it('resolves absolute file paths as they are', () => {
    const config = kubeconfig({
      'current-context': 'abs',
      contexts: [{ name: 'abs', context: { cluster: 'c' } }],
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'certificate-authority': join(dir, 'ca.crt') } }],
    });
    const result = minifyKubeconfig(stringify(config), { path: '/elsewhere/config' });
    expect(result.config.clusters).toEqual([{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'certificate-authority-data': b64('DEV CA') } }]);
    expect(result.config.users).toEqual([]);
  });

  it.each([
    [{ context: 'missing' }, /context "missing" not found in kubeconfig .*config \(available: dev, prod, broken, no-user\)/],
    [{ context: 'broken' }, /cluster "nowhere" \(used by context "broken"\) not found .*available: dev-cluster, prod-cluster/],
    [{ context: 'no-user' }, /user "ghost" \(used by context "no-user"\) not found .*available: dev-user, prod-user/],
  ])('explains a missing entry (%o)', (options, message) => {
    expect(() => minifyKubeconfig(stringify(kubeconfig()), { path, ...options })).toThrow(message);
  });

  it('asks for --context when there is no current-context', () => {
    const text = stringify(kubeconfig({ 'current-context': undefined }));
    expect(() => minifyKubeconfig(text, { path })).toThrow(/has no current-context; choose one with --context/);
  });

  it('names the file it cannot read', () => {
    expect(() => minifyKubeconfig(stringify(kubeconfig()), { path })).toThrow(KubeconfigError);
    expect(() => minifyKubeconfig(stringify(kubeconfig()), { path })).toThrow(/user "dev-user" in kubeconfig .*: cannot read client-certificate file .*certs\/dev\.crt \(ENOENT\)/);
  });

  it('rejects what is not a kubeconfig', () => {
    expect(() => minifyKubeconfig('- a\n- b\n', { path })).toThrow(/is not a kubeconfig/);
    expect(() => minifyKubeconfig('a: [\n', { path })).toThrow(/is not valid YAML/);
  });

  it('refuses exec plugins, which the control plane does not run', () => {
    const config = kubeconfig({
      'current-context': 'exec',
      contexts: [{ name: 'exec', context: { cluster: 'prod-cluster', user: 'aws' } }],
      users: [{ name: 'aws', user: { exec: { command: 'aws', args: ['eks', 'get-token'] } } }],
    });
    expect(() => minifyKubeconfig(stringify(config), { path })).toThrow(/user "aws" .* exec plugin, which Shoal does not run/);
  });
});
