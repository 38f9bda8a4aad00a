/**
 * Validation of an ACCEPT call's offers and LAUNCH operations, as Mesos' master
 * does it: a pure function from (offers named, offers outstanding, the tasks)
 * to per-task decisions. No state is changed here; the caller applies the
 * decisions (send LAUNCH, or a TASK_ERROR/TASK_DROPPED update) and gives the
 * unused resources back to the allocator.
 *
 * Rules (in order):
 *   offers   — every id outstanding, offered to this framework, listed once,
 *              all on one agent; otherwise every task is dropped
 *              (TASK_DROPPED / TASK_LOST, REASON_INVALID_OFFERS).
 *   each task — id well-formed and unique in the framework and in this call,
 *              agent_id equal to the offers' agent, resources well-formed,
 *              non-empty, allocated to the offers' role, and within what is
 *              still unused of the offers (tasks are charged in order);
 *              otherwise TASK_ERROR, REASON_TASK_INVALID with the reason.
 */
import { allocateTo, contains, resourcesToString, subtract, toRoleForm } from '../common/resources.ts';
import type { OfferRecord } from './offers.ts';
import type { Reason, Resource, TaskInfo } from './wire.ts';

export type TaskDecision =
  | { readonly ok: true; readonly task: TaskInfo; readonly resources: Resource[] }
  | { readonly ok: false; readonly taskId: string; readonly kind: 'invalid-offers' | 'invalid-task'; readonly reason: Reason; readonly message: string };

export interface LaunchValidationInput {
  readonly frameworkId: string;
  readonly offerIds: readonly string[];
  /** Lookup of outstanding offers (by id). */
  readonly lookupOffer: (id: string) => OfferRecord | undefined;
  readonly tasks: readonly TaskInfo[];
  /** Whether the framework already has an active task with this id. */
  readonly taskIdInUse: (taskId: string) => boolean;
}

export interface LaunchValidationResult {
  /** Offers that were valid (to be consumed); empty when the offer check failed. */
  readonly offers: OfferRecord[];
  /** Why the offers as a whole were rejected, when they were. */
  readonly offerError: string | undefined;
  readonly decisions: TaskDecision[];
  /** What of the valid offers is left after the accepted tasks (offered form, allocation_info set). */
  readonly remaining: Resource[];
  readonly agentId: string | undefined;
}

export function computeLaunchDecisions(input: LaunchValidationInput): LaunchValidationResult {
  const checked = checkOffers(input);
  if (checked.error !== undefined) {
    const decisions: TaskDecision[] = input.tasks.map((t) => ({
      ok: false,
      taskId: t.task_id?.value ?? '',
      kind: 'invalid-offers',
      reason: 'REASON_INVALID_OFFERS',
      message: `Task launched with invalid offers: ${checked.error ?? ''}`,
    }));
    return { offers: checked.valid, offerError: checked.error, decisions, remaining: [], agentId: undefined };
  }
  const offers = checked.valid;
  const agentId = offers[0]?.agentId;
  const role = offers[0]?.role ?? '*';
  let remaining: Resource[] = [];
  for (const o of offers) remaining = remaining.concat(o.resources);
  const seen = new Set<string>();
  const decisions: TaskDecision[] = [];
  // A framework on reservation refinement names a reserved resource by its `reservations`; cygnet's offers hold `role`.
  for (const task of input.tasks.map(inRoleForm)) {
    const taskId = task.task_id?.value ?? '';
    const problem = checkTask(task, taskId, agentId, role, seen, input.taskIdInUse);
    seen.add(taskId);
    if (problem !== undefined) {
      decisions.push({ ok: false, taskId, kind: 'invalid-task', reason: 'REASON_TASK_INVALID', message: problem });
      continue;
    }
    const wanted = taskResources(task, role);
    if (!contains(remaining, wanted)) {
      decisions.push({
        ok: false,
        taskId,
        kind: 'invalid-task',
        reason: 'REASON_TASK_INVALID',
        message: `Task uses more resources ${resourcesToString(wanted)} than available ${resourcesToString(remaining)}`,
      });
      continue;
    }
    remaining = subtract(remaining, wanted);
    decisions.push({ ok: true, task: { ...task, agent_id: { value: agentId ?? '' }, resources: allocateTo(task.resources ?? [], role) }, resources: wanted });
  }
  return { offers, offerError: undefined, decisions, remaining, agentId };
}

