/**
 * The agent's `/metrics/snapshot` (Mesos' names, see
 * common/metrics-snapshot.ts): whether it is registered, its resources and
 * what its live tasks hold of them, its tasks by live state, and the host.
 * Only live states are reported: the agent forgets a task once its end is
 * acknowledged, so it has no honest count of how many ended.
 */
import { resourceMetrics, systemMetrics, taskStateMetric, type MetricsSnapshot } from '../common/metrics-snapshot.ts';
import type { Resource } from '../protocol/resource-types.ts';
import type { TaskState } from '../protocol/mesos-types.ts';
import { isTerminal, TASK_STATES } from '../protocol/task-states.ts';
import type { AgentView } from './agent-server.ts';

export function renderAgentMetricsSnapshot(view: AgentView, nowMs: number): MetricsSnapshot {
  const used: Resource[] = [];
  const live = new Map<TaskState, number>();
  for (const t of view.tasks.values()) {
    const state = t.latest?.state ?? 'TASK_STAGING';
    if (isTerminal(state)) continue;
    live.set(state, (live.get(state) ?? 0) + 1);
    used.push(...(t.task.resources ?? []));
  }
  const out: MetricsSnapshot = {
    'slave/registered': view.connected() ? 1 : 0,
    'slave/uptime_secs': (nowMs - view.startedAtMs) / 1000,
    ...resourceMetrics('slave', view.resources, used),
  };
  for (const state of TASK_STATES) {
    if (!isTerminal(state)) out[taskStateMetric('slave', state)] = live.get(state) ?? 0;
  }
  return { ...out, ...systemMetrics() };
}
