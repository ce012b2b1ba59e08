import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent, ScheduledEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Dependencies } from '../dependencies.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { logger as rootLogger } from '../observability.ts';
import { isKind, type ResourceKey } from '../resources/kinds.ts';
import type { StoredResource } from '../store/resource-store.ts';
import { TerminalReconcileError, type ReconcileContext, type Reconciler, type ResourceChange } from './contract.ts';
import { MAX_REQUEUE_DELAY_SECONDS, type ReconcilerDefinition } from './triggers.ts';

export type ReconcilerEvent = DynamoDBStreamEvent | SQSEvent | ScheduledEvent;

/** Delivers "reconcile this key again after a delay". */
export interface Requeuer {
  requeue(key: ResourceKey, delaySeconds: number): Promise<void>;
}

/** AWS: an SQS queue with per-message delay, consumed by the same function. */
export class SqsRequeuer implements Requeuer {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async requeue(key: ResourceKey, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(key),
        DelaySeconds: Math.min(Math.max(0, Math.round(delaySeconds)), MAX_REQUEUE_DELAY_SECONDS),
      }),
    );
  }
}

/** The key a DynamoDB stream record is about (partition key = kind, sort key = namespace/name). */
export function keyFromStreamRecord(record: DynamoDBRecord): ResourceKey {
  const kind = record.dynamodb?.Keys?.pk?.S;
  const [namespace, name] = (record.dynamodb?.Keys?.sk?.S ?? '').split('/');
  if (!kind || !isKind(kind) || !namespace || !name) {
    throw new TerminalReconcileError(`stream record ${record.eventID ?? '?'} has no resource key`);
  }
  return { kind, namespace, name };
}

function imageOf(image: Record<string, { S?: string }> | undefined): StoredResource | undefined {
  const text = image?.resource?.S;
  if (!text) return undefined;
  try {
    return JSON.parse(text) as StoredResource;
  } catch {
    return undefined;
  }
}

/** The change a stream record describes (images need the NEW_AND_OLD_IMAGES stream view). */
export function changeFromStreamRecord(record: DynamoDBRecord): ResourceChange {
  return {
    key: keyFromStreamRecord(record),
    eventName: record.eventName ?? 'MODIFY',
    before: imageOf(record.dynamodb?.OldImage as Record<string, { S?: string }> | undefined),
    after: imageOf(record.dynamodb?.NewImage as Record<string, { S?: string }> | undefined),
  };
}

export function keyFromQueueRecord(record: SQSRecord): ResourceKey {
  let body: Partial<ResourceKey> | null;
  try {
    body = JSON.parse(record.body) as Partial<ResourceKey> | null;
  } catch {
    throw new TerminalReconcileError(`requeue message ${record.messageId} is not JSON`);
  }
  if (!body?.kind || !isKind(body.kind) || !body.namespace || !body.name) {
    throw new TerminalReconcileError(`requeue message ${record.messageId} has no resource key`);
  }
  return { kind: body.kind, namespace: body.namespace, name: body.name };
}

function isStreamEvent(event: ReconcilerEvent): event is DynamoDBStreamEvent {
  return 'Records' in event && event.Records[0]?.eventSource === 'aws:dynamodb';
}

function isQueueEvent(event: ReconcilerEvent): event is SQSEvent {
  return 'Records' in event && event.Records[0]?.eventSource === 'aws:sqs';
}

/**
 * One machine: an in-process timer. Not durable across restarts, which is fine because
 * the scheduled resync re-examines everything anyway.
 */
class TimerRequeuer implements Requeuer {
  constructor(private readonly reconcile: (key: ResourceKey) => Promise<void>) {}

  async requeue(key: ResourceKey, delaySeconds: number): Promise<void> {
    const timer = setTimeout(() => {
      pendingRequeues.delete(timer);
      void this.reconcile(key).catch(() => undefined);
    }, delaySeconds * 1000);
    timer.unref();
    pendingRequeues.add(timer);
  }
}

const pendingRequeues = new Set<NodeJS.Timeout>();

/** The local control plane calls this on stop, so no requeue fires into a stopped database. */
export function cancelLocalRequeues(): void {
  for (const timer of pendingRequeues) clearTimeout(timer);
  pendingRequeues.clear();
}

/**
 * Turns a reconciler into a Lambda handler for its three event sources: DynamoDB stream
 * batches and requeue messages (partial batch failures via Powertools: a record whose
 * reconcile throws is retried, the others are not), and scheduled resyncs of every
 * object of the kind it owns.
 */
