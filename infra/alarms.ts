import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { DeadLetterQueue } from './dead-letter-queue.ts';

export interface AlarmsProps {
  /**
   * Send alarm state changes to an SNS topic this construct creates (encrypted with its
   * own KMS key: CloudWatch cannot publish to a topic under the AWS-managed SNS key).
   * @default true
   */
  readonly notify?: boolean;
  /** Subscribe this address to the topic (the recipient confirms by email). Implies `notify`. */
  readonly email?: string;
}

/**
 * What an operator is told about: any message in a dead-letter queue, any function error
 * (a thrown error or timeout, i.e. a whole batch failed, not a reported item failure),
 * a stream consumer falling behind (iterator age), any 5XX from the API. All alarms look at five-minute windows (one minute for queues)
 * and treat missing data as OK.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic | undefined;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps = {}) {
    super(scope, id);
    if ((props.notify ?? true) || props.email) {
      const key = new kms.Key(this, 'TopicKey', {
        description: 'Encrypts the Shoal alarm topic',
        enableKeyRotation: true,
        // The key protects nothing but this topic's messages in flight.
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      this.topic = new sns.Topic(this, 'Topic', { displayName: 'Shoal alarms', masterKey: key, enforceSSL: true });
      if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
  }

  /** Alarms as soon as a message waits in the queue. */
  watchDeadLetterQueue(id: string, deadLetters: DeadLetterQueue): void {
    this.add(id, {
      alarmDescription: `Messages are waiting in a dead-letter queue: ${deadLetters.purpose}.`,
      metric: deadLetters.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }

  /** Alarms on any invocation that errored (threw or timed out). */
  watchFunction(id: string, fn: lambda.IFunction, label: string): void {
    this.add(id, {
      alarmDescription: `The ${label} Lambda failed an invocation (threw or timed out); see its log group.`,
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
  }

  /**
   * Alarms when the oldest stream record the function has yet to take is older than
   * `threshold`: the reconciler is falling behind the changes (or retrying a poisoned batch).
   */
  watchIteratorAge(id: string, fn: lambda.IFunction, label: string, threshold: Duration): void {
    this.add(id, {
      alarmDescription: `The ${label} Lambda is more than ${threshold.toHumanString()} behind the resource table stream (IteratorAge).`,
      metric: fn.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: threshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }

  /** Alarms on any 5XX answer of the API. */
  watchApi(id: string, api: apigateway.RestApi): void {
    this.add(id, {
      alarmDescription: 'The Shoal API answered with a 5XX error.',
      metric: api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
  }

  private add(id: string, props: Pick<cloudwatch.AlarmProps, 'alarmDescription' | 'metric' | 'threshold' | 'comparisonOperator'>): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.topic) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
    }
    this.alarms.push(alarm);
  }
}
