/**
 * Handlers for the master↔agent protocol (cygnet.agent Calls), over a
 * CoreContext. Pure: state changes + effects.
 *
 * Re-registration is reconciliation, never duplication: an agent that
 * subscribes with an id the master knows (active or unreachable) keeps that
 * record; one the master does not know (master restarted) is re-admitted
 * with its id and its tasks. Tasks the agent reports win over what the master
 * believed; tasks the master believed were there but the agent does not
 * report are gone (TASK_LOST, or TASK_DROPPED/TASK_GONE for partition-aware
 * frameworks). Tasks returning from an unreachable agent are forwarded to
 * their framework with the status the agent reports.
 *
 * Calls after SUBSCRIBE must carry the current stream id; a rejected call
 * (403) tells the agent to subscribe again.
 */
import { BadRequestError, ForbiddenError } from '../common/errors.ts';
import type { AgentRecord } from './agents.ts';
import type { CoreContext } from './core-context.ts';
import { forwardStatus, markAgentUnreachable, recordStatus, rescindOffer, sendToAgent } from './core-ops.ts';
import type { FrameworkRecord } from './frameworks.ts';
import { findMalformedResource } from './launch-validation.ts';
import { portFramework } from './scheduler-calls.ts';
import { masterStatus } from './statuses.ts';
import { isTerminalState, noteStatus, type TaskRecord } from './tasks.ts';
import type { AgentCall, AgentCallSubscribe, FrameworkInfo, Resource, TaskInfo, TaskStatus } from './wire.ts';

/** Tasks one agent may report in SUBSCRIBE (bounds one call's work). */
export const MAX_TASKS_PER_AGENT_SUBSCRIBE = 100_000;

export function validateAgentCall(call: AgentCall): void {
  const type = call.type;
  if (type === undefined || type === 'UNKNOWN') throw new BadRequestError("Expecting 'type' to be present");
  if (type === 'SUBSCRIBE') {
    const sub = call.subscribe;
    if (sub === undefined) throw new BadRequestError("Expecting 'subscribe' to be present");
    if (sub.agent_info.hostname === '') throw new BadRequestError("'subscribe.agent_info.hostname' must not be empty");
    const port = sub.agent_info.port;
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new BadRequestError(`'subscribe.agent_info.port' must be 0..65535, got ${port}`);
    const bad = findMalformedResource(sub.agent_info.resources ?? [], '*');
    if (bad !== undefined) throw new BadRequestError(`'subscribe.agent_info.resources': ${bad}`);
    if ((sub.tasks ?? []).length > MAX_TASKS_PER_AGENT_SUBSCRIBE) throw new BadRequestError(`Too many tasks in SUBSCRIBE (> ${MAX_TASKS_PER_AGENT_SUBSCRIBE})`);
    return;
  }
  if (call.agent_id === undefined || call.agent_id.value === '') throw new BadRequestError("Expecting 'agent_id' to be present");
  if (type === 'UPDATE' && call.update === undefined) throw new BadRequestError("Expecting 'update' to be present");
  if (type !== 'UPDATE' && type !== 'HEARTBEAT') throw new BadRequestError(`Unsupported call type '${String(type)}'`);
}

/** Checks a non-SUBSCRIBE call's agent and stream; returns the agent. */
export function authorizeAgentCall(ctx: CoreContext, call: AgentCall, streamIdHeader: string | undefined): AgentRecord {
  const id = call.agent_id?.value ?? '';
  if (streamIdHeader === undefined || streamIdHeader === '') throw new BadRequestError("All non-subscribe calls should include the 'Mesos-Stream-Id' header");
  const agent = ctx.agents.get(id);
  if (agent === undefined || agent.state !== 'active' || agent.streamId === undefined) throw new ForbiddenError(`Agent ${id} is not subscribed`);
  if (agent.streamId !== streamIdHeader) {
    throw new ForbiddenError(`The stream ID '${streamIdHeader}' included in this request didn't match the stream ID currently associated with agent ID ${id}`);
  }
  return agent;
}

interface ReportedTask {
  readonly frameworkId: string;
  readonly task: TaskInfo;
  readonly status: TaskStatus;
}

