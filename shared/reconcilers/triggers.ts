import { KIND_NAMES, type Kind } from '../resources/kinds.ts';

/**
 * What wakes each reconciler. The CDK stack (event source mappings, schedules, queues)
 * and the local runtime (stream pollers, timers) are both built from this one list, so
 * the two cannot drift apart.
 */
export interface StreamTrigger {
  /** Kinds whose changes wake the reconciler; matched on the stream record's partition key. */
  kinds: readonly Kind[];
  eventNames: readonly ('INSERT' | 'MODIFY' | 'REMOVE')[];
  /** INSERT and MODIFY records only of objects being deleted (REMOVE records always). */
  deletingOnly?: boolean;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  /** Retries of a failed batch before its records go to the dead-letter queue. */
  maximumRetryAttempts: number;
  bisectBatchOnFunctionError: boolean;
  startingPosition: 'LATEST' | 'TRIM_HORIZON';
  /**
   * Records older than this (by their creation time in the stream) are not delivered but go
   * to the dead-letter queue. Lambda accepts 60–604800.
   * @default unbounded — records are retried until they leave the stream (24 hours)
   */
  maximumRecordAgeSeconds?: number;
}

export interface ScheduleTrigger {
  /** Unique across reconcilers; becomes part of the EventBridge rule name. */
  name: string;
  rateMinutes: number;
  description: string;
}

export interface ReconcilerDefinition {
  /** Lambda and log name, e.g. `cluster-probe`. */
  name: string;
  description: string;
  /** Handler module, relative to the repository root; exports `handler`. */
  entry: string;
  /** The kinds whose objects this reconciler owns: a scheduled run resyncs all of them. */
  owns: readonly Kind[];
  stream?: StreamTrigger;
  schedules: readonly ScheduleTrigger[];
  timeoutSeconds: number;
  memorySizeMb: number;
  /** Needs the kubeconfig secrets (read) and/or to write them (Cluster finalizer removes them). */
  secrets: 'none' | 'read' | 'readwrite';
  /**
   * AWS services the reconciler manages beyond the store, secrets and its queues: `eks`
   * creates, reshapes and deletes EKS clusters (the EKS infrastructure provider).
   * @default none
   */
  aws?: readonly 'eks'[];
}

/**
 * What every stream trigger shares. Records older than an hour are dropped (to the
 * dead-letter queue): each reconciler's schedule resyncs everything, so a stale record
 * adds nothing.
 */
const STREAM_DEFAULTS = {
  batchSize: 10,
  maximumBatchingWindowSeconds: 0,
  maximumRetryAttempts: 5,
  bisectBatchOnFunctionError: true,
  startingPosition: 'LATEST',
  maximumRecordAgeSeconds: 3600,
} as const;

