/**
 * /metrics in the Prometheus text format (0.0.4): agents by state,
 * frameworks by state, outstanding offers, tasks by state, allocation cycle
 * time (a summary over a bounded window), status updates and calls. Pure:
 * renders from the core's registries and counters.
 */
import { TASK_STATES } from '../protocol/task-states.ts';
import type { MasterCore } from './master-core.ts';

/** Observations kept for quantiles (a sliding window; count/sum cover all time). */
export const SUMMARY_WINDOW = 1024;

export class Summary {
  count = 0;
  sum = 0;
  private window: number[] = [];
  private next = 0;

  observe(v: number): void {
    this.count++;
    this.sum += v;
    if (this.window.length < SUMMARY_WINDOW) this.window.push(v);
    else {
      this.window[this.next] = v;
      this.next = (this.next + 1) % SUMMARY_WINDOW;
    }
  }

  quantile(q: number): number {
    if (this.window.length === 0) return 0;
    const sorted = [...this.window].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }
}

export interface MetricsSources {
  readonly core: MasterCore;
  readonly allocationCycle: Summary;
  readonly openStreams: number;
}

export function renderMetrics(src: MetricsSources): string {
  const { ctx } = src.core;
  const c = ctx.counters;
  const lines: string[] = [];
  const gauge = (name: string, help: string, rows: [string, number][]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, v] of rows) lines.push(`${name}${labels} ${v}`);
  };
  const counter = (name: string, help: string, rows: [string, number][]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const [labels, v] of rows) lines.push(`${name}${labels} ${v}`);
  };
  gauge('cygnet_master_agents', 'Agents known to the master, by state.', [
    ['{state="active"}', ctx.agents.count('active')],
    ['{state="unreachable"}', ctx.agents.count('unreachable')],
  ]);
  const fwStates = { connected: 0, disconnected: 0, recovered: 0 };
  for (const f of ctx.frameworks.all()) fwStates[f.state]++;
  gauge('cygnet_master_frameworks', 'Frameworks known to the master, by state.', Object.entries(fwStates).map(([s, n]) => [`{state="${s}"}`, n]));
  gauge('cygnet_master_offers_outstanding', 'Offers sent and not yet accepted, declined or rescinded.', [['', ctx.offers.size]]);
  const byState = ctx.tasks.countByState();
  gauge('cygnet_master_tasks', 'Active tasks by state.', TASK_STATES.map((s) => [`{state="${s}"}`, byState.get(s) ?? 0]));
  gauge('cygnet_master_event_streams', 'Open event streams (frameworks and agents).', [['', src.openStreams]]);
  const s = src.allocationCycle;
  lines.push('# HELP cygnet_master_allocation_cycle_seconds Time of one allocation cycle.', '# TYPE cygnet_master_allocation_cycle_seconds summary');
  for (const q of [0.5, 0.9, 0.99]) lines.push(`cygnet_master_allocation_cycle_seconds{quantile="${q}"} ${s.quantile(q)}`);
  lines.push(`cygnet_master_allocation_cycle_seconds_sum ${s.sum}`, `cygnet_master_allocation_cycle_seconds_count ${s.count}`);
  counter('cygnet_master_status_updates_received_total', 'Status updates received from agents.', [['', c.statusUpdatesReceived]]);
  counter('cygnet_master_status_updates_forwarded_total', 'Status updates sent to frameworks (incl. master-generated).', [['', c.statusUpdatesForwarded]]);
  counter('cygnet_master_status_updates_auto_acked_total', 'Updates acknowledged by the master for removed frameworks.', [['', c.statusUpdatesAutoAcked]]);
  counter('cygnet_master_offers_total', 'Offers by outcome.', [
    ['{outcome="sent"}', c.offersSent],
    ['{outcome="accepted"}', c.offersAccepted],
    ['{outcome="declined"}', c.offersDeclined],
    ['{outcome="rescinded"}', c.offersRescinded],
  ]);
  counter('cygnet_master_tasks_launched_total', 'Tasks sent to agents.', [['', c.tasksLaunched]]);
  counter('cygnet_master_tasks_rejected_total', 'Tasks refused at launch.', [
    ['{why="invalid"}', c.tasksInvalid],
    ['{why="invalid_offers"}', c.tasksDropped],
  ]);
  counter('cygnet_master_agents_lost_total', 'Agents marked unreachable.', [['', c.agentsLost]]);
  counter('cygnet_master_frameworks_removed_total', 'Frameworks removed (teardown or failover timeout).', [['', c.frameworksRemoved]]);
  counter('cygnet_master_scheduler_calls_total', 'Accepted scheduler calls by type.', [...c.callsBySchedulerType].map(([t, n]) => [`{type="${t}"}`, n]));
  counter('cygnet_master_agent_calls_total', 'Accepted agent calls by type.', [...c.callsByAgentType].map(([t, n]) => [`{type="${t}"}`, n]));
  return `${lines.join('\n')}\n`;
}
