/**
 * A deliberately simple reference weighted-DRF allocator for property tests:
 * plain arrays, linear scans, recomputed shares, no heaps, no vectors kept
 * between steps. It implements the same rules as AllocatorCore (see core.ts)
 * so that random clusters can be checked offer by offer.
 */
import type { Random } from '../../../src/common/random.ts';
import { allocatableTo, add, scalar, subtract, UNRESERVED_ROLE, resourceRole } from '../../../src/common/resources.ts';
import type { Resource } from '../../../src/protocol/resource-types.ts';

export interface RefAgent {
  id: string;
  total: Resource[];
  free: Resource[];
}

export interface RefFramework {
  id: string;
  role: string;
}

export interface RefHolding {
  frameworkId: string;
  role: string;
  agentId: string;
  resources: Resource[];
}

export interface RefOffer {
  frameworkId: string;
  role: string;
  agentId: string;
  resources: Resource[];
}

const KINDS = ['cpus', 'mem', 'disk', 'gpus'];

export class ReferenceDrf {
  readonly agents: RefAgent[] = [];
  readonly frameworks: RefFramework[] = [];
  /** Everything held (tasks and outstanding offers). */
  holdings: RefHolding[] = [];
  weights: Record<string, number> = {};
  minCpus = 0.01;
  minMemMb = 32;

  private share(filter: (h: RefHolding) => boolean): number {
    let best = 0;
    for (const k of KINDS) {
      let total = 0;
      for (const a of this.agents) total += scalar(a.total, k);
      if (total <= 0) continue;
      let held = 0;
      for (const h of this.holdings) if (filter(h)) held += scalar(h.resources, k);
      best = Math.max(best, held / total);
    }
    return best;
  }

  roleShare(role: string): number {
    return this.share((h) => h.role === role) / (this.weights[role] ?? 1);
  }

  frameworkShare(id: string, role: string): number {
    return this.share((h) => h.frameworkId === id && h.role === role);
  }

  private offerable(rs: Resource[]): boolean {
    const cpus = scalar(rs, 'cpus');
    const mem = scalar(rs, 'mem');
    const any = rs.some((r) => (r.type === 'SCALAR' ? (r.scalar?.value ?? 0) > 0 : true));
    return any && (cpus >= this.minCpus || mem >= this.minMemMb);
  }

  /** One cycle: agents in the same shuffled order as AllocatorCore (same Fisher-Yates, same stream). */
  allocate(random: Random, outstanding: Set<string>): RefOffer[] {
    const order = this.agents.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const offers: RefOffer[] = [];
    for (const agent of order) {
      for (;;) {
        let best: { fw: RefFramework; roleShare: number; fwShare: number } | undefined;
        for (const fw of this.frameworks) {
          if (outstanding.has(`${fw.id}@${agent.id}`)) continue;
          if (!this.offerable(allocatableTo(agent.free, fw.role))) continue;
          const rs = this.roleShare(fw.role);
          const fs = this.frameworkShare(fw.id, fw.role);
          if (
            best === undefined ||
            rs < best.roleShare ||
            (rs === best.roleShare && fw.role < best.fw.role) ||
            (fw.role === best.fw.role && (fs < best.fwShare || (fs === best.fwShare && fw.id < best.fw.id)))
          ) {
            best = { fw, roleShare: rs, fwShare: fs };
          }
        }
        if (best === undefined) break;
        const taken = allocatableTo(agent.free, best.fw.role);
        agent.free = agent.free.filter((r) => {
          const role = resourceRole(r);
          return role !== UNRESERVED_ROLE && role !== best.fw.role;
        });
        const fwId = best.fw.id;
        const held = this.holdings.find((x) => x.frameworkId === fwId && x.agentId === agent.id);
        if (held === undefined) this.holdings.push({ frameworkId: fwId, role: best.fw.role, agentId: agent.id, resources: taken });
        else held.resources = add(held.resources, taken);
        outstanding.add(`${best.fw.id}@${agent.id}`);
        offers.push({ frameworkId: best.fw.id, role: best.fw.role, agentId: agent.id, resources: taken });
      }
    }
    return offers;
  }

  /** Returns `rs` of an offer/task to the agent (the caller only returns what it holds). */
  recover(frameworkId: string, agentId: string, rs: Resource[], outstanding: Set<string>): void {
    const h = this.holdings.find((x) => x.frameworkId === frameworkId && x.agentId === agentId);
    if (h === undefined) throw new Error(`reference: nothing held by ${frameworkId} on ${agentId}`);
    h.resources = subtract(h.resources, rs);
    this.holdings = this.holdings.filter((x) => x.resources.length > 0);
    const agent = this.agents.find((a) => a.id === agentId);
    if (agent === undefined) throw new Error(`reference: no agent ${agentId}`);
    agent.free = add(agent.free, rs);
    outstanding.delete(`${frameworkId}@${agentId}`);
  }
}
