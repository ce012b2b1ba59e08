import { randomUUID } from 'node:crypto';
import { KUBECONFIG_FINALIZER } from '../api/resource-service.ts';
import { placeCluster, type CloudConstraints, type CloudFacts } from '../infrastructure/cloud-placement.ts';
import {
  CREDENTIALS_REFRESH_MARGIN_SECONDS,
  MIN_POLL_SECONDS,
  nextInfrastructureStep,
  pollDelaySeconds,
  provisionId,
  type InfrastructurePhase,
  type InfrastructureStep,
} from '../infrastructure/lifecycle.ts';
import { ProviderRejectedError, type InfrastructureProvider, type ProviderContext, type ProviderObservation, type ProvisionTarget } from '../infrastructure/provider.ts';
import { ClusterMetricsReader } from '../metrics/cluster-metrics.ts';
import { parseMetricConstraint } from '../resources/metric-constraint.ts';
import {
  cloudSpec,
  clusterShape,
  clusterSpec,
  infrastructureProviderSpec,
  type ClusterStatus,
  type InfrastructureProviderSpec,
  type InfrastructureStatus,
  type ResourceKey,
} from '../resources/kinds.ts';
import { DRAIN_FINALIZER, hasFinalizer, withFinalizer, withoutFinalizer } from '../resources/deletion.ts';
import { kubeTimestamp, sameJson } from '../resources/values.ts';
import { keyOf, type StoredResource } from '../store/resource-store.ts';
import { TerminalReconcileError, type ReconcileContext, type ReconcileResult, type Reconciler } from './contract.ts';

/** Held while Shoal may still own a real cluster for this object. */
export const INFRASTRUCTURE_FINALIZER = 'shoal.io/infrastructure';

/** How long a deleting cluster waits for its applications before looking again (their moves also wake it). */
const DRAIN_RECHECK_SECONDS = 30;
/** A deletion the provider refused, or whose Cloud is gone, is tried again this often: the real cluster must not be forgotten. */
const DELETE_RETRY_SECONDS = 60;
/** A cluster the provider reports failed is looked at (and create asked to recover it) this often. */
const FAILED_RECOVERY_SECONDS = 60;
/** `lastPollTime` alone is written at most this often while an operation runs, and while idle. */
const POLL_TIME_RESOLUTION_SECONDS = { operating: 30, idle: 300 };

export type ProviderFactory = (spec: InfrastructureProviderSpec, context: ProviderContext) => InfrastructureProvider;

type ClusterSpecView = { kubeconfigSecret?: string } & Record<string, unknown>;

const statusOf = (cluster: StoredResource) => (cluster.status ?? {}) as ClusterStatus;

/**
 * Writes the infrastructure part of the status (and, before the cluster was ever up, its
 * `state`) when it changed. `lastPollTime` alone does not make a write until it is older
 * than its resolution: every write is a stream event for three reconcilers.
 */
async function writeInfrastructure(
  ctx: ReconcileContext,
  cluster: StoredResource,
  infrastructure: InfrastructureStatus,
  state?: Pick<ClusterStatus, 'state' | 'reason'>,
): Promise<StoredResource> {
  const previous = statusOf(cluster);
  const now = ctx.now();
  const next: ClusterStatus = { ...previous, ...(state ?? {}), infrastructure: { ...infrastructure, lastPollTime: kubeTimestamp(now) } };
  const withoutPollTime = (status: ClusterStatus) => ({ ...status, infrastructure: { ...status.infrastructure, lastPollTime: undefined } });
  const lastPoll = previous.infrastructure?.lastPollTime;
  const resolution = ['PROVISIONING', 'SCALING', 'UPGRADING', 'DELETING'].includes(infrastructure.phase) ? POLL_TIME_RESOLUTION_SECONDS.operating : POLL_TIME_RESOLUTION_SECONDS.idle;
  const pollFresh = lastPoll !== undefined && now.getTime() - Date.parse(lastPoll) < resolution * 1000;
  if (sameJson(withoutPollTime(next), withoutPollTime(previous)) && pollFresh) return cluster;
  if (previous.infrastructure?.phase !== infrastructure.phase || previous.infrastructure.message !== infrastructure.message) {
    ctx.logger.info('infrastructure phase', { key: keyOf(cluster), phase: infrastructure.phase, message: infrastructure.message });
  }
  return ctx.store.updateStatus(keyOf(cluster), next, cluster.metadata.resourceVersion);
}

