import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aspects, Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadShoalConfig } from '../../infra/config.ts';
import { ShoalStack } from '../../infra/shoal-stack.ts';
import { RECONCILERS, streamFilterPatterns, type ReconcilerDefinition } from '../../shared/reconcilers/triggers.ts';

// The slices of CloudFormation the assertions read.
type Ref = { Ref: string };
type GetAtt = { 'Fn::GetAtt': [string, string] };
interface LambdaFunction {
  Runtime: string;
  Architectures: string[];
  Handler: string;
  Timeout: number;
  MemorySize: number;
  Environment: { Variables: Record<string, unknown> };
}
interface EventSourceMapping {
  EventSourceArn: unknown;
  FilterCriteria?: { Filters: { Pattern: string }[] };
  DestinationConfig?: { OnFailure: { Destination: GetAtt } };
  FunctionResponseTypes?: string[];
}
interface Queue {
  SqsManagedSseEnabled?: boolean;
  VisibilityTimeout?: number;
  RedrivePolicy?: { deadLetterTargetArn: GetAtt; maxReceiveCount: number };
}
interface Alarm {
  Namespace: string;
  MetricName: string;
  Dimensions: { Name: string; Value: unknown }[];
  Threshold: number;
  ComparisonOperator: string;
  AlarmActions?: unknown[];
}
interface Policy {
  PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] };
}
interface Method {
  HttpMethod: string;
  AuthorizationType: string;
  AuthorizerId?: Ref;
  Integration: { Type: string };
}
/** One metric of a dashboard widget: namespace, name, dimension name/value pairs, then options. */
type DashboardMetric = (string | Record<string, unknown>)[];
interface DashboardWidget {
  type: string;
  properties: { title?: string; metrics?: DashboardMetric[] };
}

const ENV = { account: '123456789012', region: 'eu-central-1' };
const definitions: readonly ReconcilerDefinition[] = RECONCILERS;
const SECRET_READ = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
const SECRET_READWRITE = [...SECRET_READ, 'secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:PutSecretValue'].sort();
const secretsArn = (stackName: string) => `arn:aws:secretsmanager:${ENV.region}:${ENV.account}:secret:shoal/${stackName}/*`;

/** The feature flags `cdk synth` uses, so the test synthesises what a deploy would. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/** `[logicalId, Properties]` of every resource of a type (optionally matching a pattern). */
function resources<Properties>(template: Template, type: string, pattern?: object): [string, Properties][] {
  return Object.entries(template.findResources(type, pattern)).map(([id, resource]) => [id, (resource as { Properties: Properties }).Properties]);
}

function onlyId(template: Template, type: string): string {
  const found = resources(template, type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]![0];
}

function functionOf(template: Template, serviceName: string): [string, LambdaFunction] {
  const found = resources<LambdaFunction>(template, 'AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: serviceName } } },
  });
  expect(found, `one Lambda with POWERTOOLS_SERVICE_NAME=${serviceName}`).toHaveLength(1);
  return found[0]!;
}

function mappingsOf(template: Template, functionId: string): EventSourceMapping[] {
  return resources<EventSourceMapping>(template, 'AWS::Lambda::EventSourceMapping', {
    Properties: { FunctionName: { Ref: functionId } },
  }).map(([, mapping]) => mapping);
}

/**
 * The dashboard's widgets, its `Fn::Join` body flattened to JSON with every reference written
 * `{{LogicalId}}` or `{{LogicalId.Attribute}}`.
 */
