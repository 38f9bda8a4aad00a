/**
 * Handlers for Scheduler API calls, one `handleX` per call kind, over a
 * CoreContext. Pure: state changes + effects in the outbox. A call that
 * cannot be accepted at all throws a CygnetError before changing anything
 * (mapped to HTTP at the edge); a call that is accepted but partly invalid
 * (bad LAUNCH) is answered, as in Mesos, with TASK_ERROR / TASK_DROPPED
 * updates on the framework's stream.
 */
import { BadRequestError, ForbiddenError } from '../common/errors.ts';
import type { CoreContext } from './core-context.ts';
import { forwardStatus, removeFramework, rescindOffer, sendToAgent, sendToFramework } from './core-ops.ts';
import { roleError } from './scheduler-call-validation.ts';
import { frameworkRoles, type FrameworkRecord } from './frameworks.ts';
import { computeLaunchDecisions } from './launch-validation.ts';
import { droppedState, masterStatus, reconciliationStatus, unknownTaskState } from './statuses.ts';
import { isTerminalState, type TaskRecord } from './tasks.ts';
import type { FrameworkInfo, SchedulerCall, TaskInfo, TaskStatus } from './wire.ts';

/**
 * SUBSCRIBE with the id of a removed framework. Mesos answers it on the
 * subscription stream (200, one ERROR event, end of stream) rather than with
 * a 4xx; clients (Marathon, mesos-go, our SDK) treat that ERROR as final.
 */
export class FrameworkRemovedError extends ForbiddenError {
  constructor() {
    super('Framework has been removed');
  }
}

/** Tasks in one ACCEPT (Mesos has no explicit bound; this keeps one call's work bounded). */
export const MAX_TASKS_PER_ACCEPT = 10_000;

/**
 * SUBSCRIBE on a new stream. New framework → new id; known id → failover
 * (old stream gets ERROR and is closed, outstanding offers are rescinded);
 * unknown id (master restarted) → accepted with that id and re-attached to
 * tasks the agents report. Returns the framework id.
 */
export function handleSubscribe(ctx: CoreContext, call: SchedulerCall, streamId: string, nowMs: number): string {
  const sub = call.subscribe;
  if (sub === undefined) throw new BadRequestError("Expecting 'subscribe' to be present");
  const info = sub.framework_info;
  const requestedId = info.id?.value;
  if (requestedId !== undefined && ctx.frameworks.isCompleted(requestedId)) throw new FrameworkRemovedError();
  const existing = requestedId !== undefined ? ctx.frameworks.get(requestedId) : undefined;
  let fw: FrameworkRecord;
  if (existing !== undefined) {
    if (existing.streamId !== undefined) {
      ctx.emit({ kind: 'framework-event', frameworkId: existing.id, streamId: existing.streamId, event: { type: 'ERROR', error: { message: 'Framework failed over' } } });
      ctx.emit({ kind: 'close-stream', streamId: existing.streamId, reason: 'framework failed over' });
    }
    for (const o of ctx.offers.ofFramework(existing.id)) rescindOffer(ctx, o, { notify: false, nowMs });
    const rolesBefore = existing.roles.join(',');
    fw = ctx.frameworks.upsert(existing.id, info, 'connected', nowMs);
    if (fw.roles.join(',') !== rolesBefore) ctx.allocator.updateFramework(portFramework(fw));
  } else {
    const id = requestedId ?? ctx.ids.nextFrameworkId();
    fw = ctx.frameworks.upsert(id, info, 'connected', nowMs);
    ctx.allocator.addFramework(portFramework(fw));
  }
  fw.streamId = streamId;
  fw.failoverDeadlineMs = undefined;
  ctx.allocator.setFrameworkActive(fw.id, true);
  const suppressed = sub.suppressed_roles ?? [];
  fw.suppressedRoles = new Set(suppressed);
  ctx.allocator.revive(fw.id, undefined);
  if (suppressed.length > 0) ctx.allocator.suppress(fw.id, suppressed);
  sendToFramework(ctx, fw.id, {
    type: 'SUBSCRIBED',
    subscribed: { framework_id: { value: fw.id }, heartbeat_interval_seconds: ctx.config.heartbeatIntervalSec, master_info: ctx.config.masterInfo },
  });
  // Mesos' heartbeater starts without a delay: a HEARTBEAT follows SUBSCRIBED at once, then one every interval.
  sendToFramework(ctx, fw.id, { type: 'HEARTBEAT' });
  if (existing !== undefined) ctx.operator.frameworkUpdated(fw);
  else ctx.operator.frameworkAdded(fw);
  askAgentsToResend(ctx, fw.id);
  ctx.emit({ kind: 'allocate' });
  ctx.log.info({ frameworkId: fw.id, name: info.name, failover: existing !== undefined }, 'framework subscribed');
  return fw.id;
}

