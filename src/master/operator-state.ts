/**
 * The read-only Mesos v1 Operator API's answers, built from the core's
 * registries: GET_HEALTH, GET_FLAGS, GET_VERSION, GET_METRICS, GET_STATE,
 * GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS, GET_ROLES, GET_WEIGHTS,
 * GET_MASTER. Pure: the
 * HTTP shell (operator-api.ts) decodes the call and encodes the answer.
 *
 * As in Mesos, GET_AGENTS lists registered agents only (an unreachable agent
 * is not registered), and a task's place in GET_TASKS follows its state.
 * cygnet runs command tasks without executors the master tracks, so
 * GET_EXECUTORS is empty; completed frameworks are not kept with their
 * FrameworkInfo, so `completed_frameworks` is empty too.
 */
import { add } from '../common/resources.ts';
import type { MasterCallType, MasterResponse, OperatorAgent, OperatorFramework, GetAgents, GetFrameworks, GetTasks } from '../protocol/operator-types.ts';
import type { AgentRecord } from './agents.ts';
import type { FrameworkRecord } from './frameworks.ts';
import type { MasterCore } from './master-core.ts';
import { resourceUsage, type ResourceUsage } from './resource-usage.ts';
import { MESOS_API_VERSION, versionJson } from '../common/version.ts';
import { isTerminalState, type TaskRecord } from './tasks.ts';
import type { Offer, Resource, Task, TimeInfo } from '../protocol/mesos-types.ts';

/** What the shell knows beyond the core: the flags as given and the metrics text. */
export interface OperatorSources {
  readonly core: MasterCore;
  readonly flags: readonly { name: string; value: string }[];
  /** `/metrics/snapshot`: Mesos' metric names, which GET_METRICS answers with too. */
  readonly metricsSnapshot: () => Readonly<Record<string, number>>;
  /** `--weights` as given; a role without one weighs 1. */
  readonly roleWeights: Readonly<Record<string, number>>;
}

/** The call types answered; any other is refused (501) by the shell. */
export const ANSWERED_CALLS: ReadonlySet<MasterCallType> = new Set<MasterCallType>([
  'GET_HEALTH', 'GET_FLAGS', 'GET_VERSION', 'GET_METRICS', 'GET_STATE', 'GET_AGENTS', 'GET_FRAMEWORKS', 'GET_EXECUTORS', 'GET_TASKS', 'GET_ROLES', 'GET_WEIGHTS', 'GET_MASTER',
]);

export function operatorResponse(type: MasterCallType, src: OperatorSources): MasterResponse | undefined {
  switch (type) {
    case 'GET_HEALTH': return { type, get_health: { healthy: true } };
    case 'GET_FLAGS': return { type, get_flags: { flags: src.flags.map((f) => ({ ...f })) } };
    case 'GET_VERSION': return { type, get_version: { version_info: versionJson() } };
    case 'GET_METRICS': return { type, get_metrics: { metrics: Object.entries(src.metricsSnapshot()).map(([name, value]) => ({ name, value })) } };
    case 'GET_STATE': {
      const usage = resourceUsage(src.core);
      return { type, get_state: { get_tasks: getTasks(src.core), get_executors: {}, get_frameworks: getFrameworks(src.core, usage), get_agents: getAgents(src.core, usage) } };
    }
    case 'GET_AGENTS': return { type, get_agents: getAgents(src.core, resourceUsage(src.core)) };
    case 'GET_FRAMEWORKS': return { type, get_frameworks: getFrameworks(src.core, resourceUsage(src.core)) };
    case 'GET_EXECUTORS': return { type, get_executors: {} };
    case 'GET_TASKS': return { type, get_tasks: getTasks(src.core) };
    case 'GET_ROLES': return { type, get_roles: { roles: getRoles(src.core, src.roleWeights) } };
    case 'GET_WEIGHTS': return { type, get_weights: { weight_infos: Object.entries(src.roleWeights).map(([role, weight]) => ({ weight, role })) } };
    case 'GET_MASTER': return { type, get_master: { master_info: src.core.ctx.config.masterInfo } };
    default: return undefined;
  }
}

function time(ms: number | undefined): TimeInfo | undefined {
  return ms === undefined ? undefined : { nanoseconds: ms * 1e6 };
}

function getAgents(core: MasterCore, usage: ResourceUsage): GetAgents {
  const agents: OperatorAgent[] = [];
  for (const a of core.ctx.agents.all()) if (a.state === 'active') agents.push(operatorAgent(a, usage));
  return { agents, recovered_agents: [] };
}

