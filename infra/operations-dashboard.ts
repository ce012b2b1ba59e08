import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { DeadLetterQueue } from './dead-letter-queue.ts';
import type { ReconcilerFunction } from './reconciler-function.ts';

export interface OperationsDashboardProps {
  /** @default a name CloudFormation generates */
  readonly dashboardName?: string;
}

const PERIOD = Duration.minutes(5);
const WIDTH = 8;

/**
 * One CloudWatch dashboard for the whole control plane: the depth of every dead-letter
 * queue on top, then the API (requests, 4XX, 5XX, latency), then one row per reconciler
 * (invocations and errors, duration, stream iterator age). Rows appear in the order the
 * stack adds them.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  private readonly deadLetterDepths: cloudwatch.GraphWidget;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps = {}) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.deadLetterDepths = new cloudwatch.GraphWidget({
      title: 'Dead-letter queues: messages waiting',
      width: 24,
      stacked: true,
      leftYAxis: { min: 0 },
    });
    this.dashboard.addWidgets(this.deadLetterDepths);
  }

  addDeadLetterQueue(label: string, deadLetters: DeadLetterQueue): void {
    this.deadLetterDepths.addLeftMetric(
      deadLetters.queue.metricApproximateNumberOfMessagesVisible({ label, period: Duration.minutes(1), statistic: 'Maximum' }),
    );
  }

  addApi(api: apigateway.RestApi): void {
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests',
        width: 2 * WIDTH,
        left: [
          api.metricCount({ label: 'requests', period: PERIOD, statistic: 'Sum' }),
          api.metricClientError({ label: '4XX', period: PERIOD, statistic: 'Sum' }),
          api.metricServerError({ label: '5XX', period: PERIOD, statistic: 'Sum' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        width: WIDTH,
        left: [
          api.metricLatency({ label: 'p50', period: PERIOD, statistic: 'p50' }),
          api.metricLatency({ label: 'p99', period: PERIOD, statistic: 'p99' }),
        ],
      }),
    );
  }

  addReconciler(reconciler: ReconcilerFunction): void {
    const name = reconciler.definition.name;
    const fn = reconciler.function;
    const iteratorAge = reconciler.definition.stream
      ? [fn.metric('IteratorAge', { label: 'max', period: PERIOD, statistic: 'Maximum' })]
      : [];
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${name}: invocations and errors`,
        width: WIDTH,
        left: [
          fn.metricInvocations({ label: 'invocations', period: PERIOD, statistic: 'Sum' }),
          fn.metricErrors({ label: 'errors', period: PERIOD, statistic: 'Sum' }),
          fn.metricThrottles({ label: 'throttles', period: PERIOD, statistic: 'Sum' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: duration (ms)`,
        width: WIDTH,
        left: [
          fn.metricDuration({ label: 'p50', period: PERIOD, statistic: 'p50' }),
          fn.metricDuration({ label: 'max', period: PERIOD, statistic: 'Maximum' }),
        ],
      }),
      iteratorAge.length > 0
        ? new cloudwatch.GraphWidget({ title: `${name}: stream iterator age (ms)`, width: WIDTH, left: iteratorAge })
        : new cloudwatch.TextWidget({ markdown: `**${name}** has no stream trigger: schedules and requeues only.`, width: WIDTH, height: 6 }),
    );
  }
}
