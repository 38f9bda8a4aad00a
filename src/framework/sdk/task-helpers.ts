/**
 * Small pure helpers for frameworks built on the SDK: reading scalars out of
 * offers and building the resources of a command task. No I/O here.
 */
import type { Offer, Resource, TaskInfo, TaskState } from '../../protocol/mesos-types.ts';

/** Sum of the scalar resource `name` (cpus, mem, disk, ...) in `offer`. */
export function offerScalar(offer: Offer, name: string): number {
  let total = 0;
  for (const r of offer.resources ?? []) {
    if (r.name === name && r.type === 'SCALAR' && r.scalar) total += r.scalar.value;
  }
  return total;
}

export function scalarResource(name: string, value: number): Resource {
  return { name, type: 'SCALAR', scalar: { value } };
}

export interface CommandTaskSpec {
  readonly taskId: string;
  readonly command: string;
  readonly cpus: number;
  readonly memMb: number;
  readonly name?: string;
}

/** A shell command task for `offer`'s agent. */
export function commandTask(offer: Offer, spec: CommandTaskSpec): TaskInfo {
  return {
    name: spec.name ?? spec.taskId,
    task_id: { value: spec.taskId },
    agent_id: offer.agent_id,
    resources: [scalarResource('cpus', spec.cpus), scalarResource('mem', spec.memMb)],
    command: { value: spec.command, shell: true },
  };
}

const terminalStates: ReadonlySet<TaskState> = new Set<TaskState>([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED',
  'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
]);

/** Mesos' terminal states (TASK_UNREACHABLE and TASK_UNKNOWN are not terminal). */
export function isTerminalState(state: TaskState): boolean {
  return terminalStates.has(state);
}
