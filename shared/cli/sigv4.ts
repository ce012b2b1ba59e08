import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { OutgoingRequest, RequestSigner, SignedRequest } from './client.ts';

/** AWS credentials as the SDK's providers resolve them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type CredentialsProvider = () => Promise<AwsCredentials>;

/** Signing was asked for (or implied by the server address) but cannot be done. Printed as `error: ...`. */
export class SigningError extends Error {
  constructor(message: string) {
    super(`cannot sign the request: ${message}`);
    this.name = 'SigningError';
  }
}

export const NO_CREDENTIALS = 'no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)';

/** `{api-id}.execute-api.{region}.amazonaws.com` (also private-API `{api-id}-{vpce-id}.execute-api...` and China's `.com.cn`). */
const EXECUTE_API_HOST = /^[a-z0-9-]+\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

/** The region of an API Gateway default endpoint, or undefined for any other address (custom domains included). */
export function executeApiRegion(server: string | URL): string | undefined {
  let host: string;
  try {
    host = (typeof server === 'string' ? new URL(server) : server).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  return EXECUTE_API_HOST.exec(host)?.[1];
}

/** `SHOAL_AWS_SIGV4`: true/false when set to a recognised value, undefined otherwise. */
function envSwitch(value: string | undefined): boolean | undefined {
  const text = value?.trim().toLowerCase();
  if (text === undefined || text === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  return undefined;
}

export interface SigV4Choice {
  server: string;
  /** `--aws-sigv4` was given. */
  flag?: boolean;
  /** `--aws-region`. */
  region?: string;
  /** Where SHOAL_AWS_SIGV4, AWS_REGION and AWS_DEFAULT_REGION are read. */
  env: NodeJS.ProcessEnv;
}

/**
 * Whether requests to `server` are signed and for which region; undefined when they are not.
 * Signing is on with `--aws-sigv4`, with SHOAL_AWS_SIGV4=1, or when the server is an
 * `*.execute-api.<region>.amazonaws.com` address (SHOAL_AWS_SIGV4=0 turns that off). The region
 * comes from such a host, else from `--aws-region`, AWS_REGION, AWS_DEFAULT_REGION.
 */
export function sigv4Region({ server, flag, region, env }: SigV4Choice): string | undefined {
  const hostRegion = executeApiRegion(server);
  const enabled = flag === true || (envSwitch(env.SHOAL_AWS_SIGV4) ?? hostRegion !== undefined);
  if (!enabled) return undefined;
  const chosen = hostRegion ?? [region, env.AWS_REGION, env.AWS_DEFAULT_REGION].map((value) => value?.trim()).find((value) => value);
  if (!chosen) throw new SigningError(`no AWS region for ${server} (set --aws-region or AWS_REGION)`);
  return chosen;
}

/** RFC 3986 encoding, the one SigV4's canonical query uses: sent as is, the query needs no re-interpretation. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Any failure of the credential chain becomes one line; "nothing configured" gets the hint. */
function credentialsFailure(error: unknown): SigningError {
  const message = error instanceof Error ? error.message : String(error);
  if (/could not load credentials from any providers/i.test(message) || message.trim() === '') return new SigningError(NO_CREDENTIALS);
  return new SigningError(`cannot load AWS credentials: ${message.split('\n')[0]}`);
}

export interface SigV4SignerOptions {
  region: string;
  /** Defaults to the SDK's Node chain: env vars, AWS_PROFILE / shared files, SSO, web identity, container, IMDS. */
  credentials?: CredentialsProvider;
  service?: string;
  /** Fixed signing time, for tests. */
  now?: () => Date;
}

/**
 * A request signer for `ShoalClient`, built from the AWS SDK's SignatureV4. The request it
 * returns is the one to send: its query re-serialised with RFC 3986 encoding (so `+` never
 * stands for a space), `host`, `x-amz-date`, `x-amz-content-sha256`, the session token when
 * there is one, and `authorization` added.
 */
export function createSigV4Signer({ region, credentials, service = 'execute-api', now = () => new Date() }: SigV4SignerOptions): RequestSigner {
  let chain = credentials;
  const provider: CredentialsProvider = async () => {
    chain ??= fromNodeProviderChain();
    let resolved: AwsCredentials | undefined;
    try {
      resolved = await chain();
    } catch (error) {
      throw credentialsFailure(error);
    }
    if (!resolved?.accessKeyId || !resolved.secretAccessKey) throw new SigningError(NO_CREDENTIALS);
    return resolved;
  };
  const signer = new SignatureV4({ service, region, credentials: provider, sha256: Hash.bind(null, 'sha256') });

  return async (request: OutgoingRequest): Promise<SignedRequest> => {
    const url = new URL(request.url);
    const pairs = [...url.searchParams];
    url.search = pairs.map(([key, value]) => `${escapeUri(key)}=${escapeUri(value)}`).join('&');
    url.hash = '';
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of pairs) {
      const previous = query[key];
      query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    headers.host = url.host;

    const signed = await signer.sign(
      {
        method: request.method.toUpperCase(),
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query,
        headers,
        body: request.body,
      },
      { signingDate: now() },
    );
    const sent: Record<string, string> = {};
    // fetch sets Host itself from the URL, to the same value that was signed.
    for (const [name, value] of Object.entries(signed.headers)) if (name !== 'host') sent[name] = value;
    return { url, headers: sent };
  };
}