function dashboardWidgets(template: Template): DashboardWidget[] {
  const [, dashboard] = resources<{ DashboardBody: { 'Fn::Join': [string, (string | Ref | GetAtt)[]] } }>(template, 'AWS::CloudWatch::Dashboard')[0]!;
  const body = dashboard.DashboardBody['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : 'Ref' in part ? `{{${part.Ref}}}` : `{{${part['Fn::GetAtt'].join('.')}}}`))
    .join('');
  return (JSON.parse(body) as { widgets: DashboardWidget[] }).widgets;
}

/** `namespace/metric/dimension value` of every metric on the dashboard. */
function dashboardMetrics(template: Template): string[] {
  return dashboardWidgets(template)
    .flatMap((widget) => widget.properties.metrics ?? [])
    .map((metric) => metric.filter((part): part is string => typeof part === 'string'))
    .map(([namespace, name, , value]) => `${namespace}/${name}/${value}`);
}

/**
 * cdk-nag's AwsSolutions warnings and errors on a stack. Reads the synthesis `Template.fromStack`
 * already ran (`Annotations.fromStack` would synthesise the whole app again).
 */
function nagFindings(stack: Stack): string[] {
  return (stack.node.root as App)
    .synth()
    .getStackArtifact(stack.artifactId)
    .messages.filter((message) => message.level !== 'info' && /AwsSolutions-/.test(String(message.entry.data)))
    .map((message) => `${message.id}: ${String(message.entry.data)}`);
}

function queue(template: Template, id: string): Queue {
  const found = resources<Queue>(template, 'AWS::SQS::Queue').find(([queueId]) => queueId === id);
  expect(found, `queue ${id}`).toBeDefined();
  return found![1];
}

/** Every IAM statement that grants a Secrets Manager action, with its actions sorted. */
function secretStatements(template: Template): { actions: string[]; resource: unknown }[] {
  return resources<Policy>(template, 'AWS::IAM::Policy')
    .flatMap(([, policy]) => policy.PolicyDocument.Statement)
    .map((statement) => ({ actions: [statement.Action].flat().sort(), resource: statement.Resource }))
    .filter((statement) => statement.actions.some((action) => action.startsWith('secretsmanager:')));
}

/** Encrypted and TLS-only (a Deny on aws:SecureTransport=false). */
function expectEncryptedTlsOnlyQueue(template: Template, queueId: string) {
  expect(queue(template, queueId).SqsManagedSseEnabled).toBe(true);
  template.hasResourceProperties('AWS::SQS::QueuePolicy', {
    Queues: [{ Ref: queueId }],
    PolicyDocument: {
      Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
    },
  });
}

/** A reconciler that is not in RECONCILERS, reusing an existing handler (so nothing is bundled twice). */
const extra: ReconcilerDefinition = {
  ...definitions[0]!,
  name: 'extra-resync',
  owns: ['Application'],
  stream: {
    kinds: ['Application', 'Cluster'],
    eventNames: ['REMOVE'],
    batchSize: 3,
    maximumBatchingWindowSeconds: 5,
    maximumRetryAttempts: 1,
    bisectBatchOnFunctionError: false,
    startingPosition: 'TRIM_HORIZON',
  },
  schedules: [{ name: 'extra-resync', rateMinutes: 15, description: 'test' }],
  secrets: 'read',
};

const IMPORTED_POOL_ARN = `arn:aws:cognito-idp:${ENV.region}:${ENV.account}:userpool/${ENV.region}_Imported1`;
/** Context as `cdk -c` passes it (strings), for the configured variant. */
const CONFIGURED_CONTEXT = {
  'shoal:authorizer': 'cognito',
  'shoal:cognitoUserPool': 'create',
  'shoal:stageName': 'prod',
  'shoal:logRetentionDays': '90',
  'shoal:tableRemoval': 'destroy',
  'shoal:iteratorAgeAlarmSeconds': '600',
  'shoal:clusterDrainGraceSeconds': '900',
  'shoal:apiRateLimit': '20',
  'shoal:scheduleRates': '{"extra-resync": 30}',
  'shoal:rate:probe-clusters': '2',
};

let stack: ShoalStack;
let template: Template;
let extendedTemplate: Template;
let configuredStack: ShoalStack;
let configuredTemplate: Template;
let importedPoolTemplate: Template;

beforeAll(() => {
  // Prepare: every app writes to one output directory, so that esbuild bundles each handler
  // once for the whole file (staged assets are cached per output directory).
  const outdir = mkdtempSync(join(tmpdir(), 'shoal-infra-test-'));
  const app = new App({ outdir, context: cdkJsonContext() });
  stack = new ShoalStack(app, 'Shoal', { env: ENV });
  const extendedStack = new ShoalStack(app, 'ShoalExtended', { env: ENV, reconcilers: [...definitions, extra] });
  const importedPoolStack = new ShoalStack(app, 'ShoalImportedPool', {
    env: ENV,
    config: { ...loadShoalConfig(app), authorizer: 'cognito', cognitoUserPool: IMPORTED_POOL_ARN },
  });
  const configuredApp = new App({ outdir, context: { ...cdkJsonContext(), ...CONFIGURED_CONTEXT } });
  configuredStack = new ShoalStack(configuredApp, 'ShoalConfigured', { env: ENV, reconcilers: [...definitions, extra] });
  for (const scope of [app, configuredApp]) Aspects.of(scope).add(new AwsSolutionsChecks({ verbose: true }));
  // Act: a cdk-nag error would already fail here (synthesis reports it as ValidationFailed).
  template = Template.fromStack(stack);
  extendedTemplate = Template.fromStack(extendedStack);
  importedPoolTemplate = Template.fromStack(importedPoolStack);
  configuredTemplate = Template.fromStack(configuredStack);
}, 300_000);

describe('ShoalStack', () => {
  it('keeps resources in one on-demand table keyed pk/sk, streamed, recoverable and retained', () => {
    // Assess
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'ownedIn', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'owned',
            KeySchema: [
              { AttributeName: 'ownedIn', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('creates one Node.js 22 arm64 Lambda per reconciler plus the API Lambda, with the Shoal environment', () => {
    // Prepare
    const common: Record<string, unknown> = {
      SHOAL_TABLE_NAME: { Ref: onlyId(template, 'AWS::DynamoDB::Table') },
      SHOAL_SECRET_STORE: 'secretsmanager',
      SHOAL_SECRET_PREFIX: 'shoal/Shoal/',
      POWERTOOLS_METRICS_NAMESPACE: 'Shoal',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const runtime = { Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' };
    // Assess
    template.resourceCountIs('AWS::Lambda::Function', definitions.length + 1);
    for (const definition of definitions) {
      const [, fn] = functionOf(template, `shoal-${definition.name}`);
      expect(fn).toMatchObject({ ...runtime, Timeout: definition.timeoutSeconds, MemorySize: definition.memorySizeMb });
      expect(fn.Environment.Variables).toMatchObject({ ...common, SHOAL_CLUSTER_DRAIN_GRACE_SECONDS: '300' });
      expect((fn.Environment.Variables.SHOAL_REQUEUE_QUEUE_URL as Ref).Ref).toMatch(/Requeue/);
    }
    const [, api] = functionOf(template, 'shoal-api');
    expect(api).toMatchObject(runtime);
    expect(api.Environment.Variables).toMatchObject(common);
  });

  it.each(definitions.filter((definition) => definition.stream).map((definition) => [definition.name, definition] as const))(
    'feeds %s from the table stream with exactly its trigger filter and a dead-letter queue',
    (_name, definition) => {
      // Prepare
      const trigger = definition.stream!;
      const [functionId] = functionOf(template, `shoal-${definition.name}`);
      // Act
      const streamMappings = mappingsOf(template, functionId).filter((mapping) =>
        JSON.stringify(mapping.EventSourceArn).includes('StreamArn'),
      );
      // Assess
      expect(streamMappings).toHaveLength(1);
      const mapping = streamMappings[0]!;
      expect(mapping.FilterCriteria?.Filters.map((filter) => JSON.parse(filter.Pattern) as unknown)).toStrictEqual(streamFilterPatterns(trigger));
      expect(mapping).toMatchObject({
        BatchSize: trigger.batchSize,
        MaximumBatchingWindowInSeconds: trigger.maximumBatchingWindowSeconds,
        MaximumRetryAttempts: trigger.maximumRetryAttempts,
        BisectBatchOnFunctionError: trigger.bisectBatchOnFunctionError,
        StartingPosition: trigger.startingPosition,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect((mapping as { MaximumRecordAgeInSeconds?: number }).MaximumRecordAgeInSeconds).toBe(trigger.maximumRecordAgeSeconds);
      expectEncryptedTlsOnlyQueue(template, mapping.DestinationConfig!.OnFailure.Destination['Fn::GetAtt'][0]);
    },
  );

  it.each(definitions.map((definition) => [definition.name, definition] as const))(
    'lets %s consume its own requeue queue with partial batch failures',
    (_name, definition) => {
      // Prepare
      const [functionId, fn] = functionOf(template, `shoal-${definition.name}`);
      const requeueId = (fn.Environment.Variables.SHOAL_REQUEUE_QUEUE_URL as Ref).Ref;
      // Act
      const queueMappings = mappingsOf(template, functionId).filter(
        (mapping) => JSON.stringify(mapping.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [requeueId, 'Arn'] }),
      );
      // Assess
      expect(queueMappings).toHaveLength(1);
      expect(queueMappings[0]!.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expectEncryptedTlsOnlyQueue(template, requeueId);
      const requeue = queue(template, requeueId);
      expect(requeue.VisibilityTimeout).toBeGreaterThanOrEqual(definition.timeoutSeconds);
      expectEncryptedTlsOnlyQueue(template, requeue.RedrivePolicy!.deadLetterTargetArn['Fn::GetAtt'][0]);
    },
  );

  it('runs every schedule of every reconciler at its rate, with retries and a dead-letter queue', () => {
    // Prepare
    const schedules = definitions.flatMap((definition) => definition.schedules.map((schedule) => ({ definition, schedule })));
    // Assess
    template.resourceCountIs('AWS::Events::Rule', schedules.length);
    for (const { definition, schedule } of schedules) {
      const [functionId] = functionOf(template, `shoal-${definition.name}`);
      template.hasResourceProperties('AWS::Events::Rule', {
        Name: `Shoal-${schedule.name}`,
        ScheduleExpression: events.Schedule.rate(Duration.minutes(schedule.rateMinutes)).expressionString,
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
            RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }),
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchedulesDeadLetters'), 'Arn'] } },
          }),
        ],
      });
    }
  });

  it('alarms on every dead-letter queue, every function error and API 5XX, notifying an encrypted topic', () => {
    // Prepare
    const queueIds = resources<Queue>(template, 'AWS::SQS::Queue').map(([id]) => id);
    const requeueIds = resources<LambdaFunction>(template, 'AWS::Lambda::Function')
      .map(([, fn]) => fn.Environment.Variables.SHOAL_REQUEUE_QUEUE_URL as Ref | undefined)
      .flatMap((ref) => (ref ? [ref.Ref] : []));
    const alarms = resources<Alarm>(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm);
    const topicId = onlyId(template, 'AWS::SNS::Topic');
    // Assess
    for (const queueId of queueIds.filter((id) => !requeueIds.includes(id))) {
      const watching = alarms.filter(
        (alarm) =>
          alarm.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          alarm.Dimensions.some((dimension) => JSON.stringify(dimension.Value).includes(`"${queueId}"`)),
      );
      expect(watching, `alarm on ${queueId}`).toHaveLength(1);
      expect(watching[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
    expect(alarms.filter((alarm) => alarm.Namespace === 'AWS/Lambda' && alarm.MetricName === 'Errors')).toHaveLength(definitions.length + 1);
    expect(alarms.filter((alarm) => alarm.Namespace === 'AWS/ApiGateway' && alarm.MetricName === '5XXError')).toHaveLength(1);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsTopicKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it.each(definitions.filter((definition) => definition.stream).map((definition) => [definition.name] as const))(
    'alarms when %s falls five minutes behind the stream (IteratorAge)',
    (name) => {
      // Prepare
      const [functionId] = functionOf(template, `shoal-${name}`);
      // Act
      const alarms = resources<Alarm & { Statistic: string }>(template, 'AWS::CloudWatch::Alarm', {
        Properties: { MetricName: 'IteratorAge', Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }] },
      });
      // Assess
      expect(alarms).toHaveLength(1);
      expect(alarms[0]![1]).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Maximum', Threshold: 300_000, ComparisonOperator: 'GreaterThanThreshold' });
    },
  );

  it('shows every reconciler, every dead-letter queue and the API on one dashboard', () => {
    // Prepare
    const requeueIds = resources<LambdaFunction>(template, 'AWS::Lambda::Function')
      .map(([, fn]) => fn.Environment.Variables.SHOAL_REQUEUE_QUEUE_URL as Ref | undefined)
      .flatMap((ref) => (ref ? [ref.Ref] : []));
    const deadLetterIds = resources<Queue>(template, 'AWS::SQS::Queue')
      .map(([id]) => id)
      .filter((id) => !requeueIds.includes(id));
    const apiId = onlyId(template, 'AWS::ApiGateway::RestApi');
    const apiName = (resources<{ Name: string }>(template, 'AWS::ApiGateway::RestApi')[0]![1]).Name;
    // Act
    const metrics = dashboardMetrics(template);
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Shoal' });
    for (const definition of definitions) {
      const [functionId] = functionOf(template, `shoal-${definition.name}`);
      const perFunction = ['Invocations', 'Errors', 'Duration', ...(definition.stream ? ['IteratorAge'] : [])];
      for (const name of perFunction) expect(metrics, `${definition.name} ${name}`).toContain(`AWS/Lambda/${name}/{{${functionId}}}`);
    }
    expect(deadLetterIds.length).toBeGreaterThan(definitions.length);
    for (const id of deadLetterIds) expect(metrics).toContain(`AWS/SQS/ApproximateNumberOfMessagesVisible/{{${id}.QueueName}}`);
    for (const name of ['Count', '4XXError', '5XXError', 'Latency']) expect(metrics).toContain(`AWS/ApiGateway/${name}/${apiName}`);
    expect(apiId).toBeTruthy();
  });

  it('scopes Secrets Manager access to the stack prefix, read-only where the definition says read', () => {
    // Prepare
    const expected = [...definitions.map((definition) => definition.secrets), 'readwrite' /* the API */]
      .filter((access) => access !== 'none')
      .map((access) => (access === 'readwrite' ? SECRET_READWRITE : SECRET_READ));
    // Act
    const statements = secretStatements(template);
    // Assess
    expect(statements).toHaveLength(expected.length);
    for (const statement of statements) expect(statement.resource).toBe(secretsArn('Shoal'));
    expect(statements.map((statement) => statement.actions)).toEqual(expect.arrayContaining(expected));
  });

  it('lets only the infrastructure reconciler manage EKS clusters, pass roles to EKS and assume provider roles', () => {
    // Prepare
    const statements = resources<Policy & { Roles: Ref[] }>(template, 'AWS::IAM::Policy').flatMap(([, policy]) =>
      policy.PolicyDocument.Statement.map((statement) => ({ ...statement, actions: [statement.Action].flat(), roles: policy.Roles.map((role) => role.Ref) })),
    );
    const aws = statements.filter((statement) => statement.actions.some((action) => /^(eks|iam|sts):/.test(action)));
    const infrastructure = resources<{ Role: { 'Fn::GetAtt': [string, string] } }>(template, 'AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'shoal-infrastructure' } } },
    })[0]![1].Role['Fn::GetAtt'][0];
    const eksActions = aws.flatMap((statement) => statement.actions.filter((action) => action.startsWith('eks:')));
    // Assess
    expect(definitions.filter((definition) => definition.aws?.includes('eks')).map((definition) => definition.name)).toEqual(['infrastructure']);
    expect(aws.length).toBeGreaterThan(0);
    for (const statement of aws) expect(statement.roles).toEqual([infrastructure]);
    expect(new Set(eksActions)).toEqual(
      new Set([
        'eks:CreateCluster', 'eks:DescribeCluster', 'eks:DeleteCluster', 'eks:UpdateClusterVersion', 'eks:CreateNodegroup', 'eks:DescribeNodegroup',
        'eks:ListNodegroups', 'eks:UpdateNodegroupConfig', 'eks:UpdateNodegroupVersion', 'eks:DeleteNodegroup', 'eks:TagResource',
      ]),
    );
    expect(aws.find((statement) => statement.actions.includes('iam:PassRole'))).toMatchObject({
      Condition: { StringEquals: { 'iam:PassedToService': 'eks.amazonaws.com' } },
    });
    expect(aws.some((statement) => statement.actions.includes('sts:AssumeRole'))).toBe(true);
  });

  it('serves the API through an IAM-authorised regional REST proxy with access logs and throttling', () => {
    // Prepare
    const methods = resources<Method>(template, 'AWS::ApiGateway::Method').map(([, method]) => method);
    // Assess
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    expect(methods).toHaveLength(2);
    for (const method of methods) {
      expect(method).toMatchObject({ HttpMethod: 'ANY', AuthorizationType: 'AWS_IAM', Integration: { Type: 'AWS_PROXY' } });
    }
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
        }),
      ],
    });
    expect(Object.keys(template.findOutputs('*')).filter((name) => /Url|Endpoint/.test(name))).toEqual(['ApiUrl']);
  });

  it('passes the AWS Solutions checks: every cdk-nag finding is fixed or acknowledged with a reason', () => {
    // Assess
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ShoalStack with another reconciler', () => {
  it('wires a reconciler added to the list without any CDK change', () => {
    // Prepare
    const [functionId] = functionOf(extendedTemplate, 'shoal-extra-resync');
    // Act
    const streamMapping = mappingsOf(extendedTemplate, functionId).find((mapping) => mapping.FilterCriteria);
    // Assess
    extendedTemplate.resourceCountIs('AWS::Lambda::Function', definitions.length + 2);
    expect(streamMapping!.FilterCriteria!.Filters.map((filter) => JSON.parse(filter.Pattern) as unknown)).toStrictEqual(streamFilterPatterns(extra.stream!));
    extendedTemplate.hasResourceProperties('AWS::Events::Rule', {
      Name: 'ShoalExtended-extra-resync',
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] } })],
    });
    expect(secretStatements(extendedTemplate)).toContainEqual({ actions: SECRET_READ, resource: secretsArn('ShoalExtended') });
  });
});

