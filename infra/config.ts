import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { z } from 'zod';
import { RECONCILERS, type ReconcilerDefinition } from '../shared/reconcilers/triggers.ts';

/** A `shoal:*` CDK context value that cannot be used; the message names the key. */
export class ShoalConfigError extends Error {
  override name = 'ShoalConfigError';
}

const RETENTION_DAYS = Object.values(logs.RetentionDays).filter((value): value is number => typeof value === 'number');
const RATE_KEY_PREFIX = 'shoal:rate:';

// `-c key=value` always gives strings; cdk.json and `new App({ context })` may give numbers or objects.
const count = z.coerce.number().int().positive();
const jsonObject = (value: unknown) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
};

/** Every `shoal:<key>` context value with its default (documented in README, "Deploying"). */
const CONTEXT = z.object({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,99}$/, 'a letter, then letters, digits or hyphens (at most 100)')
    .default('Shoal'),
  stageName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, hyphens or underscores (at most 64)')
    .default('v1'),
  authorizer: z.enum(['iam', 'cognito', 'none']).default('iam'),
  cognitoUserPool: z
    .string()
    .regex(
      /^(create|[\w-]+_[0-9A-Za-z]+|arn:[\w-]+:cognito-idp:[\w-]+:\d{12}:userpool\/[\w-]+_[0-9A-Za-z]+)$/,
      '"create", a user pool ID (region_id) or a user pool ARN',
    )
    .optional(),
  apiRateLimit: count.default(50),
  apiBurstLimit: count.default(100),
  logRetentionDays: z.coerce
    .number()
    .refine((days) => RETENTION_DAYS.includes(days), `one of ${RETENTION_DAYS.join(', ')} (CloudWatch Logs retention periods)`)
    .default(30)
    .transform((days) => days as logs.RetentionDays),
  tableRemoval: z.enum(['retain', 'destroy']).default('retain'),
  alarmEmail: z.email().optional(),
  iteratorAgeAlarmSeconds: count.default(300),
  clusterDrainGraceSeconds: count.default(300),
  scheduleRates: z.preprocess(jsonObject, z.record(z.string(), count)).default({}),
});

type ContextValues = z.infer<typeof CONTEXT>;

/** The deployment's settings, from `shoal:*` CDK context, validated. */
export interface ShoalConfig extends Omit<ContextValues, 'scheduleRates'> {
  /** Schedule name → minutes, only for schedules whose rate is overridden; the others keep triggers.ts. */
  readonly scheduleRates: Readonly<Record<string, number>>;
}

const KNOWN_KEYS = Object.keys(CONTEXT.shape).map((key) => `shoal:${key}`);

/**
 * Reads every `shoal:*` context key visible at `scope` (cdk.json, `-c`, `new App({ context })`)
 * and validates it against `reconcilers` (for schedule names). Throws `ShoalConfigError`
 * naming the first bad key; an unknown `shoal:` key is an error too, since it is most
 * likely a typo that would otherwise be silently ignored.
 */
export function loadShoalConfig(scope: Construct, reconcilers: readonly ReconcilerDefinition[] = RECONCILERS): ShoalConfig {
  const context = scope.node.getAllContext() as Record<string, unknown>;
  const shoalKeys = Object.keys(context).filter((key) => key.startsWith('shoal:'));
  const unknown = shoalKeys.filter((key) => !KNOWN_KEYS.includes(key) && !key.startsWith(RATE_KEY_PREFIX));
  if (unknown.length > 0) {
    throw new ShoalConfigError(`Unknown CDK context key ${unknown.join(', ')}; Shoal knows ${[...KNOWN_KEYS, `${RATE_KEY_PREFIX}<schedule>`].join(', ')}.`);
  }

  const parsed = CONTEXT.safeParse(Object.fromEntries(Object.keys(CONTEXT.shape).map((key) => [key, context[`shoal:${key}`]])));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = `shoal:${String(issue.path[0])}`;
    const where = issue.path.length > 1 ? ` (at "${issue.path.slice(1).join('.')}")` : '';
    throw new ShoalConfigError(`Invalid CDK context ${key}=${JSON.stringify(context[key])}${where}: ${issue.message}.`);
  }
  const config = parsed.data;

  const scheduleRates: Record<string, number> = { ...config.scheduleRates };
  for (const key of shoalKeys.filter((candidate) => candidate.startsWith(RATE_KEY_PREFIX))) {
    const minutes = count.safeParse(context[key]);
    if (!minutes.success) throw new ShoalConfigError(`Invalid CDK context ${key}=${JSON.stringify(context[key])}: a whole number of minutes, at least 1.`);
    scheduleRates[key.slice(RATE_KEY_PREFIX.length)] = minutes.data;
  }
  const scheduleNames = reconcilers.flatMap((definition) => definition.schedules.map((schedule) => schedule.name));
  for (const name of Object.keys(scheduleRates)) {
    if (!scheduleNames.includes(name)) {
      throw new ShoalConfigError(`CDK context sets the rate of schedule "${name}", which no reconciler has; schedules: ${scheduleNames.join(', ')}.`);
    }
  }

  if (config.authorizer === 'cognito' && !config.cognitoUserPool) {
    throw new ShoalConfigError('shoal:authorizer=cognito needs shoal:cognitoUserPool: an existing user pool ID or ARN, or "create" for a new pool.');
  }
  if (config.authorizer !== 'cognito' && config.cognitoUserPool) {
    throw new ShoalConfigError(`shoal:cognitoUserPool is only used with shoal:authorizer=cognito (the authorizer is ${config.authorizer}).`);
  }
  return { ...config, scheduleRates };
}
