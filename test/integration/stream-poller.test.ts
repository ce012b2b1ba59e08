import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { StreamPoller, type StreamHandler } from '../../shared/local/stream-poller.ts';
import { logger } from '../../shared/observability.ts';
import { clusterProbe } from '../../shared/reconcilers/cluster-probe.ts';
import { createReconcilerHandler } from '../../shared/reconcilers/runtime.ts';
import type { ReconcilerDefinition, StreamTrigger } from '../../shared/reconcilers/triggers.ts';
import { FileSecretStore } from '../../shared/secrets/secret-store.ts';
import type { ResourceStore } from '../../shared/store/resource-store.ts';
import { freshStore } from './support/dynamodb.ts';

type Definition = ReconcilerDefinition & { stream: StreamTrigger };

const definition = (stream: Partial<StreamTrigger> = {}): Definition => ({
  name: 'test-reconciler',
  description: 'records what it is given',
  entry: 'lambdas/cluster-probe/handler.ts',
  owns: ['Cluster'],
  schedules: [],
  timeoutSeconds: 30,
  memorySizeMb: 128,
  secrets: 'none',
  stream: {
    kinds: ['Cluster'],
    eventNames: ['INSERT', 'MODIFY'],
    batchSize: 10,
    maximumBatchingWindowSeconds: 0,
    maximumRetryAttempts: 2,
    bisectBatchOnFunctionError: false,
    startingPosition: 'TRIM_HORIZON',
    ...stream,
  },
});

const clusterInput = (name: string, spec: Record<string, unknown> = { kubeconfigSecret: 'clusters/default/never-stored' }) => ({
  apiVersion: 'shoal.io/v1alpha1',
  kind: 'Cluster' as const,
  metadata: { name, namespace: 'default' },
  spec,
});

let store: ResourceStore;
let streamArn: string;
let dir: string;
let poller: StreamPoller | undefined;
const streams = () =>
  new DynamoDBStreamsClient({ region: 'us-east-1', endpoint: inject('dynamodbEndpoint'), credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

beforeEach(async () => {
  ({ store, streamArn } = await freshStore('stream'));
  dir = await mkdtemp(join(tmpdir(), 'shoal-stream-test-'));
});

afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});

async function startPoller(def: Definition, invoke: StreamHandler) {
  poller = new StreamPoller({ client: streams(), streamArn, region: 'us-east-1', definition: def, invoke, logger, deadLetterFile: join(dir, 'dlq.jsonl'), pollIntervalMs: 50 });
  await poller.start();
}

const names = (event: DynamoDBStreamEvent) => event.Records.map((record) => record.dynamodb?.Keys?.sk?.S);

