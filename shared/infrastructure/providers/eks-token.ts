import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** EKS accepts a token for 15 minutes after it was signed; refresh a minute before. */
export const EKS_TOKEN_LIFETIME_MS = 14 * 60 * 1000;

/** The credentials the token speaks for: EKS maps their identity (role) to Kubernetes users. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface EksTokenRequest {
  /** The EKS cluster name: signed as `x-k8s-aws-id`, so the token is good for that cluster only. */
  cluster: string;
  region: string;
  credentials: () => Promise<AwsCredentials>;
  now: Date;
}

function stsHost(region: string): string {
  return `sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** RFC 3986, as SigV4 canonicalises the query. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * A bearer token for the EKS API server, made as `aws eks get-token` makes it: a presigned
 * STS GetCallerIdentity URL (query-string SigV4, valid 60 s, `x-k8s-aws-id` signed) that
 * the cluster's authenticator calls to learn who we are, as `k8s-aws-v1.<base64url>`.
 */
export async function eksToken({ cluster, region, credentials, now }: EksTokenRequest): Promise<string> {
  const hostname = stsHost(region);
  const signer = new SignatureV4({ service: 'sts', region, credentials, sha256: Hash.bind(null, 'sha256') });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': cluster },
    },
    { expiresIn: 60, signingDate: now },
  );
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).filter((item) => item != null).map((item) => `${escapeUri(key)}=${escapeUri(item)}`))
    .join('&');
  // Node's base64url leaves out the padding, as the authenticator expects.
  return `k8s-aws-v1.${Buffer.from(`https://${hostname}/?${query}`).toString('base64url')}`;
}
