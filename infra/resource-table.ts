import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { RESOURCE_TABLE } from '../shared/store/table.ts';

export interface ResourceTableProps {
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.RETAIN — the table is the whole control-plane state; with RETAIN
   * deletion protection is on as well, so neither `cdk destroy` nor a replacement drops it.
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** How much of the store a function may touch: read-only, or read and write. */
export type StoreAccess = 'r' | 'rw';

/**
 * The one DynamoDB table holding every Shoal resource (shape from `RESOURCE_TABLE`).
 *
 * Defaults: on-demand billing, stream with new and old images (the reconcilers' trigger),
 * point-in-time recovery, AWS-managed KMS encryption. A sparse global secondary index of
 * the objects with owner references serves the garbage collector.
 */
export class ResourceTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ResourceTableProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: RESOURCE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: RESOURCE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType[RESOURCE_TABLE.streamViewType],
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    const { ownedIndex } = RESOURCE_TABLE;
    this.table.addGlobalSecondaryIndex({
      indexName: ownedIndex.name,
      partitionKey: { name: ownedIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ownedIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** Lets `fn` use the store: grants data access and tells it the table's name (`SHOAL_TABLE_NAME`). */
  grantStore(fn: lambda.Function, access: StoreAccess): void {
    if (access === 'rw') this.table.grantReadWriteData(fn);
    else this.table.grantReadData(fn);
    fn.addEnvironment('SHOAL_TABLE_NAME', this.table.tableName);
    if (fn.role) {
      NagSuppressions.addResourceSuppressions(
        fn.role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: "The grant covers this table's indexes (`<table>/index/*`): the owned-objects index is queried by the garbage collector, nothing else is indexed.",
            appliesTo: [{ regex: `/^Resource::<${this.node.id}Table[0-9A-F]{8}\\.Arn>\\/index\\/\\*$/g` }],
          },
        ],
        true,
      );
    }
  }
}
