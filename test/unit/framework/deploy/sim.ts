/**
 * A tiny world for the deployment planner: instances with statuses, the
 * shell's part (launch → `scheduled` with a fresh id, kill → `killing`), and
 * the cluster's part (instances start, become healthy, die, and killed ones
 * go away), driven by transcripts and the property test.
 */
import { computeDeploymentStep } from '../../../../src/framework/deploy/index.ts';
import type { InstanceStatus, KillSelection, PlannerInput, PlannerInstance, PlannerStep, UpgradeStrategy, VersionTarget } from '../../../../src/framework/deploy/index.ts';

export interface SimInstance {
  instanceId: string;
  version: string;
  status: InstanceStatus;
  startedAtMs?: number;
}

export class DeploySim {
  readonly instances = new Map<string, SimInstance>();
  targets: VersionTarget[] = [];
  strategy: UpgradeStrategy = { minimumHealthCapacity: 1, maximumOverCapacity: 1 };
  healthCounts: 'healthy' | 'running' = 'healthy';
  killSelection: KillSelection = 'YOUNGEST_FIRST';
  nowMs = 0;
  private nextId = 1;

  add(version: string, status: InstanceStatus): SimInstance {
    const i: SimInstance = { instanceId: `i${this.nextId++}`, version, status };
    if (status !== 'scheduled' && status !== 'staging') i.startedAtMs = this.nowMs;
    this.instances.set(i.instanceId, i);
    return i;
  }

  input(): PlannerInput {
    return {
      targets: this.targets,
      instances: [...this.instances.values()].map((i): PlannerInstance => ({ ...i })),
      strategy: this.strategy,
      healthCounts: this.healthCounts,
      killSelection: this.killSelection,
    };
  }

  plan(): PlannerStep {
    return computeDeploymentStep(this.input());
  }

  /** What the shell does with a step: new instances are scheduled, killed ones killing. */
  apply(step: PlannerStep): void {
    for (const l of step.launch) for (let k = 0; k < l.count; k++) this.add(l.version, 'scheduled');
    for (const id of step.kill) {
      const i = this.instances.get(id);
      if (i === undefined) throw new Error(`kill of unknown ${id}`);
      if (i.status === 'killing') throw new Error(`double kill of ${id}`);
      i.status = 'killing';
    }
  }

  /** The ready status under the app's health mode. */
  get readyStatus(): InstanceStatus {
    return this.healthCounts === 'healthy' ? 'healthy' : 'running';
  }

  /**
   * Everything in flight completes: pending instances become ready, killed
   * ones go; with `replaceUnhealthy`, unhealthy ones go too (what the health
   * monitor does to an instance that stays unhealthy).
   */
  settle(opts: { replaceUnhealthy?: boolean } = {}): void {
    this.nowMs += 1000;
    for (const i of [...this.instances.values()]) {
      if (i.status === 'killing' || (opts.replaceUnhealthy === true && i.status === 'unhealthy')) this.instances.delete(i.instanceId);
      else if (i.status === 'scheduled' || i.status === 'staging' || i.status === 'running') {
        if (i.startedAtMs === undefined) i.startedAtMs = this.nowMs;
        i.status = this.readyStatus;
      }
    }
  }

  /** One line per version: `v1: i1 healthy, i2 killing`. */
  describe(): string[] {
    const byVersion = new Map<string, string[]>();
    for (const i of this.instances.values()) {
      const list = byVersion.get(i.version) ?? [];
      list.push(`${i.instanceId} ${i.status}`);
      byVersion.set(i.version, list);
    }
    if (byVersion.size === 0) return ['(no instances)'];
    return [...byVersion].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([v, list]) => `${v}: ${list.join(', ')}`);
  }

  liveCount(): number {
    return this.instances.size;
  }

  readyCount(): number {
    let n = 0;
    for (const i of this.instances.values()) if (i.status === 'healthy' || (this.healthCounts === 'running' && i.status === 'running')) n++;
    return n;
  }
}
