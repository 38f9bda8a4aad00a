/**
 * The zone builder: registry state → every record the server answers with
 * authority, grouped by (name, type). Pure and deterministic: the same
 * state and options always give the same records in the same order.
 *
 * What the zone holds (domain `cygnet`, app `/shop/web`):
 *   cygnet                         SOA, NS ns.cygnet
 *   ns.cygnet                      A <nsAddress> (when the server knows its address)
 *   leader.cygnet, master.cygnet   A (or CNAME when the registry gives a host name)
 *   web.shop.cygnet                A: one per distinct healthy instance address, sorted
 *   <index>.web.shop.cygnet        A of that instance
 *   _<port>._tcp.web.shop.cygnet   SRV 0 <weight> <host port> <index>.web.shop.cygnet (one per instance;
 *                                  weight 1, or the canary share per srvWeights)
 *   d.c.b.a.in-addr.arpa           PTR <index>.<app>.cygnet for each instance on a.b.c.d
 * Every ancestor of a name up to the domain exists (empty non-terminals
 * answer NODATA, not NXDOMAIN: RFC 8020).
 *
 * Name rules: labels as in labels.ts. A port without a name is
 * `_port<i>` (its position in the app's ports). Protocol `udp` gives
 * `_udp`, `udp,tcp` gives both. An instance name that equals an app's name
 * (`/web/0` vs instance 0 of `/web`) is left out: app names win. An app
 * whose name would exceed 253 characters is left out and listed in
 * `skipped`.
 */
import type { RegistryApp, RegistryCluster, RegistryEndpoint, RegistryPort } from '../registry/types.ts';
import { assignAppNames, maxDnsLabelChars, maxDnsNameChars, sanitizeLabel } from './labels.ts';
import { parseIPv4, type RecordData, type ResourceRecord, RRType } from './wire.ts';

export interface ZoneOptions {
  /** The cluster domain, lower-case, no trailing dot: `cygnet`. */
  readonly domain: string;
  /** TTL of every record in the zone. */
  readonly ttlSec: number;
  /** SOA minimum: how long resolvers may cache NXDOMAIN/NODATA (RFC 2308). */
  readonly negativeTtlSec: number;
  /** IPv4 address for `ns.<domain>`, when the server listens on a specific one. */
  readonly nsAddress?: string;
}

/** What the zone is built from: the part of the registry watch client's state we read. */
export interface ZoneSource {
  readonly revision: number;
  readonly cluster: RegistryCluster;
  apps(): Iterable<RegistryApp>;
  app(appId: string): RegistryApp | undefined;
  endpointsOf(appId: string): readonly RegistryEndpoint[];
}

export interface Zone {
  readonly apex: string;
  readonly soa: ResourceRecord;
  /** name → type → records; a name with an empty map exists without records. */
  readonly names: ReadonlyMap<string, ReadonlyMap<number, readonly ResourceRecord[]>>;
  /** Apps left out of the zone, with the reason. */
  readonly skipped: readonly string[];
}

/** Apex names the zone uses itself; an app may not take them. */
export const reservedNames: ReadonlySet<string> = new Set(['leader', 'master', 'ns']);

/** SOA timers (seconds): secondaries are not expected; values as common defaults. */
const soaRefreshSec = 3600;
const soaRetrySec = 600;
const soaExpireSec = 86_400;

export function buildZone(state: ZoneSource, options: ZoneOptions): Zone {
  const b = new ZoneBuilder(options);
  b.addApex(state.revision);
  b.addControlPlane('leader', state.cluster.leader);
  b.addControlPlane('master', state.cluster.master);
  const plan = planApps(state, options);
  b.skipped.push(...plan.skipped);
  for (const a of plan.apps) b.addApp(a.fqdn, a.app, a.endpoints, a.excludedInstances);
  return { apex: options.domain, soa: b.soa, names: b.names, skipped: b.skipped };
}

/** One app as it goes into the zone: its name, sorted endpoints, and instance names it must not use. */
export interface PlannedApp {
  readonly app: RegistryApp;
  readonly fqdn: string;
  readonly endpoints: readonly RegistryEndpoint[];
  /** Instance names (`<index>.<fqdn>`) that are other apps' names. */
  readonly excludedInstances: ReadonlySet<string>;
}