export const RECONCILERS = [
  {
    name: 'cluster-probe',
    description:
      'Connects to each registered cluster with its stored kubeconfig and records state, Kubernetes version, nodes and custom resources; releases the kubeconfig secret when a Cluster is deleted.',
    entry: 'lambdas/cluster-probe/handler.ts',
    owns: ['Cluster'],
    stream: {
      kinds: ['Cluster'],
      eventNames: ['INSERT', 'MODIFY'],
      ...STREAM_DEFAULTS,
    },
    schedules: [{ name: 'probe-clusters', rateMinutes: 1, description: 'Probe the health of every cluster' }],
    timeoutSeconds: 60,
    memorySizeMb: 512,
    secrets: 'readwrite',
  },
  {
    name: 'application-deployer',
    description:
      'Server-side applies each Application to the cluster it is scheduled to, reports per-manifest readiness, corrects drift, migrates it when the binding moves, and removes it from the clusters on deletion.',
    entry: 'lambdas/application-deployer/handler.ts',
    owns: ['Application'],
    stream: {
      kinds: ['Application'],
      eventNames: ['INSERT', 'MODIFY'],
      ...STREAM_DEFAULTS,
    },
    schedules: [{ name: 'resync-applications', rateMinutes: 1, description: 'Re-apply every application: corrects drift, notices degraded workloads' }],
    timeoutSeconds: 120,
    memorySizeMb: 512,
    secrets: 'read',
  },
  {
    name: 'scheduler',
    description:
      'Binds each Application to the best fitting Cluster of its namespace (filter, score, bind) and re-evaluates the binding for migration and failover.',
    entry: 'lambdas/scheduler/handler.ts',
    owns: ['Application'],
    stream: {
      // Cluster changes matter too: a new cluster can place a pending app, a removed one forces failover.
      kinds: ['Application', 'Cluster'],
      eventNames: ['INSERT', 'MODIFY', 'REMOVE'],
      ...STREAM_DEFAULTS,
    },
    schedules: [{ name: 'reevaluate-placements', rateMinutes: 1, description: 'Re-evaluate every placement: migration to better clusters, failover' }],
    timeoutSeconds: 60,
    memorySizeMb: 512,
    secrets: 'none',
  },
  {
    name: 'garbage-collector',
    description:
      'Cascading deletion through ownerReferences (Foreground, Background, Orphan), dangling owner references and ownership cycles; holds a deleted Cluster until its applications have left it.',
    entry: 'lambdas/garbage-collector/handler.ts',
    owns: KIND_NAMES,
    stream: {
      // Only deletions matter: an object being deleted, or one removed (its dependents may now dangle).
      kinds: KIND_NAMES,
      eventNames: ['MODIFY', 'REMOVE'],
      deletingOnly: true,
      ...STREAM_DEFAULTS,
    },
    schedules: [{ name: 'sweep-garbage', rateMinutes: 5, description: 'Sweep every object: dangling owner references, deletions an event was missed for' }],
    timeoutSeconds: 120,
    memorySizeMb: 512,
    secrets: 'none',
  },
  {
    name: 'infrastructure',
    description:
      'Creates each Cluster that has spec.infrastructure through the InfrastructureProvider of its Cloud, registers its credentials, keeps it at its desired shape, and deletes it with the Cluster.',
    entry: 'lambdas/infrastructure/handler.ts',
    owns: ['Cluster'],
    stream: {
      // A new or changed Cloud or InfrastructureProvider can let a PENDING cluster go ahead.
      kinds: ['Cluster', 'Cloud', 'InfrastructureProvider'],
      eventNames: ['INSERT', 'MODIFY'],
      ...STREAM_DEFAULTS,
    },
    schedules: [{ name: 'poll-infrastructure', rateMinutes: 1, description: 'Ask the infrastructure providers how every created cluster stands' }],
    timeoutSeconds: 120,
    memorySizeMb: 512,
    secrets: 'readwrite',
    aws: ['eks'],
  },
] as const satisfies readonly ReconcilerDefinition[];

export type ReconcilerName = (typeof RECONCILERS)[number]['name'];

export function reconcilerDefinition(name: ReconcilerName): ReconcilerDefinition {
  const definition = RECONCILERS.find((candidate) => candidate.name === name);
  if (!definition) throw new Error(`unknown reconciler ${name}`);
  return definition;
}

/**
 * The Lambda event-filter patterns for a stream trigger (FilterCriteria; a record passes
 * when any matches). The local stream poller evaluates the very same patterns.
 */
export function streamFilterPatterns(trigger: StreamTrigger): Record<string, unknown>[] {
  const keys = { Keys: { pk: { S: [...trigger.kinds] } } };
  if (!trigger.deletingOnly) return [{ eventName: [...trigger.eventNames], dynamodb: keys }];
  const writes = trigger.eventNames.filter((name) => name !== 'REMOVE');
  return [
    ...(writes.length ? [{ eventName: writes, dynamodb: { ...keys, NewImage: { deleting: { BOOL: [true] } } } }] : []),
    ...(trigger.eventNames.includes('REMOVE') ? [{ eventName: ['REMOVE'], dynamodb: keys }] : []),
  ];
}

/** Requeue delays longer than SQS allows are clamped; the scheduled resync covers the rest. */
export const MAX_REQUEUE_DELAY_SECONDS = 900;