async function setFinalizer(ctx: ReconcileContext, cluster: StoredResource, present: boolean): Promise<StoredResource | undefined> {
  const outcome = await ctx.store.update(present ? withFinalizer(cluster, INFRASTRUCTURE_FINALIZER) : withoutFinalizer(cluster, INFRASTRUCTURE_FINALIZER));
  return outcome.removed ? undefined : outcome.resource;
}

/** The Clouds of the namespace as placement sees them: labels, metric readings, room. */
async function observeClouds(ctx: ReconcileContext, cluster: StoredResource, constraints: CloudConstraints): Promise<CloudFacts[]> {
  const namespace = cluster.metadata.namespace;
  const [{ items: clouds }, { items: clusters }] = await Promise.all([
    ctx.store.list({ kind: 'Cloud', namespace }),
    ctx.store.list({ kind: 'Cluster', namespace }),
  ]);
  const metrics = new ClusterMetricsReader(ctx.store, namespace);
  // Validated at admission: every constraint parses.
  const constrained = constraints.metrics.map((text) => parseMetricConstraint(text).metric);
  return Promise.all(
    clouds.map(async (cloud): Promise<CloudFacts> => {
      const name = cloud.metadata.name;
      const spec = cloudSpec.safeParse(cloud.spec);
      if (!spec.success) return { name, labels: cloud.metadata.labels ?? {}, weights: [], metrics: {}, full: `invalid spec: ${spec.error.issues[0]?.message}` };
      const weights = spec.data.metrics;
      const names = [...new Set([...weights.map((metric) => metric.name), ...constrained])];
      let full: string | undefined;
      if (spec.data.type === 'local') {
        const held = clusters.filter((other) => other.metadata.name !== cluster.metadata.name && statusOf(other).infrastructure?.cloud === name).length;
        if (held >= spec.data.local.maxClusters) full = `full: holds ${held} of ${spec.data.local.maxClusters} clusters`;
      }
      return { name, labels: cloud.metadata.labels ?? {}, weights, metrics: await metrics.read(name, names), full };
    }),
  );
}

/** A Cloud's type says which provider types can create clusters on it. */
const PROVIDERS_OF_CLOUD: Record<string, InfrastructureProviderSpec['type']> = { local: 'local', aws: 'eks', 'cluster-api': 'cluster-api' };

/** The Cloud and InfrastructureProvider a cluster lives on; a string says what is missing. */
async function resolveTarget(
  ctx: ReconcileContext,
  cluster: StoredResource,
  cloudName: string,
  providerFor: ProviderFactory,
  providerName?: string,
): Promise<{ target: ProvisionTarget; provider: InfrastructureProvider } | string> {
  const namespace = cluster.metadata.namespace;
  const cloud = await ctx.store.get({ kind: 'Cloud', namespace, name: cloudName });
  if (!cloud) return `Cloud "${cloudName}" not found in namespace ${namespace}: create it`;
  const cloudParsed = cloudSpec.safeParse(cloud.spec);
  if (!cloudParsed.success) return `Cloud "${cloudName}" is invalid: ${cloudParsed.error.issues[0]?.message}`;
  const name = providerName ?? cloudParsed.data.infrastructureProvider;
  const providerObject = await ctx.store.get({ kind: 'InfrastructureProvider', namespace, name });
  if (!providerObject) return `InfrastructureProvider "${name}" (of Cloud "${cloudName}") not found in namespace ${namespace}: create it`;
  const providerParsed = infrastructureProviderSpec.safeParse(providerObject.spec);
  if (!providerParsed.success) return `InfrastructureProvider "${name}" is invalid: ${providerParsed.error.issues[0]?.message}`;
  const wanted = PROVIDERS_OF_CLOUD[cloudParsed.data.type];
  if (providerParsed.data.type !== wanted) {
    return `Cloud "${cloudName}" (type ${cloudParsed.data.type}) needs an InfrastructureProvider of type ${wanted}, but "${name}" is of type ${providerParsed.data.type}`;
  }
  let provider: InfrastructureProvider;
  try {
    provider = providerFor(providerParsed.data, ctx);
  } catch (error) {
    return `InfrastructureProvider "${name}" cannot be used: ${(error as Error).message}`;
  }
  const spec = clusterSpec.safeParse(cluster.spec);
  const shape = (spec.success ? spec.data.infrastructure?.shape : undefined) ?? clusterShape.parse({});
  return {
    target: {
      id: provisionId(namespace, cluster.metadata.name),
      namespace,
      name: cluster.metadata.name,
      shape,
      cloud: { name: cloudName, spec: cloudParsed.data },
      provider: { name, spec: providerParsed.data },
    },
    provider,
  };
}

