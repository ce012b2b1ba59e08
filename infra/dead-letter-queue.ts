import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** What lands here, for the console and the alarm description. */
  readonly purpose: string;
}

/**
 * Where something Shoal gave up on waits for a human: an SQS queue with SQS-managed
 * encryption, TLS-only access and the longest retention SQS allows (14 days).
 */
export class DeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly purpose: string;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.purpose = props.purpose;
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    NagSuppressions.addResourceSuppressions(this.queue, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue; its backlog raises an alarm instead.' },
    ]);
  }
}
