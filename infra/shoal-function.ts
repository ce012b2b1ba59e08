import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

/** Handler entries in `triggers.ts` are relative to the repository root. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** ESM bundles have no `require`; some CommonJS dependencies still call it. */
const REQUIRE_SHIM = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface ShoalFunctionProps {
  /** Short name, e.g. `cluster-probe`; becomes the Powertools service name `shoal-<name>`. */
  readonly name: string;
  readonly description: string;
  /** Handler module relative to the repository root; it must export `handler`. */
  readonly entry: string;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default 512 MB */
  readonly memorySizeMb?: number;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One Shoal Lambda: a TypeScript handler bundled by the locally installed esbuild (never
 * Docker) into a minified ESM bundle with source maps, on Node.js 22 / arm64, with the
 * Powertools settings every handler expects and its own log group.
 *
 * The AWS SDK is bundled too (`bundleAwsSDK`), so the code runs against the SDK versions
 * in package-lock.json — the ones the tests ran — not whatever the runtime ships.
 */
export class ShoalFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ShoalFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: join(REPOSITORY_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPOSITORY_ROOT,
      depsLockFilePath: join(REPOSITORY_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySizeMb ?? 512,
      logGroup: this.logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: `shoal-${props.name}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Shoal',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: REQUIRE_SHIM,
        bundleAwsSDK: true,
        minify: true,
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
      },
    });

    NagSuppressions.addResourceSuppressions(
      this.function,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason: 'AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch logs.',
          appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
        },
        {
          id: 'AwsSolutions-L1',
          reason:
            'nodejs22.x is pinned on purpose (bundles target node22); moving to a newer Lambda runtime is a deliberate, tested upgrade, not something a CDK or cdk-nag update should force.',
        },
      ],
      true,
    );
  }
}
