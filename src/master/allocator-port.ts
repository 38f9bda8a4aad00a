/**
 * The narrow face of the allocator the master core drives. The DRF allocator
 * itself lives in `./allocator/` (another engineer's pure core);
 * `allocator-adapter.ts` maps it onto this interface. Keeping the port small
 * lets the core be tested against the real allocator without knowing its
 * internals.
 *
 * Resource accounting contract: resources handed out by `allocate()` count as
 * allocated until the master gives them back with `recoverResources` (declined,
 * unused part of an accepted offer, rescinded offer, terminal task).
 */
import type { Attribute, Resource } from './wire.ts';

export interface PortAgent {
  readonly id: string;
  readonly hostname: string;
  readonly total: Resource[];
  /** Already used by tasks, per framework (re-registration after a restart or partition). */
  readonly used: ReadonlyArray<{ readonly frameworkId: string; readonly role: string; readonly resources: Resource[] }>;
  readonly attributes: Attribute[];
}

export interface PortFramework {
  readonly id: string;
  readonly roles: string[];
  readonly suppressedRoles: string[];
  readonly active: boolean;
}

export interface PlannedOffer {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  /** Offered resources, allocation_info.role set. */
  readonly resources: Resource[];
}

export interface RecoverOptions {
  /** Default true: these resources come from a closed offer. False for a finished task's resources. */
  readonly closesOffer?: boolean;
}

export interface AllocatorPort {
  addAgent(agent: PortAgent): void;
  removeAgent(agentId: string): void;
  addFramework(fw: PortFramework): void;
  /** Active = connected and wanting offers; inactive frameworks get none. */
  setFrameworkActive(frameworkId: string, active: boolean): void;
  /** Roles changed on re-subscription. */
  updateFramework(fw: PortFramework): void;
  removeFramework(frameworkId: string): void;
  /**
   * Gives resources back (call once per closed offer, with [] when all was
   * used, so the agent's outstanding-offer mark clears); with refuseSeconds > 0
   * they are not re-offered to this framework on this agent until then.
   * `closesOffer: false` (a terminal task's resources) keeps the framework's
   * outstanding-offer mark on the agent: at most one open offer per
   * framework and agent.
   */
  recoverResources(frameworkId: string, agentId: string, resources: Resource[], refuseSeconds: number | undefined, nowMs: number, options?: RecoverOptions): void;
  suppress(frameworkId: string, roles: string[] | undefined): void;
  revive(frameworkId: string, roles: string[] | undefined): void;
  allocate(nowMs: number): PlannedOffer[];
}