/** Stores fresh credentials under a new secret id, points the Cluster at it, then drops the old secret (as the API does). */
async function registerCredentials(ctx: ReconcileContext, cluster: StoredResource, provider: InfrastructureProvider, target: ProvisionTarget) {
  const { kubeconfig, expiresAt } = await provider.credentials(target);
  const spec = cluster.spec as ClusterSpecView;
  const secret = `clusters/${cluster.metadata.namespace}/${cluster.metadata.name}/${randomUUID()}`;
  await ctx.secrets.put(secret, kubeconfig);
  let outcome;
  try {
    outcome = await ctx.store.update({ ...withFinalizer(cluster, KUBECONFIG_FINALIZER), spec: { ...spec, kubeconfigSecret: secret } });
  } catch (error) {
    await ctx.secrets.delete(secret);
    throw error;
  }
  if (spec.kubeconfigSecret) await ctx.secrets.delete(spec.kubeconfigSecret);
  ctx.logger.info('registered credentials of created cluster', { key: keyOf(cluster), expiresAt });
  if (outcome.removed) return undefined;
  return { cluster: outcome.resource, expiresAt: expiresAt ? kubeTimestamp(expiresAt) : undefined };
}

function observed(observation: ProviderObservation): Pick<InfrastructureStatus, 'nodes' | 'version'> {
  return { nodes: observation.nodes, version: observation.version };
}

