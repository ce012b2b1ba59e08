import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { RESOURCE_TABLE } from './table.ts';

/**
 * Creates the resource table (with its stream) where it does not exist yet: the local
 * runtime's and LocalStack's equivalent of the CDK `ResourceTable` construct.
 * Returns the stream ARN.
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
          ],
          KeySchema: [
            { AttributeName: RESOURCE_TABLE.partitionKey, KeyType: 'HASH' },
            { AttributeName: RESOURCE_TABLE.sortKey, KeyType: 'RANGE' },
          ],
          StreamSpecification: { StreamEnabled: true, StreamViewType: RESOURCE_TABLE.streamViewType },
        }),
      );
    } catch (createError) {
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
    await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
    table = await describe();
  }
  const streamArn = table?.LatestStreamArn;
  if (!streamArn || table?.StreamSpecification?.StreamViewType !== RESOURCE_TABLE.streamViewType) {
    throw new Error(`table ${tableName} exists but has no ${RESOURCE_TABLE.streamViewType} stream; Shoal's reconcilers need one`);
  }
  return streamArn;
}
