import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { loadShoalConfig, ShoalConfigError } from '../../infra/config.ts';
import type { ReconcilerDefinition } from '../../shared/reconcilers/triggers.ts';

/** Two schedules, independent of whatever RECONCILERS holds today. */
const reconcilers = [
  { name: 'a', schedules: [{ name: 'probe-clusters', rateMinutes: 1, description: '' }] },
  { name: 'b', schedules: [{ name: 'resync-applications', rateMinutes: 10, description: '' }] },
] as unknown as ReconcilerDefinition[];

const load = (context: Record<string, unknown>) => loadShoalConfig(new App({ context }), reconcilers);

describe('loadShoalConfig', () => {
  it('documents its defaults: the values a context without shoal:* keys gives', () => {
    // Act
    const config = load({});
    // Assess
    expect(config).toEqual({
      stackName: 'Shoal',
      stageName: 'v1',
      authorizer: 'iam',
      apiRateLimit: 50,
      apiBurstLimit: 100,
      logRetentionDays: 30,
      tableRemoval: 'retain',
      iteratorAgeAlarmSeconds: 300,
      clusterDrainGraceSeconds: 300,
      scheduleRates: {},
    });
  });

  it('reads -c strings and cdk.json values alike; a per-schedule rate key wins over shoal:scheduleRates', () => {
    // Act
    const config = load({
      'shoal:stageName': 'prod',
      'shoal:authorizer': 'cognito',
      'shoal:cognitoUserPool': 'arn:aws:cognito-idp:eu-central-1:123456789012:userpool/eu-central-1_AbC123',
      'shoal:logRetentionDays': '90',
      'shoal:iteratorAgeAlarmSeconds': 600,
      'shoal:clusterDrainGraceSeconds': '900',
      'shoal:tableRemoval': 'destroy',
      'shoal:alarmEmail': 'ops@example.com',
      'shoal:scheduleRates': '{"probe-clusters": 5, "resync-applications": 30}',
      'shoal:rate:probe-clusters': '2',
    });
    // Assess
    expect(config).toMatchObject({
      stageName: 'prod',
      authorizer: 'cognito',
      logRetentionDays: 90,
      iteratorAgeAlarmSeconds: 600,
      clusterDrainGraceSeconds: 900,
      tableRemoval: 'destroy',
      alarmEmail: 'ops@example.com',
      scheduleRates: { 'probe-clusters': 2, 'resync-applications': 30 },
    });
  });

  it.each([
    [{ 'shoal:logRetentionDays': '17' }, /^Invalid CDK context shoal:logRetentionDays="17": one of 1, 3, 5/],
    [{ 'shoal:authorizer': 'oauth' }, /^Invalid CDK context shoal:authorizer="oauth"/],
    [{ 'shoal:stageName': 'v 1' }, /^Invalid CDK context shoal:stageName="v 1": letters, digits/],
    [{ 'shoal:iteratorAgeAlarmSeconds': '5m' }, /^Invalid CDK context shoal:iteratorAgeAlarmSeconds="5m"/],
    [{ 'shoal:scheduleRates': '{"probe-clusters": 0}' }, /shoal:scheduleRates=.* \(at "probe-clusters"\)/],
    [{ 'shoal:rate:probe-clusters': 'often' }, /^Invalid CDK context shoal:rate:probe-clusters="often": a whole number of minutes/],
    [{ 'shoal:rate:reevaluate-everything': '5' }, /schedule "reevaluate-everything", which no reconciler has; schedules: probe-clusters, resync-applications/],
    [{ 'shoal:stagename': 'v2' }, /^Unknown CDK context key shoal:stagename; Shoal knows shoal:stackName, shoal:stageName/],
    [{ 'shoal:authorizer': 'cognito' }, /shoal:authorizer=cognito needs shoal:cognitoUserPool/],
    [{ 'shoal:cognitoUserPool': 'create' }, /shoal:cognitoUserPool is only used with shoal:authorizer=cognito/],
    [{ 'shoal:authorizer': 'cognito', 'shoal:cognitoUserPool': 'my-pool' }, /^Invalid CDK context shoal:cognitoUserPool="my-pool": "create", a user pool ID/],
  ])('rejects %o, naming the key', (context, message) => {
    // Act
    const act = () => load(context);
    // Assess
    expect(act).toThrow(ShoalConfigError);
    expect(act).toThrow(message);
  });
});
