import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import type { ReconcilerFunction } from './reconciler-function.ts';

export interface SchedulesProps {
  /**
   * Delivery retries EventBridge makes before the event goes to the dead-letter queue.
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * Schedule name → minutes, replacing the `rateMinutes` triggers.ts gives that schedule
   * (the `shoal:scheduleRates` / `shoal:rate:<schedule>` context keys).
   * @default none — every schedule runs at its rate in triggers.ts
   */
  readonly rateMinutes?: Readonly<Record<string, number>>;
}

/**
 * The periodic work of every reconciler (placement re-evaluation, drift resync, cluster
 * probes, GC sweeps): one EventBridge rule per `schedules` entry, named
 * `<stack>-<schedule name>`, invoking the reconciler with the standard "Scheduled Event"
 * (its `resources[0]` is the rule's ARN). Events EventBridge cannot deliver go to one
 * shared dead-letter queue. Schedules are never retried beyond a short window: the next
 * tick does the same work.
 */
export class Schedules extends Construct {
  readonly rules: events.Rule[] = [];
  readonly deadLetters: DeadLetterQueue;
  private readonly retryAttempts: number;
  private readonly rateMinutes: Readonly<Record<string, number>>;

  constructor(scope: Construct, id: string, props: SchedulesProps = {}) {
    super(scope, id);
    this.retryAttempts = props.retryAttempts ?? 2;
    this.rateMinutes = props.rateMinutes ?? {};
    this.deadLetters = new DeadLetterQueue(this, 'DeadLetters', {
      purpose: 'scheduled events EventBridge could not deliver to a reconciler',
    });
  }

  /** Creates a rule for each of the reconciler's schedules. */
  runOnSchedule(reconciler: ReconcilerFunction): void {
    for (const schedule of reconciler.definition.schedules) {
      const rateMinutes = this.rateMinutes[schedule.name] ?? schedule.rateMinutes;
      const rule = new events.Rule(this, schedule.name, {
        ruleName: `${Stack.of(this).stackName}-${schedule.name}`.slice(0, 64),
        description: `${reconciler.definition.name}: ${schedule.description}`.slice(0, 512),
        schedule: events.Schedule.rate(Duration.minutes(rateMinutes)),
      });
      rule.addTarget(
        new targets.LambdaFunction(reconciler.function, {
          retryAttempts: this.retryAttempts,
          maxEventAge: Duration.minutes(Math.max(1, rateMinutes)),
          deadLetterQueue: this.deadLetters.queue,
        }),
      );
      this.rules.push(rule);
    }
  }
}
