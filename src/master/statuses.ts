/**
 * Builders for the TaskStatus values the master itself generates (invalid
 * launches, lost agents, reconciliation answers). Pure. Master-generated
 * updates carry no `uuid`: Mesos schedulers acknowledge only updates with a
 * uuid, and there is no agent waiting for an acknowledgement of these.
 */
import type { Reason, TaskState, TaskStatus } from './wire.ts';

export interface MasterStatusInput {
  taskId: string;
  agentId?: string;
  state: TaskState;
  reason: Reason;
  message: string;
  nowMs: number;
  /** When the task's agent became unreachable (TASK_UNREACHABLE / TASK_LOST of a lost agent): `unreachable_time`. */
  unreachableSinceMs?: number;
}

export function masterStatus(s: MasterStatusInput): TaskStatus {
  const status: TaskStatus = {
    task_id: { value: s.taskId },
    state: s.state,
    source: 'SOURCE_MASTER',
    reason: s.reason,
    message: s.message,
    timestamp: s.nowMs / 1000,
  };
  if (s.agentId !== undefined) status.agent_id = { value: s.agentId };
  if (s.unreachableSinceMs !== undefined) status.unreachable_time = { nanoseconds: msToNanoseconds(s.unreachableSinceMs) };
  return status;
}

/** Epoch ms → TimeInfo nanoseconds (~1.8e18: beyond 2^53, carried as the nearest double; see protocol/json-shape.ts). */
export function msToNanoseconds(ms: number): number {
  return Math.round(ms) * 1_000_000;
}

/** The state a task of a lost agent moves to: UNREACHABLE for PARTITION_AWARE frameworks, else LOST. */
export function lostAgentState(partitionAware: boolean): TaskState {
  return partitionAware ? 'TASK_UNREACHABLE' : 'TASK_LOST';
}

/** The state reported for a task the master does not know (Mesos' reconciliation rules). */
export function unknownTaskState(partitionAware: boolean): TaskState {
  return partitionAware ? 'TASK_UNKNOWN' : 'TASK_LOST';
}

/** Dropped-before-launch state: DROPPED for PARTITION_AWARE frameworks, else LOST. */
export function droppedState(partitionAware: boolean): TaskState {
  return partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
}

/** A reconciliation answer: the latest known status, re-stamped as the master's, without uuid. */
export function reconciliationStatus(latest: TaskStatus | undefined, taskId: string, state: TaskState, agentId: string, nowMs: number): TaskStatus {
  const base: TaskStatus = latest !== undefined ? { ...latest } : { task_id: { value: taskId }, state };
  delete base.uuid;
  base.state = state;
  base.source = 'SOURCE_MASTER';
  base.reason = 'REASON_RECONCILIATION';
  base.message = 'Reconciliation: Latest task state';
  base.agent_id = { value: agentId };
  base.timestamp = nowMs / 1000;
  return base;
}
