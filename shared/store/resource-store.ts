import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { AlreadyExistsError, BadRequestError, ConflictError, NotFoundError, TooLargeError } from '../errors.ts';
import type { Kind, ResourceKey } from '../resources/kinds.ts';
import type { ObjectMeta } from '../resources/meta.ts';
import { matchesSelector, type Requirement } from '../resources/selector.ts';
import { kubeTimestamp, sameJson } from '../resources/values.ts';
import { itemKey, MAX_ITEM_BYTES, RESOURCE_TABLE } from './table.ts';

/** A resource as the store keeps it: the envelope with server-owned metadata filled in. */
export interface StoredResource {
  apiVersion: string;
  kind: Kind;
  metadata: ObjectMeta & { name: string; namespace: string; uid: string; resourceVersion: string; generation: number };
  spec: unknown;
  status?: unknown;
}

/** What a client may send: server-owned metadata is optional and ignored. */
export interface ResourceInput {
  apiVersion: string;
  kind: Kind;
  metadata: ObjectMeta & { name: string };
  spec: unknown;
  status?: unknown;
}

export interface ListOptions {
  kind: Kind;
  /** Omit to list across every namespace. */
  namespace?: string;
  selector?: readonly Requirement[];
  limit?: number;
  continueToken?: string;
}

export interface ListResult {
  items: StoredResource[];
  continueToken?: string;
}

export type DeleteOutcome = { removed: true; last: StoredResource } | { removed: false; resource: StoredResource };

/**
 * The resource itself is kept as its JSON text: that preserves the order of every field
 * users wrote (DynamoDB maps do not) and is free of DynamoDB's 32-level nesting limit,
 * which deep manifests such as CRD schemas can exceed. The other attributes are there
 * for conditions and for stream filters.
 */
interface Item {
  pk: string;
  sk: string;
  rv: number;
  generation: number;
  deleting: boolean;
  /** The namespace, only on objects with owner references: the key of the sparse owned-objects index. */
  ownedIn?: string;
  resource: string;
}

const resourceOf = (item: Item): StoredResource => JSON.parse(item.resource) as StoredResource;

function describe(key: ResourceKey) {
  return `${key.kind} "${key.namespace}/${key.name}"`;
}

/** Encodes a DynamoDB position as an opaque kubectl-style `continue` token. */
function encodeContinue(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeContinue(token: string, kind: Kind): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (key[RESOURCE_TABLE.partitionKey] === kind && typeof key[RESOURCE_TABLE.sortKey] === 'string') return key;
  } catch {
    // fall through
  }
  throw new BadRequestError('invalid continue token: pass back the value of metadata.continue from the previous list');
}

/**
 * Kubernetes-style object storage on one DynamoDB table. Every write is a single
 * conditional item write, so a write either happens whole or not at all, and a stale
 * `resourceVersion` is a 409 instead of a lost update.
 */
