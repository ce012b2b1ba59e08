// Builds test/k8s/bin/k8s-local (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok in one binary) from the Go module beside this file,
// only when its sources changed since the last build.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { k8sLocalBinaryPath } from '../../shared/local/kube-cluster.ts';

export const moduleDir = dirname(fileURLToPath(import.meta.url));
export const binaryPath = k8sLocalBinaryPath;
export const binDir = dirname(binaryPath);
const stampPath = join(binDir, 'k8s-local.stamp');
/**
 * No VCS stamping (the work tree may have no commits); no symbol tables, which
 * makes the link of this large binary faster and it smaller; and the Kubernetes
 * version from go.mod stamped in as its release build does, so that /version and
 * the user agents say v1.x.y rather than v0.0.0-master.
 */
export function goBuildFlags(): string[] {
  const goMod = readFileSync(join(moduleDir, 'go.mod'), 'utf8');
  const match = /^\s*k8s\.io\/kubernetes (v(\d+)\.(\d+)\.\d+\S*)/m.exec(goMod);
  if (!match) throw new ClusterBuildError('test/k8s/go.mod does not require k8s.io/kubernetes');
  const [, gitVersion, major, minor] = match;
  const stamps = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${gitVersion}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
  return ['-buildvcs=false', `-ldflags=-s -w ${stamps.join(' ')}`];
}

export class ClusterBuildError extends Error {
  override name = 'ClusterBuildError';
}

export interface BuildResult {
  binaryPath: string;
  built: boolean;
  seconds: number;
}

/** Hash of everything the binary is built from: go.mod, go.sum, every .go file and the build flags. */
export function sourceHash(): string {
  const hash = createHash('sha256');
  hash.update(`${goBuildFlags().join(' ')}\0`);
  const files = ['go.mod', 'go.sum', ...goFiles(moduleDir)].sort();
  for (const file of files) {
    hash.update(file);
    hash.update('\0');
    hash.update(readFileSync(join(moduleDir, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function goFiles(dir: string, prefix = ''): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (entry.name !== 'bin' && entry.name !== 'node_modules') found.push(...goFiles(join(dir, entry.name), path));
    } else if (entry.name.endsWith('.go')) {
      found.push(path);
    }
  }
  return found;
}

export function isBinaryFresh(): boolean {
  return existsSync(binaryPath) && existsSync(stampPath) && readFileSync(stampPath, 'utf8').trim() === sourceHash();
}

function requireGo(): void {
  const probe = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new ClusterBuildError(
      'The local Kubernetes clusters need the Go toolchain (>= 1.26) on PATH to build test/k8s/bin/k8s-local ' +
        `from the Kubernetes sources, and "go version" failed: ${probe.error?.message ?? probe.stderr.trim()}. ` +
        'Install Go (https://go.dev/dl/) and run "npm run clusters -- build".',
    );
  }
}

/**
 * Builds the binary unless it is up to date. Output of `go build` goes to `log`
 * (stderr by default) so that a cold build, which takes many minutes, shows progress.
 */
export async function buildClusterBinary(
  options: { force?: boolean; log?: (line: string) => void } = {},
): Promise<BuildResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  if (!options.force && isBinaryFresh()) {
    return { binaryPath, built: false, seconds: 0 };
  }
  requireGo();
  await mkdir(binDir, { recursive: true });
  const hash = sourceHash();
  log(`building ${relative(process.cwd(), binaryPath)} (go build; a cold build takes about 8 minutes on 2 cores)`);
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('go', ['build', ...goBuildFlags(), '-o', binaryPath, './cmd/k8s-local'], {
      cwd: moduleDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim()) {
          output.push(line);
          log(`  go: ${line}`);
        }
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new ClusterBuildError(
      `go build of test/k8s/cmd/k8s-local failed (exit ${code}):\n${output.slice(-40).join('\n')}\n` +
        'Fix the Go module in test/k8s (go.mod pins k8s.io/kubernetes, etcd and kwok) and run "npm run clusters -- build".',
    );
  }
  writeFileSync(stampPath, `${hash}\n`);
  const seconds = (Date.now() - started) / 1000;
  log(`built ${relative(process.cwd(), binaryPath)} in ${seconds.toFixed(0)}s`);
  return { binaryPath, built: true, seconds };
}
