import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, requestUrl, ShoalClient } from '../../shared/cli/client.ts';
import { formatError } from '../../shared/cli/errors.ts';
import { runShoal, type CliIO } from '../../shared/cli/program.ts';
import { createSigV4Signer, executeApiRegion, NO_CREDENTIALS, SigningError, sigv4Region, type AwsCredentials } from '../../shared/cli/sigv4.ts';

// A local HTTP peer that records each request as received, raw path and body included, so the
// signature can be checked the way API Gateway checks it: recomputed over what arrived.
interface Captured {
  method: string;
  rawUrl: string;
  headers: Record<string, string>;
  body: string;
}

let server: Server | undefined;
const captured: Captured[] = [];

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  captured.length = 0;
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      captured.push({
        method: request.method ?? '',
        rawUrl: request.url ?? '',
        headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      handler(request, response);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  vi.unstubAllEnvs();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const json = (response: ServerResponse, code: number, body: unknown) => response.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const ok = (_request: IncomingMessage, response: ServerResponse) =>
  json(response, 200, { apiVersion: 'shoal.io/v1alpha1', kind: 'ApplicationList', metadata: {}, items: [] });

const CREDENTIALS: AwsCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/execute-api\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

function io(env: NodeJS.ProcessEnv = {}): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (text) => void out.push(text), stderr: (text) => void err.push(text), readStdin: async () => '', env };
}

/** The SDK's Node chain with nothing to find: no env keys, no profile files, no container or instance metadata. */
function emptyCredentialChain() {
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE']) vi.stubEnv(name, undefined);
  for (const name of ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) vi.stubEnv(name, undefined);
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/shoal-test/credentials');
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/shoal-test/config');
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
}

/**
 * Recomputes the signature of a received request with the SDK's SignatureV4: raw path, query
 * decoded without reading `+` as a space (as AWS does), the signed headers as they arrived and
 * the body as it arrived (x-amz-content-sha256 is dropped so that it is recomputed from the body).
 */
async function verify(request: Captured, credentials: AwsCredentials): Promise<{ region: string; signedHeaders: string[] }> {
  const match = AUTHORIZATION.exec(request.headers.authorization ?? '');
  if (!match) throw new Error(`unexpected authorization header: ${request.headers.authorization}`);
  const [, , , region = '', signedHeaderList = ''] = match;
  const signedHeaders = signedHeaderList.split(';');
  const amzDate = request.headers['x-amz-date'] ?? '';
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));

  const queryAt = request.rawUrl.indexOf('?');
  const path = queryAt < 0 ? request.rawUrl : request.rawUrl.slice(0, queryAt);
  const query: Record<string, string | string[]> = {};
  for (const pair of queryAt < 0 ? [] : request.rawUrl.slice(queryAt + 1).split('&')) {
    const [key = '', value = ''] = pair.split('=').map(decodeURIComponent);
    const previous = query[key];
    query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    if (name !== 'x-amz-date' && name !== 'x-amz-content-sha256') headers[name] = request.headers[name] ?? '';
  }
  const [hostname = '', port] = (request.headers.host ?? '').split(':');
  const resigned = await new SignatureV4({ service: 'execute-api', region, credentials, sha256: Hash.bind(null, 'sha256') }).sign(
    { method: request.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined, path, query, headers, body: request.body || undefined },
    { signingDate },
  );
  expect(resigned.headers.authorization).toBe(request.headers.authorization);
  return { region, signedHeaders };
}

