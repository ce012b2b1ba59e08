/**
 * The one table's shape, shared by the CDK construct, the local runtime and the store,
 * so they cannot disagree.
 *
 * One item per resource: partition key = kind, sort key = `namespace/name`. Listing a
 * kind (in one namespace or all) is a single Query; the stream's `Keys.pk` names the
 * kind, which is what the reconcilers' event filters match on.
 */
export const RESOURCE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  streamViewType: 'NEW_AND_OLD_IMAGES',
  /**
   * A sparse index of the objects that have owner references, by namespace: only those
   * items carry `ownedIn`. The garbage collector finds an owner's dependents with one
   * Query of it instead of reading the whole namespace.
   */
  ownedIndex: { name: 'owned', partitionKey: 'ownedIn', sortKey: 'sk' },
} as const;

/** DynamoDB's hard item-size limit. */
export const MAX_ITEM_BYTES = 400 * 1024;

export function itemKey(kind: string, namespace: string, name: string) {
  return { [RESOURCE_TABLE.partitionKey]: kind, [RESOURCE_TABLE.sortKey]: `${namespace}/${name}` };
}
