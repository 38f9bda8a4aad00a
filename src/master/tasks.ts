/**
 * Tasks the master knows: what was launched where, for whom, its latest
 * status, and the bounded list of completed tasks for /state. Pure.
 *
 * A task record lives in the active book from LAUNCH (TASK_STAGING) until its
 * terminal status is acknowledged by the framework (or needs no ack), then
 * moves to the completed ring. Tasks of an unreachable agent stay active
 * (TASK_UNREACHABLE / TASK_LOST) so the agent's return can restore them.
 *
 * Invariants: (frameworkId, taskId) is unique among active tasks; a task's
 * resources are given back to the allocator at most once (`resourcesRecovered`).
 */
import { isTerminal } from '../protocol/task-states.ts';
import type { KillPolicy, Resource, TaskInfo, TaskState, TaskStatus } from './wire.ts';

/** Completed tasks kept for /state (Mesos' max_completed_tasks_per_framework is similar). */
export const MAX_COMPLETED_TASKS = 1000;

/** Terminal states never change again (the protocol layer's single table). */
export function isTerminalState(state: TaskState): boolean {
  return isTerminal(state);
}

export interface TaskRecord {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly agentId: string;
  info: TaskInfo;
  resources: Resource[];
  state: TaskState;
  /** Latest status the master knows (agent-reported or master-generated). */
  status: TaskStatus | undefined;
  /** What /state and the operator API list: one status per state the task went through (`noteStatus`). */
  statuses: TaskStatus[];
  /** uuid of the latest agent update not yet acknowledged by the framework. */
  pendingUuid: string | undefined;
  resourcesRecovered: boolean;
  launchedAtMs: number;
  /** The framework asked to kill it: re-sent when its agent re-subscribes (Mesos' killedTasks). */
  killRequested: { killPolicy: KillPolicy | undefined } | undefined;
}

/**
 * Records `status` as the task's latest, and in its history as Mesos'
 * Master::updateTask does: a status in the state of the last one replaces
 * it (health changes do not pile up), and its `data`, which the framework's
 * executor fills as it likes, is not kept.
 */
export function noteStatus(t: TaskRecord, status: TaskStatus): void {
  t.status = status;
  const kept: TaskStatus = { ...status };
  delete kept.data;
  const last = t.statuses.length - 1;
  if (last >= 0 && t.statuses[last]?.state === status.state) t.statuses[last] = kept;
  else t.statuses.push(kept);
}

export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

export function describeTask(t: TaskRecord): string {
  return `task ${t.taskId} fw=${t.frameworkId} agent=${t.agentId} ${t.state}`;
}

export class TaskBook {
  private readonly active = new Map<string, TaskRecord>();
  private readonly byAgent = new Map<string, Set<TaskRecord>>();
  private readonly byFramework = new Map<string, Set<TaskRecord>>();
  private readonly completedRing: TaskRecord[] = [];
  /** Tasks moved to the completed ring since the master started, by their final state (the ring itself is bounded). */
  private readonly completedCounts = new Map<TaskState, number>();

  get size(): number {
    return this.active.size;
  }

  get(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.active.get(taskKey(frameworkId, taskId));
  }

  /**
   * The active task (frameworkId, taskId) on this agent. `frameworkId` undefined (an older
   * agent that does not say) matches any framework; then a non-terminal task wins over a
   * terminal one.
   */
  findOnAgent(agentId: string, frameworkId: string | undefined, taskId: string): TaskRecord | undefined {
    if (frameworkId !== undefined) {
      const t = this.get(frameworkId, taskId);
      return t?.agentId === agentId ? t : undefined;
    }
    let found: TaskRecord | undefined;
    for (const t of this.byAgent.get(agentId) ?? []) {
      if (t.taskId !== taskId) continue;
      if (!isTerminalState(t.state)) return t;
      found = t;
    }
    return found;
  }

  findCompletedOnAgent(agentId: string, frameworkId: string | undefined, taskId: string): TaskRecord | undefined {
    for (let i = this.completedRing.length - 1; i >= 0; i--) {
      const t = this.completedRing[i];
      if (t.agentId === agentId && t.taskId === taskId && (frameworkId === undefined || t.frameworkId === frameworkId)) return t;
    }
    return undefined;
  }

  add(t: TaskRecord): void {
    this.active.set(taskKey(t.frameworkId, t.taskId), t);
    let set = this.byAgent.get(t.agentId);
    if (set === undefined) {
      set = new Set();
      this.byAgent.set(t.agentId, set);
    }
    set.add(t);
    let fwSet = this.byFramework.get(t.frameworkId);
    if (fwSet === undefined) {
      fwSet = new Set();
      this.byFramework.set(t.frameworkId, fwSet);
    }
    fwSet.add(t);
  }

  /** Moves an active task to the completed ring. */
  complete(t: TaskRecord): void {
    const key = taskKey(t.frameworkId, t.taskId);
    if (this.active.get(key) !== t) return;
    this.active.delete(key);
    const set = this.byAgent.get(t.agentId);
    set?.delete(t);
    if (set !== undefined && set.size === 0) this.byAgent.delete(t.agentId);
    const fwSet = this.byFramework.get(t.frameworkId);
    fwSet?.delete(t);
    if (fwSet !== undefined && fwSet.size === 0) this.byFramework.delete(t.frameworkId);
    this.completedRing.push(t);
    this.completedCounts.set(t.state, (this.completedCounts.get(t.state) ?? 0) + 1);
    if (this.completedRing.length > MAX_COMPLETED_TASKS) this.completedRing.splice(0, this.completedRing.length - MAX_COMPLETED_TASKS);
  }

  onAgent(agentId: string): TaskRecord[] {
    return [...(this.byAgent.get(agentId) ?? [])];
  }

  ofFramework(frameworkId: string): TaskRecord[] {
    return [...(this.byFramework.get(frameworkId) ?? [])];
  }

  all(): IterableIterator<TaskRecord> {
    return this.active.values();
  }

  completed(): readonly TaskRecord[] {
    return this.completedRing;
  }

  /** Tasks that ended since the master started, by final state: those completed and the active ones in a terminal state (awaiting acknowledgement). */
  endedByState(): Map<TaskState, number> {
    const m = new Map(this.completedCounts);
    for (const t of this.active.values()) if (isTerminalState(t.state)) m.set(t.state, (m.get(t.state) ?? 0) + 1);
    return m;
  }

  countByState(): Map<TaskState, number> {
    const m = new Map<TaskState, number>();
    for (const t of this.active.values()) m.set(t.state, (m.get(t.state) ?? 0) + 1);
    return m;
  }
}
