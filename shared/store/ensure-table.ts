import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { RESOURCE_TABLE } from './table.ts';

const { ownedIndex } = RESOURCE_TABLE;
const OWNED_INDEX: GlobalSecondaryIndex = {
  IndexName: ownedIndex.name,
  KeySchema: [
    { AttributeName: ownedIndex.partitionKey, KeyType: 'HASH' },
    { AttributeName: ownedIndex.sortKey, KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'ALL' },
};

/**
 * Adds the owned-objects index to a table made before it existed (a `.shoal` state
 * directory of an earlier version), and waits until it can be queried.
 */
async function ensureOwnedIndex(client: DynamoDBClient, tableName: string, table: TableDescription | undefined): Promise<void> {
  const status = () => table?.GlobalSecondaryIndexes?.find((index) => index.IndexName === ownedIndex.name)?.IndexStatus;
  if (!status()) {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: ownedIndex.partitionKey, AttributeType: 'S' },
          { AttributeName: ownedIndex.sortKey, AttributeType: 'S' },
        ],
        GlobalSecondaryIndexUpdates: [{ Create: OWNED_INDEX }],
      }),
    );
  }
  for (let waited = 0; status() !== 'ACTIVE'; waited += 1) {
    if (waited > 120) throw new Error(`the index ${ownedIndex.name} of table ${tableName} did not become ACTIVE within two minutes`);
    await sleep(1000);
    table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  }
}

/**
 * Creates the resource table (with its stream and the owned-objects index) where it does
 * not exist yet: the local runtime's and LocalStack's equivalent of the CDK
 * `ResourceTable` construct. Returns the stream ARN.
 */
export async function ensureResourceTable(client: DynamoDBClient, tableName: string): Promise<string> {
  const describe = async () => (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  let table;
  try {
    table = await describe();
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: RESOURCE_TABLE.partitionKey, AttributeType: 'S' },
            { AttributeName: RESOURCE_TABLE.sortKey, AttributeType: 'S' },
            { AttributeName: ownedIndex.partitionKey, AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: RESOURCE_TABLE.partitionKey, KeyType: 'HASH' },
            { AttributeName: RESOURCE_TABLE.sortKey, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: [OWNED_INDEX],
          StreamSpecification: { StreamEnabled: true, StreamViewType: RESOURCE_TABLE.streamViewType },
        }),
      );
    } catch (createError) {
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
    await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
    table = await describe();
  }
  await ensureOwnedIndex(client, tableName, table);
  const streamArn = table?.LatestStreamArn;
  if (!streamArn || table?.StreamSpecification?.StreamViewType !== RESOURCE_TABLE.streamViewType) {
    throw new Error(`table ${tableName} exists but has no ${RESOURCE_TABLE.streamViewType} stream; Shoal's reconcilers need one`);
  }
  return streamArn;
}
