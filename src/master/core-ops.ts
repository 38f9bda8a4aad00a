/**
 * Operations shared by the scheduler-call and agent-call handlers: sending to
 * a framework, forwarding statuses, rescinding offers, releasing task
 * resources, removing a framework and losing an agent. Pure functions over a
 * CoreContext (effects go to the outbox).
 *
 * Invariants kept here: an offer's resources go back to the allocator exactly
 * once (OfferBook.take before recover); a task's resources at most once
 * (`resourcesRecovered`); nothing is sent on a stream of a framework that is
 * not connected.
 */
import type { AgentRecord } from './agents.ts';
import type { CoreContext } from './core-context.ts';
import type { FrameworkRecord } from './frameworks.ts';
import type { OfferRecord } from './offers.ts';
import { lostAgentState, masterStatus } from './statuses.ts';
import { isTerminalState, noteStatus, type TaskRecord } from './tasks.ts';
import type { AgentEvent, SchedulerEvent, TaskStatus } from './wire.ts';

export function sendToFramework(ctx: CoreContext, frameworkId: string, event: SchedulerEvent): boolean {
  const fw = ctx.frameworks.get(frameworkId);
  if (fw === undefined || fw.state !== 'connected' || fw.streamId === undefined) return false;
  ctx.emit({ kind: 'framework-event', frameworkId, streamId: fw.streamId, event });
  return true;
}

export function sendToAgent(ctx: CoreContext, agentId: string, event: AgentEvent): boolean {
  const agent = ctx.agents.get(agentId);
  if (agent === undefined || agent.state !== 'active' || agent.streamId === undefined) return false;
  ctx.emit({ kind: 'agent-event', agentId, streamId: agent.streamId, event });
  return true;
}

/** Forwards a status to its framework (if connected); counts it. */
export function forwardStatus(ctx: CoreContext, frameworkId: string, status: TaskStatus): boolean {
  const sent = sendToFramework(ctx, frameworkId, { type: 'UPDATE', update: { status } });
  if (sent) ctx.counters.statusUpdatesForwarded++;
  return sent;
}

/** Takes an offer out of the book and gives its resources back. */
export function rescindOffer(ctx: CoreContext, offer: OfferRecord, opts: { notify: boolean; refuseSeconds?: number; nowMs: number }): void {
  if (ctx.offers.take(offer.id) === undefined) return;
  ctx.allocator.recoverResources(offer.frameworkId, offer.agentId, offer.resources, opts.refuseSeconds, opts.nowMs);
  ctx.counters.offersRescinded++;
  if (opts.notify) sendToFramework(ctx, offer.frameworkId, { type: 'RESCIND', rescind: { offer_id: { value: offer.id } } });
}

/**
 * Gives a task's resources back to the allocator once (only while its agent is
 * registered there). Not an offer closing: an offer still outstanding to the
 * framework on that agent keeps blocking a second one (`closesOffer: false`).
 */
export function releaseTaskResources(ctx: CoreContext, task: TaskRecord, nowMs: number): void {
  if (task.resourcesRecovered) return;
  task.resourcesRecovered = true;
  const agent = ctx.agents.get(task.agentId);
  if (agent === undefined || agent.state !== 'active') return;
  ctx.allocator.recoverResources(task.frameworkId, task.agentId, task.resources, undefined, nowMs, { closesOffer: false });
  ctx.emit({ kind: 'allocate' });
}

/** Records a new status for a task; terminal → resources released. Returns whether it became terminal now. */
export function recordStatus(ctx: CoreContext, task: TaskRecord, status: TaskStatus, nowMs: number): boolean {
  const wasTerminal = isTerminalState(task.state);
  task.state = status.state;
  noteStatus(task, status);
  const nowTerminal = isTerminalState(status.state);
  if (nowTerminal) releaseTaskResources(ctx, task, nowMs);
  ctx.operator.taskUpdated(task);
  return nowTerminal && !wasTerminal;
}

/**
 * Removes a framework: its offers go back, its tasks are killed (agents get
 * SHUTDOWN_FRAMEWORK) and completed as TASK_KILLED, its stream is closed.
 */
