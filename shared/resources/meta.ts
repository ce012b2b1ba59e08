import { z } from 'zod';

export const API_GROUP = 'shoal.io';
export const API_VERSION = 'v1alpha1';
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A DNS-1123 label: what Kubernetes requires of namespace and most object names. */
export const dnsLabel = z
  .string()
  .max(63, 'must be no more than 63 characters')
  .regex(DNS1123_LABEL, "must be a DNS-1123 label: lower-case alphanumerics or '-', starting and ending with an alphanumeric");

/** Why a label key is invalid, or undefined when it is valid (Kubernetes' qualified-name rules). */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return `label key "${key}": prefix must be a DNS-1123 subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `label key "${key}": name part must be 1-63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    return `label value "${value}": must be empty or 1-63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

export const labels = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  for (const [key, value] of Object.entries(map)) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [key] });
  }
});

export const ownerReference = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string().min(1, 'is required'),
  uid: z.string().min(1, 'is required'),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});

/**
 * Object metadata as clients send it. Server-owned fields (uid, resourceVersion,
 * generation, timestamps) are accepted so that a GET result can be PUT back, but the
 * server decides their values.
 */
export const objectMeta = z.object({
  name: dnsLabel,
  namespace: dnsLabel.optional(),
  uid: z.string().optional(),
  labels: labels.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string().min(1)).optional(),
  ownerReferences: z.array(ownerReference).optional(),
});

export type ObjectMeta = z.infer<typeof objectMeta>;

export const condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});

export type Condition = z.infer<typeof condition>;