/** Names every app (labels.ts rules) and finds the instance names app names take. */
export function planApps(state: ZoneSource, options: ZoneOptions): { apps: PlannedApp[]; skipped: string[] } {
  const byId = new Map<string, RegistryApp>();
  for (const app of state.apps()) byId.set(app.id, app);
  const appIds = [...byId.keys()].sort();
  const names = assignAppNames(appIds, reservedNames);
  const excluded = new Map<string, Set<string>>();
  for (const rel of names.values()) {
    // `<digits>.<parent>` is also an instance name of the app named <parent>.
    const m = /^(\d+)\.(.+)$/.exec(rel);
    if (m === null) continue;
    const parent = `${m[2]}.${options.domain}`;
    const set = excluded.get(parent) ?? new Set<string>();
    set.add(`${rel}.${options.domain}`);
    excluded.set(parent, set);
  }
  const apps: PlannedApp[] = [];
  const skipped: string[] = [];
  const none: ReadonlySet<string> = new Set();
  for (const id of appIds) {
    const app = byId.get(id);
    const rel = names.get(id);
    if (app === undefined || rel === undefined) continue;
    const fqdn = `${rel}.${options.domain}`;
    // Room for `_<port>._udp.<index>.` under the app name.
    if (fqdn.length > maxDnsNameChars - 24) {
      skipped.push(`${id}: name ${fqdn} is too long`);
      continue;
    }
    apps.push({ app, fqdn, endpoints: sortedEndpoints(state.endpointsOf(id)), excludedInstances: excluded.get(fqdn) ?? none });
  }
  return { apps, skipped };
}

/** A host name we can put on the wire: LDH labels of 1-63 characters, at most 253 in all. */
function isHostName(host: string): boolean {
  const name = host.replace(/\.$/, '');
  return name.length <= maxDnsNameChars && name.split('.').every((l) => /^[a-z0-9-]{1,63}$/i.test(l));
}

