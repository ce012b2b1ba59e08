import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ShoalConfig } from '../config.ts';

/**
 * Where kubeconfigs live. Never the resource table: a secret goes in here and only a
 * reference to it is stored with the Cluster, so no GET or list can return it.
 */
export interface SecretStore {
  put(id: string, value: string): Promise<void>;
  get(id: string): Promise<string | undefined>;
  /** Idempotent: deleting a missing secret is not an error. */
  delete(id: string): Promise<void>;
}

/** One machine: one 0600 file per secret in a 0700 directory. */
export class FileSecretStore implements SecretStore {
  constructor(private readonly dir: string) {}

  private path(id: string) {
    return join(this.dir, encodeURIComponent(id));
  }

  async put(id: string, value: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    const target = this.path(id);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, value, { mode: 0o600 });
    await rename(temporary, target);
  }

  async get(id: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(id), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }
}

/** AWS: one Secrets Manager secret per kubeconfig. */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
  ) {}

  async put(id: string, value: string): Promise<void> {
    const name = this.prefix + id;
    try {
      await this.client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
    }
  }

  async get(id: string): Promise<string | undefined> {
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: this.prefix + id }));
      return result.SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: this.prefix + id, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}

export function createSecretStore(config: Pick<ShoalConfig, 'SHOAL_SECRET_STORE' | 'SHOAL_SECRET_PREFIX' | 'AWS_REGION'>): SecretStore {
  const setting = config.SHOAL_SECRET_STORE;
  if (setting.startsWith('file:')) return new FileSecretStore(setting.slice('file:'.length));
  if (setting === 'secretsmanager') {
    return new SecretsManagerSecretStore(new SecretsManagerClient({ region: config.AWS_REGION }), config.SHOAL_SECRET_PREFIX);
  }
  throw new Error(`SHOAL_SECRET_STORE must be "secretsmanager" or "file:<dir>", got "${setting}"`);
}
