/**
 * One stable line per protocol message, for logs and test expectations:
 *
 *   SUBSCRIBE framework=- name=marathon
 *   ACCEPT framework=f1 offers=[o1,o2] ops=[LAUNCH(t1,t2)]
 *   UPDATE task=t1 TASK_RUNNING source=SOURCE_EXECUTOR uuid=0a1b…
 *
 * Works on Scheduler, Executor and agent Calls and Events alike (they share
 * the `type` + sub-message shape). Pure; never throws on a partial message.
 */

import type { AgentCall, AgentEvent } from './agent-types.ts';
import type { ExecutorCall, ExecutorEvent, SchedulerCall, SchedulerEvent, TaskStatus } from './mesos-types.ts';
import { uuidHex } from './ids.ts';

export type AnyCall = SchedulerCall | ExecutorCall | AgentCall;
export type AnyEvent = SchedulerEvent | ExecutorEvent | AgentEvent;

/** Most items listed by value before "+N more". */
const MAX_LISTED = 5;

type Loose = Record<string, unknown>;

export function describeCall(call: AnyCall): string {
  return describeTyped(call as unknown as Loose);
}

export function describeEvent(event: AnyEvent): string {
  return describeTyped(event as unknown as Loose);
}

/** `task=t1 TASK_RUNNING reason=… source=… healthy=true uuid=…` */
export function describeTaskStatus(status: TaskStatus): string {
  const parts = [`task=${status.task_id?.value ?? '?'}`, status.state ?? '?'];
  if (status.agent_id !== undefined) parts.push(`agent=${status.agent_id.value}`);
  if (status.reason !== undefined) parts.push(`reason=${status.reason}`);
  if (status.source !== undefined) parts.push(`source=${status.source}`);
  if (status.healthy !== undefined) parts.push(`healthy=${status.healthy}`);
  if (status.uuid !== undefined) parts.push(`uuid=${uuidHex(status.uuid)}`);
  if (status.message !== undefined) parts.push(`message=${JSON.stringify(status.message)}`);
  return parts.join(' ');
}

function describeTyped(msg: Loose): string {
  const type = typeof msg.type === 'string' ? msg.type : 'UNKNOWN';
  const parts: string[] = [type];
  if (isId(msg.framework_id)) parts.push(`framework=${msg.framework_id.value}`);
  if (isId(msg.agent_id)) parts.push(`agent=${msg.agent_id.value}`);
  if (isId(msg.executor_id)) parts.push(`executor=${msg.executor_id.value}`);
  const sub = msg[subMessageKey(type)];
  if (isObject(sub)) parts.push(...describeSub(sub));
  return parts.join(' ');
}

/** The sub-message field of a `type` value: SUBSCRIBE → subscribe, SHUTDOWN_FRAMEWORK → shutdown_framework, OFFERS → offers. */
function subMessageKey(type: string): string {
  return type.toLowerCase();
}

function describeSub(sub: Loose): string[] {
  const parts: string[] = [];
  const frameworkInfo = sub.framework_info;
  if (isObject(frameworkInfo)) {
    parts.push(`name=${String(frameworkInfo.name)}`);
    if (isId(frameworkInfo.id)) parts.push(`id=${frameworkInfo.id.value}`);
  }
  if (isObject(sub.agent_info)) parts.push(`hostname=${String(sub.agent_info.hostname)}`);
  for (const key of ['framework_id', 'agent_id', 'executor_id', 'task_id', 'offer_id', 'inverse_offer_id'] as const) {
    const id = sub[key];
    if (isId(id)) parts.push(`${key.replace(/_id$/, '')}=${id.value}`);
  }
  for (const key of ['offer_ids', 'inverse_offer_ids', 'task_ids'] as const) {
    const ids = sub[key];
    if (Array.isArray(ids)) parts.push(`${key.replace(/_ids$/, 's')}=${list(ids.map((i) => (isId(i) ? i.value : '?')))}`);
  }
  if (Array.isArray(sub.offers)) {
    parts.push(`offers=${list(sub.offers.map((o) => (isObject(o) && isId(o.id) ? o.id.value : '?')))}`);
  }
  if (Array.isArray(sub.operations)) parts.push(`ops=${list(sub.operations.map(describeOperation))}`);
  if (Array.isArray(sub.tasks)) {
    parts.push(`tasks=${list(sub.tasks.map((t) => (isObject(t) && isId(t.task_id) ? t.task_id.value : '?')))}`);
  }
  if (Array.isArray(sub.unacknowledged_tasks)) {
    parts.push(`tasks=${list(sub.unacknowledged_tasks.map((t) => (isObject(t) && isId(t.task_id) ? t.task_id.value : '?')))}`);
  }
  if (Array.isArray(sub.unacknowledged_updates)) parts.push(`updates=${sub.unacknowledged_updates.length}`);
  if (isObject(sub.task) && isId(sub.task.task_id)) parts.push(`task=${sub.task.task_id.value}`);
  if (isObject(sub.status)) parts.push(describeTaskStatus(sub.status as unknown as TaskStatus));
  if (typeof sub.uuid === 'string') parts.push(`uuid=${uuidHex(sub.uuid)}`);
  if (typeof sub.heartbeat_interval_seconds === 'number') parts.push(`heartbeat=${sub.heartbeat_interval_seconds}s`);
  if (isObject(sub.filters) && typeof sub.filters.refuse_seconds === 'number') parts.push(`refuse=${sub.filters.refuse_seconds}s`);
  if (Array.isArray(sub.roles)) parts.push(`roles=${list(sub.roles.map(String))}`);
  if (typeof sub.message === 'string') parts.push(`message=${JSON.stringify(sub.message)}`);
  return parts;
}

function describeOperation(op: unknown): string {
  if (!isObject(op)) return '?';
  const type = typeof op.type === 'string' ? op.type : 'UNKNOWN';
  if (isObject(op.launch) && Array.isArray(op.launch.task_infos)) {
    return `${type}(${op.launch.task_infos.map((t) => (isObject(t) && isId(t.task_id) ? t.task_id.value : '?')).join(',')})`;
  }
  return type;
}

function list(items: string[]): string {
  const shown = items.slice(0, MAX_LISTED).join(',');
  return items.length > MAX_LISTED ? `[${shown},+${items.length - MAX_LISTED} more]` : `[${shown}]`;
}

function isObject(v: unknown): v is Loose {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is { value: string } {
  return isObject(v) && typeof v.value === 'string';
}