/**
 * Updates the framework has not acknowledged are retried by their agents with
 * backoff (up to minutes); a (re-)subscribed framework gets them now: the
 * agents holding them are asked to RECONCILE (re-send) those tasks.
 */
function askAgentsToResend(ctx: CoreContext, frameworkId: string): void {
  const byAgent = new Map<string, { value: string }[]>();
  for (const t of ctx.tasks.ofFramework(frameworkId)) {
    if (t.pendingUuid === undefined) continue;
    const list = byAgent.get(t.agentId) ?? [];
    list.push({ value: t.taskId });
    byAgent.set(t.agentId, list);
  }
  for (const [agentId, taskIds] of byAgent) sendToAgent(ctx, agentId, { type: 'RECONCILE', reconcile: { task_ids: taskIds, framework_id: { value: frameworkId } } });
}

/**
 * The framework's event stream closed. A stale stream (already replaced) is
 * ignored. Otherwise the framework is deactivated, its offers rescinded, and
 * removed after `failover_timeout` seconds (0, Mesos' default, = right away).
 */
export function handleFrameworkStreamClosed(ctx: CoreContext, frameworkId: string, streamId: string, nowMs: number): void {
  const fw = ctx.frameworks.get(frameworkId);
  if (fw === undefined || fw.streamId !== streamId) return;
  fw.streamId = undefined;
  fw.state = 'disconnected';
  ctx.allocator.setFrameworkActive(fw.id, false);
  for (const o of ctx.offers.ofFramework(fw.id)) rescindOffer(ctx, o, { notify: false, nowMs });
  const timeoutMs = (fw.info.failover_timeout ?? 0) * 1000;
  if (timeoutMs <= 0) {
    removeFramework(ctx, fw, nowMs, 'Framework disconnected and its failover_timeout is 0');
    return;
  }
  fw.failoverDeadlineMs = nowMs + timeoutMs;
  ctx.operator.frameworkUpdated(fw);
  ctx.emit({ kind: 'allocate' });
  ctx.log.info({ frameworkId, failoverTimeoutMs: timeoutMs }, 'framework disconnected');
}

/**
 * Checks that a non-SUBSCRIBE call may act for its framework (Mesos' order
 * and wording): known framework (400), subscribed (403), stream id header
 * present (400) and current (400).
 */
export function authorizeCall(ctx: CoreContext, call: SchedulerCall, streamIdHeader: string | undefined): FrameworkRecord {
  const id = call.framework_id?.value;
  if (id === undefined) throw new BadRequestError("Expecting 'framework_id' to be present");
  const fw = ctx.frameworks.get(id);
  if (fw === undefined) throw new BadRequestError('Framework cannot be found');
  if (fw.state !== 'connected' || fw.streamId === undefined) throw new ForbiddenError('Framework is not subscribed');
  if (streamIdHeader === undefined || streamIdHeader === '') {
    throw new BadRequestError("All non-subscribe calls should include the 'Mesos-Stream-Id' header");
  }
  if (streamIdHeader !== fw.streamId) {
    throw new BadRequestError(`The stream ID '${streamIdHeader}' included in this request didn't match the stream ID currently associated with framework ID ${fw.id}`);
  }
  return fw;
}