/** SUBSCRIBE on a new stream; returns the agent id. */
export function handleAgentSubscribe(ctx: CoreContext, sub: AgentCallSubscribe, streamId: string, remoteIp: string, nowMs: number): string {
  const info = sub.agent_info;
  const requestedId = info.id?.value;
  let agent = requestedId !== undefined && requestedId !== '' ? ctx.agents.get(requestedId) : undefined;
  if (agent !== undefined) {
    if (agent.streamId !== undefined) ctx.emit({ kind: 'close-stream', streamId: agent.streamId, reason: 'agent re-subscribed' });
    for (const o of ctx.offers.onAgent(agent.id)) rescindOffer(ctx, o, { notify: true, nowMs });
    if (agent.state === 'active') ctx.allocator.removeAgent(agent.id);
    agent.reregisteredAtMs = nowMs;
  } else {
    const id = requestedId !== undefined && requestedId !== '' ? requestedId : ctx.ids.nextAgentId();
    agent = {
      id,
      info,
      hostname: info.hostname,
      port: info.port ?? 5051,
      ip: remoteIp,
      total: [],
      attributes: [],
      state: 'active',
      streamId: undefined,
      registeredAtMs: nowMs,
      reregisteredAtMs: undefined,
      lastSeenMs: nowMs,
      unreachableSinceMs: undefined,
    };
    ctx.agents.put(agent);
  }
  agent.info = { ...info, id: { value: agent.id } };
  agent.hostname = info.hostname;
  agent.port = info.port ?? agent.port;
  agent.ip = remoteIp;
  agent.total = info.resources ?? [];
  agent.attributes = info.attributes ?? [];
  agent.state = 'active';
  agent.unreachableSinceMs = undefined;
  agent.lastSeenMs = nowMs;
  agent.streamId = streamId;
  sendToAgent(ctx, agent.id, { type: 'SUBSCRIBED', subscribed: { agent_id: { value: agent.id }, heartbeat_interval_seconds: ctx.config.agentHeartbeatIntervalSec } });

  const shutdown = new Set<string>();
  const reported = resolveReportedTasks(ctx, agent, sub, shutdown, nowMs);
  const used = reconcileTasks(ctx, agent, reported, nowMs);
  ctx.allocator.addAgent({ id: agent.id, hostname: agent.hostname, total: agent.total, attributes: agent.attributes, used });
  ctx.operator.agentAdded(agent);
  for (const fwId of shutdown) sendToAgent(ctx, agent.id, { type: 'SHUTDOWN_FRAMEWORK', shutdown_framework: { framework_id: { value: fwId } } });
  ctx.emit({ kind: 'allocate' });
  ctx.log.info({ agentId: agent.id, hostname: agent.hostname, tasks: reported.length, reregistered: agent.reregisteredAtMs !== undefined }, 'agent subscribed');
  return agent.id;
}

/**
 * Which framework each reported task belongs to. TaskInfo has no framework id,
 * so (in order): `task.executor.framework_id`; `frameworks[i]` when the agent
 * sent one FrameworkInfo per task; the only framework when it sent one; the
 * framework the master already has this task under on this agent.
 */
function resolveReportedTasks(ctx: CoreContext, agent: AgentRecord, sub: AgentCallSubscribe, shutdown: Set<string>, nowMs: number): ReportedTask[] {
  const tasks = sub.tasks ?? [];
  const statuses = sub.task_statuses ?? [];
  const frameworks = sub.frameworks ?? [];
  const out: ReportedTask[] = [];
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i];
    const fwInfo: FrameworkInfo | undefined =
      frameworks.length === tasks.length ? frameworks[i] : frameworks.length === 1 ? frameworks[0] : undefined;
    const fwId =
      task.executor?.framework_id?.value ?? fwInfo?.id?.value ?? ctx.tasks.findOnAgent(agent.id, undefined, task.task_id.value)?.frameworkId;
    if (fwId === undefined || fwId === '') {
      ctx.log.warn({ agentId: agent.id, taskId: task.task_id.value }, 'reported task has no resolvable framework; ignored');
      continue;
    }
    if (ctx.frameworks.isCompleted(fwId)) {
      shutdown.add(fwId);
      continue;
    }
    ensureFramework(ctx, fwId, fwInfo ?? frameworks.find((f) => f.id?.value === fwId), nowMs);
    const status = findReportedStatus(statuses, sub.task_status_framework_ids, fwId, task.task_id.value, i);
    out.push({ frameworkId: fwId, task, status: status ?? { task_id: task.task_id, state: 'TASK_STAGING', agent_id: { value: agent.id } } });
  }
  return out;
}

/**
 * The status reported for task (fwId, taskId), the i-th task. Statuses name their framework
 * in the parallel `task_status_framework_ids`; an older agent sends none, and then the
 * task id alone decides (ambiguous only if two frameworks share a task id there).
 */
