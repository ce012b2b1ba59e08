import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { inspectKubeconfig, kubeconfigText, loadKubeconfig } from '../../shared/kube/kubeconfig.ts';

const TOKEN = 'tok-Sup3rSecret-0123456789';
const KEY_DATA = 'S0VZLVNFQ1JFVC1CWVRFUw==';
const CERT_DATA = 'Q0VSVC1CWVRFUw==';

interface Options {
  user?: Record<string, unknown>;
  cluster?: Record<string, unknown>;
  context?: Record<string, unknown>;
  currentContext?: string | null;
}

/** A kubeconfig with one cluster `c1`, one user `u1` and one context `dev`, varied per test. */
function kubeconfig({ user = { token: TOKEN }, cluster = {}, context = {}, currentContext = 'dev' }: Options = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    ...(currentContext === null ? {} : { 'current-context': currentContext }),
    clusters: [{ name: 'c1', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': CERT_DATA, ...cluster } }],
    contexts: [{ name: 'dev', context: { cluster: 'c1', user: 'u1', ...context } }],
    users: [{ name: 'u1', user }],
  });
}

function expectNoSecrets(problems: string[]) {
  const text = problems.join('\n');
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(KEY_DATA);
  expect(text).not.toContain(CERT_DATA);
}

describe('inspectKubeconfig accepts embedded credentials', () => {
  it('a token user, through the current context', () => {
    // Prepare
    const text = kubeconfig();
    // Act
    const { kubeConfig, problems } = inspectKubeconfig(text);
    // Assess
    expect(problems).toEqual([]);
    expect(kubeConfig?.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(kubeConfig?.getCurrentUser()?.token).toBe(TOKEN);
  });

  it('a client-certificate user, through a named context that becomes current', () => {
    // Prepare
    const text = kubeconfig({ user: { 'client-certificate-data': CERT_DATA, 'client-key-data': KEY_DATA }, currentContext: null });
    // Act
    const { kubeConfig, problems } = inspectKubeconfig(text, 'dev');
    // Assess
    expect(problems).toEqual([]);
    expect(kubeConfig?.getCurrentContext()).toBe('dev');
    expect(kubeConfig?.getCurrentUser()?.keyData).toBe(KEY_DATA);
  });

  it('a JSON kubeconfig', () => {
    // Prepare
    const text = JSON.stringify({
      clusters: [{ name: 'c', cluster: { server: 'http://127.0.0.1:8080' } }],
      users: [{ name: 'u', user: { token: TOKEN } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    });
    // Act
    const { kubeConfig, problems } = inspectKubeconfig(text);
    // Assess
    expect(problems).toEqual([]);
    expect(kubeConfig).toBeDefined();
  });
});

describe('inspectKubeconfig refuses what Shoal cannot use', () => {
  it.each<[string, Options, string | undefined, string]>([
    ['no current context', { currentContext: null }, undefined, 'has no current-context: set one or give spec.context'],
    ['an unknown context', {}, 'prod', 'has no context "prod"'],
    ['a context naming a missing cluster', { context: { cluster: 'c9' } }, undefined, 'context "dev" names cluster "c9", which is not defined'],
    ['a context naming a missing user', { context: { user: 'u9' } }, undefined, 'context "dev" names user "u9", which is not defined'],
    ['a server without http(s)', { cluster: { server: '10.0.0.1:6443' } }, undefined, 'cluster "c1" has no http(s) server URL'],
    [
      'a certificate-authority file',
      { cluster: { 'certificate-authority': '/etc/kubernetes/ca.crt' } },
      undefined,
      'cluster "c1" refers to a certificate-authority file: embed it as certificate-authority-data',
    ],
    [
      'an exec plugin',
      { user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws', args: ['eks', 'get-token', TOKEN] } } },
      undefined,
      'user "u1" uses an exec/auth-provider plugin, which Shoal does not run: use a token or client certificate',
    ],
    [
      'an auth-provider plugin',
      { user: { 'auth-provider': { name: 'oidc', config: { 'id-token': TOKEN, 'refresh-token': KEY_DATA } } } },
      undefined,
      'user "u1" uses an exec/auth-provider plugin, which Shoal does not run: use a token or client certificate',
    ],
    [
      'client certificate files',
      { user: { 'client-certificate': '/home/me/.kube/me.crt', 'client-key': '/home/me/.kube/me.key' } },
      undefined,
      'user "u1" refers to certificate files: embed them as client-certificate-data/client-key-data',
    ],
    ['a token file', { user: { 'token-file': '/var/run/secrets/token' } }, undefined, 'user "u1" refers to a token file: embed the token'],
    ['a tokenFile', { user: { tokenFile: '/var/run/secrets/token' } }, undefined, 'user "u1" refers to a token file: embed the token'],
  ])('%s', (_what, options, context, problem) => {
    // Prepare
    const text = kubeconfig(options);
    // Act
    const { kubeConfig, problems } = inspectKubeconfig(text, context);
    // Assess
    expect(kubeConfig).toBeUndefined();
    expect(problems).toEqual([problem]);
    expectNoSecrets(problems);
  });

  it('does not read a token file from the control plane while inspecting', () => {
    // Prepare: a file that exists on every machine running the tests
    const text = kubeconfig({ user: { 'token-file': '/etc/hostname' } });
    // Act
    const { kubeConfig, problems } = inspectKubeconfig(text);
    // Assess: refused up front, not loaded (client-node would have read the file into the token)
    expect(kubeConfig).toBeUndefined();
    expect(problems).toEqual(['user "u1" refers to a token file: embed the token']);
  });

  it('lists several problems at once', () => {
    // Prepare
    const text = kubeconfig({ cluster: { server: 'ftp://x', 'certificate-authority': '/ca' }, user: { token: TOKEN, exec: { command: 'x' } } });
    // Act
    const { problems } = inspectKubeconfig(text);
    // Assess
    expect(problems).toHaveLength(3);
    expectNoSecrets(problems);
  });

  it.each([
    [`apiVersion: v1\nusers:\n- name: u1\n  user: {token: "${TOKEN}\n`, /^is not valid YAML \(.*line \d+, column \d+/],
    [`users: [\n token: ${TOKEN}`, /^is not valid YAML \(/],
    [`clusters:\n- cluster: {server: https://x}\nusers:\n- name: u\n  user: {token: ${TOKEN}}`, /^is not a valid kubeconfig: clusters\[0\]\.name is missing$/],
    [`users:\n- user: {token: ${TOKEN}, client-key-data: ${KEY_DATA}}`, /^is not a valid kubeconfig: users\[0\]\.name is missing$/],
    ['just a string', /^must be a kubeconfig document$/],
    ['', /^must be a kubeconfig document$/],
  ])('refuses malformed input %#, without echoing it', (text, problem) => {
    // Prepare: the text (table row)
    // Act
    const { kubeConfig, problems } = inspectKubeconfig(text);
    // Assess
    expect(kubeConfig).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
    expectNoSecrets(problems);
  });
});

describe('loadKubeconfig', () => {
  it('returns the config for a usable kubeconfig and throws the problems otherwise, without secrets', () => {
    // Prepare
    const usable = kubeconfig();
    const unusable = kubeconfig({ user: { token: TOKEN, exec: { command: 'x' } } });
    // Act
    const loaded = loadKubeconfig(usable, 'dev');
    let message = '';
    try {
      loadKubeconfig(unusable);
    } catch (error) {
      message = (error as Error).message;
    }
    // Assess
    expect(loaded.getCurrentUser()?.token).toBe(TOKEN);
    expect(message).toMatch(/^stored kubeconfig is unusable: user "u1" uses an exec\/auth-provider plugin/);
    expect(message).not.toContain(TOKEN);
  });
});

describe('kubeconfigText', () => {
  it('passes a string through and serialises an object to YAML that inspects the same', () => {
    // Prepare
    const object = { clusters: [{ name: 'c', cluster: { server: 'https://x' } }], contexts: [{ name: 'x', context: { cluster: 'c' } }], 'current-context': 'x' };
    // Act
    const text = kubeconfigText(object);
    // Assess
    expect(kubeconfigText('as: is')).toBe('as: is');
    expect(inspectKubeconfig(text).problems).toEqual([]);
  });
});
