import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { ScheduledEvent } from 'aws-lambda';
import { logger } from '../observability.ts';
import { cancelLocalRequeues, type ReconcilerEvent } from '../reconcilers/runtime.ts';
import { RECONCILERS, type ReconcilerDefinition, type StreamTrigger } from '../reconcilers/triggers.ts';
import { createDynamoDbClient } from '../store/dynamodb.ts';
import { ensureResourceTable } from '../store/ensure-table.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import type { ApiHandler } from './http-adapter.ts';
import { serveApi } from './http-adapter.ts';
import { localLambdaContext } from './lambda-context.ts';
import { StreamPoller } from './stream-poller.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ControlPlaneOptions {
  /** 8080 by default; 0 picks a free port. */
  port?: number;
  /** State directory (DynamoDB data, secrets, checkpoints, dead letters); `.shoal` by default. */
  dataDir?: string;
  /** Keep nothing on disk: DynamoDB Local in memory, secrets in a temporary directory. */
  inMemory?: boolean;
  /** Use this DynamoDB (LocalStack, AWS) instead of starting DynamoDB Local. */
  dynamodbEndpoint?: string;
  tableName?: string;
  /** Replaces every schedule's rate (tests, demos); the triggers' rates otherwise. */
  scheduleIntervalSeconds?: number;
}

export interface ControlPlane {
  url: string;
  dynamodbEndpoint: string;
  tableName: string;
  streamArn: string;
  dataDir: string;
  stop(): Promise<void>;
}

type ReconcilerHandler = (event: ReconcilerEvent, context?: unknown) => Promise<unknown>;

let active = false;

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is already in use: stop what uses it or set PORT`) : error),
    );
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolvePort(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function scheduledEvent(rule: string): ScheduledEvent {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: process.env.AWS_REGION ?? 'us-east-1',
    resources: [`arn:aws:events:local:000000000000:rule/${rule}`],
    detail: {},
  };
}

/**
 * Shoal on one machine: DynamoDB Local with real streams, the API handler behind an
 * HTTP adapter, every reconciler fed by a stream poller that behaves like its Lambda
 * event source mapping, and timers for the schedules. The handlers are the very
 * modules Lambda runs, configured through the same environment variables — which is
 * why only one control plane can run per process.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  if (active) throw new Error('a control plane is already running in this process');
  active = true;
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: Error) => logger.warn('shutdown step failed', { error }));
    cleanups.length = 0;
    active = false;
  };
  try {
    const dataDir = resolve(options.dataDir ?? join(REPO_ROOT, '.shoal'));
    await mkdir(dataDir, { recursive: true });
    const tableName = options.tableName ?? process.env.SHOAL_TABLE_NAME ?? 'shoal-resources';

    let endpoint = options.dynamodbEndpoint ?? process.env.SHOAL_DYNAMODB_ENDPOINT;
    if (!endpoint) {
      let dynamo: DynamoDbLocal;
      if (options.inMemory) dynamo = await startDynamoDbLocal({});
      else {
        const dbDir = join(dataDir, 'dynamodb');
        await mkdir(dbDir, { recursive: true });
        dynamo = await startDynamoDbLocal({ dataDir: dbDir });
      }
      cleanups.push(() => dynamo.stop());
      endpoint = dynamo.endpoint;
    }

    let secretStore = process.env.SHOAL_SECRET_STORE;
    if (!secretStore) {
      const secretsDir = options.inMemory ? await mkdtemp(join(tmpdir(), 'shoal-secrets-')) : join(dataDir, 'secrets');
      if (options.inMemory) cleanups.push(() => rm(secretsDir, { recursive: true, force: true }));
      secretStore = `file:${secretsDir}`;
    }
    Object.assign(process.env, {
      SHOAL_TABLE_NAME: tableName,
      SHOAL_DYNAMODB_ENDPOINT: endpoint,
      SHOAL_SECRET_STORE: secretStore,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    });
    const region = process.env.AWS_REGION ?? 'us-east-1';
    const streamArn = await ensureResourceTable(createDynamoDbClient({ SHOAL_DYNAMODB_ENDPOINT: endpoint, AWS_REGION: region }), tableName);
    const streams = new DynamoDBStreamsClient({
      region,
      endpoint,
      credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local' },
    });

    cleanups.push(async () => cancelLocalRequeues());
    for (const definition of RECONCILERS as readonly ReconcilerDefinition[]) {
      const module = (await import(pathToFileURL(join(REPO_ROOT, definition.entry)).href)) as { handler: ReconcilerHandler };
      const invoke = (event: ReconcilerEvent) => module.handler(event, localLambdaContext(definition.name, definition.timeoutSeconds));
      if (definition.stream) {
        const poller = new StreamPoller({
          client: streams,
          streamArn,
          region,
          definition: definition as ReconcilerDefinition & { stream: StreamTrigger },
          invoke: invoke as never,
          logger,
          checkpointFile: options.inMemory ? undefined : join(dataDir, 'checkpoints', `${definition.name}.json`),
          deadLetterFile: join(dataDir, 'dead-letters', `${definition.name}.jsonl`),
        });
        await poller.start();
        cleanups.push(() => poller.stop());
      }
      for (const schedule of definition.schedules) {
        const everyMs = (options.scheduleIntervalSeconds ?? schedule.rateMinutes * 60) * 1000;
        let running: Promise<unknown> = Promise.resolve();
        const fire = () => {
          // Like EventBridge, a slow run does not stop the next tick; unlike it, runs do not overlap here.
          running = running
            .then(() => invoke(scheduledEvent(schedule.name)))
            .catch((error: Error) => logger.error('scheduled run failed', { schedule: schedule.name, error }));
        };
        const timer = setInterval(fire, everyMs);
        // Catch up at start-up on whatever changed while nothing was watching.
        fire();
        cleanups.push(async () => {
          clearInterval(timer);
          await running;
        });
      }
    }

    const api = (await import(pathToFileURL(join(REPO_ROOT, 'lambdas/api/handler.ts')).href)) as { handler: ApiHandler };
    const server = serveApi(api.handler, 29);
    const port = await listen(server, options.port ?? 8080);
    cleanups.push(
      () =>
        new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeAllConnections();
        }),
    );
    return { url: `http://127.0.0.1:${port}`, dynamodbEndpoint: endpoint, tableName, streamArn, dataDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