/** Dispatches an authorized non-SUBSCRIBE call. */
export function handleFrameworkCall(ctx: CoreContext, fw: FrameworkRecord, call: SchedulerCall, nowMs: number): void {
  switch (call.type) {
    case 'TEARDOWN':
      removeFramework(ctx, fw, nowMs, 'Framework requested teardown');
      ctx.emit({ kind: 'allocate' });
      return;
    case 'ACCEPT':
      handleAccept(ctx, fw, call, nowMs);
      return;
    case 'DECLINE':
      handleDecline(ctx, fw, call, nowMs);
      return;
    case 'REVIVE':
      handleRevive(ctx, fw, call.revive?.roles);
      return;
    case 'SUPPRESS':
      handleSuppress(ctx, fw, call.suppress?.roles);
      return;
    case 'KILL':
      if (call.kill !== undefined) handleKill(ctx, fw, call.kill.task_id.value, call.kill.agent_id?.value, call, nowMs);
      return;
    case 'SHUTDOWN':
      if (call.shutdown !== undefined) handleShutdown(ctx, fw, call.shutdown.agent_id.value, call.shutdown.executor_id.value, nowMs);
      return;
    case 'ACKNOWLEDGE':
      if (call.acknowledge !== undefined) handleAcknowledge(ctx, fw, call.acknowledge.agent_id.value, call.acknowledge.task_id.value, call.acknowledge.uuid);
      return;
    case 'RECONCILE':
      handleReconcile(ctx, fw, call.reconcile?.tasks ?? [], nowMs);
      return;
    case 'UPDATE_FRAMEWORK':
      if (call.update_framework !== undefined) handleUpdateFramework(ctx, fw, call.update_framework, nowMs);
      return;
    case 'MESSAGE':
    case 'REQUEST':
    case 'ACCEPT_INVERSE_OFFERS':
    case 'DECLINE_INVERSE_OFFERS':
      // No executors to message and no inverse offers in cygnet: accepted and dropped (Mesos ignores REQUEST too).
      ctx.log.debug({ frameworkId: fw.id, type: call.type }, 'call accepted and ignored');
      return;
    default:
      throw new BadRequestError(`Unsupported call type '${String(call.type)}'`);
  }
}

function handleAccept(ctx: CoreContext, fw: FrameworkRecord, call: SchedulerCall, nowMs: number): void {
  const accept = call.accept ?? {};
  const offerIds = (accept.offer_ids ?? []).map((o) => o.value);
  const tasks: TaskInfo[] = [];
  for (const op of accept.operations ?? []) {
    if (op.type === 'LAUNCH') tasks.push(...(op.launch?.task_infos ?? []));
    else if (op.type === 'LAUNCH_GROUP') {
      for (const t of op.launch_group?.task_group.tasks ?? []) {
        forwardStatus(ctx, fw.id, masterStatus({ taskId: t.task_id.value, state: 'TASK_ERROR', reason: 'REASON_TASK_GROUP_INVALID', message: 'LAUNCH_GROUP is not supported by cygnet', nowMs }));
      }
    } else ctx.log.info({ frameworkId: fw.id, type: op.type }, 'offer operation not supported; ignored');
  }
  if (tasks.length > MAX_TASKS_PER_ACCEPT) throw new BadRequestError(`Too many tasks in one ACCEPT: ${tasks.length} > ${MAX_TASKS_PER_ACCEPT}`);
  const result = computeLaunchDecisions({
    frameworkId: fw.id,
    offerIds,
    lookupOffer: (id) => ctx.offers.get(id),
    tasks,
    taskIdInUse: (taskId) => ctx.tasks.get(fw.id, taskId) !== undefined,
  });
  const refuseSeconds = refuseSecondsOf(ctx, accept.filters?.refuse_seconds);
  if (result.offerError !== undefined) {
    for (const o of result.offers) rescindOffer(ctx, o, { notify: false, nowMs });
  } else {
    for (const o of result.offers) ctx.offers.take(o.id);
    ctx.counters.offersAccepted += result.offers.length;
  }
  for (const d of result.decisions) {
    if (d.ok) {
      launchTask(ctx, fw, d.task, d.resources, nowMs);
      continue;
    }
    const state = d.kind === 'invalid-offers' ? droppedState(fw.partitionAware) : 'TASK_ERROR';
    if (d.kind === 'invalid-offers') ctx.counters.tasksDropped++;
    else ctx.counters.tasksInvalid++;
    // Invalid offers name no agent of their own: the status carries the one the task asked for, as Mesos' does.
    const agentId = result.agentId ?? tasks.find((t) => t.task_id?.value === d.taskId)?.agent_id?.value;
    forwardStatus(ctx, fw.id, masterStatus({ taskId: d.taskId, ...(agentId !== undefined && agentId !== '' ? { agentId } : {}), state, reason: d.reason, message: d.message, nowMs }));
  }
  if (result.offerError === undefined && result.agentId !== undefined) {
    // Once per closed offer, with [] when all was used: this clears the framework's open-offer mark on the agent.
    const filterSeconds = result.remaining.length > 0 ? refuseSeconds : undefined; // nothing left to refuse
    ctx.allocator.recoverResources(fw.id, result.agentId, result.remaining, filterSeconds, nowMs);
  }
  ctx.emit({ kind: 'allocate' });
}