describe('executeApiRegion', () => {
  it.each([
    ['https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1', 'eu-west-1'],
    ['https://ABC123DEFG.execute-api.us-east-1.amazonaws.com', 'us-east-1'],
    ['https://abc123defg.execute-api.us-gov-west-1.amazonaws.com/v1/', 'us-gov-west-1'],
    ['https://abc123defg-vpce-0123456789abcdef0.execute-api.ap-southeast-2.amazonaws.com/v1', 'ap-southeast-2'],
    ['https://abc123defg.execute-api.cn-north-1.amazonaws.com.cn/v1', 'cn-north-1'],
  ])('reads the region of API Gateway endpoint %s', (server, region) => {
    expect(executeApiRegion(server)).toBe(region);
  });

  it.each([
    'http://127.0.0.1:8080',
    'https://shoal.example.com/v1',
    'https://abc.execute-api.eu-west-1.amazonaws.com.evil.example/v1',
    'https://abc.lambda-url.eu-west-1.on.aws',
    'not a url',
  ])('finds no region in %s', (server) => {
    expect(executeApiRegion(server)).toBeUndefined();
  });
});

describe('sigv4Region', () => {
  const gateway = 'https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1';

  it('signs execute-api hosts on its own, for the host region over any configured one', () => {
    expect(sigv4Region({ server: gateway, env: {} })).toBe('eu-west-1');
    expect(sigv4Region({ server: gateway, region: 'us-east-1', env: { AWS_REGION: 'us-east-2' } })).toBe('eu-west-1');
  });

  it('leaves other servers unsigned unless asked, then takes --aws-region, AWS_REGION, AWS_DEFAULT_REGION in turn', () => {
    const server = 'https://shoal.example.com';
    expect(sigv4Region({ server, env: { AWS_REGION: 'eu-west-1' } })).toBeUndefined();
    expect(sigv4Region({ server, flag: true, region: 'eu-central-1', env: { AWS_REGION: 'eu-west-1' } })).toBe('eu-central-1');
    expect(sigv4Region({ server, flag: true, env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' } })).toBe('eu-west-1');
    expect(sigv4Region({ server, env: { SHOAL_AWS_SIGV4: '1', AWS_DEFAULT_REGION: 'us-east-1' } })).toBe('us-east-1');
  });

  it('can be turned off for execute-api hosts with SHOAL_AWS_SIGV4=0, but not against --aws-sigv4', () => {
    expect(sigv4Region({ server: gateway, env: { SHOAL_AWS_SIGV4: '0' } })).toBeUndefined();
    expect(sigv4Region({ server: gateway, flag: true, env: { SHOAL_AWS_SIGV4: '0' } })).toBe('eu-west-1');
  });

  it('refuses to sign without a region', () => {
    const attempt = () => sigv4Region({ server: 'https://shoal.example.com', flag: true, env: {} });
    expect(attempt).toThrow(SigningError);
    expect(attempt).toThrow('cannot sign the request: no AWS region for https://shoal.example.com (set --aws-region or AWS_REGION)');
  });
});

describe('requestUrl', () => {
  it('keeps the stage prefix of an API Gateway URL, with or without a trailing slash', () => {
    for (const server of ['https://abc.execute-api.eu-west-1.amazonaws.com/v1', 'https://abc.execute-api.eu-west-1.amazonaws.com/v1/']) {
      expect(requestUrl(server, '/apis/shoal.io/v1alpha1/clusters?limit=500').href).toBe(
        'https://abc.execute-api.eu-west-1.amazonaws.com/v1/apis/shoal.io/v1alpha1/clusters?limit=500',
      );
    }
  });

  it('joins a bare host as before', () => {
    expect(requestUrl('http://127.0.0.1:8080', '/healthz').href).toBe('http://127.0.0.1:8080/healthz');
    expect(requestUrl('http://127.0.0.1:8080/', '/healthz').href).toBe('http://127.0.0.1:8080/healthz');
  });

  it('sends requests under the stage prefix', async () => {
    const url = await serve(ok);
    await new ShoalClient(`${url}/v1`).listAll('Application', { namespace: 'team-a' });
    expect(captured.map((request) => request.rawUrl)).toEqual(['/v1/apis/shoal.io/v1alpha1/namespaces/team-a/applications?limit=500']);
  });
});

describe('SigV4 signing', () => {
  it('signs a GET under a stage prefix: scope, signed headers and a signature that verifies', async () => {
    // Prepare
    const url = await serve(ok);
    const client = new ShoalClient(`${url}/v1`, { signer: createSigV4Signer({ region: 'eu-west-1', credentials: async () => CREDENTIALS }) });

    // Act
    await client.list('Application', { namespace: 'team-a', labelSelector: 'tier in (eu, us),!legacy', limit: 2 });

    // Assess
    const [request] = captured;
    if (!request) throw new Error('no request arrived');
    const date = (request.headers['x-amz-date'] ?? '').slice(0, 8);
    expect(request.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${date}/eu-west-1/execute-api/aws4_request, `));
    expect(request.rawUrl).toBe('/v1/apis/shoal.io/v1alpha1/namespaces/team-a/applications?labelSelector=tier%20in%20%28eu%2C%20us%29%2C%21legacy&limit=2');
    const { signedHeaders } = await verify(request, CREDENTIALS);
    expect(signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'x-amz-content-sha256', 'accept']));
    expect(request.headers['x-amz-content-sha256']).toBe(createHash('sha256').update('').digest('hex'));
  });

  it('signs the body it sends, and the session token of temporary credentials', async () => {
    const url = await serve((_request, response) => json(response, 201, { metadata: { name: 'web' } }));
    const temporary = { ...CREDENTIALS, sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' };
    const client = new ShoalClient(url, { signer: createSigV4Signer({ region: 'us-east-1', credentials: async () => temporary }) });
    const manifest = { apiVersion: 'shoal.io/v1alpha1', kind: 'Application', metadata: { name: 'web', labels: { note: 'ünïcödé' } } };

    await client.create('Application', 'default', manifest);

    const [request] = captured;
    if (!request) throw new Error('no request arrived');
    expect(request.body).toBe(JSON.stringify(manifest));
    expect(request.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(request.body).digest('hex'));
    expect(request.headers['x-amz-security-token']).toBe(temporary.sessionToken);
    const { region, signedHeaders } = await verify(request, temporary);
    expect(region).toBe('us-east-1');
    expect(signedHeaders).toEqual(expect.arrayContaining(['content-type', 'host', 'x-amz-date', 'x-amz-security-token']));
    // The check is not vacuous: another body, path or key does not verify.
    await expect(verify({ ...request, body: request.body.replace('"web"', '"wab"') }, temporary)).rejects.toThrow();
    await expect(verify({ ...request, rawUrl: request.rawUrl.replace('/default/', '/other/') }, temporary)).rejects.toThrow();
    await expect(verify(request, { ...temporary, secretAccessKey: 'other' })).rejects.toThrow();
  });

  it('is switched on by --aws-sigv4 and takes credentials from the environment', async () => {
    // Prepare
    const url = await serve(ok);
    vi.stubEnv('AWS_ACCESS_KEY_ID', CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);
    const cli = io({ SHOAL_SERVER: url, AWS_REGION: 'eu-central-1' });

    // Act
    const code = await runShoal(['--aws-sigv4', 'get', 'apps'], cli);

    // Assess
    expect(code).toBe(0);
    const [request] = captured;
    if (!request) throw new Error('no request arrived');
    expect((await verify(request, CREDENTIALS)).region).toBe('eu-central-1');
  });

  it('does not sign a local server by default', async () => {
    const url = await serve(ok);
    expect(await runShoal(['--server', url, 'get', 'apps'], io())).toBe(0);
    expect(captured[0]?.headers.authorization).toBeUndefined();
  });

  it('stops with one line when no credentials can be found', async () => {
    // Prepare
    const url = await serve(ok);
    emptyCredentialChain();
    const cli = io({ SHOAL_SERVER: url, SHOAL_AWS_SIGV4: '1', AWS_REGION: 'eu-west-1' });

    // Act
    const code = await runShoal(['get', 'apps'], cli);

    // Assess
    expect(code).toBe(1);
    expect(cli.err.join('')).toBe(`error: cannot sign the request: ${NO_CREDENTIALS}\n`);
    expect(NO_CREDENTIALS).toBe('no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)');
    expect(captured).toEqual([]);
  });

  it('says once, not per document, that apply cannot sign', async () => {
    const url = await serve(ok);
    emptyCredentialChain();
    const cli = io({ SHOAL_SERVER: url, SHOAL_AWS_SIGV4: '1', AWS_REGION: 'eu-west-1' });
    const documents = ['a', 'b'].map((name) => `apiVersion: shoal.io/v1alpha1\nkind: Application\nmetadata:\n  name: ${name}\n`).join('---\n');
    cli.readStdin = async () => documents;

    expect(await runShoal(['apply', '-f', '-'], cli)).toBe(1);
    expect(cli.err.join('')).toBe(`error: cannot sign the request: ${NO_CREDENTIALS}\n`);
    expect(captured).toEqual([]);
  });

  it('maps the SDK chain\'s "Could not load credentials" to the same line', async () => {
    const signer = createSigV4Signer({
      region: 'eu-west-1',
      credentials: () => Promise.reject(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })),
    });
    const error = await new ShoalClient('http://127.0.0.1:1', { signer }).health().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SigningError);
    expect(formatError(error)).toBe(`error: cannot sign the request: ${NO_CREDENTIALS}`);
  });

  it('passes on a credential provider failure that is not a missing configuration', async () => {
    const signer = createSigV4Signer({ region: 'eu-west-1', credentials: () => Promise.reject(new Error('The SSO session associated with this profile has expired')) });
    const error = await new ShoalClient('http://127.0.0.1:1', { signer }).health().catch((caught: unknown) => caught);
    expect(formatError(error)).toBe('error: cannot sign the request: cannot load AWS credentials: The SSO session associated with this profile has expired');
  });
});

describe('API Gateway error bodies', () => {
  it('prints a 403 {"message"} as Error from server (Forbidden)', async () => {
    const message = 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:eu-west-1:********0123:abc/v1/GET/apis';
    const url = await serve((_request, response) => json(response, 403, { message }));
    const cli = io({ SHOAL_SERVER: url });

    const code = await runShoal(['get', 'clusters'], cli);

    expect(code).toBe(1);
    expect(cli.err.join('')).toBe(`Error from server (Forbidden): ${message}\n`);
  });

  it.each([
    [403, { Message: 'User: anonymous is not authorized to perform: execute-api:Invoke' }, 'Forbidden', 'User: anonymous is not authorized to perform: execute-api:Invoke'],
    [403, { message: 'Signature expired: 20261121T120000Z is now earlier than 20261121T120500Z' }, 'Forbidden', 'Signature expired: 20261121T120000Z is now earlier than 20261121T120500Z'],
    [429, { message: 'Too Many Requests' }, 'TooManyRequests', 'Too Many Requests'],
    [502, { message: 'Internal server error' }, 'Unknown', 'Internal server error'],
    [504, { message: 'Endpoint request timed out' }, 'Timeout', 'Endpoint request timed out'],
  ])('turns a %i gateway body into a Status', async (code, body, reason, message) => {
    const url = await serve((_request, response) => json(response, code, body));
    const error = await new ShoalClient(url).get('Application', 'default', 'web').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toMatchObject({ code, reason, message });
    expect(formatError(error)).toBe(`Error from server (${reason}): ${message}`);
  });

  it('hints at signing when an unsigned request gets Missing Authentication Token', async () => {
    const url = await serve((_request, response) => json(response, 403, { message: 'Missing Authentication Token' }));
    const unsigned = (await new ShoalClient(url).health().catch((caught: unknown) => caught)) as ApiError;
    expect(unsigned.message).toBe('Missing Authentication Token (an API with IAM authorization needs signed requests: pass --aws-sigv4 or set SHOAL_AWS_SIGV4=1)');

    const signer = createSigV4Signer({ region: 'eu-west-1', credentials: async () => CREDENTIALS });
    const signed = (await new ShoalClient(url, { signer }).health().catch((caught: unknown) => caught)) as ApiError;
    expect(signed.message).toBe('Missing Authentication Token');
  });
});
