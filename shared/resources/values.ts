import { isDeepStrictEqual } from 'node:util';

/**
 * Equal as stored: resources travel as JSON, which drops `undefined` members, so two
 * values that differ only there are the same object to every reader.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));
}

/** Kubernetes' timestamp form: RFC 3339 in UTC, whole seconds (`2026-11-21T13:15:57Z`). */
export function kubeTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
