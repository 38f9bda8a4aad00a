/**
 * MasterCore: the master's whole state machine, pure and synchronous. The I/O
 * shell (server.ts + scheduler-api.ts + agent-api.ts) feeds it decoded calls,
 * stream closures and the time; it answers by throwing a CygnetError (call
 * rejected, nothing changed) or by queueing effects that the shell drains with
 * `drain()` and performs in order.
 *
 *   scheduler call ──▶ validate ─▶ authorize ─▶ handleX ──┐
 *   agent call     ──▶ validate ─▶ authorize ─▶ handleX ──┼─▶ outbox: events, closes, 'allocate'
 *   tick(now)      ──▶ liveness, failover expiry, offer timeout ┤
 *   allocate(now)  ──▶ DRF plan ─▶ offers ─▶ OFFERS events ─────┘
 *
 * Invariants: no I/O, no timers, no Date.now (time is a parameter); every
 * effect concerns a stream id current when it was emitted.
 */
import type { Logger } from '../common/log.ts';
import type { Random } from '../common/random.ts';
import { AgentRegistry } from './agents.ts';
import { nullOperatorObserver, type OperatorObserver } from './operator-observer.ts';
import {
  authorizeAgentCall,
  checkAgentLiveness,
  handleAgentHeartbeat,
  handleAgentStreamClosed,
  handleAgentSubscribe,
  handleAgentUpdate,
  validateAgentCall,
} from './agent-calls.ts';
import type { AllocatorPort } from './allocator-port.ts';
import { newCounters, type CoreContext, type MasterConfig, type MasterCounters } from './core-context.ts';
import { removeFramework, rescindOffer } from './core-ops.ts';
import type { Effect } from './effects.ts';
import { FrameworkRegistry } from './frameworks.ts';
import { IdMinter } from './ids.ts';
import { OfferMessageBuilder } from './offer-message.ts';
import { OfferBook } from './offers.ts';
import { validateSchedulerCall } from './scheduler-call-validation.ts';
import { authorizeCall, handleFrameworkCall, handleFrameworkStreamClosed, handleSubscribe } from './scheduler-calls.ts';
import { TaskBook } from './tasks.ts';
import type { AgentCall, Offer, SchedulerCall } from './wire.ts';

/** Effects queued between drains; beyond this the core is being misused (a shell that never drains). */
export const MAX_OUTBOX = 1_000_000;

export interface MasterCoreOptions {
  readonly config: Omit<MasterConfig, 'masterInfo' | 'startedAtMs' | 'reregistrationWindowMs'> & {
    readonly masterInfo: Omit<MasterConfig['masterInfo'], 'id'>;
    readonly reregistrationWindowMs?: number;
  };
  readonly allocator: AllocatorPort;
  readonly nowMs: number;
  readonly random: Random;
  readonly log: Logger;
}

export class MasterCore {
  readonly ctx: CoreContext;
  readonly startedAtMs: number;
  private outbox: Effect[] = [];
  private readonly offerMessages = new OfferMessageBuilder();

  constructor(opts: MasterCoreOptions) {
    const ids = new IdMinter(opts.nowMs, opts.random);
    const config: MasterConfig = {
      ...opts.config,
      masterInfo: { ...opts.config.masterInfo, id: ids.masterId },
      startedAtMs: opts.nowMs,
      reregistrationWindowMs: opts.config.reregistrationWindowMs ?? opts.config.agentPingTimeoutMs,
    };
    this.startedAtMs = opts.nowMs;
    this.ctx = {
      config,
      ids,
      frameworks: new FrameworkRegistry(),
      agents: new AgentRegistry(),
      offers: new OfferBook(),
      tasks: new TaskBook(),
      allocator: opts.allocator,
      counters: newCounters(),
      log: opts.log,
      operator: nullOperatorObserver,
      emit: (e) => {
        if (this.outbox.length >= MAX_OUTBOX) throw new Error(`master outbox overflow (${MAX_OUTBOX}): drain() is not being called`);
        this.outbox.push(e);
      },
    };
  }

  /** Where task, agent and framework changes are reported (the operator event stream). */
  setOperatorObserver(o: OperatorObserver): void {
    this.ctx.operator = o;
  }

  get masterId(): string {
    return this.ctx.ids.masterId;
  }

  get counters(): MasterCounters {
    return this.ctx.counters;
  }