function findReportedStatus(statuses: readonly TaskStatus[], fwIds: readonly { value: string }[] | undefined, fwId: string, taskId: string, i: number): TaskStatus | undefined {
  const matches = (k: number): boolean => statuses[k]?.task_id.value === taskId && (fwIds === undefined || fwIds.length !== statuses.length || fwIds[k]?.value === fwId);
  if (matches(i)) return statuses[i];
  for (let k = 0; k < statuses.length; k++) if (matches(k)) return statuses[k];
  return undefined;
}

/**
 * A framework known only from an agent's report (master restarted): kept,
 * inactive, until it subscribes; removed (its tasks killed) if it has not
 * within max(its failover_timeout, the re-registration window), as Mesos
 * tears down frameworks that do not come back after a master failover.
 */
function ensureFramework(ctx: CoreContext, fwId: string, info: FrameworkInfo | undefined, nowMs: number): FrameworkRecord {
  const existing = ctx.frameworks.get(fwId);
  if (existing !== undefined) return existing;
  const fw = ctx.frameworks.upsert(fwId, info ?? { user: '', name: '' }, 'recovered', nowMs);
  fw.failoverDeadlineMs = nowMs + Math.max((info?.failover_timeout ?? 0) * 1000, ctx.config.reregistrationWindowMs);
  ctx.allocator.addFramework(portFramework(fw));
  ctx.operator.frameworkAdded(fw);
  return fw;
}

/** Applies the agent's report to the task book; returns what its live tasks use, per framework and role. */
function reconcileTasks(ctx: CoreContext, agent: AgentRecord, reported: readonly ReportedTask[], nowMs: number): { frameworkId: string; role: string; resources: Resource[] }[] {
  const seen = new Set<TaskRecord>();
  const used = new Map<string, { frameworkId: string; role: string; resources: Resource[] }>();
  for (const r of reported) {
    let t = ctx.tasks.get(r.frameworkId, r.task.task_id.value);
    if (t !== undefined && t.agentId !== agent.id) {
      ctx.log.warn({ taskId: t.taskId, was: t.agentId, now: agent.id }, 'task reported by a second agent; keeping the first');
      continue;
    }
    const status: TaskStatus = { ...r.status, agent_id: { value: agent.id } };
    if (t === undefined) {
      t = {
        frameworkId: r.frameworkId,
        taskId: r.task.task_id.value,
        agentId: agent.id,
        info: r.task,
        resources: r.task.resources ?? [],
        state: status.state,
        status: undefined,
        statuses: [],
        pendingUuid: status.uuid,
        resourcesRecovered: isTerminalState(status.state),
        launchedAtMs: nowMs,
        killRequested: undefined,
      };
      noteStatus(t, status);
      ctx.tasks.add(t);
      ctx.operator.taskAdded(t);
    } else {
      const wasAway = t.state === 'TASK_LOST' || t.state === 'TASK_UNREACHABLE';
      const changed = t.state !== status.state;
      t.state = status.state;
      noteStatus(t, status);
      t.pendingUuid = status.uuid;
      t.resourcesRecovered = isTerminalState(status.state);
      if (changed) ctx.operator.taskUpdated(t);
      if (wasAway) forwardStatus(ctx, t.frameworkId, status);
    }
    seen.add(t);
    if (t.killRequested !== undefined && !isTerminalState(t.state)) {
      sendToAgent(ctx, agent.id, { type: 'KILL', kill: { framework_id: { value: t.frameworkId }, task_id: { value: t.taskId }, kill_policy: t.killRequested.killPolicy } });
    }
    if (!t.resourcesRecovered) {
      const fw = ctx.frameworks.get(t.frameworkId);
      for (const res of t.resources) {
        const role = res.allocation_info?.role ?? fw?.roles[0] ?? '*';
        const key = `${t.frameworkId}\u0000${role}`;
        const entry = used.get(key) ?? { frameworkId: t.frameworkId, role, resources: [] };
        entry.resources.push(res);
        used.set(key, entry);
      }
    }
  }
  for (const t of ctx.tasks.onAgent(agent.id)) {
    if (seen.has(t)) continue;
    t.resourcesRecovered = true; // the agent is re-added to the allocator without them
    if (!isTerminalState(t.state)) {
      const fw = ctx.frameworks.get(t.frameworkId);
      const pa = fw?.partitionAware ?? false;
      const state = !pa ? 'TASK_LOST' : t.state === 'TASK_STAGING' ? 'TASK_DROPPED' : 'TASK_GONE';
      const status = masterStatus({ taskId: t.taskId, agentId: agent.id, state, reason: 'REASON_RECONCILIATION', message: 'Task is unknown to the agent', nowMs });
      recordStatus(ctx, t, status, nowMs);
      forwardStatus(ctx, t.frameworkId, status);
    }
    ctx.tasks.complete(t);
  }
  return [...used.values()];
}

