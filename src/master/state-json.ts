/**
 * GET /state: a JSON snapshot in the shape of Mesos' master /state (a
 * simplified subset): master identity, agents ("slaves") with total / used /
 * offered / unreserved resources as Mesos-style maps, frameworks with their
 * tasks, completed tasks (bounded by MAX_COMPLETED_TASKS) and offers, and
 * cluster totals. Pure: computed from the core's registries.
 */
import { flatten, rangesToString, UNRESERVED_ROLE, resourceRole } from '../common/resources.ts';
import { CYGNET_VERSION, MESOS_API_VERSION } from '../common/version.ts';
import type { MasterCore } from './master-core.ts';
import type { OfferRecord } from './offers.ts';
import { clusterResources, resourceUsage } from './resource-usage.ts';
import type { TaskRecord } from './tasks.ts';
import type { Resource } from './wire.ts';

export type ResourceMap = Record<string, number | string>;

/** Mesos' map form: scalars by name, ranges as "[a-b, c-d]", sets as "{a, b}". */
export function resourceMap(rs: readonly Resource[]): ResourceMap {
  const out: ResourceMap = { cpus: 0, mem: 0, disk: 0, gpus: 0 };
  for (const r of flatten(rs)) {
    if (r.type === 'SCALAR') out[r.name] = Math.round(((Number(out[r.name] ?? 0) || 0) + (r.scalar?.value ?? 0)) * 1000) / 1000;
    else if (r.type === 'RANGES') out[r.name] = rangesToString(r.ranges?.range ?? []);
    else if (r.type === 'SET') out[r.name] = `{${(r.set?.item ?? []).join(', ')}}`;
  }
  return out;
}

function attributeMap(attrs: readonly { name: string; type: string; scalar?: { value: number }; text?: { value: string }; ranges?: { range: { begin: number; end: number }[] }; set?: { item: string[] } }[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const a of attrs) {
    if (a.type === 'SCALAR') out[a.name] = a.scalar?.value ?? 0;
    else if (a.type === 'TEXT') out[a.name] = a.text?.value ?? '';
    else if (a.type === 'RANGES') out[a.name] = rangesToString(a.ranges?.range ?? []);
    else if (a.type === 'SET') out[a.name] = `{${(a.set?.item ?? []).join(', ')}}`;
  }
  return out;
}

function taskJson(t: TaskRecord): Record<string, unknown> {
  return {
    id: t.taskId,
    name: t.info.name,
    framework_id: t.frameworkId,
    executor_id: t.info.executor?.executor_id.value ?? '',
    slave_id: t.agentId,
    state: t.state,
    resources: resourceMap(t.resources),
    statuses: t.statuses,
    labels: t.info.labels?.labels ?? [],
    discovery: t.info.discovery,
  };
}

function offerJson(o: OfferRecord): Record<string, unknown> {
  return { id: o.id, framework_id: o.frameworkId, slave_id: o.agentId, role: o.role, resources: resourceMap(o.resources) };
}

/**
 * `flags`: the master's flags as Mesos prints them in /state (name → value
 * as text), for tools that read a setting from there rather than /flags.
 */