function checkOffers(input: LaunchValidationInput): { valid: OfferRecord[]; error: string | undefined } {
  const valid: OfferRecord[] = [];
  const seen = new Set<string>();
  let error: string | undefined;
  if (input.offerIds.length === 0) error = 'No offers specified';
  for (const id of input.offerIds) {
    if (seen.has(id)) {
      error ??= `Duplicate offer ${id} in offer list`;
      continue;
    }
    seen.add(id);
    const o = input.lookupOffer(id);
    if (o === undefined) {
      error ??= `Offer ${id} is no longer valid`;
      continue;
    }
    if (o.frameworkId !== input.frameworkId) {
      error ??= `Offer ${id} has invalid framework ${o.frameworkId} while framework ${input.frameworkId} is expected`;
      continue;
    }
    const first = valid[0];
    if (first !== undefined && first.agentId !== o.agentId) {
      error ??= `Aggregated offers must belong to one single agent. Offer ${first.id} uses agent ${first.agentId} and offer ${o.id} uses agent ${o.agentId}`;
    }
    if (first !== undefined && first.role !== o.role) {
      error ??= `Aggregated offers must be allocated to the same role. Offer ${first.id} uses role ${first.role} and offer ${o.id} uses role ${o.role}`;
    }
    valid.push(o);
  }
  return { valid, error };
}

const TASK_ID_FORBIDDEN = /[/\\\0]|^\.\.?$/;

function checkTask(
  task: TaskInfo,
  taskId: string,
  agentId: string | undefined,
  role: string,
  seenInCall: ReadonlySet<string>,
  taskIdInUse: (taskId: string) => boolean,
): string | undefined {
  if (taskId === '') return "Task ID must not be empty";
  if (TASK_ID_FORBIDDEN.test(taskId)) return `Task ID '${taskId}' must not contain '/', '\\' or NUL and must not be '.' or '..'`;
  if (seenInCall.has(taskId) || taskIdInUse(taskId)) return `Task has duplicate ID: ${taskId}`;
  if (task.agent_id?.value !== agentId) return `Task uses invalid agent: ${task.agent_id?.value ?? '(none)'}`;
  const all = [...(task.resources ?? []), ...(task.executor?.resources ?? [])];
  const malformed = findMalformedResource(all, role);
  if (malformed !== undefined) return malformed;
  if (!all.some((r) => !isZero(r))) return 'Task uses no resources';
  if (task.command === undefined && task.executor === undefined) return 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present';
  return undefined;
}

function inRoleForm(task: TaskInfo): TaskInfo {
  const reserved = (rs: readonly Resource[] | undefined): boolean => rs?.some((r) => r.reservations !== undefined) ?? false;
  if (!reserved(task.resources) && !reserved(task.executor?.resources)) return task;
  return {
    ...task,
    ...(task.resources !== undefined ? { resources: task.resources.map(toRoleForm) } : {}),
    ...(task.executor !== undefined ? { executor: { ...task.executor, ...(task.executor.resources !== undefined ? { resources: task.executor.resources.map(toRoleForm) } : {}) } } : {}),
  };
}

function taskResources(task: TaskInfo, role: string): Resource[] {
  return allocateTo([...(task.resources ?? []), ...(task.executor?.resources ?? [])], role);
}

function isZero(r: Resource): boolean {
  if (r.type === 'SCALAR') return (r.scalar?.value ?? 0) === 0;
  if (r.type === 'RANGES') return (r.ranges?.range ?? []).length === 0;
  if (r.type === 'SET') return (r.set?.item ?? []).length === 0;
  return true;
}

/** Returns why a resource list is not well-formed, or undefined. */
export function findMalformedResource(rs: readonly Resource[], role: string): string | undefined {
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i];
    const where = `Invalid resource [${i}] '${r.name}'`;
    if (r.name === '') return `Invalid resource [${i}]: name must not be empty`;
    const alloc = r.allocation_info?.role;
    if (alloc !== undefined && alloc !== role) return `${where}: allocated to role '${alloc}' but the offers are for role '${role}'`;
    switch (r.type) {
      case 'SCALAR': {
        const v = r.scalar?.value;
        if (v === undefined || !Number.isFinite(v) || v < 0) return `${where}: scalar value must be a finite number >= 0`;
        break;
      }
      case 'RANGES': {
        if (r.ranges === undefined) return `${where}: RANGES resource without 'ranges'`;
        for (const g of r.ranges.range ?? []) {
          if (!Number.isInteger(g.begin) || !Number.isInteger(g.end) || g.begin < 0 || g.begin > g.end) {
            return `${where}: range [${g.begin}-${g.end}] must have integer bounds with 0 <= begin <= end`;
          }
        }
        break;
      }
      case 'SET':
        if (r.set === undefined) return `${where}: SET resource without 'set'`;
        break;
      default:
        return `${where}: type ${String(r.type)} is not a resource type (SCALAR, RANGES or SET)`;
    }
  }
  return undefined;
}
