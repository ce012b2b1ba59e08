import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { streamFilterPatterns, type ReconcilerDefinition, type StreamTrigger } from '../shared/reconcilers/triggers.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import type { KubeconfigSecrets } from './kubeconfig-secrets.ts';
import type { ResourceTable } from './resource-table.ts';
import { ShoalFunction } from './shoal-function.ts';

export interface ReconcilerFunctionProps {
  /** One entry of `RECONCILERS`: handler, stream trigger, sizing, secret access. */
  readonly definition: ReconcilerDefinition;
  readonly table: ResourceTable;
  readonly secrets: KubeconfigSecrets;
  /**
   * Receives of a requeue message before it moves to the requeue dead-letter queue.
   * @default 5
   */
  readonly requeueMaxReceiveCount?: number;
  /** @default one month (see ShoalFunction) */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One reconciler from `RECONCILERS`, wired the way its definition says:
 *
 * - the Lambda (`ShoalFunction`) with read/write access to the store and the secret access
 *   the definition asks for;
 * - if it has a stream trigger: a filtered DynamoDB stream event source (partial batch
 *   responses, bisect, bounded retries, the trigger's maximum record age) whose exhausted
 *   or expired batches go to a dead-letter queue;
 * - a requeue queue it consumes itself: the handler sends `{kind, namespace, name}` with
 *   `DelaySeconds` (≤ 900) to honour `requeueAfterSeconds`; messages that keep failing move
 *   to their own dead-letter queue.
 *
 * Schedules and alarms are separate concerns (`Schedules`, `Alarms`).
 */
export class ReconcilerFunction extends Construct {
  readonly definition: ReconcilerDefinition;
  readonly function: lambda.Function;
  readonly requeueQueue: sqs.Queue;
  /** Every dead-letter queue of this reconciler, to be watched by alarms. */
  readonly deadLetterQueues: DeadLetterQueue[] = [];

  constructor(scope: Construct, id: string, props: ReconcilerFunctionProps) {
    super(scope, id);
    const { definition } = props;
    this.definition = definition;
    const timeout = Duration.seconds(definition.timeoutSeconds);

    this.function = new ShoalFunction(this, 'Handler', {
      name: definition.name,
      description: definition.description.slice(0, 256),
      entry: definition.entry,
      timeout,
      memorySizeMb: definition.memorySizeMb,
      logRetention: props.logRetention,
    }).function;
    props.table.grantStore(this.function, 'rw');
    props.secrets.grantSecrets(this.function, definition.secrets);
    if (definition.aws?.includes('eks')) this.grantEksClusterManagement();

    if (definition.stream) this.consumeStream(props.table, definition.stream);

    const requeueDeadLetters = this.addDeadLetterQueue(
      'RequeueDeadLetters',
      `requeue messages of ${definition.name} that failed ${props.requeueMaxReceiveCount ?? 5} times`,
    );
    this.requeueQueue = new sqs.Queue(this, 'Requeue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Lambda needs the visibility timeout to cover a whole invocation; AWS advises six.
      visibilityTimeout: Duration.seconds(Math.min(definition.timeoutSeconds * 6, 43_200)),
      deadLetterQueue: { queue: requeueDeadLetters.queue, maxReceiveCount: props.requeueMaxReceiveCount ?? 5 },
    });
    this.requeueQueue.grantSendMessages(this.function);
    this.function.addEnvironment('SHOAL_REQUEUE_QUEUE_URL', this.requeueQueue.queueUrl);
    this.function.addEventSource(new SqsEventSource(this.requeueQueue, { batchSize: 10, reportBatchItemFailures: true }));
  }

  /**
   * What the EKS infrastructure provider calls: create, follow, reshape and delete the
   * clusters and managed node groups of this account; pass the cluster and node roles an
   * InfrastructureProvider names to EKS (and to nothing else); assume the role an
   * InfrastructureProvider names for clusters in another account.
   */
  grantEksClusterManagement(): void {
    const stack = Stack.of(this);
    const eksArn = (resource: string) => `arn:${stack.partition}:eks:*:${stack.account}:${resource}`;
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['eks:CreateCluster', 'eks:DescribeCluster', 'eks:DeleteCluster', 'eks:UpdateClusterVersion', 'eks:CreateNodegroup', 'eks:ListNodegroups', 'eks:TagResource'],
        resources: [eksArn('cluster/*')],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['eks:DescribeNodegroup', 'eks:UpdateNodegroupConfig', 'eks:UpdateNodegroupVersion', 'eks:DeleteNodegroup', 'eks:TagResource'],
        resources: [eksArn('nodegroup/*/*/*')],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [`arn:${stack.partition}:iam::${stack.account}:role/*`],
        conditions: { StringEquals: { 'iam:PassedToService': 'eks.amazonaws.com' } },
      }),
    );
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [`arn:${stack.partition}:iam::*:role/*`] }));
    NagSuppressions.addResourceSuppressions(
      this.function,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Clusters are created at run time from InfrastructureProvider objects, so their names, node groups and roles are only known then: ' +
            'EKS access is limited to this account, iam:PassRole to roles of this account passed to EKS only, ' +
            'sts:AssumeRole to the roles InfrastructureProviders name (their trust policies decide).',
          appliesTo: [
            // The partition and account are tokens, or literals when the stack's env names them.
            { regex: '/^Resource::arn:(<AWS::Partition>|[\\w-]+):eks:\\*:(<AWS::AccountId>|\\d+):(cluster\\/\\*|nodegroup\\/\\*\\/\\*\\/\\*)$/g' },
            { regex: '/^Resource::arn:(<AWS::Partition>|[\\w-]+):iam::(<AWS::AccountId>|\\d+|\\*):role\\/\\*$/g' },
          ],
        },
      ],
      true,
    );
  }

  private consumeStream(table: ResourceTable, trigger: StreamTrigger): void {
    const streamDeadLetters = this.addDeadLetterQueue(
      'StreamDeadLetters',
      `stream batches ${this.definition.name} failed ${trigger.maximumRetryAttempts + 1} times${trigger.maximumRecordAgeSeconds === undefined ? '' : ` or that grew older than ${trigger.maximumRecordAgeSeconds} s`} (records describe the shard and sequence range)`,
    );
    this.function.addEventSource(
      new DynamoEventSource(table.table, {
        filters: streamFilterPatterns(trigger).map((pattern) => lambda.FilterCriteria.filter(pattern)),
        startingPosition: lambda.StartingPosition[trigger.startingPosition],
        batchSize: trigger.batchSize,
        maxBatchingWindow: Duration.seconds(trigger.maximumBatchingWindowSeconds),
        retryAttempts: trigger.maximumRetryAttempts,
        bisectBatchOnError: trigger.bisectBatchOnFunctionError,
        maxRecordAge: trigger.maximumRecordAgeSeconds === undefined ? undefined : Duration.seconds(trigger.maximumRecordAgeSeconds),
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(streamDeadLetters.queue),
      }),
    );
    NagSuppressions.addResourceSuppressions(
      this.function,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'dynamodb:ListStreams cannot be scoped to a resource; the stream read actions themselves are limited to this table\'s stream.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }

  private addDeadLetterQueue(id: string, purpose: string): DeadLetterQueue {
    const deadLetters = new DeadLetterQueue(this, id, { purpose });
    this.deadLetterQueues.push(deadLetters);
    return deadLetters;
  }
}