/** Endpoints in the zone's order: by index, then task id. */
export function sortedEndpoints(endpoints: readonly RegistryEndpoint[]): RegistryEndpoint[] {
  return [...endpoints].sort((x, y) => x.index - y.index || cmp(x.taskId, y.taskId));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `10.0.0.7` → `7.0.0.10.in-addr.arpa`. */
export function reverseName(ip: readonly number[]): string {
  return `${ip[3]}.${ip[2]}.${ip[1]}.${ip[0]}.in-addr.arpa`;
}

/** SRV weight given to all of an app's versions together when it has canary weights. */
export const srvWeightScale = 10_000;

/**
 * SRV weight per task (RFC 2782 picks targets in proportion). Without
 * `versionWeights` every instance weighs 1. With them (the registry's canary
 * rule): a version's share is its weight over the sum of the weights of
 * listed versions that have instances here; unlisted versions get 0; the
 * share is split evenly among the version's instances and scaled to
 * `srvWeightScale` (a positive share never rounds down to 0). If no listed
 * version has instances, or their weights sum to 0, everyone weighs 1.
 */
export function srvWeights(endpoints: readonly RegistryEndpoint[], versionWeights: Readonly<Record<string, number>> | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const perVersion = new Map<string, number>();
  for (const e of endpoints) perVersion.set(e.version, (perVersion.get(e.version) ?? 0) + 1);
  let total = 0;
  if (versionWeights !== undefined) {
    for (const v of perVersion.keys()) {
      const w = versionWeights[v];
      if (w !== undefined && Number.isFinite(w) && w > 0) total += w;
    }
  }
  for (const e of endpoints) {
    if (versionWeights === undefined || total <= 0) {
      out.set(e.taskId, 1);
      continue;
    }
    const w = versionWeights[e.version];
    const share = w !== undefined && Number.isFinite(w) && w > 0 ? w / total : 0;
    out.set(e.taskId, share === 0 ? 0 : Math.max(1, Math.round((srvWeightScale * share) / (perVersion.get(e.version) ?? 1))));
  }
  return out;
}

/** `_<sanitized name>`, kept within 63 characters with its underscore. */
function portLabel(port: RegistryPort, i: number): string {
  const label = port.name === undefined || port.name === '' ? `port${i}` : sanitizeLabel(port.name);
  return `_${label.slice(0, maxDnsLabelChars - 1).replace(/-+$/, '')}`;
}

function portProtocols(port: RegistryPort): string[] {
  if (port.protocol === 'udp') return ['_udp'];
  if (port.protocol === 'udp,tcp') return ['_udp', '_tcp'];
  return ['_tcp'];
}

/** Accumulates records by (name, type); see the file comment for what goes where. */
export class ZoneBuilder {
  readonly names = new Map<string, Map<number, ResourceRecord[]>>();
  readonly skipped: string[] = [];
  soa!: ResourceRecord;
  private readonly opts: ZoneOptions;

  constructor(opts: ZoneOptions) {
    this.opts = opts;
  }

  addApex(revision: number): void {
    const d = this.opts.domain;
    this.soa = {
      name: d,
      ttl: this.opts.ttlSec,
      data: {
        type: RRType.SOA,
        mname: `ns.${d}`,
        rname: `hostmaster.${d}`,
        serial: revision >>> 0,
        refresh: soaRefreshSec,
        retry: soaRetrySec,
        expire: soaExpireSec,
        minimum: this.opts.negativeTtlSec,
      },
    };
    this.add(d, this.soa.data);
    this.add(d, { type: RRType.NS, target: `ns.${d}` });
    if (this.opts.nsAddress !== undefined && parseIPv4(this.opts.nsAddress) !== undefined) {
      this.add(`ns.${d}`, { type: RRType.A, address: this.opts.nsAddress });
    }
  }

  addControlPlane(label: string, hostPort: string | undefined): void {
    if (hostPort === undefined || hostPort === '') return;
    const host = hostPort.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const name = `${label}.${this.opts.domain}`;
    if (parseIPv4(host) !== undefined) this.add(name, { type: RRType.A, address: host });
    else if (host === 'localhost') this.add(name, { type: RRType.A, address: '127.0.0.1' });
    else if (isHostName(host)) this.add(name, { type: RRType.CNAME, target: host.toLowerCase().replace(/\.$/, '') });
  }

  addApp(fqdn: string, app: Pick<RegistryApp, 'ports' | 'versionWeights'>, endpoints: readonly RegistryEndpoint[], excludedInstances: ReadonlySet<string>): void {
    const ports = app.ports;
    const weights = srvWeights(endpoints, app.versionWeights);
    this.ensure(fqdn);
    const seenIps = new Set<string>();
    const instanceNames = new Map<string, string>();
    const usedInstances = new Set<string>();
    for (const e of endpoints) {
      const ip = parseIPv4(e.ip);
      if (ip === undefined) continue;
      const address = ip.join('.');
      if (!seenIps.has(address)) {
        seenIps.add(address);
        this.add(fqdn, { type: RRType.A, address });
      }
      if (!Number.isSafeInteger(e.index) || e.index < 0) continue;
      const instance = `${e.index}.${fqdn}`;
      if (excludedInstances.has(instance) || usedInstances.has(instance)) continue;
      usedInstances.add(instance);
      instanceNames.set(e.taskId, instance);
      this.add(instance, { type: RRType.A, address });
      this.add(reverseName(ip), { type: RRType.PTR, target: instance });
    }
    ports.forEach((port, i) => {
      const label = portLabel(port, i);
      for (const proto of portProtocols(port)) {
        const name = `${label}.${proto}.${fqdn}`;
        if (name.length > maxDnsNameChars) {
          this.skipped.push(`${fqdn}: SRV name ${name} is too long`);
          continue;
        }
        this.ensure(name);
        for (const e of endpoints) {
          const target = instanceNames.get(e.taskId);
          const hostPort = e.ports[i];
          if (target === undefined || hostPort === undefined || !Number.isInteger(hostPort) || hostPort < 0 || hostPort > 65535) continue;
          this.add(name, { type: RRType.SRV, priority: 0, weight: weights.get(e.taskId) ?? 1, port: hostPort, target });
        }
      }
    });
  }

  /** Makes `name` and its ancestors up to the apex exist. */
  private ensure(name: string): Map<number, ResourceRecord[]> {
    let types = this.names.get(name);
    if (types !== undefined) return types;
    types = new Map();
    this.names.set(name, types);
    const apexSuffix = `.${this.opts.domain}`;
    if (name.endsWith(apexSuffix)) {
      let parent = name.slice(name.indexOf('.') + 1);
      while (parent.length >= this.opts.domain.length && !this.names.has(parent)) {
        this.names.set(parent, new Map());
        if (parent === this.opts.domain) break;
        parent = parent.slice(parent.indexOf('.') + 1);
      }
    }
    return types;
  }

  private add(name: string, data: RecordData): void {
    const types = this.ensure(name);
    const list = types.get(data.type);
    const rr: ResourceRecord = { name, ttl: this.opts.ttlSec, data };
    if (list === undefined) types.set(data.type, [rr]);
    else list.push(rr);
  }
}
