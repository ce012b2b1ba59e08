import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import { RECONCILERS, type ReconcilerDefinition } from '../shared/reconcilers/triggers.ts';
import { Alarms } from './alarms.ts';
import { ApiUserPool } from './api-user-pool.ts';
import { loadShoalConfig, type ShoalConfig } from './config.ts';
import { KubeconfigSecrets } from './kubeconfig-secrets.ts';
import { OperationsDashboard } from './operations-dashboard.ts';
import { ReconcilerFunction } from './reconciler-function.ts';
import { ResourceTable } from './resource-table.ts';
import { Schedules } from './schedules.ts';
import { ShoalApi, type ApiAuthorization } from './shoal-api.ts';

export interface ShoalStackProps extends StackProps {
  /** @default RECONCILERS from shared/reconcilers/triggers.ts */
  readonly reconcilers?: readonly ReconcilerDefinition[];
  /** @default `loadShoalConfig(this, reconcilers)`: the `shoal:*` CDK context, with the defaults in infra/config.ts */
  readonly config?: ShoalConfig;
}

/**
 * Shoal in one account and region. Only composes: every reconciler in `RECONCILERS` gets
 * its function, stream source, queues, schedules, alarms and dashboard row, so adding a
 * reconciler to triggers.ts needs no change here.
 */
export class ShoalStack extends Stack {
  readonly table: ResourceTable;
  readonly api: ShoalApi;
  readonly reconcilers: ReconcilerFunction[];
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: ShoalStackProps = {}) {
    super(scope, id, props);
    const definitions = props.reconcilers ?? RECONCILERS;
    const config = props.config ?? loadShoalConfig(this, definitions);
    const logRetention = config.logRetentionDays;

    this.table = new ResourceTable(this, 'Resources', {
      removalPolicy: config.tableRemoval === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    const secrets = new KubeconfigSecrets(this, 'KubeconfigSecrets');
    const schedules = new Schedules(this, 'Schedules', { rateMinutes: config.scheduleRates });
    const alarms = new Alarms(this, 'Alarms', { email: config.alarmEmail });
    this.dashboard = new OperationsDashboard(this, 'Dashboard', { dashboardName: this.stackName });

    this.api = new ShoalApi(this, 'Api', {
      table: this.table,
      secrets,
      authorization: this.apiAuthorization(config),
      logRetention,
      stageName: config.stageName,
      throttlingRateLimit: config.apiRateLimit,
      throttlingBurstLimit: config.apiBurstLimit,
    });
    alarms.watchFunction('ApiErrors', this.api.function, 'api');
    alarms.watchApi('Api5xx', this.api.restApi);
    this.dashboard.addApi(this.api.restApi);

    this.reconcilers = definitions.map((definition) => {
      const id = constructId(definition.name);
      const reconciler = new ReconcilerFunction(this, id, { definition, table: this.table, secrets, logRetention });
      // Read by the garbage collector; the same setting for every reconciler keeps one place to look.
      reconciler.function.addEnvironment('SHOAL_CLUSTER_DRAIN_GRACE_SECONDS', String(config.clusterDrainGraceSeconds));
      schedules.runOnSchedule(reconciler);
      alarms.watchFunction(`${id}Errors`, reconciler.function, definition.name);
      if (definition.stream) {
        alarms.watchIteratorAge(`${id}IteratorAge`, reconciler.function, definition.name, Duration.seconds(config.iteratorAgeAlarmSeconds));
      }
      for (const deadLetters of reconciler.deadLetterQueues) {
        alarms.watchDeadLetterQueue(`${id}${deadLetters.node.id}`, deadLetters);
        this.dashboard.addDeadLetterQueue(`${definition.name} ${deadLetters.node.id}`, deadLetters);
      }
      this.dashboard.addReconciler(reconciler);
      return reconciler;
    });
    alarms.watchDeadLetterQueue('ScheduleDeadLetters', schedules.deadLetters);
    this.dashboard.addDeadLetterQueue('schedules', schedules.deadLetters);

    const authorizedBy = { iam: 'SigV4-signed requests', cognito: 'an ID token of the user pool in Authorization', none: 'no authorization' };
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: `Base URL of the Shoal API (${authorizedBy[config.authorizer]})` });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'SHOAL_TABLE_NAME' });
    new CfnOutput(this, 'SecretPrefix', { value: secrets.prefix, description: 'SHOAL_SECRET_PREFIX' });
    if (alarms.topic) new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }

  /** `shoal:authorizer`; with `cognito`, the pool of `shoal:cognitoUserPool`: an existing one, or a new `ApiUserPool`. */
  private apiAuthorization(config: ShoalConfig): ApiAuthorization {
    if (config.authorizer !== 'cognito') return { type: config.authorizer };
    const pool = config.cognitoUserPool ?? 'create';
    let userPool: cognito.IUserPool;
    if (pool === 'create') {
      const created = new ApiUserPool(this, 'ApiUsers');
      userPool = created.userPool;
      new CfnOutput(this, 'UserPoolClientId', { value: created.client.userPoolClientId, description: 'App client for signing in (SRP)' });
    } else {
      userPool = pool.startsWith('arn:') ? cognito.UserPool.fromUserPoolArn(this, 'ApiUsers', pool) : cognito.UserPool.fromUserPoolId(this, 'ApiUsers', pool);
    }
    new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId, description: 'Cognito user pool whose ID tokens the API accepts' });
    return { type: 'cognito', userPool };
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
