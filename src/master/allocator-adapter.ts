/**
 * Maps the master core's AllocatorPort onto the DRF AllocatorCore from
 * `./allocator/` (owned by the allocator engineer). Thin: argument reshaping
 * and the last plan's stats for /metrics. Pure (no clock, no I/O).
 */
import { AllocatorCore, type AllocatorOptions } from './allocator/core.ts';
import type { AllocationStats } from './allocator/types.ts';
import type { AllocatorPort, PlannedOffer, PortAgent, PortFramework, RecoverOptions } from './allocator-port.ts';
import type { Resource } from './wire.ts';

export class AllocatorAdapter implements AllocatorPort {
  readonly core: AllocatorCore;
  lastStats: AllocationStats | undefined;

  constructor(options: AllocatorOptions) {
    this.core = new AllocatorCore(options);
  }

  addAgent(agent: PortAgent): void {
    if (this.core.hasAgent(agent.id)) this.core.removeAgent(agent.id);
    this.core.addAgent({
      id: agent.id,
      hostname: agent.hostname,
      total: agent.total,
      attributes: agent.attributes,
      allocations: agent.used.map((u) => ({ frameworkId: u.frameworkId, role: u.role, resources: u.resources })),
    });
  }

  removeAgent(agentId: string): void {
    this.core.removeAgent(agentId);
  }

  addFramework(fw: PortFramework): void {
    if (this.core.hasFramework(fw.id)) {
      this.updateFramework(fw);
      return;
    }
    this.core.addFramework({ id: fw.id, roles: fw.roles, suppressedRoles: fw.suppressedRoles, active: fw.active });
  }

  setFrameworkActive(frameworkId: string, active: boolean): void {
    if (this.core.hasFramework(frameworkId)) this.core.setFrameworkActive(frameworkId, active);
  }

  updateFramework(fw: PortFramework): void {
    if (!this.core.hasFramework(fw.id)) {
      this.addFramework(fw);
      return;
    }
    this.core.updateFramework(fw.id, { roles: fw.roles, suppressedRoles: fw.suppressedRoles, active: fw.active });
  }

  removeFramework(frameworkId: string): void {
    this.core.removeFramework(frameworkId);
  }

  recoverResources(frameworkId: string, agentId: string, resources: Resource[], refuseSeconds: number | undefined, nowMs: number, options: RecoverOptions = {}): void {
    const filter = refuseSeconds !== undefined && refuseSeconds > 0 ? { nowMs, refuseSeconds } : undefined;
    this.core.recoverResources(frameworkId, agentId, resources, filter, { closesOffer: options.closesOffer !== false });
  }

  suppress(frameworkId: string, roles: string[] | undefined): void {
    if (this.core.hasFramework(frameworkId)) this.core.suppress(frameworkId, roles);
  }

  revive(frameworkId: string, roles: string[] | undefined): void {
    if (this.core.hasFramework(frameworkId)) this.core.revive(frameworkId, roles);
  }

  allocate(nowMs: number): PlannedOffer[] {
    const plan = this.core.allocate(nowMs);
    this.lastStats = plan.stats;
    return plan.offers;
  }
}
