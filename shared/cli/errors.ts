import { ApiError, ApiUnreachableError } from './client.ts';

/** A mistake in how the CLI was called or in what it was given; printed as `error: ...`. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * One error as kubectl prints it, never with a stack: the server's own message for API
 * errors, each validation cause on its own line, a single hint line when nothing answers.
 * `context` says which operation failed, e.g. `error when applying application.shoal.io/web`.
 */
export function formatError(error: unknown, context?: string): string {
  const prefix = context ? `${context}: ` : '';
  if (error instanceof ApiError) {
    const causes = (error.status.details?.causes ?? []).map((cause) => `${cause.field ? `${cause.field}: ` : ''}${cause.message}`);
    // The server's message repeats the causes on one line; listing them once, one per line, reads better.
    const summary = causes.join('; ');
    const message = causes.length > 0 && error.message.endsWith(`: ${summary}`) ? error.message.slice(0, -summary.length - 1) : error.message;
    return [`Error from server (${error.reason}): ${prefix}${message}`, ...causes.map((cause) => `  * ${cause}`)].join('\n');
  }
  if (error instanceof ApiUnreachableError) return error.message;
  if (error instanceof Error) return `error: ${prefix}${error.message}`;
  return `error: ${prefix}${String(error)}`;
}
