import type { Logger } from '@aws-lambda-powertools/logger';
import type { ResourceKey } from '../resources/kinds.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { ResourceStore, StoredResource } from '../store/resource-store.ts';

/** What every reconciler is given: the store, the secrets, a logger and a clock. */
export interface ReconcileContext {
  store: ResourceStore;
  secrets: SecretStore;
  logger: Logger;
  now: () => Date;
}

export interface ReconcileResult {
  /** Run again after this delay even if nothing changes (a delay, never a boolean). */
  requeueAfterSeconds?: number;
}

/** A stream record as a reconciler may map it: which object, and its images before and after. */
export interface ResourceChange {
  key: ResourceKey;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  before?: StoredResource;
  after?: StoredResource;
}

/**
 * controller-runtime's contract: given only the key of what changed, read the object
 * and the world again, act on the difference, and be safe to run any number of times.
 * Throw for transient failures (the event is retried); record permanent failures in
 * status and return normally.
 */
export interface Reconciler {
  readonly name: string;
  reconcile(ctx: ReconcileContext, key: ResourceKey): Promise<ReconcileResult>;
  /**
   * Which objects a change should reconcile (controller-runtime's `EnqueueRequestForOwner`:
   * a dependent's change wakes its owners). Only the changed object when omitted.
   */
  keysFor?(change: ResourceChange): ResourceKey[];
}

/** A failure that retrying will not fix: the runtime logs it and does not retry. */
export class TerminalReconcileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalReconcileError';
  }
}
