import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createDocumentClient, createDynamoDbClient } from '../../../shared/store/dynamodb.ts';
import { ensureResourceTable } from '../../../shared/store/ensure-table.ts';
import { ResourceStore } from '../../../shared/store/resource-store.ts';

/** A fresh table (with its stream) in the control plane's DynamoDB Local, so test files never see each other's data. */
export async function freshStore(prefix: string) {
  const config = { SHOAL_DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'), AWS_REGION: 'us-east-1' };
  const client = createDynamoDbClient(config);
  const tableName = `${prefix}-${randomUUID().slice(0, 8)}`;
  const streamArn = await ensureResourceTable(client, tableName);
  return { client, tableName, streamArn, store: new ResourceStore(createDocumentClient(client), tableName) };
}
