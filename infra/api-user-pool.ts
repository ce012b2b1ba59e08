import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

/**
 * A Cognito user pool for the people who call the Shoal API when it uses Cognito
 * authorization: no self sign-up (an administrator creates users), strong passwords,
 * TOTP MFA required, and one public app client for the CLI (SRP sign-in, no secret).
 * The pool holds accounts, not control-plane state, but losing it locks everyone out:
 * it is retained and deletion-protected.
 */
export class ApiUserPool extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.client = this.userPool.addClient('CliClient', {
      authFlows: { userSrp: true },
      generateSecret: false,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
    });
    const essentialsOnly =
      'Threat protection needs the Cognito Plus feature plan, billed per active user; the pool holds a few operators, with self sign-up off, strong passwords and MFA required.';
    NagSuppressions.addResourceSuppressions(this.userPool, [
      { id: 'AwsSolutions-COG3', reason: essentialsOnly },
      { id: 'AwsSolutions-COG8', reason: essentialsOnly },
    ]);
  }
}