function launchTask(ctx: CoreContext, fw: FrameworkRecord, task: TaskInfo, resources: TaskInfo['resources'], nowMs: number): void {
  const agentId = task.agent_id.value;
  const rec: TaskRecord = {
    frameworkId: fw.id,
    taskId: task.task_id.value,
    agentId,
    info: task,
    resources: resources ?? [],
    state: 'TASK_STAGING',
    status: undefined,
    statuses: [],
    pendingUuid: undefined,
    resourcesRecovered: false,
    launchedAtMs: nowMs,
    killRequested: undefined,
  };
  ctx.tasks.add(rec);
  ctx.operator.taskAdded(rec);
  ctx.counters.tasksLaunched++;
  sendToAgent(ctx, agentId, { type: 'LAUNCH', launch: { framework_info: fw.info, task } });
}

/** Longest filter Mesos' allocator creates: longer asks are cut to it. */
const maxRefuseSeconds = 365 * 24 * 3600;

/** A filter's refuse_seconds as Mesos' allocator takes it: absent, negative or not a number → the default; beyond 365 days → 365 days. */
function refuseSecondsOf(ctx: CoreContext, asked: number | undefined): number {
  if (asked === undefined || Number.isNaN(asked) || asked < 0) return ctx.config.defaultRefuseSeconds;
  return Math.min(asked, maxRefuseSeconds);
}

function handleDecline(ctx: CoreContext, fw: FrameworkRecord, call: SchedulerCall, nowMs: number): void {
  const refuseSeconds = refuseSecondsOf(ctx, call.decline?.filters?.refuse_seconds);
  for (const { value } of call.decline?.offer_ids ?? []) {
    const o = ctx.offers.get(value);
    if (o === undefined || o.frameworkId !== fw.id) continue; // Mesos: stale declines are ignored
    ctx.offers.take(value);
    ctx.allocator.recoverResources(fw.id, o.agentId, o.resources, refuseSeconds, nowMs);
    ctx.counters.offersDeclined++;
  }
  ctx.emit({ kind: 'allocate' });
}

/**
 * Mesos drops a SUPPRESS or REVIVE naming a role that is invalid or not one
 * of the framework's (the whole call, not just that role); the call was
 * still accepted (202).
 */
function droppedForRoles(ctx: CoreContext, fw: FrameworkRecord, call: 'SUPPRESS' | 'REVIVE', roles: readonly string[]): boolean {
  for (const r of roles) {
    const why = roleError(r) ?? (fw.roles.includes(r) ? undefined : `'${r}' is not one of the framework's subscribed roles`);
    if (why !== undefined) {
      ctx.log.warn({ frameworkId: fw.id, role: r }, `dropping ${call}: ${why}`);
      return true;
    }
  }
  return false;
}

