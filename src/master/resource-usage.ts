/**
 * What the live tasks hold and the outstanding offers carry, summed per agent
 * and per framework: the used/offered figures of `/state` and of the
 * Operator API. Pure: computed from the core's registries.
 */
import { add } from '../common/resources.ts';
import type { MasterCore } from './master-core.ts';
import { isTerminalState } from './tasks.ts';
import type { Resource } from './wire.ts';

export interface ResourceUsage {
  readonly allocatedByAgent: Map<string, Resource[]>;
  readonly allocatedByFramework: Map<string, Resource[]>;
  readonly offeredByAgent: Map<string, Resource[]>;
  readonly offeredByFramework: Map<string, Resource[]>;
}

/** The cluster's total (its active agents' resources) and what its live tasks and outstanding offers hold of it. */
export function clusterResources(core: MasterCore, usage: ResourceUsage): { total: Resource[]; used: Resource[]; offered: Resource[] } {
  let total: Resource[] = [];
  for (const a of core.ctx.agents.all()) if (a.state === 'active') total = add(total, a.total);
  let used: Resource[] = [];
  for (const rs of usage.allocatedByAgent.values()) used = add(used, rs);
  let offered: Resource[] = [];
  for (const rs of usage.offeredByAgent.values()) offered = add(offered, rs);
  return { total, used, offered };
}

export function resourceUsage(core: MasterCore): ResourceUsage {
  const u: ResourceUsage = { allocatedByAgent: new Map(), allocatedByFramework: new Map(), offeredByAgent: new Map(), offeredByFramework: new Map() };
  const push = (m: Map<string, Resource[]>, k: string, rs: Resource[]): void => {
    m.set(k, add(m.get(k) ?? [], rs));
  };
  for (const t of core.ctx.tasks.all()) {
    if (isTerminalState(t.state) || t.resourcesRecovered) continue;
    push(u.allocatedByAgent, t.agentId, t.resources);
    push(u.allocatedByFramework, t.frameworkId, t.resources);
  }
  for (const o of core.ctx.offers.all()) {
    push(u.offeredByAgent, o.agentId, o.resources);
    push(u.offeredByFramework, o.frameworkId, o.resources);
  }
  return u;
}
