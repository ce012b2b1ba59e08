import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadShoalConfig, ShoalConfigError } from '../infra/config.ts';
import { ShoalStack } from '../infra/shoal-stack.ts';

// The CDK app: `npx cdk synth|deploy` (cdk.json runs this file with tsx). Settings come from
// `shoal:*` context keys (`-c shoal:stageName=prod`), all listed in infra/config.ts and in
// README "Deploying".
const app = new App();

let config;
try {
  config = loadShoalConfig(app);
} catch (error) {
  if (!(error instanceof ShoalConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

new ShoalStack(app, config.stackName, {
  description: 'Shoal: multi-cluster application orchestrator (serverless control plane)',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  config,
});

Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
