import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { ReconcilerDefinition } from '../shared/reconcilers/triggers.ts';

export type SecretAccess = ReconcilerDefinition['secrets'];

const READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
const WRITE_ACTIONS = ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'];

/** How cdk-nag renders `arn:<partition>:secretsmanager:<region>:<account>:secret:`, tokens or literals. */
const SECRET_ARN_START = 'arn:(<AWS::Partition>|[\\w-]+):secretsmanager:(<AWS::Region>|[\\w-]+):(<AWS::AccountId>|\\d+):secret:';

export interface KubeconfigSecretsProps {
  /**
   * Name prefix of every secret Shoal writes; ends with `/`.
   * @default `shoal/<stack name>/` — two stacks in one account never see each other's kubeconfigs.
   */
  readonly prefix?: string;
}

/**
 * The Secrets Manager namespace that holds cluster kubeconfigs (`SecretsManagerSecretStore`).
 * Secrets are created at run time by the API and the reconcilers, never by the stack, so
 * this construct owns no resource: it owns the prefix and who may use it. Secrets use
 * the account's default `aws/secretsmanager` key, which needs no extra KMS grant.
 */
export class KubeconfigSecrets extends Construct {
  readonly prefix: string;
  /** `arn:…:secret:<prefix>*` — the suffix wildcard also covers Secrets Manager's random six characters. */
  readonly arnPattern: string;

  constructor(scope: Construct, id: string, props: KubeconfigSecretsProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.prefix = props.prefix ?? `shoal/${stack.stackName}/`;
    if (!this.prefix.endsWith('/')) throw new Error(`KubeconfigSecrets prefix must end with "/", got "${this.prefix}"`);
    this.arnPattern = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.prefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * Points `fn` at this secret store (`SHOAL_SECRET_STORE`, `SHOAL_SECRET_PREFIX`) and grants
   * `read` (get, describe) or `readwrite` (also create, put, delete) under the prefix only.
   */
  grantSecrets(fn: lambda.Function, access: SecretAccess): void {
    fn.addEnvironment('SHOAL_SECRET_STORE', 'secretsmanager');
    fn.addEnvironment('SHOAL_SECRET_PREFIX', this.prefix);
    if (access === 'none') return;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: access === 'readwrite' ? [...READ_ACTIONS, ...WRITE_ACTIONS] : READ_ACTIONS,
        resources: [this.arnPattern],
      }),
    );
    if (fn.role) {
      NagSuppressions.addResourceSuppressions(
        fn.role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: `Kubeconfig secrets are created at run time, one per Cluster, so their names are only known by prefix; access is limited to "${this.prefix}*".`,
            appliesTo: [{ regex: `/^Resource::${SECRET_ARN_START}${escapeRegex(this.prefix)}\\*$/g` }],
          },
        ],
        true,
      );
    }
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
