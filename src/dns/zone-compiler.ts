/**
 * Incremental zone compilation: registry state → CompiledZone, re-encoding
 * and re-indexing only what changed since the last call. Pure apart from
 * its own state (no I/O, no clock): after any sequence of calls, the
 * answers equal compileZone(buildZone(state)) for the latest state.
 *
 * The answer index (`byKey`) is one Map updated in place; a call runs to
 * completion synchronously, so a query (handled between calls on the same
 * thread) never sees half of an update.
 *
 * Contributors of names, each replaced as a whole when it changes:
 *   - each app: its app, instance and SRV names and the empty non-terminals
 *     between them and the domain. It changed when the app object, its
 *     assigned name, its endpoint objects (in order) or its excluded
 *     instance names differ. Registry objects are immutable (a change is a
 *     new object), so identity comparison is enough.
 *   - the apex (SOA, whose serial is the revision, NS, leader, master):
 *     small, rebuilt every call.
 *   - PTR names are shared between apps (several instances on one host):
 *     an address's answer is recompiled when an app contributing to it
 *     changed, from the targets of all apps in app-id order.
 * A name with records from some contributor wins over the same name as an
 * empty non-terminal from others (`shop.cygnet` is both above
 * `web.shop.cygnet` and maybe an app itself).
 *
 * Memory is bounded by the registry: entries of apps and names that are
 * gone are deleted.
 */
import type { RegistryApp, RegistryEndpoint } from '../registry/types.ts';
import { compileName, emptyName, type CompiledName, type CompiledZone } from './answers.ts';
import { keyOfName } from './query.ts';
import { encodeStandaloneRecord, RRType } from './wire.ts';
import { planApps, sortedEndpoints, ZoneBuilder, type PlannedApp, type ZoneOptions, type ZoneSource } from './zone.ts';

interface Contribution {
  /** key → compiled name (emptyName for an empty non-terminal). */
  readonly names: ReadonlyMap<string, CompiledName>;
  /** reverse name → PTR targets. */
  readonly ptrs: ReadonlyMap<string, readonly string[]>;
}

interface AppMemo extends Contribution {
  readonly app: RegistryApp;
  readonly fqdn: string;
  readonly endpoints: readonly RegistryEndpoint[];
  readonly excluded: ReadonlySet<string>;
}

/**
 * Who provides a name: contributors with records (normally one; the
 * naming rules keep names apart, and if two ever collided the earliest
 * remaining one answers), and how many see it as an empty non-terminal.
 */
interface NameOwners {
  readonly withRecords: Map<string, CompiledName>;
  emptyOwners: number;
}

const apexOwner = '#apex';

export class ZoneCompiler {
  private readonly opts: ZoneOptions;
  private readonly byKey = new Map<string, CompiledName>();
  private readonly owners = new Map<string, NameOwners>();
  private apps = new Map<string, AppMemo>();
  private apex: Contribution = { names: new Map(), ptrs: new Map() };
  /** reverse name → app id → targets. */
  private readonly ptrSources = new Map<string, Map<string, readonly string[]>>();
  /**
   * What the current call left out and why: the apex's, apps whose names
   * are too long (at a full replan), and names of apps compiled in this
   * call (so something left out is reported when it changes, not on every
   * delta).
   */
  private found: string[] = [];
  /** Apps compiled afresh by the last call (for metrics and tests). */
  lastRecompiledApps = 0;

  constructor(opts: ZoneOptions) {
    this.opts = opts;
  }

  /**
   * Brings the zone up to `state`. `changedApps`: ids of apps whose
   * metadata or endpoints changed since the last call (from the watch's
   * deltas), or 'all' (a snapshot, or unknown). When only known apps
   * changed, names cannot have moved (they depend on the set of app ids
   * alone), so only those apps are looked at: a delta costs one app, not
   * the registry.
   */
  compile(state: ZoneSource, changedApps: ReadonlySet<string> | 'all' = 'all'): CompiledZone {
    const apexBuilder = new ZoneBuilder(this.opts);
    apexBuilder.addApex(state.revision);
    apexBuilder.addControlPlane('leader', state.cluster.leader);
    apexBuilder.addControlPlane('master', state.cluster.master);
    const apexNames = new Map<string, CompiledName>();
    for (const [name, types] of apexBuilder.names) apexNames.set(keyOfName(name), compileName(name, types, apexBuilder.names));
    const dirtyPtrs = new Set<string>();
    this.replace(apexOwner, this.apex, { names: apexNames, ptrs: new Map() }, dirtyPtrs);
    this.apex = { names: apexNames, ptrs: new Map() };

    this.lastRecompiledApps = 0;
    this.found = [...apexBuilder.skipped];
    if (changedApps !== 'all' && this.canPatch(state, changedApps)) this.patchApps(state, changedApps, dirtyPtrs);
    else this.replanApps(state, dirtyPtrs);
    for (const rev of dirtyPtrs) this.recompilePtr(rev);
    return { byKey: this.byKey, apexKey: keyOfName(this.opts.domain), soaRecord: encodeStandaloneRecord(apexBuilder.soa), revision: state.revision, skipped: this.found };
  }

