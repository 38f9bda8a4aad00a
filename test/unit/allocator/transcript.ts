/**
 * Transcript driver for the allocator (etcd datadriven style). A testdata file
 * is a list of blocks:
 *
 *   # comment lines
 *   command arg=value flag ...
 *   ----
 *   expected output lines (describe() strings)
 *   <blank line>
 *
 * One handler per command; output is compared exactly. Set
 * CYGNET_REWRITE=1 to rewrite the expected sections from the actual output.
 * Commands: weights, add-agent, add-framework, update-agent, allocate, decline,
 * accept, finish, suppress, revive, activate/deactivate-framework,
 * activate/deactivate-agent, remove-framework, remove-agent, expire,
 * print-shares, print-agents, print-filters.
 */
import { SeededRandom } from '../../../src/common/random.ts';
import { parseAttributes, parseResources } from '../../../src/common/resource-parse.ts';
import { resourcesToString, stripAllocation, subtract } from '../../../src/common/resources.ts';
import { AllocatorCore, describeFilter, describeOffer, type PlannedOffer } from '../../../src/master/allocator/index.ts';
import type { Resource } from '../../../src/protocol/resource-types.ts';

import { parseWords, runTranscriptFile as runTranscript, type TranscriptResult } from '../../helpers/transcript-file.ts';

export { formatTranscript, parseTranscript, type Block } from '../../helpers/transcript-file.ts';

interface Args {
  positional: string[];
  kv: Map<string, string>;
}


function need(args: Args, key: string): string {
  const v = args.kv.get(key);
  if (v === undefined) throw new Error(`missing ${key}=`);
  return v;
}

/** Holds the core under test plus the outstanding offers, keyed `fw@agent`. */
export class AllocatorTranscript {
  readonly core: AllocatorCore;
  private readonly outstanding = new Map<string, PlannedOffer>();
  nowMs = 0;

  constructor(seed = 1) {
    this.core = new AllocatorCore({ random: new SeededRandom(seed), minOffer: { cpus: 0.01, memMb: 32 } });
  }

  run(command: string): string[] {
    const [name, ...rest] = command.trim().split(/\s+/);
    const args = parseWords(rest);
    if (args.kv.has('now')) this.nowMs = Number(args.kv.get('now'));
    const id = args.positional[0] ?? '';
    switch (name) {
      case 'weights': {
        const w: Record<string, number> = {};
        for (const [k, v] of args.kv) if (k !== 'now') w[k] = Number(v);
        this.core.setRoleWeights(w);
        return ['ok'];
      }
      case 'add-agent':
        this.core.addAgent({
          id,
          hostname: args.kv.get('host') ?? `${id}.host`,
          total: parseResources(need(args, 'resources')),
          attributes: parseAttributes(args.kv.get('attributes') ?? ''),
          active: !args.positional.includes('inactive'),
        });
        return [this.core.describeAgent(id)];
      case 'update-agent':
        this.core.updateAgent(id, { total: parseResources(need(args, 'resources')) });
        return [this.core.describeAgent(id)];
      case 'add-framework':
        this.core.addFramework({
          id,
          roles: need(args, 'roles').split(','),
          suppressedRoles: args.kv.get('suppressed')?.split(',') ?? [],
          capabilities: args.kv.get('capabilities')?.split(',') ?? [],
          active: !args.positional.includes('inactive'),
        });
        return ['ok'];
      case 'allocate': {
        const plan = this.core.allocate(this.nowMs);
        for (const o of plan.offers) this.outstanding.set(`${o.frameworkId}@${o.agentId}`, o);
        const lines = plan.offers.map(describeOffer).sort();
        return [...lines, plan.describe()];
      }
      case 'decline':
      case 'accept': {
        const [fw, agent] = id.split('@');
        const offer = this.outstanding.get(id);
        if (offer === undefined) return [`no outstanding offer ${id}`];
        this.outstanding.delete(id);
        const used = parseResources(args.kv.get('use') ?? '');
        const unused = subtract(stripAllocation(offer.resources), used);
        const refuse = args.kv.get('refuse');
        const out = this.core.recoverResources(
          fw,
          agent,
          unused.map((r) => ({ ...r, allocation_info: { role: offer.role } })),
          name === 'decline' || refuse !== undefined ? { nowMs: this.nowMs, refuseSeconds: refuse === undefined ? undefined : Number(refuse) } : undefined,
        );
        const lines = [`recovered ${resourcesToString(out.recovered)}`];
        if (out.filter !== undefined) lines.push(describeFilter(out.filter));
        return lines;
      }
      case 'finish': {
        const [fw, agent] = id.split('@');
        const rs: Resource[] = parseResources(need(args, 'resources')).map((r) => ({ ...r, allocation_info: { role: need(args, 'role') } }));
        const out = this.core.recoverResources(fw, agent, rs, undefined, { closesOffer: false });
        return [`recovered ${resourcesToString(out.recovered)}`, ...(out.ignored.length > 0 ? [`ignored ${resourcesToString(stripAllocation(out.ignored))}`] : [])];
      }
      case 'suppress':
        this.core.suppress(id, args.kv.get('roles')?.split(','));
        return ['ok'];
      case 'revive':
        this.core.revive(id, args.kv.get('roles')?.split(','));
        return ['ok'];
      case 'deactivate-framework':
      case 'activate-framework':
        this.core.setFrameworkActive(id, name === 'activate-framework');
        return ['ok'];
      case 'deactivate-agent':
      case 'activate-agent':
        this.core.setAgentActive(id, name === 'activate-agent');
        return [this.core.describeAgent(id)];
      case 'remove-framework':
        this.core.removeFramework(id);
        for (const k of [...this.outstanding.keys()]) if (k.startsWith(`${id}@`)) this.outstanding.delete(k);
        return ['ok'];
      case 'remove-agent':
        this.core.removeAgent(id);
        for (const k of [...this.outstanding.keys()]) if (k.endsWith(`@${id}`)) this.outstanding.delete(k);
        return ['ok'];
      case 'expire':
        return [`expired ${this.core.expireFilters(this.nowMs)} filter(s)`];
      case 'print-shares':
        return this.core.describeShares();
      case 'print-agents':
        return this.added.filter((a) => this.core.hasAgent(a)).sort().map((a) => this.core.describeAgent(a));
      case 'print-filters': {
        const lines = this.core.filters().map(describeFilter).sort();
        return lines.length > 0 ? lines : ['no filters'];
      }
      default:
        throw new Error(`unknown command ${name}`);
    }
  }

  /** Agents added, for print-agents (the core does not list ids). */
  private readonly added: string[] = [];

  /** Runs a command, remembering added agents for print-agents; errors print as `error: ...`. */
  step(command: string): string[] {
    const [name, id] = command.trim().split(/\s+/);
    try {
      const out = this.run(command);
      if (name === 'add-agent' && id !== undefined) this.added.push(id);
      return out;
    } catch (err) {
      return [`error: ${(err as Error).message}`];
    }
  }
}

/** Runs a testdata file; returns actual and expected per block, rewriting the file when asked (CYGNET_REWRITE=1). */
export function runTranscriptFile(path: string): TranscriptResult[] {
  const t = new AllocatorTranscript();
  return runTranscript(path, (command) => t.step(command));
}