export function operatorAgent(a: AgentRecord, usage: ResourceUsage): OperatorAgent {
  const registered = time(a.registeredAtMs);
  const reregistered = time(a.reregisteredAtMs);
  return {
    agent_info: { ...a.info, id: { value: a.id }, hostname: a.hostname, port: a.port, resources: a.total, attributes: a.attributes },
    active: a.state === 'active',
    version: MESOS_API_VERSION,
    pid: `slave(1)@${a.ip}:${a.port}`,
    ...(registered !== undefined ? { registered_time: registered } : {}),
    ...(reregistered !== undefined ? { reregistered_time: reregistered } : {}),
    total_resources: a.total,
    allocated_resources: usage.allocatedByAgent.get(a.id) ?? [],
    offered_resources: usage.offeredByAgent.get(a.id) ?? [],
  };
}

function getFrameworks(core: MasterCore, usage: ResourceUsage): GetFrameworks {
  const frameworks: OperatorFramework[] = [];
  for (const f of core.ctx.frameworks.all()) frameworks.push(operatorFramework(core, f, usage));
  return { frameworks, completed_frameworks: [], recovered_frameworks: [] };
}

export function operatorFramework(core: MasterCore, f: FrameworkRecord, usage: ResourceUsage): OperatorFramework {
  const { ctx } = core;
  const offers: Offer[] = ctx.offers.ofFramework(f.id).map((o) => ({
    id: { value: o.id },
    framework_id: { value: o.frameworkId },
    agent_id: { value: o.agentId },
    hostname: ctx.agents.get(o.agentId)?.hostname ?? '',
    resources: o.resources,
    allocation_info: { role: o.role },
  }));
  const registered = time(f.registeredAtMs);
  const reregistered = time(f.reregisteredAtMs);
  return {
    framework_info: { ...f.info, id: { value: f.id } },
    active: f.state === 'connected',
    connected: f.state === 'connected',
    recovered: f.state === 'recovered',
    ...(registered !== undefined ? { registered_time: registered } : {}),
    ...(reregistered !== undefined ? { reregistered_time: reregistered } : {}),
    offers,
    allocated_resources: usage.allocatedByFramework.get(f.id) ?? [],
    offered_resources: usage.offeredByFramework.get(f.id) ?? [],
  };
}

/** Every role a framework is subscribed to or a weight names, with its frameworks and the resources its tasks hold. */
export function getRoles(core: MasterCore, weights: Readonly<Record<string, number>>): NonNullable<MasterResponse['get_roles']>['roles'] {
  const frameworksOf = new Map<string, string[]>();
  for (const role of Object.keys(weights)) frameworksOf.set(role, []);
  for (const f of core.ctx.frameworks.all()) {
    for (const role of f.roles) frameworksOf.set(role, [...(frameworksOf.get(role) ?? []), f.id]);
  }
  const held = new Map<string, Resource[]>();
  for (const t of core.ctx.tasks.all()) {
    if (isTerminalState(t.state) || t.resourcesRecovered) continue;
    for (const r of t.resources) {
      const role = r.allocation_info?.role ?? '*';
      held.set(role, add(held.get(role) ?? [], [r]));
    }
  }
  return [...frameworksOf.keys()].sort().map((name) => ({
    name,
    weight: weights[name] ?? 1,
    frameworks: (frameworksOf.get(name) ?? []).map((value) => ({ value })),
    resources: held.get(name) ?? [],
  }));
}

function getTasks(core: MasterCore): GetTasks {
  const tasks: Task[] = [];
  const unreachable: Task[] = [];
  for (const t of core.ctx.tasks.all()) (t.state === 'TASK_UNREACHABLE' ? unreachable : tasks).push(mesosTask(t));
  return { pending_tasks: [], tasks, unreachable_tasks: unreachable, completed_tasks: core.ctx.tasks.completed().map(mesosTask), orphan_tasks: [] };
}

export function mesosTask(t: TaskRecord): Task {
  const i = t.info;
  return {
    name: i.name,
    task_id: { value: t.taskId },
    framework_id: { value: t.frameworkId },
    ...(i.executor !== undefined ? { executor_id: i.executor.executor_id } : {}),
    agent_id: { value: t.agentId },
    state: t.state,
    resources: t.resources,
    statuses: t.statuses,
    ...(i.labels !== undefined ? { labels: i.labels } : {}),
    ...(i.discovery !== undefined ? { discovery: i.discovery } : {}),
    ...(i.container !== undefined ? { container: i.container } : {}),
  };
}

