import { isIP } from 'node:net';

export const GROUP_VERSION = 'shoal.io/v1alpha1';

export interface ControlPlane {
  url: string;
  stop(): Promise<void>;
}

export function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${text}"`);
  return value;
}

/** Benchmarks load only local control planes: never somebody else's server. */
export function assertLoopback(server: string) {
  const host = new URL(server).hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  if (!loopback) throw new Error(`SHOAL_SERVER=${server} is not a loopback address; the benchmark only runs against a local control plane`);
}

/** An in-memory control plane in this process, quiet: the figures are the output. */
export async function startLocalControlPlane(): Promise<ControlPlane> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  // Loaded lazily so that measuring an external SHOAL_SERVER does not load the control plane at all.
  const { startControlPlane } = await import('../../shared/local/control-plane.ts');
  return startControlPlane({ port: 0, inMemory: true });
}

/** One HTTP exchange; a non-2xx answer is an error carrying the server's message. */
export async function call(server: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server}${path}`, {
    method,
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text(); // always drain, so the connection goes back to the pool
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const message = (parsed as { message?: string } | undefined)?.message ?? text.slice(0, 200);
    throw new Error(`${method} ${path}: ${response.status} ${message}`);
  }
  return { status: response.status, body: parsed };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Prints rows under headers, the first column left-aligned, the others right-aligned. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]) {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('   ');
  console.log(line(headers));
  for (const row of rows) console.log(line(row));
}

/** Runs a benchmark and exits with its code: pooled keep-alive sockets and the control plane's timers must not keep a finished benchmark alive. */
export async function runBenchmark(name: string, main: () => Promise<number>): Promise<never> {
  try {
    process.exit(await main());
  } catch (error) {
    console.error(`${name}: ${(error as Error).message}`);
    process.exit(1);
  }
}