  /** Takes the queued effects (in emission order). */
  drain(): Effect[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  newStreamId(): string {
    return this.ctx.ids.nextStreamId();
  }

  // ---------------------------------------------------------------- scheduler

  /** SUBSCRIBE (validated here); returns the framework id the stream belongs to. */
  subscribeFramework(call: SchedulerCall, streamId: string, nowMs: number): string {
    validateSchedulerCall(call);
    count(this.ctx.counters.callsBySchedulerType, 'SUBSCRIBE');
    return handleSubscribe(this.ctx, call, streamId, nowMs);
  }

  /** Any non-SUBSCRIBE scheduler call; throws CygnetError when rejected. */
  schedulerCall(call: SchedulerCall, streamIdHeader: string | undefined, nowMs: number): void {
    validateSchedulerCall(call);
    const fw = authorizeCall(this.ctx, call, streamIdHeader);
    count(this.ctx.counters.callsBySchedulerType, call.type ?? 'UNKNOWN');
    handleFrameworkCall(this.ctx, fw, call, nowMs);
  }

  frameworkStreamClosed(frameworkId: string, streamId: string, nowMs: number): void {
    handleFrameworkStreamClosed(this.ctx, frameworkId, streamId, nowMs);
  }

  // ---------------------------------------------------------------- agents

  subscribeAgent(call: AgentCall, streamId: string, remoteIp: string, nowMs: number): string {
    validateAgentCall(call);
    if (call.type !== 'SUBSCRIBE' || call.subscribe === undefined) throw new Error('subscribeAgent needs a SUBSCRIBE call');
    count(this.ctx.counters.callsByAgentType, 'SUBSCRIBE');
    return handleAgentSubscribe(this.ctx, call.subscribe, streamId, remoteIp, nowMs);
  }

  agentCall(call: AgentCall, streamIdHeader: string | undefined, nowMs: number): void {
    validateAgentCall(call);
    const agent = authorizeAgentCall(this.ctx, call, streamIdHeader);
    count(this.ctx.counters.callsByAgentType, call.type);
    if (call.type === 'UPDATE' && call.update !== undefined) handleAgentUpdate(this.ctx, agent, call.update.status, nowMs, call.update.framework_id?.value);
    else handleAgentHeartbeat(this.ctx, agent, nowMs);
  }

  agentStreamClosed(agentId: string, streamId: string, nowMs: number): void {
    handleAgentStreamClosed(this.ctx, agentId, streamId, nowMs);
  }

  // ---------------------------------------------------------------- time

  /** Periodic housekeeping: lost agents, expired failover timeouts, offer timeouts. */
  tick(nowMs: number): void {
    checkAgentLiveness(this.ctx, nowMs);
    for (const fw of this.ctx.frameworks.expired(nowMs)) {
      removeFramework(this.ctx, fw, nowMs, `Framework failover timeout (${fw.info.failover_timeout ?? 0} s) expired`);
      this.ctx.emit({ kind: 'allocate' });
    }
    const timeout = this.ctx.config.offerTimeoutMs;
    if (timeout !== undefined && timeout > 0) {
      const expired = this.ctx.offers.olderThan(nowMs - timeout);
      for (const o of expired) rescindOffer(this.ctx, o, { notify: true, nowMs });
      if (expired.length > 0) this.ctx.emit({ kind: 'allocate' });
    }
  }

  /** One allocation cycle: the allocator's plan becomes offers and OFFERS events. Returns how many offers. */
  allocate(nowMs: number): number {
    const planned = this.ctx.allocator.allocate(nowMs);
    const byFramework = new Map<string, Offer[]>();
    for (const p of planned) {
      const fw = this.ctx.frameworks.get(p.frameworkId);
      const agent = this.ctx.agents.get(p.agentId);
      if (fw === undefined || fw.state !== 'connected' || agent === undefined || agent.state !== 'active') {
        this.ctx.allocator.recoverResources(p.frameworkId, p.agentId, p.resources, undefined, nowMs);
        continue;
      }
      const id = this.ctx.ids.nextOfferId();
      this.ctx.offers.add({ id, frameworkId: fw.id, agentId: agent.id, role: p.role, resources: p.resources, createdAtMs: nowMs });
      const offer = this.offerMessages.build(id, fw, agent, p.role, p.resources);
      const list = byFramework.get(fw.id) ?? [];
      list.push(offer);
      byFramework.set(fw.id, list);
    }
    for (const [fwId, offers] of byFramework) {
      const fw = this.ctx.frameworks.get(fwId);
      if (fw?.streamId === undefined) continue;
      this.ctx.emit({ kind: 'framework-event', frameworkId: fwId, streamId: fw.streamId, event: { type: 'OFFERS', offers: { offers } } });
      this.ctx.counters.offersSent += offers.length;
    }
    return planned.length;
  }
}

function count(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}
