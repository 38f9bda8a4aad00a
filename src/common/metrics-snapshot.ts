/**
 * Mesos' `/metrics/snapshot`: one flat JSON object of `<group>/<name>`
 * numbers, the endpoint Mesos' monitoring integrations read (Telegraf's
 * mesos input, Datadog's mesos_master and mesos_slave checks,
 * mesos_exporter). The parts both daemons share: the host's `system/*`
 * figures and the `<prefix>/<resource>_{total,used,percent}` triples.
 * Names follow Mesos' monitoring document; `_percent` is a fraction (0–1),
 * as Mesos reports it.
 */
import os from 'node:os';
import { scalar } from './resources.ts';
import type { Resource } from '../protocol/resource-types.ts';
import type { TaskState } from '../protocol/mesos-types.ts';

export type MetricsSnapshot = Record<string, number>;

/** The scalar resources Mesos reports totals for. */
const scalarNames = ['cpus', 'mem', 'disk', 'gpus'] as const;

export function systemMetrics(): MetricsSnapshot {
  const [l1, l5, l15] = os.loadavg();
  return {
    'system/cpus_total': os.availableParallelism(),
    'system/load_1min': l1 ?? 0,
    'system/load_5min': l5 ?? 0,
    'system/load_15min': l15 ?? 0,
    'system/mem_total_bytes': os.totalmem(),
    'system/mem_free_bytes': os.freemem(),
  };
}

/** `master/tasks_running` for TASK_RUNNING under `master`: Mesos' name for a count of tasks in a state. */
export function taskStateMetric(prefix: string, state: TaskState): string {
  return `${prefix}/tasks_${state.slice('TASK_'.length).toLowerCase()}`;
}

/** `<prefix>/cpus_total`, `…_used`, `…_percent` and the same for mem, disk, gpus. */
export function resourceMetrics(prefix: string, total: readonly Resource[], used: readonly Resource[]): MetricsSnapshot {
  const out: MetricsSnapshot = {};
  for (const name of scalarNames) {
    const t = scalar(total, name);
    const u = scalar(used, name);
    out[`${prefix}/${name}_total`] = t;
    out[`${prefix}/${name}_used`] = u;
    out[`${prefix}/${name}_percent`] = t > 0 ? u / t : 0;
  }
  return out;
}
