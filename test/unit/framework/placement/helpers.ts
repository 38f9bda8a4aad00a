/** Builders for placement tests: offers and placed instances from the text forms of resources and attributes. */
import { parseAttributes, parseResources } from '../../../../src/common/resource-parse.ts';
import type { ConstraintTriple, InstanceRequest, PlacedInstance } from '../../../../src/framework/placement/index.ts';
import type { Offer } from '../../../../src/protocol/mesos-types.ts';

export function makeOffer(o: { id?: string; agent: string; host?: string; resources?: string; attributes?: string; role?: string; region?: string; zone?: string }): Offer {
  const resources = parseResources(o.resources ?? 'cpus:4;mem:4096;disk:1000;ports:[31000-31099]');
  const offer: Offer = {
    id: { value: o.id ?? `${o.agent}-o` },
    framework_id: { value: 'fw' },
    agent_id: { value: o.agent },
    hostname: o.host ?? `${o.agent}.host`,
    resources: o.role === undefined ? resources : resources.map((r) => ({ ...r, allocation_info: { role: o.role } })),
    attributes: parseAttributes(o.attributes ?? ''),
  };
  if (o.role !== undefined) offer.allocation_info = { role: o.role };
  if (o.region !== undefined) offer.domain = { fault_domain: { region: { name: o.region }, zone: { name: o.zone ?? `${o.region}-1` } } };
  return offer;
}

export function placedOn(appId: string, instanceId: string, o: { agent: string; host?: string; attributes?: string; region?: string; zone?: string }): PlacedInstance {
  return { appId, instanceId, agentId: o.agent, hostname: o.host ?? `${o.agent}.host`, attributes: parseAttributes(o.attributes ?? ''), region: o.region, zone: o.zone };
}

export function makeRequest(appId: string, instanceId: string, o: Partial<Omit<InstanceRequest, 'appId' | 'instanceId'>> = {}): InstanceRequest {
  return {
    appId,
    instanceId,
    cpus: o.cpus ?? 0.1,
    memMb: o.memMb ?? 32,
    diskMb: o.diskMb ?? 0,
    portCount: o.portCount ?? 0,
    requiredPorts: o.requiredPorts,
    constraints: o.constraints ?? [],
    role: o.role ?? '*',
    acceptedResourceRoles: o.acceptedResourceRoles ?? [],
    instances: o.instances,
  };
}

/** `field:OP[:value]` → a constraint triple. */
export function parseConstraint(text: string): ConstraintTriple {
  const [field, op, ...rest] = text.split(':');
  return rest.length === 0 ? [field, op] : [field, op, rest.join(':')];
}
