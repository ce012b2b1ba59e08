import type { Kind } from '../resources/kinds.ts';

/**
 * What wakes each reconciler. The CDK stack (event source mappings, schedules, queues)
 * and the local runtime (stream pollers, timers) are both built from this one list, so
 * the two cannot drift apart.
 */
export interface StreamTrigger {
  /** Kinds whose changes wake the reconciler; matched on the stream record's partition key. */
  kinds: readonly Kind[];
  eventNames: readonly ('INSERT' | 'MODIFY' | 'REMOVE')[];
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  /** Retries of a failed batch before its records go to the dead-letter queue. */
  maximumRetryAttempts: number;
  bisectBatchOnFunctionError: boolean;
  startingPosition: 'LATEST' | 'TRIM_HORIZON';
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
  /** The kind whose objects this reconciler owns: a scheduled run resyncs all of them. */
  owns: Kind;
  stream?: StreamTrigger;
  schedules: readonly ScheduleTrigger[];
  timeoutSeconds: number;
  memorySizeMb: number;
  /** Needs the kubeconfig secrets (read) and/or to write them (Cluster finalizer removes them). */
  secrets: 'none' | 'read' | 'readwrite';
}

export const RECONCILERS = [
  {
    name: 'cluster-probe',
    description:
      'Connects to each registered cluster with its stored kubeconfig and records state, Kubernetes version, nodes and custom resources; releases the kubeconfig secret when a Cluster is deleted.',
    entry: 'lambdas/cluster-probe/handler.ts',
    owns: 'Cluster',
    stream: {
      kinds: ['Cluster'],
      eventNames: ['INSERT', 'MODIFY'],
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      maximumRetryAttempts: 5,
      bisectBatchOnFunctionError: true,
      startingPosition: 'LATEST',
    },
    schedules: [{ name: 'probe-clusters', rateMinutes: 1, description: 'Probe the health of every cluster' }],
    timeoutSeconds: 60,
    memorySizeMb: 512,
    secrets: 'readwrite',
  },
] as const satisfies readonly ReconcilerDefinition[];

export type ReconcilerName = (typeof RECONCILERS)[number]['name'];

export function reconcilerDefinition(name: ReconcilerName): ReconcilerDefinition {
  const definition = RECONCILERS.find((candidate) => candidate.name === name);
  if (!definition) throw new Error(`unknown reconciler ${name}`);
  return definition;
}

/**
 * The Lambda event-filter pattern for a stream trigger (FilterCriteria). The local
 * stream poller evaluates the very same pattern.
 */
export function streamFilterPattern(trigger: StreamTrigger): Record<string, unknown> {
  return {
    eventName: [...trigger.eventNames],
    dynamodb: { Keys: { pk: { S: [...trigger.kinds] } } },
  };
}

/** Requeue delays longer than SQS allows are clamped; the scheduled resync covers the rest. */
export const MAX_REQUEUE_DELAY_SECONDS = 900;
