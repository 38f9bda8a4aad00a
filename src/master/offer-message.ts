/**
 * Builds the Offer messages of an allocation cycle. An allocation cycle for
 * 10k agents makes 10k offers, and their garbage is a good part of the
 * cycle's cost (GC), so the parts every offer of one agent (agent_id, url,
 * attributes), one framework (framework_id) or one role (allocation_info) share are built once, frozen, and
 * reused; only the offer's ids and resources are new per offer. (Reusing an
 * agent's last-offered resources when equal was tried: comparing them cost
 * the cycle more than their encoding saved.)
 *
 * A RESERVATION_REFINEMENT framework gets reserved resources as a
 * `reservations` stack rather than `role` (Mesos' post-refinement format).
 * A framework without the MULTI_ROLE capability gets its offers without
 * allocation_info, on the offer and on its resources, as Mesos sends them
 * (MESOS-8237: such schedulers compare whole Resources and know nothing of
 * it). The master's own record of the offer keeps it.
 *
 * Invariants: pure (no I/O); an agent's cached parts are rebuilt whenever
 * its hostname, ip, port or attributes change (re-subscription); shared parts
 * are deep-frozen, so nobody can change one offer through another, and the
 * trusted encoder (src/protocol/trusted-encoder.ts) may encode each of them
 * once and reuse the bytes for every later offer of the agent.
 */
import type { AgentRecord } from './agents.ts';
import { hasCapability, type FrameworkRecord } from './frameworks.ts';
import { sealForReuse } from '../protocol/trusted-encoder.ts';
import { toRefinedForm } from '../common/resources.ts';
import type { Attribute, Offer, Resource } from './wire.ts';

interface AgentParts {
  readonly hostname: string;
  readonly ip: string;
  readonly port: number;
  /** The agent's own array, to notice a change; `frozenAttributes` is what offers carry. */
  readonly attributes: Attribute[];
  readonly frozenAttributes: Attribute[];
  readonly agentId: { readonly value: string };
  readonly url: NonNullable<Offer['url']>;
}

/**
 * The resource without allocation_info. The hot path, an unreserved scalar
 * (every field of `Resource` checked), is one object literal of one shape;
 * asking `Object.keys` instead cost the 10k-offer cycle ~8 ms, and so
 * does an object rest per resource.
 */
function unallocated(r: Resource): Resource {
  if (r.allocation_info === undefined) return r;
  const plain = r.role === undefined && r.reservations === undefined && r.set === undefined;
  if (plain && r.scalar !== undefined && r.ranges === undefined) return { name: r.name, type: r.type, scalar: r.scalar };
  if (plain && r.ranges !== undefined && r.scalar === undefined) return { name: r.name, type: r.type, ranges: r.ranges };
  // Rest syntax (the runtime's CopyDataProperties) only for the rare rest: reserved resources and sets.
  const { allocation_info: _dropped, ...rest } = r;
  return rest;
}

export class OfferMessageBuilder {
  private readonly agents = new WeakMap<AgentRecord, AgentParts>();
  private readonly roles = new Map<string, { readonly role: string }>();
  /** One sealed FrameworkID per framework record, shared by all its offers (goes with the record). */
  private readonly frameworkIds = new WeakMap<FrameworkRecord, { readonly value: string }>();

  build(offerId: string, framework: FrameworkRecord, agent: AgentRecord, role: string, resources: Resource[]): Offer {
    const parts = this.agentParts(agent);
    const multiRole = hasCapability(framework.info, 'MULTI_ROLE');
    // Mesos offers reservations in the form the framework understands (RESERVATION_REFINEMENT: a `reservations` stack).
    const offered = hasCapability(framework.info, 'RESERVATION_REFINEMENT') && resources.some((r) => r.role !== undefined) ? resources.map(toRefinedForm) : resources;
    const offer: Offer = {
      id: { value: offerId },
      framework_id: this.frameworkId(framework),
      agent_id: parts.agentId,
      hostname: parts.hostname,
      url: parts.url,
      resources: multiRole ? offered : offered.map(unallocated),
      attributes: parts.frozenAttributes,
    };
    if (multiRole) offer.allocation_info = this.allocationInfo(role);
    return offer;
  }

  private agentParts(agent: AgentRecord): AgentParts {
    const cached = this.agents.get(agent);
    if (cached !== undefined && cached.hostname === agent.hostname && cached.ip === agent.ip && cached.port === agent.port && cached.attributes === agent.attributes) {
      return cached;
    }
    const parts: AgentParts = Object.freeze({
      hostname: agent.hostname,
      ip: agent.ip,
      port: agent.port,
      attributes: agent.attributes,
      frozenAttributes: deepFrozenCopy(agent.attributes),
      agentId: sealForReuse({ value: agent.id }),
      url: sealForReuse({
        scheme: 'http',
        address: { hostname: agent.hostname, ip: agent.ip, port: agent.port },
        path: '/slave(1)',
      }),
    });
    this.agents.set(agent, parts);
    return parts;
  }

  private frameworkId(framework: FrameworkRecord): { readonly value: string } {
    let v = this.frameworkIds.get(framework);
    if (v === undefined || v.value !== framework.id) {
      v = sealForReuse({ value: framework.id });
      this.frameworkIds.set(framework, v);
    }
    return v;
  }

  private allocationInfo(role: string): { readonly role: string } {
    let v = this.roles.get(role);
    if (v === undefined) {
      v = sealForReuse({ role });
      this.roles.set(role, v);
    }
    return v;
  }
}

/** A copy nobody can change, whose encoding the trusted encoder keeps. */
function deepFrozenCopy<T>(value: T): T {
  return sealForReuse(structuredClone(value));
}