function handleRevive(ctx: CoreContext, fw: FrameworkRecord, roles: string[] | undefined): void {
  if (droppedForRoles(ctx, fw, 'REVIVE', roles ?? [])) return;
  const which = roles !== undefined && roles.length > 0 ? roles : undefined;
  if (which === undefined) fw.suppressedRoles.clear();
  else for (const r of which) fw.suppressedRoles.delete(r);
  ctx.allocator.revive(fw.id, which);
  ctx.emit({ kind: 'allocate' });
}

/**
 * UPDATE_FRAMEWORK (Mesos' Master::updateFramework): a new FrameworkInfo
 * and set of suppressed roles, in place, on the same subscription. The
 * principal, user and checkpoint cannot change; offers to roles the
 * framework no longer has are rescinded.
 */
function handleUpdateFramework(ctx: CoreContext, fw: FrameworkRecord, update: NonNullable<SchedulerCall['update_framework']>, nowMs: number): void {
  const why = immutableChange(fw.info, update.framework_info);
  if (why !== undefined) throw new BadRequestError(`FrameworkInfo update is not valid: ${why}`);
  ctx.frameworks.updateInfo(fw, update.framework_info);
  fw.suppressedRoles = new Set(update.suppressed_roles ?? []);
  ctx.allocator.updateFramework(portFramework(fw));
  const roles = new Set(fw.roles);
  for (const o of ctx.offers.ofFramework(fw.id)) {
    if (!roles.has(o.role)) rescindOffer(ctx, o, { notify: true, nowMs });
  }
  ctx.operator.frameworkUpdated(fw);
  ctx.emit({ kind: 'allocate' });
  ctx.log.info({ frameworkId: fw.id, roles: fw.roles, suppressed: [...fw.suppressedRoles] }, 'framework updated');
}

/** Mesos' validateUpdate, in its words: what a framework may not change about itself. */
function immutableChange(before: FrameworkInfo, after: FrameworkInfo): string | undefined {
  if (before.principal !== after.principal) return "Changing framework's principal is not allowed.";
  if (before.user !== after.user) return `Updating 'FrameworkInfo.user' is unsupported; attempted to update from '${before.user}' to '${after.user}'`;
  const cp = (i: FrameworkInfo): boolean => i.checkpoint ?? false;
  if (cp(before) !== cp(after)) return `Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from '${String(cp(before))}' to '${String(cp(after))}'`;
  return undefined;
}

function handleSuppress(ctx: CoreContext, fw: FrameworkRecord, roles: string[] | undefined): void {
  if (droppedForRoles(ctx, fw, 'SUPPRESS', roles ?? [])) return;
  const which = roles !== undefined && roles.length > 0 ? roles : undefined;
  for (const r of which ?? fw.roles) fw.suppressedRoles.add(r);
  ctx.allocator.suppress(fw.id, which);
}

function handleKill(ctx: CoreContext, fw: FrameworkRecord, taskId: string, agentId: string | undefined, call: SchedulerCall, nowMs: number): void {
  const t = ctx.tasks.get(fw.id, taskId);
  if (t !== undefined && !isTerminalState(t.state)) {
    const killPolicy = call.kill?.kill_policy ?? t.info.kill_policy;
    t.killRequested = { killPolicy };
    const agent = ctx.agents.get(t.agentId);
    if (agent?.state === 'active') {
      // Sent now if the agent's stream is up; otherwise re-sent when it re-subscribes (as Mesos does).
      sendToAgent(ctx, t.agentId, { type: 'KILL', kill: { framework_id: { value: fw.id }, task_id: { value: taskId }, kill_policy: killPolicy } });
      return;
    }
  }
  // Unknown, terminal or on an unreachable agent: Mesos answers with reconciliation of that task.
  handleReconcile(ctx, fw, [{ task_id: { value: taskId }, agent_id: agentId !== undefined ? { value: agentId } : undefined }], nowMs);
}

function handleShutdown(ctx: CoreContext, fw: FrameworkRecord, agentId: string, executorId: string, _nowMs: number): void {
  for (const t of ctx.tasks.onAgent(agentId)) {
    if (t.frameworkId !== fw.id || isTerminalState(t.state)) continue;
    if ((t.info.executor?.executor_id.value ?? t.taskId) !== executorId) continue;
    sendToAgent(ctx, agentId, { type: 'KILL', kill: { framework_id: { value: fw.id }, task_id: { value: t.taskId } } });
  }
}

