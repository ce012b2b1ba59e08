import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ShoalConfig } from '../config.ts';

export function createDynamoDbClient(config: Pick<ShoalConfig, 'SHOAL_DYNAMODB_ENDPOINT' | 'AWS_REGION'>): DynamoDBClient {
  const endpoint = config.SHOAL_DYNAMODB_ENDPOINT;
  return new DynamoDBClient({
    region: config.AWS_REGION,
    ...(endpoint
      ? {
          endpoint,
          // DynamoDB Local and LocalStack accept any credentials; AWS uses the default chain.
          credentials: {
            accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
            secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
          },
        }
      : {}),
  });
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
