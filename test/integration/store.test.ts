import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { AlreadyExistsError, ConflictError, NotFoundError, TooLargeError } from '../../shared/errors.ts';
import { parseSelector } from '../../shared/resources/selector.ts';
import { createDynamoDbClient } from '../../shared/store/dynamodb.ts';
import { ensureResourceTable } from '../../shared/store/ensure-table.ts';
import type { ResourceInput, ResourceStore } from '../../shared/store/resource-store.ts';
import { freshStore } from './support/dynamodb.ts';

let store: ResourceStore;

beforeAll(async () => {
  ({ store } = await freshStore('store'));
});

function metric(name: string, namespace = 'default', labels?: Record<string, string>): ResourceInput & { metadata: { namespace: string } } {
  return {
    apiVersion: 'shoal.io/v1alpha1',
    kind: 'Metric',
    metadata: { name, namespace, labels },
    spec: { min: 0, max: 1, provider: { name: 'prom', metric: name } },
  };
}

describe('ResourceStore on DynamoDB Local', () => {
  it('creates with server-owned metadata and refuses a second create', async () => {
    // Act
    const created = await store.create(metric('load'));
    // Assess
    expect(created.metadata).toMatchObject({ name: 'load', namespace: 'default', resourceVersion: '1', generation: 1 });
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await store.get({ kind: 'Metric', namespace: 'default', name: 'load' })).toEqual(created);
    await expect(store.create(metric('load'))).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it('lists per namespace and across namespaces, with every selector operator', async () => {
    // Prepare
    await store.create(metric('a', 'team-a', { env: 'prod', tier: 'web' }));
    await store.create(metric('b', 'team-a', { env: 'staging' }));
    await store.create(metric('c', 'team-b', { env: 'prod', legacy: 'yes' }));
    const names = async (namespace: string | undefined, selector?: string) =>
      (await store.list({ kind: 'Metric', namespace, selector: selector ? parseSelector(selector) : undefined })).items
        .map((item) => item.metadata.name)
        .sort();
    // Act + Assess
    expect(await names('team-a')).toEqual(['a', 'b']);
    expect(await names(undefined, 'env')).toEqual(['a', 'b', 'c']);
    expect(await names(undefined, 'env=prod')).toEqual(['a', 'c']);
    expect(await names(undefined, 'env!=prod')).toEqual(['b', 'load']);
    expect(await names(undefined, 'env in (staging, dev)')).toEqual(['b']);
    expect(await names(undefined, 'env notin (prod)')).toEqual(['b', 'load']);
    expect(await names(undefined, 'env,!legacy')).toEqual(['a', 'b']);
  });

  it('paginates with continue tokens, also when a selector filters', async () => {
    // Prepare
    for (let i = 0; i < 7; i++) await store.create(metric(`p${i}`, 'paging', { odd: String(i % 2) }));
    // Act
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ kind: 'Metric', namespace: 'paging', selector: parseSelector('odd=0'), limit: 2, continueToken: token });
      seen.push(...page.items.map((item) => item.metadata.name));
      token = page.continueToken;
      pages++;
    } while (token);
    // Assess
    expect(seen).toEqual(['p0', 'p2', 'p4', 'p6']);
    expect(pages).toBe(2);
  });

  it('guards updates with resourceVersion and bumps generation only on spec changes', async () => {
    // Prepare
    const created = await store.create(metric('guarded'));
    // Act
    const relabelled = await store.update({ ...created, metadata: { ...created.metadata, labels: { a: 'b' } } });
    const respecced = await store.update({ ...metric('guarded'), spec: { min: 0, max: 2, provider: { name: 'p', metric: 'm' } } });
    // Assess
    expect(relabelled.removed).toBe(false);
    if (relabelled.removed || respecced.removed) throw new Error('unexpected removal');
    expect(relabelled.resource.metadata).toMatchObject({ resourceVersion: '2', generation: 1 });
    expect(respecced.resource.metadata).toMatchObject({ resourceVersion: '3', generation: 2 });
    await expect(store.update({ ...created, metadata: { ...created.metadata, labels: { x: 'y' } } })).rejects.toBeInstanceOf(ConflictError);
  });

  it('leaves resourceVersion alone when an update changes nothing', async () => {
    // Prepare
    const created = await store.create(metric('same'));
    // Act
    const outcome = await store.update(metric('same'));
    // Assess
    expect(outcome).toEqual({ removed: false, resource: created });
  });

  it('lets exactly one of two racing writers win', async () => {
    // Prepare
    const created = await store.create(metric('raced'));
    const write = (value: string) => store.update({ ...created, metadata: { ...created.metadata, labels: { writer: value } } });
    // Act
    const results = await Promise.allSettled([write('one'), write('two')]);
    // Assess
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result) => result.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const stored = await store.get({ kind: 'Metric', namespace: 'default', name: 'raced' });
    expect(stored?.metadata.resourceVersion).toBe('2');
  });

  it('writes status without touching generation or spec', async () => {
    // Prepare
    const created = await store.create(metric('statused'));
    // Act
    const updated = await store.updateStatus({ kind: 'Metric', namespace: 'default', name: 'statused' }, { conditions: [] }, '1');
    // Assess
    expect(updated.metadata).toMatchObject({ generation: 1, resourceVersion: '2' });
    expect(updated.spec).toEqual(created.spec);
    expect(updated.status).toEqual({ conditions: [] });
    await expect(store.updateStatus({ kind: 'Metric', namespace: 'default', name: 'statused' }, {}, '1')).rejects.toBeInstanceOf(ConflictError);
  });

  it('deletes through finalizers: marks first, removes when the last finalizer goes', async () => {
    // Prepare
    const created = await store.create({ ...metric('final'), metadata: { name: 'final', namespace: 'default', finalizers: ['x/y'] } });
    const key = { kind: 'Metric' as const, namespace: 'default', name: 'final' };
    // Act
    const marked = await store.delete(key);
    const again = await store.delete(key);
    // Assess
    if (marked.removed || again.removed) throw new Error('removed despite a finalizer');
    expect(marked.resource.metadata.deletionTimestamp).toBeDefined();
    expect(marked.resource.metadata.generation).toBe(created.metadata.generation + 1);
    expect(again.resource.metadata.resourceVersion).toBe(marked.resource.metadata.resourceVersion);
    // Act: the finalizer's owner lets go
    const released = await store.update({ ...marked.resource, metadata: { ...marked.resource.metadata, finalizers: [] } });
    // Assess
    expect(released.removed).toBe(true);
    expect(await store.get(key)).toBeUndefined();
    await expect(store.delete(key)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses an item over 400 KiB with a clear error and writes nothing', async () => {
    // Prepare
    const huge = { ...metric('huge'), spec: { min: 0, max: 1, provider: { name: 'p', metric: 'x'.repeat(420 * 1024) } } };
    // Act + Assess
    await expect(store.create(huge)).rejects.toThrow(TooLargeError);
    await expect(store.create(huge)).rejects.toThrow(/limit is 400 KiB/);
    expect(await store.get({ kind: 'Metric', namespace: 'default', name: 'huge' })).toBeUndefined();
  });

  it('indexes only objects with owner references, per namespace, and follows them as references come and go', async () => {
    // Prepare
    const owner = await store.create(metric('owner', 'owned-a'));
    const ref = { apiVersion: 'shoal.io/v1alpha1', kind: 'Metric', name: 'owner', uid: owner.metadata.uid };
    const child = await store.create({ ...metric('child', 'owned-a'), metadata: { name: 'child', namespace: 'owned-a', ownerReferences: [ref] } });
    await store.create({ ...metric('child', 'owned-b'), metadata: { name: 'child', namespace: 'owned-b', ownerReferences: [ref] } });
    const owned = async (namespace: string) => (await store.listOwned(namespace)).map((object) => `${object.kind}/${object.metadata.name}`);
    // Act / Assess: index reads are eventually consistent
    await expect.poll(() => owned('owned-a')).toEqual(['Metric/child']);
    await expect.poll(() => owned('owned-b')).toEqual(['Metric/child']);
    await store.update({ ...child, metadata: { ...child.metadata, ownerReferences: undefined } });
    await expect.poll(() => owned('owned-a')).toEqual([]);
  });
});

describe('ensureResourceTable', () => {
  it('adds the owned-objects index to a table made without it, and is a no-op afterwards', async () => {
    // Prepare: a table as an earlier version created it
    const client = createDynamoDbClient({ SHOAL_DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'), AWS_REGION: 'us-east-1' });
    const tableName = `legacy-${randomUUID().slice(0, 8)}`;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    // Act
    const first = await ensureResourceTable(client, tableName);
    const second = await ensureResourceTable(client, tableName);
    // Assess
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.IndexStatus])).toEqual([['owned', 'ACTIVE']]);
    expect(second).toBe(first);
  });
});