/** Brings a created cluster one step closer to its spec; returns when to look again. */
async function converge(ctx: ReconcileContext, cluster: StoredResource, providerFor: ProviderFactory): Promise<ReconcileResult> {
  // A registered cluster is none of this reconciler's business, whatever else its spec holds.
  if (!(cluster.spec as { infrastructure?: unknown }).infrastructure) return {};
  const spec = clusterSpec.safeParse(cluster.spec);
  if (!spec.success) throw new TerminalReconcileError(`Cluster "${cluster.metadata.namespace}/${cluster.metadata.name}" has an invalid spec: ${spec.error.message}`);
  const infrastructure = spec.data.infrastructure;
  if (!infrastructure) return {};
  if (!hasFinalizer(cluster, INFRASTRUCTURE_FINALIZER)) {
    const updated = await setFinalizer(ctx, cluster, true);
    if (!updated) return {};
    cluster = updated;
  }
  const current = statusOf(cluster).infrastructure;
  const generation = cluster.metadata.generation;
  if (current?.phase === 'FAILED' && current.observedGeneration === generation) return {};
  // While an operation runs, the events of our own status writes (and the probe's) do not
  // each ask the provider again: the requeue comes after MIN_POLL_SECONDS. A spec change
  // waits at most that long.
  const operating = current?.phase === 'PROVISIONING' || current?.phase === 'SCALING' || current?.phase === 'UPGRADING';
  const sinceWrite = current?.lastPollTime ? (ctx.now().getTime() - Date.parse(current.lastPollTime)) / 1000 : Infinity;
  if (operating && current.cloud && sinceWrite < MIN_POLL_SECONDS) return { requeueAfterSeconds: Math.ceil(MIN_POLL_SECONDS - sinceWrite) };
  const beforeUp = () => !(cluster.spec as ClusterSpecView).kubeconfigSecret;
  const pending = async (message: string) => {
    // What is known of an earlier placement stays: the cluster never moves, and may exist.
    await writeInfrastructure(ctx, cluster, { ...current, phase: 'PENDING', message }, beforeUp() ? { state: 'PENDING', reason: message } : undefined);
    return {};
  };

  let cloudName = current?.cloud ?? infrastructure.cloud;
  if (!cloudName) {
    const placement = placeCluster(infrastructure.constraints, await observeClouds(ctx, cluster, infrastructure.constraints));
    if (placement.cloud === undefined) return pending(placement.message);
    cloudName = placement.cloud;
  }
  const resolved = await resolveTarget(ctx, cluster, cloudName, providerFor, current?.provider);
  if (typeof resolved === 'string') return pending(resolved);
  const { target, provider } = resolved;
  const now = ctx.now();
  if (!current?.cloud) {
    // Recorded before anything exists on the cloud: from here on the cluster never moves.
    const message = `creating on Cloud "${cloudName}" with InfrastructureProvider "${target.provider.name}"`;
    cluster = await writeInfrastructure(
      ctx,
      cluster,
      { phase: 'PROVISIONING', message, cloud: cloudName, provider: target.provider.name, providerId: target.id, operationStartedAt: kubeTimestamp(now) },
      { state: 'PROVISIONING', reason: message },
    );
  }
  let credentialsExpireAt = current?.credentialsExpireAt;
  const base = (): InfrastructureStatus => {
    const status = statusOf(cluster).infrastructure;
    return { phase: status?.phase ?? 'PROVISIONING', cloud: cloudName, provider: target.provider.name, providerId: target.id, credentialsExpireAt };
  };
  /** The operation's start: kept while the phase stays, reset when it changes. */
  const startedAt = (phase: InfrastructurePhase) => {
    const status = statusOf(cluster).infrastructure;
    return status?.phase === phase && status.operationStartedAt ? status.operationStartedAt : kubeTimestamp(now);
  };
  const operate = async (phase: InfrastructurePhase, observation: ProviderObservation, message: string | undefined): Promise<ReconcileResult> => {
    const operationStartedAt = startedAt(phase);
    cluster = await writeInfrastructure(
      ctx,
      cluster,
      { ...base(), phase, message, ...observed(observation), operationStartedAt },
      beforeUp() ? { state: 'PROVISIONING', reason: message } : undefined,
    );
    return { requeueAfterSeconds: pollDelaySeconds(operationStartedAt, now) };
  };

  try {
    const observation = await provider.describe(target);
    let registeredNow = false;
    for (;;) {
      const status = statusOf(cluster).infrastructure;
      let step: InfrastructureStep = nextInfrastructureStep(
        {
          generation: cluster.metadata.generation,
          shape: target.shape,
          // A cluster the provider (re)created has new credentials (local clusters: new certificates and port).
          registered: !beforeUp() && (status?.phase !== 'PROVISIONING' || registeredNow),
          status: status && { ...status, credentialsExpireAt },
          now,
        },
        observation,
      );
      // Credentials that expire within the margin as issued are not fetched again and again.
      if (step.action === 'refresh-credentials' && registeredNow) step = { action: 'online' };
      switch (step.action) {
        case 'create':
          await provider.create(target);
          return operate(
            'PROVISIONING',
            observation,
            status?.phase === 'PROVISIONING' ? (observation.message ?? status.message) : 'the cluster is gone at the provider: creating it again',
          );
        case 'wait':
          return operate(step.phase, observation, step.message);
        // The phase is recorded before the provider is asked: a status write that loses a race
        // is retried before anything happened, instead of after the operation went unreported.
        case 'scale': {
          const next = await operate('SCALING', observation, step.message);
          await provider.scale(target);
          return next;
        }
        case 'upgrade': {
          const next = await operate('UPGRADING', observation, step.message);
          await provider.upgrade(target);
          return next;
        }
        case 'fail': {
          // Reported by the provider, not a refusal: kept retryable (no observedGeneration), and
          // create is asked to recover (a no-op where the cluster exists; a local cluster restarts).
          const { observedGeneration: _kept, ...rest } = { ...status, ...base() };
          cluster = await writeInfrastructure(
            ctx,
            cluster,
            { ...rest, phase: 'FAILED', message: step.message, ...observed(observation) },
            beforeUp() ? { state: 'FAILED', reason: step.message } : undefined,
          );
          await provider.create(target);
          return { requeueAfterSeconds: FAILED_RECOVERY_SECONDS };
        }
        case 'register':
        case 'refresh-credentials': {
          const registered = await registerCredentials(ctx, cluster, provider, target);
          if (!registered) return {};
          cluster = registered.cluster;
          // Goes to status with the next write, so that a later invocation knows when to refresh.
          credentialsExpireAt = registered.expiresAt;
          registeredNow = true;
          continue;
        }
        case 'online': {
          const expiresAt = credentialsExpireAt;
          cluster = await writeInfrastructure(ctx, cluster, { ...base(), phase: 'ONLINE', ...observed(observation), observedGeneration: cluster.metadata.generation });
          if (!expiresAt) return {};
          const refreshIn = (Date.parse(expiresAt) - now.getTime()) / 1000 - CREDENTIALS_REFRESH_MARGIN_SECONDS;
          return { requeueAfterSeconds: Math.max(MIN_POLL_SECONDS, Math.ceil(refreshIn)) };
        }
      }
    }
  } catch (error) {
    if (!(error instanceof ProviderRejectedError)) throw error;
    // Permanent: recorded, not retried until the spec changes (its generation moves).
    await writeInfrastructure(
      ctx,
      cluster,
      { ...base(), phase: 'FAILED', message: error.message, observedGeneration: cluster.metadata.generation },
      beforeUp() ? { state: 'FAILED', reason: error.message } : undefined,
    );
    return {};
  }
}

