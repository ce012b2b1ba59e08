import { createHash } from 'node:crypto';
import type { ClusterShape, InfrastructureStatus } from '../resources/kinds.ts';
import type { ProviderObservation } from './provider.ts';

export type InfrastructurePhase = InfrastructureStatus['phase'];

/** What the controller knows of a created Cluster before it asks the provider. */
export interface InfrastructureView {
  generation: number;
  shape: ClusterShape;
  /**
   * The registered credentials belong to the cluster the provider runs now: false before
   * the first registration, and again after the provider (re)created it (PROVISIONING).
   */
  registered: boolean;
  status: InfrastructureStatus | undefined;
  now: Date;
}

/** What to do next about a created cluster, given what the provider reports. */
export type InfrastructureStep =
  | { action: 'create' }
  | { action: 'wait'; phase: InfrastructurePhase; message?: string }
  | { action: 'register' }
  | { action: 'refresh-credentials' }
  | { action: 'scale'; message: string }
  | { action: 'upgrade'; message: string }
  | { action: 'online' }
  | { action: 'fail'; message: string };

/** Credentials are refreshed this long before they expire (EKS tokens live 15 min). */
export const CREDENTIALS_REFRESH_MARGIN_SECONDS = 180;
/** While an operation runs, the provider is asked again after 5 s, doubling to this. */
export const MAX_POLL_SECONDS = 60;
export const MIN_POLL_SECONDS = 5;

/** `1.31` is met by `v1.31.4`; a full version must match exactly. */
export function versionMatches(wanted: string, actual: string): boolean {
  const want = wanted.replace(/^v/, '').split('.');
  const have = actual.replace(/^v/, '').split('.');
  return want.every((part, index) => have[index] === part);
}

/**
 * Pure: the next step for a created cluster that is not being deleted. A provider that
 * reports `ready` is first asked for credentials, then brought to the shape (version
 * before workers), then the cluster is ONLINE once every wanted node is ready.
 */
export function nextInfrastructureStep(view: InfrastructureView, observation: ProviderObservation): InfrastructureStep {
  const phase = view.status?.phase;
  const { shape } = view;
  const operating = phase === 'PROVISIONING' || phase === 'SCALING' || phase === 'UPGRADING';
  switch (observation.phase) {
    case 'absent':
      return { action: 'create' };
    case 'failed':
      return { action: 'fail', message: observation.message ?? 'the provider reports that the cluster failed' };
    case 'provisioning':
    case 'updating':
    case 'deleting':
      // Something the provider does on its own after ONLINE (a node group repair) reads as SCALING.
      return { action: 'wait', phase: operating ? phase : phase === 'ONLINE' ? 'SCALING' : 'PROVISIONING', message: observation.message };
    case 'ready':
      break;
  }
  if (!view.registered) return { action: 'register' };
  if (shape.version && observation.version && !versionMatches(shape.version, observation.version)) {
    return { action: 'upgrade', message: `upgrading Kubernetes from ${observation.version} to ${shape.version}` };
  }
  const nodes = observation.nodes;
  if (nodes && nodes.desired !== shape.nodes) return { action: 'scale', message: `scaling workers from ${nodes.desired} to ${shape.nodes}` };
  // The provider does not report the machine type: a new generation that names one is applied once.
  const newGeneration = view.status?.observedGeneration !== undefined && view.status.observedGeneration < view.generation;
  if (phase === 'ONLINE' && newGeneration && shape.machineType) return { action: 'scale', message: `moving workers to machine type ${shape.machineType}` };
  // An operation ends when every wanted node is ready; after that, node health is the probe's business.
  if (operating && nodes && nodes.ready < nodes.desired) return { action: 'wait', phase, message: `${nodes.ready} of ${nodes.desired} nodes ready` };
  if (credentialsExpireWithin(view.status, view.now, CREDENTIALS_REFRESH_MARGIN_SECONDS)) return { action: 'refresh-credentials' };
  return { action: 'online' };
}

export function credentialsExpireWithin(status: InfrastructureStatus | undefined, now: Date, seconds: number): boolean {
  const expiresAt = status?.credentialsExpireAt;
  return expiresAt !== undefined && Date.parse(expiresAt) - now.getTime() <= seconds * 1000;
}

/** 5 s while the operation is young, doubling with its age, at most 60 s. */
export function pollDelaySeconds(operationStartedAt: string | undefined, now: Date): number {
  const elapsed = operationStartedAt ? Math.max(0, (now.getTime() - Date.parse(operationStartedAt)) / 1000) : 0;
  let delay = MIN_POLL_SECONDS;
  while (delay < MAX_POLL_SECONDS && elapsed >= delay * 2) delay *= 2;
  return Math.min(delay, MAX_POLL_SECONDS);
}

/**
 * The provider's id of a Shoal Cluster: `<namespace>-<name>`, cut to a DNS-1123 label of
 * 63 characters with a hash of the whole when longer, so that it stays unique.
 */
export function provisionId(namespace: string, name: string): string {
  const id = `${namespace}-${name}`;
  if (id.length <= 63) return id;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
  return `${id.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}