export function renderState(core: MasterCore, nowMs: number, flags: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  const { ctx } = core;
  const info = ctx.config.masterInfo;
  const usage = resourceUsage(core);
  const { allocatedByAgent: usedByAgent, allocatedByFramework: usedByFw, offeredByAgent, offeredByFramework: offeredByFw } = usage;
  const slaves = [...ctx.agents.all()].map((a) => ({
    id: a.id,
    hostname: a.hostname,
    port: a.port,
    pid: `slave(1)@${a.ip}:${a.port}`,
    registered_time: a.registeredAtMs / 1000,
    reregistered_time: a.reregisteredAtMs !== undefined ? a.reregisteredAtMs / 1000 : undefined,
    active: a.state === 'active',
    state: a.state,
    last_seen_time: a.lastSeenMs / 1000,
    resources: resourceMap(a.total),
    used_resources: resourceMap(usedByAgent.get(a.id) ?? []),
    offered_resources: resourceMap(offeredByAgent.get(a.id) ?? []),
    unreserved_resources: resourceMap(a.total.filter((r) => resourceRole(r) === UNRESERVED_ROLE)),
    attributes: attributeMap(a.attributes),
  }));
  const completed = ctx.tasks.completed();
  const frameworks = [...ctx.frameworks.all()].map((f) => {
    const tasks = ctx.tasks.ofFramework(f.id);
    return {
      id: f.id,
      name: f.info.name,
      user: f.info.user,
      hostname: f.info.hostname ?? '',
      principal: f.info.principal,
      webui_url: f.info.webui_url ?? '',
      role: f.roles[0],
      roles: f.roles,
      capabilities: (f.info.capabilities ?? []).map((c) => c.type),
      failover_timeout: f.info.failover_timeout ?? 0,
      checkpoint: f.info.checkpoint ?? false,
      active: f.state === 'connected',
      connected: f.state === 'connected',
      recovered: f.state === 'recovered',
      registered_time: f.registeredAtMs / 1000,
      reregistered_time: f.reregisteredAtMs !== undefined ? f.reregisteredAtMs / 1000 : undefined,
      suppressed_roles: [...f.suppressedRoles],
      // Mesos lists a framework's unreachable tasks apart from its live ones.
      tasks: tasks.filter((t) => t.state !== 'TASK_UNREACHABLE').map(taskJson),
      unreachable_tasks: tasks.filter((t) => t.state === 'TASK_UNREACHABLE').map(taskJson),
      completed_tasks: completed.filter((t) => t.frameworkId === f.id).map(taskJson),
      offers: ctx.offers.ofFramework(f.id).map(offerJson),
      used_resources: resourceMap(usedByFw.get(f.id) ?? []),
      offered_resources: resourceMap(offeredByFw.get(f.id) ?? []),
    };
  });
  const { total, used, offered } = clusterResources(core, usage);
  const pid = `master@${info.address?.ip ?? '127.0.0.1'}:${info.port}`;
  return {
    version: MESOS_API_VERSION,
    git_tag: `cygnet-${CYGNET_VERSION}`,
    build_date: '',
    build_time: 0,
    build_user: '',
    id: info.id,
    pid,
    hostname: info.hostname,
    capabilities: [],
    start_time: core.startedAtMs / 1000,
    elected_time: core.startedAtMs / 1000,
    // A lone master leads; Mesos gives both the old pid form and the MasterInfo.
    leader: pid,
    leader_info: info,
    flags,
    now: nowMs / 1000,
    activated_slaves: ctx.agents.count('active'),
    deactivated_slaves: 0,
    unreachable_slaves: ctx.agents.count('unreachable'),
    slaves,
    recovered_slaves: [],
    frameworks,
    completed_frameworks: ctx.frameworks.completedIds().map((id) => ({ id })),
    orphan_tasks: [],
    unregistered_frameworks: [],
    completed_tasks: completed.slice(-1000).map(taskJson),
    total_resources: resourceMap(total),
    used_resources: resourceMap(used),
    offered_resources: resourceMap(offered),
  };
}

type StateJson = ReturnType<typeof renderState>;

/** Query parameters of the v0 list endpoints (express's parsed query: a repeated parameter is an array). */
export type ListQuery = Readonly<Record<string, unknown>>;

function param(q: ListQuery, name: string): string | undefined {
  const v = q[name];
  const first = Array.isArray(v) ? (v as unknown[])[0] : v;
  return typeof first === 'string' ? first : undefined;
}

/** Mesos' `/frameworks`: the frameworks part of /state; `framework_id` selects one. */
export function frameworksView(state: StateJson, q: ListQuery = {}): Record<string, unknown> {
  const id = param(q, 'framework_id');
  const pick = <T>(list: T[]): T[] => (id === undefined ? list : list.filter((f) => (f as { id?: unknown }).id === id));
  return { frameworks: pick(state.frameworks as unknown[]), completed_frameworks: pick(state.completed_frameworks as unknown[]), unregistered_frameworks: [] };
}