function handleAcknowledge(ctx: CoreContext, fw: FrameworkRecord, agentId: string, taskId: string, uuid: string): void {
  const t = ctx.tasks.get(fw.id, taskId);
  if (t !== undefined && t.agentId === agentId && t.pendingUuid !== undefined && sameUuid(t.pendingUuid, uuid)) {
    t.pendingUuid = undefined;
    if (isTerminalState(t.state)) ctx.tasks.complete(t);
  }
  // Forwarded even when the master does not know the update: the agent decides by uuid.
  sendToAgent(ctx, agentId, { type: 'ACKNOWLEDGE', acknowledge: { framework_id: { value: fw.id }, task_id: { value: taskId }, uuid } });
}

function sameUuid(a: string, b: string): boolean {
  return a === b || Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'));
}

type ReconcileTask = { task_id: { value: string }; agent_id?: { value: string } | undefined };

/** Explicit (listed tasks) or implicit (empty list: every task the master has for the framework). */
export function handleReconcile(ctx: CoreContext, fw: FrameworkRecord, tasks: readonly ReconcileTask[], nowMs: number): void {
  if (tasks.length === 0) {
    for (const t of ctx.tasks.ofFramework(fw.id)) {
      forwardStatus(ctx, fw.id, reconciliationStatus(t.status, t.taskId, t.state, t.agentId, nowMs));
    }
    return;
  }
  for (const { task_id, agent_id } of tasks) {
    const answer = explicitAnswer(ctx, fw, task_id.value, agent_id?.value, nowMs);
    if (answer !== undefined) forwardStatus(ctx, fw.id, answer);
  }
}

/**
 * The reconciliation answer for one task (Mesos' Master::_reconcileTasks);
 * undefined = stay silent. Mesos stays silent while an agent it recovered
 * from its registry has not re-registered; this master keeps no registry,
 * so for a task on an agent it has not heard from since it started it
 * stays silent for the re-registration window.
 */
function explicitAnswer(ctx: CoreContext, fw: FrameworkRecord, taskId: string, agentId: string | undefined, nowMs: number): TaskStatus | undefined {
  // As Mesos' Framework::getTask: a terminal task is known until its last update is acknowledged;
  // after that it is history (/state's completed tasks), and reconciliation answers as for any unknown task.
  const t = ctx.tasks.get(fw.id, taskId);
  if (t !== undefined) return reconciliationStatus(t.status, taskId, t.state, t.agentId, nowMs);
  const agent = agentId !== undefined ? ctx.agents.get(agentId) : undefined;
  if (agent !== undefined && agent.state === 'unreachable') {
    return masterStatus({
      taskId,
      agentId,
      state: fw.partitionAware ? 'TASK_UNREACHABLE' : 'TASK_LOST',
      reason: 'REASON_RECONCILIATION',
      message: 'Reconciliation: Task is unreachable',
      nowMs,
      unreachableSinceMs: agent.unreachableSinceMs,
    });
  }
  if (agent !== undefined) {
    // A registered agent does not have it.
    return masterStatus({ taskId, agentId, state: fw.partitionAware ? 'TASK_GONE' : 'TASK_LOST', reason: 'REASON_RECONCILIATION', message: 'Reconciliation: Task is unknown to the agent', nowMs });
  }
  if (nowMs < ctx.config.startedAtMs + ctx.config.reregistrationWindowMs) return undefined;
  return masterStatus({ taskId, agentId, state: unknownTaskState(fw.partitionAware), reason: 'REASON_RECONCILIATION', message: 'Reconciliation: Task is unknown', nowMs });
}

export function portFramework(fw: FrameworkRecord): { id: string; roles: string[]; suppressedRoles: string[]; active: boolean } {
  return { id: fw.id, roles: frameworkRoles(fw.info), suppressedRoles: [...fw.suppressedRoles], active: fw.state === 'connected' };
}