export function createReconcilerHandler(
  reconciler: Reconciler,
  definition: ReconcilerDefinition,
  dependencies: Dependencies,
  requeuer?: Requeuer,
) {
  const logger = rootLogger.createChild({ persistentKeys: { reconciler: definition.name } });
  const context: ReconcileContext = { store: dependencies.store, secrets: dependencies.secrets, logger, now: () => new Date() };
  const streamProcessor = new BatchProcessor(EventType.DynamoDBStreams);
  const queueProcessor = new BatchProcessor(EventType.SQS);

  const queueUrl = process.env.SHOAL_REQUEUE_QUEUE_URL;
  const requeue =
    requeuer ?? (queueUrl ? new SqsRequeuer(new SQSClient({}), queueUrl) : new TimerRequeuer((key) => reconcileKey(() => key)));

  /**
   * Within one process (a Lambda container, or the whole local control plane), reconciles
   * of the same object run one after another: a stream batch, a requeue and a scheduled
   * resync never interleave their reads and writes. Across Lambda containers the
   * conditional writes still decide.
   */
  const running = new Map<string, Promise<unknown>>();
  function oneAtATime<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = running.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    running.set(id, next);
    void next.catch(() => undefined).finally(() => {
      if (running.get(id) === next) running.delete(id);
    });
    return next;
  }

  /** Reconciles one key; a terminal error (including an unreadable key) is logged and not retried. */
  async function reconcileKey(keyOf: () => ResourceKey): Promise<void> {
    let key: ResourceKey | undefined;
    try {
      key = keyOf();
      const result = await oneAtATime(`${key.kind}/${key.namespace}/${key.name}`, () => reconciler.reconcile(context, key as ResourceKey));
      if (result.requeueAfterSeconds !== undefined) await requeue.requeue(key, result.requeueAfterSeconds);
    } catch (error) {
      // The object went away while we worked on it: for a reconciler, not found means done.
      if (error instanceof NotFoundError) return;
      if (error instanceof TerminalReconcileError) {
        logger.error('reconcile failed permanently; not retrying', { key, error });
        return;
      }
      if (error instanceof ConflictError) logger.info('object changed while reconciling; retrying', { key });
      else logger.warn('reconcile failed; the event will be retried', { key, error: error as Error });
      throw error;
    }
  }

  async function resync(): Promise<void> {
    let failures = 0;
    for (const kind of definition.owns) {
      let continueToken: string | undefined;
      do {
        const page = await dependencies.store.list({ kind, limit: 100, continueToken });
        for (const resource of page.items) {
          const key = { kind, namespace: resource.metadata.namespace, name: resource.metadata.name };
          // One object's failure must not starve the others; the next tick retries it.
          await reconcileKey(() => key).catch((error: unknown) => {
            // A conflict only means the object moved on; its own stream event follows.
            if (!(error instanceof ConflictError)) failures++;
          });
        }
        continueToken = page.continueToken;
      } while (continueToken);
    }
    if (failures) logger.warn('scheduled resync finished with failures', { failures });
  }

  return async function handler(event: ReconcilerEvent, lambdaContext?: Context) {
    if (lambdaContext) logger.addContext(lambdaContext);
    if (isStreamEvent(event)) {
      // Level-triggered: several records about one object need one reconcile, not racing ones.
      const inFlight = new Map<string, Promise<void>>();
      const reconcileOnce = (key: ResourceKey) => {
        const id = `${key.kind}/${key.namespace}/${key.name}`;
        let run = inFlight.get(id);
        if (!run) inFlight.set(id, (run = reconcileKey(() => key)));
        return run;
      };
      const reconcileRecord = async (record: DynamoDBRecord) => {
        let keys: ResourceKey[];
        try {
          keys = reconciler.keysFor ? reconciler.keysFor(changeFromStreamRecord(record)) : [keyFromStreamRecord(record)];
        } catch (error) {
          if (error instanceof TerminalReconcileError) return void logger.error('reconcile failed permanently; not retrying', { error });
          throw error;
        }
        const results = await Promise.allSettled(keys.map(reconcileOnce));
        const failure = results.find((result) => result.status === 'rejected');
        if (failure) throw failure.reason;
      };
      return processPartialResponse(event, reconcileRecord, streamProcessor, { context: lambdaContext });
    }
    if (isQueueEvent(event)) {
      return processPartialResponse(event, (record: SQSRecord) => reconcileKey(() => keyFromQueueRecord(record)), queueProcessor, {
        context: lambdaContext,
      });
    }
    if ('Records' in event) return { batchItemFailures: [] };
    await resync();
    return undefined;
  };
}
