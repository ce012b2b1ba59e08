import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import { RECONCILERS, type ReconcilerDefinition } from '../shared/reconcilers/triggers.ts';
import { Alarms } from './alarms.ts';
import { KubeconfigSecrets } from './kubeconfig-secrets.ts';
import { ReconcilerFunction } from './reconciler-function.ts';
import { ResourceTable } from './resource-table.ts';
import { Schedules } from './schedules.ts';
import { ShoalApi } from './shoal-api.ts';

export interface ShoalStackProps extends StackProps {
  /** @default RECONCILERS from shared/reconcilers/triggers.ts */
  readonly reconcilers?: readonly ReconcilerDefinition[];
  /** @default RemovalPolicy.RETAIN (see ResourceTable) */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** @default AuthorizationType.IAM (see ShoalApi) */
  readonly apiAuthorizationType?: apigateway.AuthorizationType;
  /** Address that receives alarm notifications. @default none (the topic exists; subscribe later) */
  readonly alarmEmail?: string;
}

/**
 * Shoal in one account and region. Only composes: every reconciler in `RECONCILERS` gets
 * its function, stream source, queues, schedules and alarms, so adding a reconciler to
 * triggers.ts needs no change here.
 */
export class ShoalStack extends Stack {
  readonly table: ResourceTable;
  readonly api: ShoalApi;
  readonly reconcilers: ReconcilerFunction[];

  constructor(scope: Construct, id: string, props: ShoalStackProps = {}) {
    super(scope, id, props);

    this.table = new ResourceTable(this, 'Resources', { removalPolicy: props.tableRemovalPolicy });
    const secrets = new KubeconfigSecrets(this, 'KubeconfigSecrets');
    const schedules = new Schedules(this, 'Schedules');
    const alarms = new Alarms(this, 'Alarms', { email: props.alarmEmail });

    this.api = new ShoalApi(this, 'Api', {
      table: this.table,
      secrets,
      authorizationType: props.apiAuthorizationType,
    });
    alarms.watchFunction('ApiErrors', this.api.function, 'api');
    alarms.watchApi('Api5xx', this.api.restApi);

    this.reconcilers = (props.reconcilers ?? RECONCILERS).map((definition) => {
      const reconciler = new ReconcilerFunction(this, constructId(definition.name), {
        definition,
        table: this.table,
        secrets,
      });
      schedules.runOnSchedule(reconciler);
      alarms.watchFunction(`${constructId(definition.name)}Errors`, reconciler.function, definition.name);
      for (const deadLetters of reconciler.deadLetterQueues) {
        alarms.watchDeadLetterQueue(`${constructId(definition.name)}${deadLetters.node.id}`, deadLetters);
      }
      return reconciler;
    });
    alarms.watchDeadLetterQueue('ScheduleDeadLetters', schedules.deadLetters);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the Shoal API (SigV4-signed requests)' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'SHOAL_TABLE_NAME' });
    new CfnOutput(this, 'SecretPrefix', { value: secrets.prefix, description: 'SHOAL_SECRET_PREFIX' });
    if (alarms.topic) new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }
}

/** `cluster-probe` → `ClusterProbe`. */
function constructId(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
