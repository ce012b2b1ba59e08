import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { NagSuppressions, type NagPackSuppression } from 'cdk-nag';
import { Construct } from 'constructs';
import type { KubeconfigSecrets } from './kubeconfig-secrets.ts';
import type { ResourceTable } from './resource-table.ts';
import { ShoalFunction } from './shoal-function.ts';

/**
 * Who may call the API:
 * - `iam`: callers sign every request with SigV4 (the AWS CLI, SDKs and `aws-sigv4`-aware
 *   clients do this from their credentials) and need `execute-api:Invoke` on the API;
 * - `cognito`: callers send an ID token of `userPool` in the `Authorization` header;
 * - `none`: anyone who knows the URL.
 */
export type ApiAuthorization = { readonly type: 'iam' } | { readonly type: 'none' } | { readonly type: 'cognito'; readonly userPool: cognito.IUserPool };

export interface ShoalApiProps {
  readonly table: ResourceTable;
  readonly secrets: KubeconfigSecrets;
  /** @default { type: 'iam' } */
  readonly authorization?: ApiAuthorization;
  /** Of the API Lambda's logs and the access logs. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** @default 'v1' */
  readonly stageName?: string;
  /** Steady-state requests per second for the whole stage. @default 50 */
  readonly throttlingRateLimit?: number;
  /** Burst size for the whole stage. @default 100 */
  readonly throttlingBurstLimit?: number;
  /**
   * A regional WAFv2 web ACL to associate with the stage.
   * @default none — acknowledged as AwsSolutions-APIG3: the API is authenticated and throttled
   */
  readonly webAclArn?: string;
}

/**
 * The REST API: API Gateway proxies every path and method to the API Lambda
 * (`lambdas/api/handler.ts`), which routes and validates requests against the zod
 * schemas itself — one source of truth, so API Gateway request validation stays off.
 *
 * Defaults: regional endpoint, IAM (SigV4) authorization (or a Cognito user pool
 * authorizer, or none), JSON access logs to a log group,
 * execution logging at ERROR without request/response bodies (bodies may carry
 * kubeconfigs), stage throttling 50 rps / burst 100.
 */
export class ShoalApi extends Construct {
  readonly function: lambda.Function;
  readonly restApi: apigateway.LambdaRestApi;
  readonly accessLogs: logs.LogGroup;

  /** Base URL of the deployed stage, ending with `/`. */
  get url(): string {
    return this.restApi.url;
  }

  constructor(scope: Construct, id: string, props: ShoalApiProps) {
    super(scope, id);
    const authorization: ApiAuthorization = props.authorization ?? { type: 'iam' };

    this.function = new ShoalFunction(this, 'Handler', {
      name: 'api',
      description: 'Shoal REST API: validates and stores resources; secrets go to Secrets Manager',
      entry: 'lambdas/api/handler.ts',
      // API Gateway gives up on an integration after 29 seconds.
      timeout: Duration.seconds(29),
      memorySizeMb: 512,
      logRetention: props.logRetention,
    }).function;
    props.table.grantStore(this.function, 'rw');
    props.secrets.grantSecrets(this.function, 'readwrite');

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    this.restApi = new apigateway.LambdaRestApi(this, 'Api', {
      handler: this.function,
      proxy: true,
      description: 'Shoal control-plane API',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Access and execution logs need the account-wide API Gateway CloudWatch role.
      cloudWatchRole: true,
      defaultMethodOptions: this.methodOptions(authorization),
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
      },
    });
    if (props.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.restApi.deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    }
    // RestApi adds an `Endpoint` output with a hashed name; the stack outputs the URL as `ApiUrl`.
    this.restApi.node.tryRemoveChild('Endpoint');

    this.acknowledgeFindings(authorization.type, props.webAclArn !== undefined);
  }

  private methodOptions(authorization: ApiAuthorization): apigateway.MethodOptions {
    switch (authorization.type) {
      case 'iam':
        return { authorizationType: apigateway.AuthorizationType.IAM };
      case 'none':
        return { authorizationType: apigateway.AuthorizationType.NONE };
      case 'cognito':
        return {
          authorizationType: apigateway.AuthorizationType.COGNITO,
          authorizer: new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
            cognitoUserPools: [authorization.userPool],
            resultsCacheTtl: Duration.minutes(5),
          }),
        };
    }
  }

  private acknowledgeFindings(authorization: ApiAuthorization['type'], hasWebAcl: boolean): void {
    const suppressions: NagPackSuppression[] = [
      {
        id: 'AwsSolutions-APIG2',
        reason: 'Proxy integration: the API Lambda validates every request body against the zod resource schemas, which are the single source of truth.',
      },
      {
        id: 'AwsSolutions-IAM4',
        reason: 'AmazonAPIGatewayPushToCloudWatchLogs is the documented policy for API Gateway\'s account-wide logging role.',
        appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'],
      },
    ];
    if (!hasWebAcl) {
      suppressions.push({
        id: 'AwsSolutions-APIG3',
        reason: 'No WAF by default: the API is authenticated (IAM unless chosen otherwise) and throttled at the stage; pass webAclArn to attach a web ACL.',
      });
    }
    if (authorization !== 'cognito') {
      suppressions.push({
        id: 'AwsSolutions-COG4',
        reason: `Callers are authorized with ${authorization === 'iam' ? 'IAM (SigV4)' : 'nothing'} rather than a Cognito user pool (ShoalApiProps.authorization).`,
      });
    }
    if (authorization === 'none') {
      suppressions.push({
        id: 'AwsSolutions-APIG4',
        reason: 'Authorization explicitly turned off (shoal:authorizer=none, ShoalApiProps.authorization).',
      });
    }
    NagSuppressions.addResourceSuppressions(this.restApi, suppressions, true);
  }
}
