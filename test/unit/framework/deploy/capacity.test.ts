/**
 * The upgrade strategy's bounds, as Marathon computes them, in a table; and
 * the planner's input checks.
 */
import { expect } from 'chai';
import { computeCapacity, computeDeploymentStep, computeProgress, killOrder, type PlannerInstance } from '../../../../src/framework/deploy/index.ts';

describe('deployment capacity bounds', () => {
  it('min ready = ⌈T × minimumHealthCapacity⌉, max live = ⌊T × (1 + maximumOverCapacity)⌋, +1 when they meet with enough ready', () => {
    const rows: [total: number, mhc: number, over: number, ready: number, min: number, max: number][] = [
      [10, 1, 1, 10, 10, 20], // Marathon's default strategy
      [10, 0.5, 0.2, 10, 5, 12],
      [3, 0.5, 0.5, 3, 2, 4], // ⌈1.5⌉ = 2, ⌊4.5⌋ = 4
      [10, 0.7, 0.1, 10, 7, 11], // rounded to 1e-9 first: Marathon's doubles give ⌈7.000000000000001⌉ = 8
      [10, 1, 0, 10, 10, 11], // the bounds meet: one over is allowed
      [10, 1, 0, 9, 10, 10], // … only once that many are ready
      [1, 0.5, 0, 1, 1, 2], // ⌈0.5⌉ = 1 = ⌊1⌋: the exception again
      [5, 0, 0, 5, 0, 5],
      [0, 1, 1, 3, 0, 0], // suspend: nothing may stay
    ];
    for (const [total, mhc, over, ready, min, max] of rows) {
      const b = computeCapacity(total, { minimumHealthCapacity: mhc, maximumOverCapacity: over }, ready);
      expect([b.minReady, b.maxLive], `T=${total} mhc=${mhc} over=${over} ready=${ready}`).to.deep.equal([min, max]);
    }
  });

  it('refuses a version targeted twice, naming it', () => {
    expect(() => computeDeploymentStep({
      targets: [{ version: 'v1', count: 1 }, { version: 'v1', count: 2 }],
      instances: [],
      strategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      healthCounts: 'healthy',
      killSelection: 'YOUNGEST_FIRST',
    })).to.throw(/v1 is targeted twice|targeted twice in \[v1, v1\]/);
  });

  it('orders kills: never-launched first, then staging, unhealthy, running, ready; then by start per killSelection', () => {
    const i = (instanceId: string, status: PlannerInstance['status'], startedAtMs?: number): PlannerInstance => ({ instanceId, version: 'v1', status, startedAtMs });
    const list = [i('h-old', 'healthy', 1), i('h-new', 'healthy', 9), i('u', 'unhealthy', 5), i('s', 'staging'), i('q', 'scheduled'), i('r', 'running', 3)];
    expect([...list].sort(killOrder('YOUNGEST_FIRST', 'healthy')).map((x) => x.instanceId)).to.deep.equal(['q', 's', 'u', 'r', 'h-new', 'h-old']);
    expect([...list].sort(killOrder('OLDEST_FIRST', 'healthy')).map((x) => x.instanceId)).to.deep.equal(['q', 's', 'u', 'r', 'h-old', 'h-new']);
    // Without health checks a running instance is ready: it ranks with the healthy ones.
    expect([...list].sort(killOrder('OLDEST_FIRST', 'running')).map((x) => x.instanceId)).to.deep.equal(['q', 's', 'u', 'h-old', 'r', 'h-new']);
  });

  it('progress counts units of work against the baseline', () => {
    const input = {
      targets: [{ version: 'v2', count: 2 }],
      instances: [
        { instanceId: 'a', version: 'v1', status: 'healthy' as const },
        { instanceId: 'b', version: 'v2', status: 'healthy' as const },
        { instanceId: 'c', version: 'v2', status: 'staging' as const },
      ],
      strategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      healthCounts: 'healthy' as const,
      killSelection: 'YOUNGEST_FIRST' as const,
    };
    const p = computeProgress(input, 4);
    expect([p.remainingUnits, p.currentStep, p.totalSteps, p.toStop]).to.deep.equal([2, 3, 4, 1]);
    expect(p.describe).to.equal('v2 1/2 ready, 1 to stop (step 3 of 4)');
  });
});
