import type { z } from 'zod';
import { ShoalError, ValidationError, type FieldCause } from '../errors.ts';

/** The body of every error response: a Kubernetes `Status`. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  code: number;
  reason: string;
  message: string;
  details?: { name?: string; kind?: string; causes?: FieldCause[] };
}

export function statusFor(error: unknown): KubeStatus {
  if (error instanceof ShoalError) {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: error.code,
      reason: error.reason,
      message: error.message,
      ...(error instanceof ValidationError
        ? { details: { kind: error.target?.kind, name: error.target?.name, causes: error.causes } }
        : {}),
    };
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 500,
    reason: 'InternalError',
    message: 'internal error: the request was not completed; it is safe to retry',
  };
}

/** `spec.manifests[0].kind` from zod's path array. */
export function fieldPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out || '<root>';
}

/** zod 4 drops `issue.input` unless parsing with `reportInput`; its message still says what was received. */
function isMissing(issue: z.core.$ZodIssue): boolean {
  if (issue.code !== 'invalid_type') return false;
  return 'input' in issue ? issue.input === undefined : issue.message.endsWith('received undefined');
}

export function causesFrom(error: z.ZodError, prefix = ''): FieldCause[] {
  return error.issues.map((issue) => ({
    field: fieldPath(issue.path, prefix),
    message: isMissing(issue) && issue.code === 'invalid_type' ? `is required (${issue.expected})` : issue.message,
    reason: isMissing(issue) ? 'FieldValueRequired' : issue.code === 'invalid_value' ? 'FieldValueNotSupported' : 'FieldValueInvalid',
  }));
}

export function validationError(kind: string, name: string | undefined, causes: FieldCause[]): ValidationError {
  const summary = causes.map((cause) => `${cause.field}: ${cause.message}`).join('; ');
  return new ValidationError(`${kind} "${name ?? ''}" is invalid: ${summary}`, causes, { kind, name });
}
