/**
 * The master's `/metrics/snapshot` (Mesos' names, see
 * common/metrics-snapshot.ts): resources, agents, frameworks, offers and
 * tasks as the master counts them, its allocation runs, and the host.
 * Task states that are not terminal are gauges (tasks in that state now);
 * terminal ones are counters (tasks that ended so since the master started),
 * as in Mesos. Pure but for the host's `system/*` figures.
 */
import { resourceMetrics, systemMetrics, taskStateMetric, type MetricsSnapshot } from '../common/metrics-snapshot.ts';
import { TASK_STATES } from '../protocol/task-states.ts';
import type { MetricsSources } from './metrics.ts';
import { clusterResources, resourceUsage } from './resource-usage.ts';
import { isTerminalState } from './tasks.ts';

export function renderMetricsSnapshot(src: MetricsSources, nowMs: number): MetricsSnapshot {
  const { ctx } = src.core;
  const { total, used } = clusterResources(src.core, resourceUsage(src.core));
  const frameworks = { connected: 0, disconnected: 0, recovered: 0 };
  for (const f of ctx.frameworks.all()) frameworks[f.state]++;
  const active = ctx.agents.count('active');
  const out: MetricsSnapshot = {
    'master/elected': 1,
    'master/uptime_secs': (nowMs - src.core.startedAtMs) / 1000,
    ...resourceMetrics('master', total, used),
    'master/slaves_active': active,
    'master/slaves_connected': active,
    'master/slaves_disconnected': 0,
    'master/slaves_inactive': 0,
    'master/slaves_unreachable': ctx.agents.count('unreachable'),
    'master/frameworks_active': frameworks.connected,
    'master/frameworks_connected': frameworks.connected,
    // A framework the master recovered has not reconnected yet: disconnected and inactive, as Mesos counts it.
    'master/frameworks_disconnected': frameworks.disconnected + frameworks.recovered,
    'master/frameworks_inactive': frameworks.disconnected + frameworks.recovered,
    'master/outstanding_offers': ctx.offers.size,
    'master/valid_status_updates': ctx.counters.statusUpdatesReceived,
  };
  const now = ctx.tasks.countByState();
  const ended = ctx.tasks.endedByState();
  for (const state of TASK_STATES) {
    out[taskStateMetric('master', state)] = isTerminalState(state) ? ended.get(state) ?? 0 : now.get(state) ?? 0;
  }
  const runs = src.allocationCycle;
  out['allocator/mesos/allocation_runs'] = runs.count;
  if (runs.count > 0) {
    out['allocator/mesos/allocation_run_ms/count'] = runs.count;
    for (const [q, name] of [[0.5, 'p50'], [0.9, 'p90'], [0.95, 'p95'], [0.99, 'p99']] as const) out[`allocator/mesos/allocation_run_ms/${name}`] = runs.quantile(q) * 1000;
  }
  return { ...out, ...systemMetrics() };
}
