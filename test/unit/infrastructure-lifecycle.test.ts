import { describe, expect, it } from 'vitest';
import { nextInfrastructureStep, pollDelaySeconds, provisionId, versionMatches, type InfrastructureView } from '../../shared/infrastructure/lifecycle.ts';

const NOW = new Date('2026-11-21T12:00:00Z');

function view(overrides: Partial<InfrastructureView> = {}): InfrastructureView {
  return { generation: 2, shape: { nodes: 2 }, registered: true, status: { phase: 'ONLINE', observedGeneration: 2 }, now: NOW, ...overrides };
}

describe('nextInfrastructureStep', () => {
  it('creates a cluster the provider does not have', () => {
    // Act / Assess
    expect(nextInfrastructureStep(view({ registered: false, status: undefined }), { phase: 'absent' })).toEqual({ action: 'create' });
  });

  it('waits while the provider provisions, in the phase of the running operation', () => {
    // Act
    const creating = nextInfrastructureStep(view({ registered: false, status: { phase: 'PROVISIONING' } }), { phase: 'provisioning', message: 'starting etcd' });
    const scaling = nextInfrastructureStep(view({ status: { phase: 'SCALING' } }), { phase: 'updating' });
    const onItsOwn = nextInfrastructureStep(view(), { phase: 'updating' });
    // Assess
    expect(creating).toEqual({ action: 'wait', phase: 'PROVISIONING', message: 'starting etcd' });
    expect(scaling).toMatchObject({ action: 'wait', phase: 'SCALING' });
    expect(onItsOwn).toMatchObject({ action: 'wait', phase: 'SCALING' });
  });

  it('registers credentials first once the cluster is ready', () => {
    // Act / Assess
    expect(nextInfrastructureStep(view({ registered: false, status: { phase: 'PROVISIONING' } }), { phase: 'ready', nodes: { desired: 2, ready: 0 } })).toEqual({
      action: 'register',
    });
  });

  it('upgrades before it scales, and scales on a new worker count', () => {
    // Act
    const upgrade = nextInfrastructureStep(view({ shape: { nodes: 3, version: '1.36' } }), { phase: 'ready', version: 'v1.35.2', nodes: { desired: 2, ready: 2 } });
    const scale = nextInfrastructureStep(view({ shape: { nodes: 3, version: '1.36' } }), { phase: 'ready', version: 'v1.36.3', nodes: { desired: 2, ready: 2 } });
    // Assess
    expect(upgrade).toEqual({ action: 'upgrade', message: 'upgrading Kubernetes from v1.35.2 to 1.36' });
    expect(scale).toEqual({ action: 'scale', message: 'scaling workers from 2 to 3' });
  });

  it('applies a new machine type once per generation', () => {
    // Prepare
    const changed = view({ generation: 3, shape: { nodes: 2, machineType: 'large' } });
    // Act
    const first = nextInfrastructureStep(changed, { phase: 'ready', nodes: { desired: 2, ready: 2 } });
    const afterwards = nextInfrastructureStep({ ...changed, status: { phase: 'SCALING', observedGeneration: 2 } }, { phase: 'ready', nodes: { desired: 2, ready: 2 } });
    // Assess
    expect(first).toEqual({ action: 'scale', message: 'moving workers to machine type large' });
    expect(afterwards).toEqual({ action: 'online' });
  });

  it('ends an operation only when every wanted node is ready', () => {
    // Act
    const waiting = nextInfrastructureStep(view({ status: { phase: 'SCALING' } }), { phase: 'ready', nodes: { desired: 2, ready: 1 } });
    const done = nextInfrastructureStep(view({ status: { phase: 'SCALING' } }), { phase: 'ready', nodes: { desired: 2, ready: 2 } });
    const healthIsTheProbes = nextInfrastructureStep(view(), { phase: 'ready', nodes: { desired: 2, ready: 1 } });
    // Assess
    expect(waiting).toEqual({ action: 'wait', phase: 'SCALING', message: '1 of 2 nodes ready' });
    expect(done).toEqual({ action: 'online' });
    expect(healthIsTheProbes).toEqual({ action: 'online' });
  });

  it('refreshes credentials that expire within the margin', () => {
    // Prepare
    const expiring = view({ status: { phase: 'ONLINE', observedGeneration: 2, credentialsExpireAt: '2026-11-21T12:02:00Z' } });
    const valid = view({ status: { phase: 'ONLINE', observedGeneration: 2, credentialsExpireAt: '2026-11-21T12:14:00Z' } });
    // Act / Assess
    expect(nextInfrastructureStep(expiring, { phase: 'ready', nodes: { desired: 2, ready: 2 } })).toEqual({ action: 'refresh-credentials' });
    expect(nextInfrastructureStep(valid, { phase: 'ready', nodes: { desired: 2, ready: 2 } })).toEqual({ action: 'online' });
  });

  it('fails with the provider message', () => {
    // Act / Assess
    expect(nextInfrastructureStep(view(), { phase: 'failed', message: 'quota exceeded' })).toEqual({ action: 'fail', message: 'quota exceeded' });
  });
});

describe('pollDelaySeconds', () => {
  it('starts at 5 s and doubles with the age of the operation up to 60 s', () => {
    // Prepare
    const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
    // Act
    const delays = [0, 9, 10, 25, 45, 85, 600].map((seconds) => pollDelaySeconds(ago(seconds), NOW));
    // Assess
    expect(delays).toEqual([5, 5, 10, 20, 40, 60, 60]);
    expect(pollDelaySeconds(undefined, NOW)).toBe(5);
  });
});

describe('provisionId and versionMatches', () => {
  it('names the real cluster <namespace>-<name>, cut to 63 characters with a hash', () => {
    // Act
    const short = provisionId('default', 'edge');
    const long = provisionId('a'.repeat(40), 'b'.repeat(40));
    // Assess
    expect(short).toBe('default-edge');
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^a{40}-b{13}-[0-9a-f]{8}$/);
    expect(provisionId('a'.repeat(40), 'b'.repeat(41))).not.toBe(long);
  });

  it('meets a minor version with any patch release', () => {
    // Act / Assess
    expect(versionMatches('1.36', 'v1.36.3')).toBe(true);
    expect(versionMatches('1.36.3', '1.36.3')).toBe(true);
    expect(versionMatches('1.36', 'v1.35.9')).toBe(false);
    expect(versionMatches('1.36.2', 'v1.36.3')).toBe(false);
  });
});
