/**
 * Classification of Mesos task states, in one table (terminal or not), and
 * narrowing helpers for enum values read from untyped places.
 *
 * Terminal states never change again: a task id may only be reused after one.
 * TASK_UNREACHABLE and TASK_UNKNOWN are not terminal (the agent may come back).
 */

import { REASON_VALUES, SOURCE_VALUES, TASK_STATE_VALUES } from './mesos-types.ts';
import type { Reason, Source, TaskState } from './mesos-types.ts';

/** true = terminal. A Record so adding a state to the union without classifying it fails to compile. */
const TERMINAL: Record<TaskState, boolean> = {
  TASK_STAGING: false,
  TASK_STARTING: false,
  TASK_RUNNING: false,
  TASK_KILLING: false,
  TASK_FINISHED: true,
  TASK_FAILED: true,
  TASK_KILLED: true,
  TASK_ERROR: true,
  TASK_LOST: true,
  TASK_DROPPED: true,
  TASK_UNREACHABLE: false,
  TASK_GONE: true,
  TASK_GONE_BY_OPERATOR: true,
  TASK_UNKNOWN: false,
};

export const TASK_STATES: readonly TaskState[] = Object.keys(TASK_STATE_VALUES) as TaskState[];
export const TERMINAL_TASK_STATES: readonly TaskState[] = TASK_STATES.filter((s) => TERMINAL[s]);
export const REASONS: readonly Reason[] = Object.keys(REASON_VALUES) as Reason[];
export const SOURCES: readonly Source[] = Object.keys(SOURCE_VALUES) as Source[];

export function isTerminal(state: TaskState): boolean {
  return TERMINAL[state];
}

/** Staging, starting, running or killing: the task holds its resources on a live agent. */
export function isActive(state: TaskState): boolean {
  return state === 'TASK_STAGING' || state === 'TASK_STARTING' || state === 'TASK_RUNNING' || state === 'TASK_KILLING';
}

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(TASK_STATE_VALUES, value);
}

export function isReason(value: unknown): value is Reason {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(REASON_VALUES, value);
}

export function isSource(value: unknown): value is Source {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SOURCE_VALUES, value);
}
