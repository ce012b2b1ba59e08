import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type Shard,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { streamFilterPatterns, type ReconcilerDefinition, type StreamTrigger } from '../reconcilers/triggers.ts';
import { matchesAnyPattern, type FilterPattern } from './event-filter.ts';

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] } | void>;

export interface StreamPollerOptions {
  client: DynamoDBStreamsClient;
  streamArn: string;
  region: string;
  definition: ReconcilerDefinition & { stream: StreamTrigger };
  invoke: StreamHandler;
  logger: Logger;
  /** Where processed positions are kept across restarts; none means start from the trigger's starting position. */
  checkpointFile?: string;
  /** Where records that exhausted their retries or grew too old go (the local dead-letter queue). */
  deadLetterFile: string;
  pollIntervalMs?: number;
  /** Epoch milliseconds that record ages are measured against. @default Date.now */
  now?: () => number;
}

interface ShardState {
  shard: Shard;
  iterator?: string;
  done: boolean;
}

/** DynamoDB Streams' record, reshaped to what Lambda hands a function. */
export function toLambdaRecord(record: StreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const data = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? region,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: data.ApproximateCreationDateTime ? Math.floor(data.ApproximateCreationDateTime.getTime() / 1000) : undefined,
      Keys: data.Keys as NonNullable<DynamoDBRecord['dynamodb']>['Keys'],
      NewImage: data.NewImage as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      OldImage: data.OldImage as NonNullable<DynamoDBRecord['dynamodb']>['OldImage'],
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType as NonNullable<DynamoDBRecord['dynamodb']>['StreamViewType'],
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reproduces a Lambda DynamoDB event source mapping for one reconciler: one reader per
 * shard (children after their parents), the same filter pattern, batches of at most
 * `batchSize`, partial batch failures (retry from the first failed record), bisecting a
 * batch whose invocation failed as a whole, `maximumRetryAttempts` and
 * `maximumRecordAgeSeconds`, then the dead-letter file. Records of one shard are handled
 * in order, one batch at a time.
 */
export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private readonly patterns: FilterPattern[];
  private checkpoints: Record<string, string> = {};
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly options: StreamPollerOptions) {
    this.patterns = streamFilterPatterns(options.definition.stream) as FilterPattern[];
  }

  async start(): Promise<void> {
    if (this.options.checkpointFile) {
      try {
        this.checkpoints = JSON.parse(await readFile(this.options.checkpointFile, 'utf8')) as Record<string, string>;
      } catch {
        this.checkpoints = {};
      }
    }
    this.running = true;
    await this.refreshShards();
    for (const state of this.shards.values()) await this.openIterator(state);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let lastRefresh = Date.now();
    while (this.running) {
      let busy = false;
      try {
        if (Date.now() - lastRefresh > 5000) {
          await this.refreshShards();
          lastRefresh = Date.now();
        }
        for (const state of this.shards.values()) {
          if (!this.running) break;
          if (state.done || !this.parentDone(state)) continue;
          busy = (await this.pollShard(state)) || busy;
        }
      } catch (error) {
        this.options.logger.error('stream poller error; retrying', { reconciler: this.options.definition.name, error: error as Error });
        await sleep(1000);
      }
      if (!busy && this.running) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.options.pollIntervalMs ?? 250);
        });
      }
    }
  }

  private parentDone(state: ShardState): boolean {
    const parent = state.shard.ParentShardId ? this.shards.get(state.shard.ParentShardId) : undefined;
    return !parent || parent.done;
  }

  private async refreshShards(): Promise<void> {
    let start: string | undefined;
    do {
      const result = await this.options.client.send(
        new DescribeStreamCommand({ StreamArn: this.options.streamArn, ExclusiveStartShardId: start }),
      );
      for (const shard of result.StreamDescription?.Shards ?? []) {
        if (shard.ShardId && !this.shards.has(shard.ShardId)) this.shards.set(shard.ShardId, { shard, done: false });
      }
      start = result.StreamDescription?.LastEvaluatedShardId;
    } while (start);
  }

  private async openIterator(state: ShardState): Promise<void> {
    const shardId = state.shard.ShardId ?? '';
    const checkpoint = this.checkpoints[shardId];
    // A shard that appeared after start-up is read from its beginning, as Lambda does.
    const type = checkpoint ? 'AFTER_SEQUENCE_NUMBER' : state.iterator === undefined && this.loop === undefined ? this.options.definition.stream.startingPosition : 'TRIM_HORIZON';
    try {
      const result = await this.options.client.send(
        new GetShardIteratorCommand({
          StreamArn: this.options.streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          SequenceNumber: checkpoint,
        }),
      );
      state.iterator = result.ShardIterator;
    } catch (error) {
      if (!(error instanceof TrimmedDataAccessException) || !checkpoint) throw error;
      delete this.checkpoints[shardId];
      await this.openIterator(state);
    }
  }

  /** Reads one page from a shard and delivers it; true when there was something to do. */
  private async pollShard(state: ShardState): Promise<boolean> {
    if (!state.iterator) await this.openIterator(state);
    if (!state.iterator) {
      state.done = true;
      return false;
    }
    let result;
    try {
      result = await this.options.client.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }));
    } catch (error) {
      // An expired iterator is simply renewed from the checkpoint. One that points behind
      // the trim horizon (DynamoDB Local reports this now and then under load) is renewed
      // from the oldest record still there, as Lambda does.
      if (error instanceof TrimmedDataAccessException) {
        this.options.logger.warn('shard iterator behind the trim horizon; reading from the oldest record', { reconciler: this.options.definition.name });
        delete this.checkpoints[state.shard.ShardId ?? ''];
        state.iterator = undefined;
        return false;
      }
      if (!(error instanceof ExpiredIteratorException)) throw error;
      state.iterator = undefined;
      return true;
    }
    const records = result.Records ?? [];
    const matching = records
      .map((record) => toLambdaRecord(record, this.options.streamArn, this.options.region))
      .filter((record) => matchesAnyPattern(this.patterns, record));
    const batchSize = this.options.definition.stream.batchSize;
    for (let index = 0; index < matching.length && this.running; index += batchSize) {
      await this.deliver(matching.slice(index, index + batchSize));
    }
    const last = records.at(-1)?.dynamodb?.SequenceNumber;
    if (last && this.running) await this.checkpoint(state.shard.ShardId ?? '', last);
    state.iterator = result.NextShardIterator;
    if (!state.iterator) state.done = true;
    return records.length > 0;
  }

  /** Invokes the handler until the batch succeeds or its retries run out. */
  private async deliver(batch: DynamoDBRecord[]): Promise<void> {
    const { maximumRetryAttempts, bisectBatchOnFunctionError } = this.options.definition.stream;
    let pending = batch;
    let attempts = 0;
    while (pending.length > 0) {
      pending = await this.discardExpired(pending, attempts);
      if (pending.length === 0) return;
      let failedFrom: number;
      try {
        const response = await this.options.invoke({ Records: pending });
        const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
        if (failed.size === 0) return;
        // Lambda resumes from the lowest failed sequence number: that record and all after it.
        failedFrom = pending.findIndex((record) => failed.has(record.dynamodb?.SequenceNumber ?? ''));
        if (failedFrom < 0) return;
      } catch (error) {
        if (bisectBatchOnFunctionError && pending.length > 1) {
          const half = Math.ceil(pending.length / 2);
          await this.deliver(pending.slice(0, half));
          await this.deliver(pending.slice(half));
          return;
        }
        // Powertools throws FullBatchFailureError when every record failed; the runtime has
        // already logged each record's own error, so only other failures are news here.
        if ((error as Error).name === 'FullBatchFailureError') {
          this.options.logger.info('every record of the batch failed; retrying', { reconciler: this.options.definition.name });
        } else {
          this.options.logger.warn('reconciler invocation failed', { reconciler: this.options.definition.name, error: error as Error });
        }
        failedFrom = 0;
      }
      pending = pending.slice(failedFrom);
      attempts++;
      if (attempts > maximumRetryAttempts) {
        await this.deadLetter(pending, attempts, 'retries exhausted');
        return;
      }
      await sleep(Math.min(200 * 2 ** (attempts - 1), 5000));
    }
  }

  /**
   * As Lambda's maximum record age: records older than `maximumRecordAgeSeconds` go undelivered
   * to the dead-letter file. DynamoDB Local rounds creation times down to the minute, so locally
   * a record can expire up to 60 s early.
   */
  private async discardExpired(records: DynamoDBRecord[], attempts: number): Promise<DynamoDBRecord[]> {
    const maximumAge = this.options.definition.stream.maximumRecordAgeSeconds;
    if (maximumAge === undefined) return records;
    const oldestKept = (this.options.now ?? Date.now)() / 1000 - maximumAge;
    const expired = records.filter((record) => (record.dynamodb?.ApproximateCreationDateTime ?? Infinity) < oldestKept);
    if (expired.length === 0) return records;
    await this.deadLetter(expired, attempts, 'older than maximumRecordAgeSeconds');
    return records.filter((record) => !expired.includes(record));
  }

  private async deadLetter(records: DynamoDBRecord[], attempts: number, reason: string): Promise<void> {
    this.options.logger.error('records sent to the dead-letter file', {
      reconciler: this.options.definition.name,
      reason,
      count: records.length,
      file: this.options.deadLetterFile,
    });
    await mkdir(dirname(this.options.deadLetterFile), { recursive: true });
    const lines = records.map((record) =>
      JSON.stringify({
        reconciler: this.options.definition.name,
        attempts,
        reason,
        eventID: record.eventID,
        eventName: record.eventName,
        sequenceNumber: record.dynamodb?.SequenceNumber,
        keys: record.dynamodb?.Keys,
        failedAt: new Date().toISOString(),
      }),
    );
    await appendFile(this.options.deadLetterFile, `${lines.join('\n')}\n`);
  }

  private async checkpoint(shardId: string, sequenceNumber: string): Promise<void> {
    this.checkpoints[shardId] = sequenceNumber;
    if (!this.options.checkpointFile) return;
    await mkdir(dirname(this.options.checkpointFile), { recursive: true });
    await writeFile(this.options.checkpointFile, JSON.stringify(this.checkpoints));
  }
}
