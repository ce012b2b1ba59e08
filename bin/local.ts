import { parseArgs } from 'node:util';
import { startControlPlane } from '../shared/local/control-plane.ts';
import { JavaMissingError } from '../shared/local/dynamodb-local.ts';

const { values } = parseArgs({
  options: {
    'in-memory': { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    'schedule-seconds': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm start [-- --in-memory] [--data-dir DIR] [--port N] [--schedule-seconds N]

Runs Shoal's control plane on this machine: DynamoDB Local (Java 17+), the REST API on
http://127.0.0.1:8080, the reconcilers fed by the table's stream, and the schedules.
--schedule-seconds runs every schedule (probes, placement re-evaluation, resync) at that
interval instead of the rates in shared/reconcilers/triggers.ts (1 minute).
Environment: PORT, SHOAL_DYNAMODB_ENDPOINT (use another DynamoDB), SHOAL_TABLE_NAME,
SHOAL_PLACEMENT_STABLE_SECONDS (default 300).`);
  process.exit(0);
}

const scheduleSeconds = values['schedule-seconds'] === undefined ? undefined : Number(values['schedule-seconds']);
if (scheduleSeconds !== undefined && !(Number.isInteger(scheduleSeconds) && scheduleSeconds > 0)) {
  console.error(`--schedule-seconds must be a positive integer, got "${values['schedule-seconds']}"`);
  process.exit(2);
}

try {
  const controlPlane = await startControlPlane({
    scheduleIntervalSeconds: scheduleSeconds,
    port: Number(values.port ?? process.env.PORT ?? 8080),
    inMemory: values['in-memory'],
    dataDir: values['data-dir'],
  });
  console.log(`Shoal API listening on ${controlPlane.url}`);
  console.log(`DynamoDB: ${controlPlane.dynamodbEndpoint} (table ${controlPlane.tableName})${values['in-memory'] ? ', in memory' : `, data in ${controlPlane.dataDir}`}`);
  console.log('Press Ctrl-C to stop.');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    controlPlane.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  console.error(error instanceof JavaMissingError ? error.message : `cannot start Shoal: ${(error as Error).message}`);
  process.exit(1);
}
