import type { Logger } from '@aws-lambda-powertools/logger';
import type { ClusterShape, CloudSpec, InfrastructureProviderSpec } from '../resources/kinds.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { ResourceStore } from '../store/resource-store.ts';

/** What a provider may use besides its target: the store and secrets (a management cluster's kubeconfig), a logger, a clock. */
export interface ProviderContext {
  store: ResourceStore;
  secrets: SecretStore;
  logger: Logger;
  now: () => Date;
}

/**
 * One cluster as a provider sees it. `id` is stable for the life of the Shoal Cluster
 * (`<namespace>-<name>`, DNS-1123, ≤ 63 characters) and names the real cluster.
 */
export interface ProvisionTarget {
  id: string;
  namespace: string;
  name: string;
  shape: ClusterShape;
  cloud: { name: string; spec: CloudSpec };
  provider: { name: string; spec: InfrastructureProviderSpec };
}

/**
 * What a provider reports of a cluster. `absent`: it does not exist (never created, or
 * deletion finished). `failed`: the provider gave up; `message` says why in its words.
 */
export type ProviderPhase = 'absent' | 'provisioning' | 'ready' | 'updating' | 'deleting' | 'failed';

export interface ProviderObservation {
  phase: ProviderPhase;
  /** The provider's own words on where it stands (status reason, failure message). */
  message?: string;
  /** Worker nodes wanted and ready, as far as the provider knows. */
  nodes?: { desired: number; ready: number };
  /** The Kubernetes version the cluster runs (or is being upgraded to). */
  version?: string;
}

/**
 * How Shoal creates, follows, reshapes and removes real clusters. Every method is
 * idempotent and returns quickly: long operations are started, then followed through
 * `describe` on later reconciles. Throw for transient failures (retried with backoff);
 * throw `ProviderRejectedError` when the provider refused the request for good.
 */
export interface InfrastructureProvider {
  /** Starts creating the cluster; a no-op when it already exists. */
  create(target: ProvisionTarget): Promise<void>;
  describe(target: ProvisionTarget): Promise<ProviderObservation>;
  /** Moves the worker count (and machine type where supported) to `target.shape`. */
  scale(target: ProvisionTarget): Promise<void>;
  /** Moves the Kubernetes version to `target.shape.version`. */
  upgrade(target: ProvisionTarget): Promise<void>;
  /** Starts deleting the cluster; a no-op when it is already gone or going. */
  delete(target: ProvisionTarget): Promise<void>;
  /**
   * A kubeconfig with embedded credentials (client certificate or bearer token, never an
   * exec plugin) that Shoal stores as the Cluster's kubeconfig secret. `expiresAt` is set
   * when the credentials expire (EKS tokens): the controller refreshes them before then.
   */
  credentials(target: ProvisionTarget): Promise<{ kubeconfig: string; expiresAt?: Date }>;
}

/** The provider refused the request (bad role, quota, invalid version): retrying will not help. */
export class ProviderRejectedError extends Error {
  override name = 'ProviderRejectedError';
}
