import { describe, expect, it } from 'vitest';
import { runShoal, type CliIO } from '../../shared/cli/program.ts';

/** Runs the CLI against a server that does not exist: only what is checked before any request can pass. */
async function shoal(args: readonly string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text), readStdin: async () => '', env: {} };
  const code = await runShoal(['--server', 'http://127.0.0.1:9', ...args], io);
  return { code, stdout, stderr };
}

describe('shoal cluster create / scale', () => {
  it('refuses a node count that is not a whole number', async () => {
    // Act
    const create = await shoal(['cluster', 'create', 'edge', '--nodes', 'two']);
    const scale = await shoal(['cluster', 'scale', 'edge', '--nodes', '-1']);
    // Assess
    expect(create.code).toBe(1);
    expect(create.stderr).toContain('--nodes must be a whole number from 0 to 1000, got "two"');
    expect(scale.stderr).toContain('got "-1"');
  });

  it('refuses malformed cloud constraints before sending anything', async () => {
    // Act
    const label = await shoal(['cluster', 'create', 'edge', '--cloud-label', 'location in eu']);
    const metric = await shoal(['cluster', 'create', 'edge', '--cloud-metric', 'green >']);
    // Assess
    expect(label.stderr).toContain('invalid label selector "location in eu"');
    expect(metric.stderr).toContain('invalid metric constraint "green >"');
  });

  it('needs --nodes to scale', async () => {
    // Act
    const run = await shoal(['cluster', 'scale', 'edge']);
    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("required option '--nodes <n>' not specified");
  });
});