/** Mesos' `/slaves`: the agents part of /state; `slave_id` selects one. */
export function slavesView(state: StateJson, q: ListQuery = {}): Record<string, unknown> {
  const id = param(q, 'slave_id');
  const slaves = state.slaves as { id?: unknown }[];
  return { slaves: id === undefined ? slaves : slaves.filter((a) => a.id === id), recovered_slaves: [] };
}

/** Tasks `/tasks` gives without a `limit` (Mesos' TASK_LIMIT). */
export const defaultTaskLimit = 100;

/**
 * Mesos' `/tasks` (readonly_handler.cpp): live and completed tasks,
 * `framework_id` and `task_id` select, sorted by their first status's time,
 * newest first unless `order=asc`, then `offset` and `limit` (100) page.
 */
export function tasksView(state: StateJson, q: ListQuery = {}): Record<string, unknown> {
  const frameworkId = param(q, 'framework_id');
  const taskId = param(q, 'task_id');
  const count = (name: string, dflt: number): number => {
    const n = Number(param(q, name));
    return Number.isInteger(n) && n >= 0 ? n : dflt;
  };
  const limit = count('limit', defaultTaskLimit);
  const offset = count('offset', 0);
  type Listed = { framework_id?: unknown; id?: unknown; statuses?: { timestamp?: number }[] };
  const live = (state.frameworks as { tasks: Listed[]; unreachable_tasks?: Listed[] }[]).flatMap((f) => [...f.tasks, ...(f.unreachable_tasks ?? [])]);
  const all = [...live, ...(state.completed_tasks as Listed[])]
    .filter((t) => (frameworkId === undefined || t.framework_id === frameworkId) && (taskId === undefined || t.id === taskId));
  const at = (t: Listed): number => t.statuses?.[0]?.timestamp ?? 0;
  const asc = param(q, 'order') === 'asc';
  all.sort((a, b) => (asc ? at(a) - at(b) : at(b) - at(a)));
  return { tasks: all.slice(offset, offset + limit) };
}

/** The task states `/state-summary` counts, per agent and per framework, as Mesos' TaskStateSummary. */
const summaryStates = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_KILLED', 'TASK_FAILED', 'TASK_LOST', 'TASK_ERROR', 'TASK_UNREACHABLE'] as const;

/**
 * Mesos' `/state-summary` (readonly_handler.cpp), what the DC/OS UI and
 * `dcos node` read: the registered agents and the frameworks without their
 * tasks, each with its task counts by state and the ids of the other side
 * they share tasks with.
 */
export function stateSummaryView(state: StateJson): Record<string, unknown> {
  type Listed = { framework_id: string; slave_id: string; state: string };
  type Fw = { id: string; tasks: Listed[]; unreachable_tasks?: Listed[]; completed_tasks: Listed[] } & Record<string, unknown>;
  const frameworks = state.frameworks as Fw[];
  const tasks = frameworks.flatMap((f) => [...f.tasks, ...(f.unreachable_tasks ?? []), ...f.completed_tasks]);
  const counts = (pick: (t: Listed) => boolean): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const st of summaryStates) out[st] = 0;
    for (const t of tasks) if (pick(t) && t.state in out) out[t.state] = (out[t.state] as number) + 1;
    return out;
  };
  const slaves = (state.slaves as ({ id: string; state?: string } & Record<string, unknown>)[])
    .filter((a) => a.state !== 'unreachable')
    .map(({ state: _state, ...a }) => ({
      ...a,
      ...counts((t) => t.slave_id === a.id),
      framework_ids: [...new Set(tasks.filter((t) => t.slave_id === a.id).map((t) => t.framework_id))],
    }));
  return {
    hostname: state.hostname,
    slaves,
    frameworks: frameworks.map((f) => ({
      id: f.id,
      name: f.name,
      used_resources: f.used_resources,
      offered_resources: f.offered_resources,
      capabilities: f.capabilities,
      hostname: f.hostname,
      webui_url: f.webui_url,
      active: f.active,
      connected: f.connected,
      recovered: f.recovered,
      ...counts((t) => t.framework_id === f.id),
      slave_ids: [...new Set(tasks.filter((t) => t.framework_id === f.id).map((t) => t.slave_id))],
    })),
  };
}