export function removeFramework(ctx: CoreContext, fw: FrameworkRecord, nowMs: number, why: string): void {
  for (const o of ctx.offers.ofFramework(fw.id)) rescindOffer(ctx, o, { notify: false, nowMs });
  const agentsToShutdown = new Set<string>();
  for (const t of ctx.tasks.ofFramework(fw.id)) {
    if (!isTerminalState(t.state)) {
      agentsToShutdown.add(t.agentId);
      recordStatus(ctx, t, masterStatus({ taskId: t.taskId, agentId: t.agentId, state: 'TASK_KILLED', reason: 'REASON_FRAMEWORK_REMOVED', message: why, nowMs }), nowMs);
    }
    ctx.tasks.complete(t);
  }
  for (const agentId of agentsToShutdown) {
    sendToAgent(ctx, agentId, { type: 'SHUTDOWN_FRAMEWORK', shutdown_framework: { framework_id: { value: fw.id } } });
  }
  if (fw.streamId !== undefined) ctx.emit({ kind: 'close-stream', streamId: fw.streamId, reason: why });
  fw.streamId = undefined;
  ctx.allocator.removeFramework(fw.id);
  ctx.offers.forgetFramework(fw.id);
  ctx.frameworks.remove(fw.id);
  ctx.operator.frameworkRemoved(fw);
  ctx.counters.frameworksRemoved++;
  ctx.log.info({ frameworkId: fw.id, why }, 'framework removed');
}

/**
 * Marks an agent unreachable: stream closed, offers rescinded, removed from
 * the allocator, its tasks TASK_UNREACHABLE (partition-aware frameworks) or
 * TASK_LOST with REASON_AGENT_REMOVED, and every connected framework told
 * with a FAILURE event. Tasks stay in the book so the agent's return restores them.
 */
export function markAgentUnreachable(ctx: CoreContext, agent: AgentRecord, nowMs: number, why: string): void {
  if (agent.state === 'unreachable') return;
  if (agent.streamId !== undefined) ctx.emit({ kind: 'close-stream', streamId: agent.streamId, reason: why });
  agent.streamId = undefined;
  for (const o of ctx.offers.onAgent(agent.id)) rescindOffer(ctx, o, { notify: true, nowMs });
  ctx.allocator.removeAgent(agent.id);
  agent.state = 'unreachable';
  agent.unreachableSinceMs = nowMs;
  ctx.counters.agentsLost++;
  for (const t of ctx.tasks.onAgent(agent.id)) {
    t.resourcesRecovered = true; // the agent left the allocator with everything on it
    if (isTerminalState(t.state)) {
      ctx.tasks.complete(t); // its pending ack can no longer reach the agent
      continue;
    }
    const fw = ctx.frameworks.get(t.frameworkId);
    const state = lostAgentState(fw?.partitionAware ?? false);
    const status = masterStatus({
      taskId: t.taskId,
      agentId: agent.id,
      state,
      reason: 'REASON_AGENT_REMOVED',
      message: `Agent ${agent.id} (${agent.hostname}) is unreachable: ${why}`,
      nowMs,
      unreachableSinceMs: nowMs,
    });
    t.state = state;
    noteStatus(t, status);
    t.pendingUuid = undefined;
    ctx.operator.taskUpdated(t);
    forwardStatus(ctx, t.frameworkId, status);
  }
  ctx.operator.agentRemoved(agent.id);
  for (const fw of ctx.frameworks.all()) {
    sendToFramework(ctx, fw.id, { type: 'FAILURE', failure: { agent_id: { value: agent.id } } });
  }
  for (const old of ctx.agents.excessUnreachable()) forgetAgent(ctx, old);
  ctx.log.warn({ agentId: agent.id, why }, 'agent unreachable');
}

/** Drops an unreachable agent entirely (its tasks move to completed). */
function forgetAgent(ctx: CoreContext, agent: AgentRecord): void {
  for (const t of ctx.tasks.onAgent(agent.id)) ctx.tasks.complete(t);
  ctx.offers.forgetAgent(agent.id);
  ctx.agents.delete(agent.id);
}