  /** Every changed app is one we have and still exists: the set of ids (hence every name) is unchanged. */
  private canPatch(state: ZoneSource, changed: ReadonlySet<string>): boolean {
    for (const id of changed) if (!this.apps.has(id) || state.app(id) === undefined) return false;
    return true;
  }

  private patchApps(state: ZoneSource, changed: ReadonlySet<string>, dirtyPtrs: Set<string>): void {
    for (const id of changed) {
      const old = this.apps.get(id);
      const app = state.app(id);
      if (old === undefined || app === undefined) continue;
      const planned: PlannedApp = { app, fqdn: old.fqdn, endpoints: sortedEndpoints(state.endpointsOf(id)), excludedInstances: old.excluded };
      if (unchanged(old, planned)) continue;
      const memo = this.compileApp(planned);
      this.replace(id, old, memo, dirtyPtrs);
      this.apps.set(id, memo);
    }
  }

  private replanApps(state: ZoneSource, dirtyPtrs: Set<string>): void {
    const plan = planApps(state, this.opts);
    this.found.push(...plan.skipped);
    const next = new Map<string, AppMemo>();
    // Withdraw apps that are gone first, so the names they held are free for the others.
    const planned = new Set(plan.apps.map((p) => p.app.id));
    for (const [id, old] of this.apps) if (!planned.has(id)) this.replace(id, old, undefined, dirtyPtrs);
    for (const planned of plan.apps) {
      const id = planned.app.id;
      const old = this.apps.get(id);
      if (old !== undefined && unchanged(old, planned)) {
        next.set(id, old);
        continue;
      }
      const memo = this.compileApp(planned);
      this.replace(id, old, memo, dirtyPtrs);
      next.set(id, memo);
    }
    this.apps = next;
  }

  /** Swaps one contributor's names: withdraws `old`, adds `fresh`. */
  private replace(owner: string, old: Contribution | undefined, fresh: Contribution | undefined, dirtyPtrs: Set<string>): void {
    for (const [key, compiled] of old?.names ?? []) {
      const o = this.owners.get(key);
      if (o === undefined) continue;
      if (compiled === emptyName) o.emptyOwners--;
      else o.withRecords.delete(owner);
      this.publish(key, o);
    }
    for (const [key, compiled] of fresh?.names ?? []) {
      let o = this.owners.get(key);
      if (o === undefined) {
        o = { withRecords: new Map(), emptyOwners: 0 };
        this.owners.set(key, o);
      }
      if (compiled === emptyName) o.emptyOwners++;
      else o.withRecords.set(owner, compiled);
      this.publish(key, o);
    }
    for (const rev of old?.ptrs.keys() ?? []) {
      this.ptrSources.get(rev)?.delete(owner);
      dirtyPtrs.add(rev);
    }
    for (const [rev, targets] of fresh?.ptrs ?? []) {
      let sources = this.ptrSources.get(rev);
      if (sources === undefined) {
        sources = new Map();
        this.ptrSources.set(rev, sources);
      }
      sources.set(owner, targets);
      dirtyPtrs.add(rev);
    }
  }

  private publish(key: string, o: NameOwners): void {
    const first = o.withRecords.values().next();
    if (first.done !== true) this.byKey.set(key, first.value);
    else if (o.emptyOwners > 0) this.byKey.set(key, emptyName);
    else {
      this.byKey.delete(key);
      this.owners.delete(key);
    }
  }

  private recompilePtr(rev: string): void {
    const sources = this.ptrSources.get(rev);
    const key = keyOfName(rev);
    if (sources === undefined || sources.size === 0) {
      this.ptrSources.delete(rev);
      this.byKey.delete(key);
      return;
    }
    const targets = [...sources.keys()].sort().flatMap((owner) => sources.get(owner) ?? []);
    const records = targets.map((target) => ({ name: rev, ttl: this.opts.ttlSec, data: { type: RRType.PTR, target } as const }));
    this.byKey.set(key, compileName(rev, new Map([[RRType.PTR, records]]), new Map()));
  }

  private compileApp(p: PlannedApp): AppMemo {
    this.lastRecompiledApps++;
    const b = new ZoneBuilder(this.opts);
    b.addApp(p.fqdn, p.app, p.endpoints, p.excludedInstances);
    this.found.push(...b.skipped);
    const names = new Map<string, CompiledName>();
    const ptrs = new Map<string, string[]>();
    for (const [name, types] of b.names) {
      if (name.endsWith('.in-addr.arpa')) {
        ptrs.set(name, (types.get(RRType.PTR) ?? []).map((rr) => (rr.data.type === RRType.PTR ? rr.data.target : '')));
        continue;
      }
      names.set(keyOfName(name), compileName(name, types, b.names));
    }
    return { app: p.app, fqdn: p.fqdn, endpoints: p.endpoints, excluded: p.excludedInstances, names, ptrs };
  }
}

function unchanged(m: AppMemo, p: PlannedApp): boolean {
  if (m.app !== p.app || m.fqdn !== p.fqdn || m.endpoints.length !== p.endpoints.length || m.excluded.size !== p.excludedInstances.size) return false;
  for (let i = 0; i < p.endpoints.length; i++) if (m.endpoints[i] !== p.endpoints[i]) return false;
  for (const x of p.excludedInstances) if (!m.excluded.has(x)) return false;
  return true;
}
