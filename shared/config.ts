import { z } from 'zod';

/**
 * Runtime settings, read from the environment once. The CDK stack sets them on every
 * Lambda; `npm start` sets them for the in-process handlers.
 */
const environment = z.object({
  SHOAL_TABLE_NAME: z.string().min(1).default('shoal-resources'),
  /** Any DynamoDB-compatible endpoint: DynamoDB Local, LocalStack. Unset means AWS. */
  SHOAL_DYNAMODB_ENDPOINT: z.url().optional(),
  /** `secretsmanager` (AWS) or `file:<dir>` (one machine). */
  SHOAL_SECRET_STORE: z.string().default('secretsmanager'),
  SHOAL_SECRET_PREFIX: z.string().default('shoal/'),
  AWS_REGION: z.string().default('us-east-1'),
});

export type ShoalConfig = z.infer<typeof environment>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ShoalConfig {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid Shoal environment: ${problems}`);
  }
  return parsed.data;
}

/**
 * A duration setting (`SHOAL_PLACEMENT_STABLE_SECONDS`, `SHOAL_CLUSTER_DRAIN_GRACE_SECONDS`),
 * read on every call so that a test control plane can shorten it; `fallback` unless it is
 * a number of seconds ≥ 0.
 */
export function secondsSetting(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const text = env[name];
  const value = Number(text);
  return text && Number.isFinite(value) && value >= 0 ? value : fallback;
}
