import { loadConfig, type ShoalConfig } from './config.ts';
import { createSecretStore, type SecretStore } from './secrets/secret-store.ts';
import { createDocumentClient, createDynamoDbClient } from './store/dynamodb.ts';
import { ResourceStore } from './store/resource-store.ts';

export interface Dependencies {
  config: ShoalConfig;
  store: ResourceStore;
  secrets: SecretStore;
}

/** Built once per Lambda container (module scope), from the environment the stack sets. */
export function createDependencies(config: ShoalConfig = loadConfig()): Dependencies {
  const client = createDocumentClient(createDynamoDbClient(config));
  return { config, store: new ResourceStore(client, config.SHOAL_TABLE_NAME), secrets: createSecretStore(config) };
}