export class ResourceStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async get(key: ResourceKey): Promise<StoredResource | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: itemKey(key.kind, key.namespace, key.name), ConsistentRead: true }),
    );
    const item = result.Item as Item | undefined;
    return item ? resourceOf(item) : undefined;
  }

  async mustGet(key: ResourceKey): Promise<StoredResource> {
    const resource = await this.get(key);
    if (!resource) throw new NotFoundError(`${describe(key)} not found`);
    return resource;
  }

  async list(options: ListOptions): Promise<ListResult> {
    const limit = options.limit && options.limit > 0 ? options.limit : undefined;
    const items: StoredResource[] = [];
    let startKey = options.continueToken ? decodeContinue(options.continueToken, options.kind) : undefined;
    for (;;) {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: options.namespace ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
        ExpressionAttributeNames: options.namespace ? { '#pk': 'pk', '#sk': 'sk' } : { '#pk': 'pk' },
        ExpressionAttributeValues: options.namespace
          ? { ':pk': options.kind, ':prefix': `${options.namespace}/` }
          : { ':pk': options.kind },
        ExclusiveStartKey: startKey,
        Limit: limit ? Math.max(limit, 50) : undefined,
      };
      const page = await this.client.send(new QueryCommand(input));
      const pageItems = (page.Items ?? []) as Item[];
      for (const [index, item] of pageItems.entries()) {
        const resource = resourceOf(item);
        if (options.selector && !matchesSelector(options.selector, resource.metadata.labels)) continue;
        items.push(resource);
        if (limit && items.length === limit) {
          const more = index < pageItems.length - 1 || page.LastEvaluatedKey !== undefined;
          return more ? { items, continueToken: encodeContinue({ pk: item.pk, sk: item.sk }) } : { items };
        }
      }
      if (!page.LastEvaluatedKey) return { items };
      startKey = page.LastEvaluatedKey;
    }
  }

  /**
   * Every object of the namespace that has owner references, of any kind, from the sparse
   * owned-objects index. Index reads are eventually consistent: an object written a moment
   * ago may be missing, which the garbage collector's level-triggered passes absorb.
   */
  async listOwned(namespace: string): Promise<StoredResource[]> {
    const { name, partitionKey } = RESOURCE_TABLE.ownedIndex;
    const items: StoredResource[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: name,
          KeyConditionExpression: '#owned = :namespace',
          ExpressionAttributeNames: { '#owned': partitionKey },
          ExpressionAttributeValues: { ':namespace': namespace },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((page.Items ?? []) as Item[]).map(resourceOf));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * Where objects of `kind` with these uids live (uid → namespace), across every
   * namespace: one Query of the kind. For owner references that do not resolve where
   * they are, which is rare; nothing indexes uids.
   */
  async namespacesOf(kind: Kind, uids: ReadonlySet<string>): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const object of (await this.list({ kind })).items) {
      if (uids.has(object.metadata.uid)) found.set(object.metadata.uid, object.metadata.namespace);
    }
    return found;
  }

  /** Creates a resource; 409 AlreadyExists if one with the same kind/namespace/name exists. */
  async create(input: ResourceInput & { metadata: { namespace: string } }): Promise<StoredResource> {
    const resource: StoredResource = {
      apiVersion: input.apiVersion,
      kind: input.kind,
      metadata: {
        ...input.metadata,
        namespace: input.metadata.namespace,
        uid: randomUUID(),
        resourceVersion: '1',
        generation: 1,
        creationTimestamp: kubeTimestamp(),
        deletionTimestamp: undefined,
      },
      spec: input.spec,
      status: input.status,
    };
    try {
      await this.put(resource, 'attribute_not_exists(pk)');
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new AlreadyExistsError(`${describe(keyOf(resource))} already exists`);
      }
      throw error;
    }
    return resource;
  }

  /**
   * Replaces metadata (labels, annotations, finalizers, owner references) and spec,
   * keeping status. `generation` moves only when spec changes or deletion starts. When
   * the object is being deleted and its last finalizer goes, the item is removed.
   */
  async update(input: ResourceInput & { metadata: { namespace: string } }): Promise<DeleteOutcome> {
    const key = keyOf(input);
    const current = await this.mustGet(key);
    this.checkVersion(key, current, input.metadata.resourceVersion);
    const specChanged = !sameJson(current.spec, input.spec);
    const next: StoredResource = {
      ...current,
      metadata: {
        ...current.metadata,
        labels: input.metadata.labels,
        annotations: input.metadata.annotations,
        finalizers: input.metadata.finalizers,
        ownerReferences: input.metadata.ownerReferences,
        generation: current.metadata.generation + (specChanged ? 1 : 0),
      },
      spec: input.spec,
    };
    if (sameJson(next, current)) return { removed: false, resource: current };
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      await this.remove(current);
      return { removed: true, last: next };
    }
    return { removed: false, resource: await this.replace(current, next) };
  }

  /** Writes the status subresource: nothing else changes, `generation` does not move. */
  async updateStatus(key: ResourceKey, status: unknown, expectedResourceVersion?: string): Promise<StoredResource> {
    const current = await this.mustGet(key);
    this.checkVersion(key, current, expectedResourceVersion);
    return this.replace(current, { ...current, status });
  }

  /**
   * Kubernetes deletion: with finalizers (those the object has, plus `finalizers` a
   * deletion starts with) the object only gets a `deletionTimestamp` (and a new
   * generation) and waits for its finalizers to go; without, it is removed. A second
   * delete of an object already being deleted changes nothing: the first one's
   * finalizers decide.
   */
  async delete(key: ResourceKey, options: { resourceVersion?: string; finalizers?: readonly string[] } = {}): Promise<DeleteOutcome> {
    const current = await this.mustGet(key);
    this.checkVersion(key, current, options.resourceVersion);
    if (current.metadata.deletionTimestamp) return { removed: false, resource: current };
    const finalizers = [...(current.metadata.finalizers ?? [])];
    for (const finalizer of options.finalizers ?? []) if (!finalizers.includes(finalizer)) finalizers.push(finalizer);
    if (finalizers.length === 0) {
      await this.remove(current);
      return { removed: true, last: current };
    }
    const next: StoredResource = {
      ...current,
      metadata: { ...current.metadata, finalizers, deletionTimestamp: kubeTimestamp(), generation: current.metadata.generation + 1 },
    };
    return { removed: false, resource: await this.replace(current, next) };
  }

  private checkVersion(key: ResourceKey, current: StoredResource, expected: string | undefined) {
    if (expected !== undefined && expected !== current.metadata.resourceVersion) {
      throw new ConflictError(
        `${describe(key)} was modified (resourceVersion ${current.metadata.resourceVersion}, request had ${expected}): read it again and retry`,
      );
    }
  }

  private async replace(current: StoredResource, next: StoredResource): Promise<StoredResource> {
    const rv = Number(current.metadata.resourceVersion);
    const written: StoredResource = { ...next, metadata: { ...next.metadata, resourceVersion: String(rv + 1) } };
    try {
      await this.put(written, '#rv = :expected', { ':expected': rv });
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`${describe(keyOf(current))} was modified concurrently: read it again and retry`);
      }
      throw error;
    }
    return written;
  }

  private async remove(current: StoredResource): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: itemKey(current.kind, current.metadata.namespace, current.metadata.name),
          ConditionExpression: '#rv = :expected',
          ExpressionAttributeNames: { '#rv': 'rv' },
          ExpressionAttributeValues: { ':expected': Number(current.metadata.resourceVersion) },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`${describe(keyOf(current))} was modified concurrently: read it again and retry`);
      }
      throw error;
    }
  }

  private async put(resource: StoredResource, condition: string, values?: Record<string, unknown>): Promise<void> {
    const item: Item = {
      ...(itemKey(resource.kind, resource.metadata.namespace, resource.metadata.name) as { pk: string; sk: string }),
      rv: Number(resource.metadata.resourceVersion),
      generation: resource.metadata.generation,
      deleting: Boolean(resource.metadata.deletionTimestamp),
      ...(resource.metadata.ownerReferences?.length ? { [RESOURCE_TABLE.ownedIndex.partitionKey]: resource.metadata.namespace } : {}),
      resource: JSON.stringify(resource),
    };
    const size = Buffer.byteLength(JSON.stringify(item));
    if (size > MAX_ITEM_BYTES) throw tooLarge(resource, size);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: condition.includes('#rv') ? { '#rv': 'rv' } : undefined,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      // Our estimate is close to, not exactly, DynamoDB's own accounting.
      if ((error as Error).name === 'ValidationException' && /item size/i.test((error as Error).message)) {
        throw tooLarge(resource, size);
      }
      throw error;
    }
  }
}

function tooLarge(resource: StoredResource, size: number) {
  return new TooLargeError(
    `${describe(keyOf(resource))} is ${Math.ceil(size / 1024)} KiB stored; the limit is ${MAX_ITEM_BYTES / 1024} KiB per resource. ` +
      'Split the manifests into several applications or move large data out of the spec.',
  );
}

export function keyOf(resource: { kind: Kind; metadata: { namespace?: string; name: string } }): ResourceKey {
  return { kind: resource.kind, namespace: resource.metadata.namespace ?? 'default', name: resource.metadata.name };
}