describe('ShoalStack configured through shoal:* context', () => {
  it('authorises API callers with a Cognito user pool it creates: MFA required, no self sign-up', () => {
    // Prepare
    const poolId = onlyId(configuredTemplate, 'AWS::Cognito::UserPool');
    const authorizerId = onlyId(configuredTemplate, 'AWS::ApiGateway::Authorizer');
    const methods = resources<Method>(configuredTemplate, 'AWS::ApiGateway::Method').map(([, method]) => method);
    // Assess
    configuredTemplate.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [poolId, 'Arn'] }],
    });
    expect(methods).toHaveLength(2);
    for (const method of methods) expect(method).toMatchObject({ AuthorizationType: 'COGNITO_USER_POOLS', AuthorizerId: { Ref: authorizerId } });
    configuredTemplate.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        MfaConfiguration: 'ON',
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        DeletionProtection: 'ACTIVE',
        Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
      }),
    });
    configuredTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', { UserPoolId: { Ref: poolId }, GenerateSecret: false });
    expect(Object.keys(configuredTemplate.findOutputs('*'))).toEqual(expect.arrayContaining(['ApiUrl', 'UserPoolId', 'UserPoolClientId']));
  });

  it('takes the stage name, API throttling, log retention and table removal from context', () => {
    // Prepare
    const retentions = resources<{ RetentionInDays?: number }>(configuredTemplate, 'AWS::Logs::LogGroup').map(([, group]) => group.RetentionInDays);
    // Assess
    configuredTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 100 })],
    });
    expect(retentions.length).toBeGreaterThan(definitions.length + 1);
    expect(new Set(retentions)).toEqual(new Set([90]));
    configuredTemplate.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });

  it('runs schedules at the rates context overrides, and every other schedule at its triggers.ts rate', () => {
    // Prepare
    const rules = resources<{ Name: string; ScheduleExpression: string }>(configuredTemplate, 'AWS::Events::Rule');
    const rates = Object.fromEntries(rules.map(([, rule]) => [rule.Name, rule.ScheduleExpression]));
    const expected = Object.fromEntries(
      [...definitions, extra].flatMap((definition) =>
        definition.schedules.map((schedule) => {
          const minutes = { 'probe-clusters': 2, 'extra-resync': 30 }[schedule.name] ?? schedule.rateMinutes;
          return [`ShoalConfigured-${schedule.name}`, events.Schedule.rate(Duration.minutes(minutes)).expressionString];
        }),
      ),
    );
    // Assess
    expect(rates).toEqual(expected);
    expect(rates['ShoalConfigured-probe-clusters']).toBe('rate(2 minutes)');
  });

  it('alarms on iterator age at the threshold context gives', () => {
    // Act
    const thresholds = resources<Alarm>(configuredTemplate, 'AWS::CloudWatch::Alarm', { Properties: { MetricName: 'IteratorAge' } }).map(
      ([, alarm]) => alarm.Threshold,
    );
    // Assess
    expect(thresholds).toHaveLength([...definitions, extra].filter((definition) => definition.stream).length);
    expect(new Set(thresholds)).toEqual(new Set([600_000]));
  });

  it('gives every reconciler the drain grace period context sets', () => {
    // Act
    const graces = resources<{ Environment?: { Variables?: Record<string, unknown> } }>(configuredTemplate, 'AWS::Lambda::Function')
      .map(([, fn]) => fn.Environment?.Variables?.SHOAL_CLUSTER_DRAIN_GRACE_SECONDS)
      .filter((value) => value !== undefined);
    // Assess
    expect(graces).toHaveLength(definitions.length + 1);
    expect(new Set(graces)).toEqual(new Set(['900']));
  });

  it('passes the AWS Solutions checks with the Cognito user pool too', () => {
    // Assess
    expect(nagFindings(configuredStack)).toEqual([]);
  });
});

describe('ShoalStack with an existing Cognito user pool', () => {
  it('authorises API callers with that pool and creates none', () => {
    // Assess
    importedPoolTemplate.resourceCountIs('AWS::Cognito::UserPool', 0);
    importedPoolTemplate.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS', ProviderARNs: [IMPORTED_POOL_ARN] });
    expect(Object.keys(importedPoolTemplate.findOutputs('*'))).not.toContain('UserPoolClientId');
  });
});