/**
 * Removes the real cluster once its applications have moved away: DELETING while the
 * provider works, the finalizer goes when the provider reports it absent. Any failure
 * keeps the finalizer: a real cluster is never forgotten.
 */
async function tearDown(ctx: ReconcileContext, cluster: StoredResource, providerFor: ProviderFactory): Promise<ReconcileResult> {
  if (!hasFinalizer(cluster, INFRASTRUCTURE_FINALIZER)) return {};
  const current = statusOf(cluster).infrastructure;
  const key = keyOf(cluster);
  if (!current?.cloud || !current.providerId) {
    await setFinalizer(ctx, cluster, false);
    ctx.logger.info('released cluster that was never created', { key });
    return {};
  }
  const now = ctx.now();
  const startedAt = current.phase === 'DELETING' && current.operationStartedAt ? current.operationStartedAt : kubeTimestamp(now);
  if (hasFinalizer(cluster, DRAIN_FINALIZER)) {
    await writeInfrastructure(ctx, cluster, { ...current, phase: 'DELETING', message: 'waiting for its applications to move away', operationStartedAt: startedAt });
    return { requeueAfterSeconds: DRAIN_RECHECK_SECONDS };
  }
  const resolved = await resolveTarget(ctx, cluster, current.cloud, providerFor, current.provider);
  if (typeof resolved === 'string') {
    await writeInfrastructure(ctx, cluster, { ...current, phase: 'FAILED', message: `cannot delete the cluster: ${resolved}` });
    return { requeueAfterSeconds: DELETE_RETRY_SECONDS };
  }
  const { target, provider } = resolved;
  try {
    const observation = await provider.describe(target);
    if (observation.phase === 'absent') {
      await setFinalizer(ctx, cluster, false);
      ctx.logger.info('created cluster deleted', { key, providerId: target.id });
      return {};
    }
    if (observation.phase !== 'deleting') await provider.delete(target);
    await writeInfrastructure(ctx, cluster, { ...current, phase: 'DELETING', message: observation.message, ...observed(observation), operationStartedAt: startedAt });
    return { requeueAfterSeconds: pollDelaySeconds(startedAt, now) };
  } catch (error) {
    await writeInfrastructure(ctx, cluster, { ...current, phase: 'FAILED', message: `deleting: ${(error as Error).message}` });
    if (error instanceof ProviderRejectedError) return { requeueAfterSeconds: DELETE_RETRY_SECONDS };
    throw error;
  }
}

/** A Cloud or InfrastructureProvider changed: clusters of its namespace waiting for one may now go ahead. */
async function wakePending(ctx: ReconcileContext, namespace: string, providerFor: ProviderFactory): Promise<ReconcileResult> {
  const { items } = await ctx.store.list({ kind: 'Cluster', namespace });
  const waiting = items.filter((cluster) => {
    const spec = cluster.spec as { infrastructure?: unknown };
    const phase = statusOf(cluster).infrastructure?.phase ?? 'PENDING';
    return spec.infrastructure && !cluster.metadata.deletionTimestamp && phase === 'PENDING';
  });
  const delays: number[] = [];
  for (const cluster of waiting) {
    const result = await converge(ctx, cluster, providerFor);
    if (result.requeueAfterSeconds !== undefined) delays.push(result.requeueAfterSeconds);
  }
  return delays.length ? { requeueAfterSeconds: Math.min(...delays) } : {};
}

/**
 * Krake's infrastructure controller: creates each Cluster that has `spec.infrastructure`
 * through the InfrastructureProvider of its Cloud, follows it until ready, registers its
 * credentials, keeps it at the desired shape and deletes it with the Cluster. Owns
 * `status.infrastructure`, and `status.state` until the cluster first has credentials.
 */
export function createInfrastructureReconciler(providerFor: ProviderFactory): Reconciler {
  return {
    name: 'infrastructure',
    async reconcile(ctx: ReconcileContext, key: ResourceKey): Promise<ReconcileResult> {
      if (key.kind === 'Cloud' || key.kind === 'InfrastructureProvider') return wakePending(ctx, key.namespace, providerFor);
      if (key.kind !== 'Cluster') return {};
      const cluster = await ctx.store.get(key);
      if (!cluster) return {};
      if (cluster.metadata.deletionTimestamp) return tearDown(ctx, cluster, providerFor);
      return converge(ctx, cluster, providerFor);
    },
  };
}
