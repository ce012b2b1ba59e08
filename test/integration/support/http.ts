import { inject } from 'vitest';

export const BASE = '/apis/shoal.io/v1alpha1';

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  body: any;
}

/** One request to the running local control plane. */
export async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<HttpResult> {
  const response = await fetch(inject('shoalServer') + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

export const collection = (namespace: string, plural: string) => `${BASE}/namespaces/${namespace}/${plural}`;