/**
 * A status update from the agent for task (frameworkId, status.task_id): recorded, forwarded
 * if the framework is connected, auto-acked if it is gone. `frameworkId` is undefined only
 * from an older agent; then the task id alone is matched on that agent.
 */
export function handleAgentUpdate(ctx: CoreContext, agent: AgentRecord, incoming: TaskStatus, nowMs: number, frameworkId?: string): void {
  ctx.counters.statusUpdatesReceived++;
  agent.lastSeenMs = nowMs;
  const status: TaskStatus = { ...incoming, agent_id: { value: agent.id } };
  const fwId = frameworkId === '' ? undefined : frameworkId;
  const t = ctx.tasks.findOnAgent(agent.id, fwId, status.task_id.value);
  if (t === undefined) {
    const done = ctx.tasks.findCompletedOnAgent(agent.id, fwId, status.task_id.value);
    if (done !== undefined && ctx.frameworks.get(done.frameworkId) === undefined && status.uuid !== undefined) {
      // A late update for a task of a removed framework: acknowledge it so the agent stops retrying.
      sendToAgent(ctx, agent.id, { type: 'ACKNOWLEDGE', acknowledge: { framework_id: { value: done.frameworkId }, task_id: status.task_id, uuid: status.uuid } });
      ctx.counters.statusUpdatesAutoAcked++;
      return;
    }
    ctx.log.warn({ agentId: agent.id, frameworkId: fwId, taskId: status.task_id.value, state: status.state }, 'status update for an unknown task; ignored');
    return;
  }
  // An agent re-sending an older, unacknowledged update (e.g. after it restarted), or any
  // non-terminal update after a terminal one (a health check racing the kill; Mesos' master ignores
  // those as out of order), must not move the master's view backwards: it is forwarded for
  // acknowledgement, but the newer state is kept.
  const stale = !isTerminalState(status.state) && (isTerminalState(t.state) || isOlder(status, t.status));
  if (!stale) recordStatus(ctx, t, status, nowMs);
  t.pendingUuid = status.uuid;
  const fw = ctx.frameworks.get(t.frameworkId);
  if (fw === undefined) {
    // The framework was removed: acknowledge on its behalf so the agent stops retrying.
    if (status.uuid !== undefined) {
      sendToAgent(ctx, agent.id, { type: 'ACKNOWLEDGE', acknowledge: { framework_id: { value: t.frameworkId }, task_id: status.task_id, uuid: status.uuid } });
      ctx.counters.statusUpdatesAutoAcked++;
    }
    t.pendingUuid = undefined;
  } else {
    forwardStatus(ctx, t.frameworkId, status);
  }
  if (isTerminalState(t.state) && t.pendingUuid === undefined) ctx.tasks.complete(t);
}

function isOlder(incoming: TaskStatus, latest: TaskStatus | undefined): boolean {
  if (latest === undefined || latest.source === 'SOURCE_MASTER') return false;
  return incoming.timestamp !== undefined && latest.timestamp !== undefined && incoming.timestamp < latest.timestamp;
}

export function handleAgentHeartbeat(_ctx: CoreContext, agent: AgentRecord, nowMs: number): void {
  agent.lastSeenMs = nowMs;
}

/** The agent's event stream closed: it has `agentPingTimeoutMs` to come back before it is unreachable. */
export function handleAgentStreamClosed(ctx: CoreContext, agentId: string, streamId: string, _nowMs: number): void {
  const agent = ctx.agents.get(agentId);
  if (agent === undefined || agent.streamId !== streamId) return;
  agent.streamId = undefined;
  ctx.log.info({ agentId }, 'agent stream closed');
}

/** Marks silent agents unreachable. */
export function checkAgentLiveness(ctx: CoreContext, nowMs: number): void {
  for (const agent of ctx.agents.silentSince(nowMs, ctx.config.agentPingTimeoutMs)) {
    markAgentUnreachable(ctx, agent, nowMs, `no heartbeat for ${ctx.config.agentPingTimeoutMs} ms`);
  }
}