describe('StreamPoller reproduces the Lambda event source mapping on real DynamoDB streams', () => {
  it('delivers only records matching the filter, in order, in batches of at most batchSize', async () => {
    // Prepare
    const batches: DynamoDBStreamEvent[] = [];
    await startPoller(definition({ batchSize: 2 }), async (event) => {
      batches.push(event);
    });
    // Act
    for (const name of ['a', 'b', 'c', 'd', 'e']) await store.create(clusterInput(name));
    await store.create({ apiVersion: 'shoal.io/v1alpha1', kind: 'Metric', metadata: { name: 'other', namespace: 'default' }, spec: {} });
    await store.delete({ kind: 'Cluster', namespace: 'default', name: 'a' });
    // Assess
    await expect.poll(() => batches.flatMap(names), { timeout: 20_000 }).toEqual(['default/a', 'default/b', 'default/c', 'default/d', 'default/e']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(batches.flatMap(names)).toHaveLength(5); // neither the Metric nor the REMOVE arrived
    expect(batches.every((batch) => batch.Records.length <= 2)).toBe(true);
    const [first] = batches[0]?.Records ?? [];
    expect(first).toMatchObject({ eventSource: 'aws:dynamodb', eventName: 'INSERT', dynamodb: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
    expect(first?.eventSourceARN).toBe(streamArn);
    expect(JSON.parse(first?.dynamodb?.NewImage?.resource?.S ?? '{}')).toMatchObject({ kind: 'Cluster', metadata: { name: 'a' } });
  });

  it('retries a partial failure from the first failed record only', async () => {
    // Prepare
    const seen: string[][] = [];
    let failOnce = true;
    await startPoller(definition(), async (event) => {
      seen.push(names(event) as string[]);
      const second = event.Records.find((record) => record.dynamodb?.Keys?.sk?.S === 'default/b');
      if (second && failOnce) {
        failOnce = false;
        return { batchItemFailures: [{ itemIdentifier: second.dynamodb?.SequenceNumber ?? '' }] };
      }
      return { batchItemFailures: [] };
    });
    // Act
    await store.create(clusterInput('a'));
    await store.create(clusterInput('b'));
    await store.create(clusterInput('c'));
    // Assess
    await expect.poll(() => seen.flat().filter((name) => name === 'default/b').length, { timeout: 20_000 }).toBe(2);
    await expect.poll(() => seen.flat().filter((name) => name === 'default/c').length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    expect(seen.flat().filter((name) => name === 'default/a')).toHaveLength(1);
  });

  it('sends a record that exhausts its retries to the dead-letter file and moves on', async () => {
    // Prepare
    const attempts = new Map<string, number>();
    await startPoller(definition({ maximumRetryAttempts: 2 }), async (event) => {
      for (const name of names(event)) attempts.set(name ?? '', (attempts.get(name ?? '') ?? 0) + 1);
      if (names(event).includes('default/poison')) throw new Error('cannot handle this one');
    });
    // Act
    await store.create(clusterInput('poison'));
    await expect.poll(() => attempts.get('default/poison'), { timeout: 20_000 }).toBe(3);
    await store.create(clusterInput('after'));
    // Assess
    await expect.poll(() => attempts.get('default/after'), { timeout: 20_000 }).toBe(1);
    const deadLetters = (await readFile(join(dir, 'dlq.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ reconciler: 'test-reconciler', attempts: 3, keys: { sk: { S: 'default/poison' } } });
  });

  it('sends records older than maximumRecordAgeSeconds to the dead-letter file undelivered', async () => {
    // Prepare: DynamoDB Local dates records to the minute, so the poller's clock runs ahead instead of waiting
    let clockAheadMs = 180_000;
    await store.create(clusterInput('stale'));
    const delivered: string[] = [];
    poller = new StreamPoller({
      client: streams(),
      streamArn,
      region: 'us-east-1',
      definition: definition({ maximumRecordAgeSeconds: 60 }),
      invoke: async (event) => {
        delivered.push(...(names(event) as string[]));
      },
      logger,
      deadLetterFile: join(dir, 'dlq.jsonl'),
      pollIntervalMs: 50,
      now: () => Date.now() + clockAheadMs,
    });
    await poller.start();
    await expect.poll(() => readFile(join(dir, 'dlq.jsonl'), 'utf8').catch(() => ''), { timeout: 20_000 }).toContain('default/stale');
    // Act
    clockAheadMs = 0;
    await store.create(clusterInput('fresh'));
    // Assess
    await expect.poll(() => delivered, { timeout: 20_000 }).toEqual(['default/fresh']);
    const deadLetters = (await readFile(join(dir, 'dlq.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(deadLetters).toEqual([
      expect.objectContaining({ attempts: 0, reason: 'older than maximumRecordAgeSeconds', keys: expect.objectContaining({ sk: { S: 'default/stale' } }) }),
    ]);
  });

  it('bisects a batch whose invocation fails as a whole, isolating the bad record', async () => {
    // Prepare: written before the poller starts, so they arrive as one batch
    for (const name of ['a', 'b', 'poison', 'c']) await store.create(clusterInput(name));
    const delivered: string[] = [];
    let sawPoisonBatch = false;
    // Act
    await startPoller(definition({ bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 }), async (event) => {
      if (names(event).includes('default/poison')) {
        sawPoisonBatch = true;
        throw new Error('whole batch failed');
      }
      delivered.push(...(names(event) as string[]));
    });
    // Assess
    await expect.poll(() => [...delivered].sort(), { timeout: 20_000 }).toEqual(['default/a', 'default/b', 'default/c']);
    expect(sawPoisonBatch).toBe(true);
  });

  it('handles a redelivered record once: the second delivery writes nothing', async () => {
    // Prepare: a real reconciler handler over this table, fed the real stream record twice
    const secrets = new FileSecretStore(join(dir, 'secrets'));
    const handler = createReconcilerHandler(clusterProbe, definition(), { store, secrets, config: {} as never }, { requeue: async () => undefined });
    const events: DynamoDBStreamEvent[] = [];
    await startPoller(definition(), async (event) => {
      events.push(event);
    });
    await store.create(clusterInput('edge'));
    await expect.poll(() => events.length, { timeout: 20_000 }).toBeGreaterThan(0);
    const event = events[0] as DynamoDBStreamEvent;
    const key = { kind: 'Cluster' as const, namespace: 'default', name: 'edge' };
    // Act
    const first = await handler(event);
    const afterFirst = await store.get(key);
    const second = await handler(event);
    const afterSecond = await store.get(key);
    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(afterFirst?.metadata.resourceVersion).toBe('2');
    expect(afterFirst?.status).toMatchObject({ state: 'OFFLINE', observedGeneration: 1 });
    expect(afterSecond?.metadata.resourceVersion).toBe('2');
  });
});
