/**
 * Test harness for MasterCore: a core with the real DRF allocator behind the
 * adapter, a fake clock value, and helpers that subscribe frameworks/agents,
 * drain effects and pick out events. No sockets.
 */
import { pino } from 'pino';
import { SeededRandom } from '../../../src/common/random.ts';
import { AllocatorAdapter } from '../../../src/master/allocator-adapter.ts';
import { describeEffect, type Effect } from '../../../src/master/effects.ts';
import { MasterCore } from '../../../src/master/master-core.ts';
import type { AgentEvent, FrameworkInfo, Offer, Resource, SchedulerCall, SchedulerEvent, TaskInfo, TaskStatus } from '../../../src/master/wire.ts';

export const T0 = 1_700_000_000_000;

export function scalar(name: string, value: number): Resource {
  return { name, type: 'SCALAR', scalar: { value } };
}

export function ports(begin: number, end: number): Resource {
  return { name: 'ports', type: 'RANGES', ranges: { range: [{ begin, end }] } };
}

export class Harness {
  readonly core: MasterCore;
  now = T0;
  /** Effects drained so far, in order. */
  log: Effect[] = [];
  private streams = 0;

  constructor(opts: { agentPingTimeoutMs?: number; offerTimeoutMs?: number; reregistrationWindowMs?: number } = {}) {
    this.core = new MasterCore({
      config: {
        masterInfo: { ip: 0x7f000001, port: 5050, hostname: 'localhost' },
        heartbeatIntervalSec: 15,
        agentHeartbeatIntervalSec: 5,
        agentPingTimeoutMs: opts.agentPingTimeoutMs ?? 15_000,
        offerTimeoutMs: opts.offerTimeoutMs,
        defaultRefuseSeconds: 5,
        reregistrationWindowMs: opts.reregistrationWindowMs ?? 0,
      },
      allocator: new AllocatorAdapter({ random: new SeededRandom(1) }),
      nowMs: T0,
      random: new SeededRandom(7),
      log: pino({ level: 'silent' }),
    });
  }

  stream(): string {
    return `stream-${++this.streams}`;
  }

  /** Drains the core, running 'allocate' effects as the shell would; returns what was drained. */
  pump(): Effect[] {
    const out: Effect[] = [];
    for (let i = 0; i < 10; i++) {
      const effects = this.core.drain();
      if (effects.length === 0) break;
      let alloc = false;
      for (const e of effects) {
        if (e.kind === 'allocate') alloc = true;
        else out.push(e);
      }
      if (alloc) this.core.allocate(this.now);
    }
    this.log.push(...out);
    return out;
  }

  advance(ms: number): Effect[] {
    this.now += ms;
    this.core.tick(this.now);
    this.core.allocate(this.now);
    return this.pump();
  }

  subscribeFramework(info: Partial<FrameworkInfo> = {}): { id: string; stream: string; effects: Effect[] } {
    const stream = this.stream();
    const framework_info: FrameworkInfo = { user: 'u', name: 'fw', ...info };
    const id = this.core.subscribeFramework({ type: 'SUBSCRIBE', subscribe: { framework_info } }, stream, this.now);
    return { id, stream, effects: this.pump() };
  }

  subscribeAgent(opts: { id?: string; resources?: Resource[]; tasks?: TaskInfo[]; statuses?: TaskStatus[]; frameworks?: FrameworkInfo[] } = {}): { id: string; stream: string; effects: Effect[] } {
    const stream = this.stream();
    const id = this.core.subscribeAgent(
      {
        type: 'SUBSCRIBE',
        subscribe: {
          agent_info: { hostname: 'host1', port: 5051, resources: opts.resources ?? [scalar('cpus', 4), scalar('mem', 4096), ports(31000, 31009)], ...(opts.id ? { id: { value: opts.id } } : {}) },
          tasks: opts.tasks,
          task_statuses: opts.statuses,
          frameworks: opts.frameworks,
        },
      },
      stream,
      '127.0.0.1',
      this.now,
    );
    return { id, stream, effects: this.pump() };
  }

  call(fw: { id: string; stream: string }, call: Omit<SchedulerCall, 'framework_id'>): Effect[] {
    this.core.schedulerCall({ ...call, framework_id: { value: fw.id } }, fw.stream, this.now);
    return this.pump();
  }

  agentUpdate(agent: { id: string; stream: string }, status: TaskStatus): Effect[] {
    this.core.agentCall({ type: 'UPDATE', agent_id: { value: agent.id }, update: { status: { ...status, agent_id: { value: agent.id } } } }, agent.stream, this.now);
    return this.pump();
  }
}

export function frameworkEvents(effects: readonly Effect[], frameworkId?: string): SchedulerEvent[] {
  const out: SchedulerEvent[] = [];
  for (const e of effects) if (e.kind === 'framework-event' && (frameworkId === undefined || e.frameworkId === frameworkId)) out.push(e.event);
  return out;
}

export function agentEvents(effects: readonly Effect[], agentId?: string): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (const e of effects) if (e.kind === 'agent-event' && (agentId === undefined || e.agentId === agentId)) out.push(e.event);
  return out;
}

export function offersIn(effects: readonly Effect[], frameworkId?: string): Offer[] {
  return frameworkEvents(effects, frameworkId).flatMap((e) => (e.type === 'OFFERS' ? (e.offers?.offers ?? []) : []));
}

export function updatesIn(effects: readonly Effect[], frameworkId?: string): TaskStatus[] {
  return frameworkEvents(effects, frameworkId).flatMap((e) => (e.type === 'UPDATE' && e.update ? [e.update.status] : []));
}

export function describeAll(effects: readonly Effect[]): string[] {
  return effects.map(describeEffect);
}

export function task(id: string, agentId: string, resources: Resource[]): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: { value: agentId }, resources, command: { value: 'sleep 100' } };
}

export function launch(offerIds: string[], tasks: TaskInfo[], refuseSeconds?: number): Omit<SchedulerCall, 'framework_id'> {
  return {
    type: 'ACCEPT',
    accept: {
      offer_ids: offerIds.map((value) => ({ value })),
      operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }],
      ...(refuseSeconds !== undefined ? { filters: { refuse_seconds: refuseSeconds } } : {}),
    },
  };
}
