import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ShoalStack } from '../infra/shoal-stack.ts';

// The CDK app: `npx cdk synth|deploy` (cdk.json runs this file with tsx).
// Context: `-c shoal:stackName=Name` (default Shoal), `-c shoal:alarmEmail=ops@example.com`.
const app = new App();

const stackName = (app.node.tryGetContext('shoal:stackName') as string | undefined) ?? 'Shoal';
const alarmEmail = app.node.tryGetContext('shoal:alarmEmail') as string | undefined;

new ShoalStack(app, stackName, {
  description: 'Shoal: multi-cluster application orchestrator (serverless control plane)',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  alarmEmail,
});

Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
