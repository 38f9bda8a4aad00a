/**
 * Placement transcripts (testdata/*.txt; CYGNET_REWRITE=1 regenerates): a
 * small shell around computePlacement, playing the scheduler's part over a
 * few rounds. Commands:
 *   agent <id> resources=<text> [attributes=<text>] [host=<name>]
 *   app <id> [cpus=] [mem=] [disk=] [ports=<n>] [require=<p,p>] [constraints=<f:OP[:v]>,...]
 *       [role=] [accepted=<r,r>] [instances=<n>] [version=<config version>]
 *                                    (defining an app again replaces it for later `queue`s)
 *   queue <app> n=<k>               k more instances wait (ids <app>.1, <app>.2, …)
 *   round now=<ms> [agents=<a,b>]   one offer per agent (its free resources), place, apply
 *   stats <app>                      the app's processedOffersSummary, one line per key
 *   explain <app> agent=<id>         every constraint of the app against that agent
 *   kill <instance>                  the instance ends; its resources are free again
 *   seed <n>                         the random source for host ports
 */
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAttributes, parseResources } from '../../../../src/common/resource-parse.ts';
import { SeededRandom } from '../../../../src/common/random.ts';
import { add, subtract } from '../../../../src/common/resources.ts';
import {
  computePlacement,
  describePlacement,
  explainConstraints,
  OfferStatsAccumulator,
  type InstanceRequest,
  type Launch,
  type PlacedInstance,
} from '../../../../src/framework/placement/index.ts';
import type { Attribute, Offer, Resource } from '../../../../src/protocol/mesos-types.ts';
import { parseWords, runTranscriptFile } from '../../../helpers/transcript-file.ts';
import { parseConstraint } from './helpers.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

interface Agent {
  id: string;
  host: string;
  free: Resource[];
  attributes: Attribute[];
}

function handler(): (command: string) => string[] {
  const agents = new Map<string, Agent>();
  const apps = new Map<string, Omit<InstanceRequest, 'instanceId'>>();
  const queue: InstanceRequest[] = [];
  const placed = new Map<string, { p: PlacedInstance; launch: Launch }>();
  const stats = new Map<string, OfferStatsAccumulator>();
  const counters = new Map<string, number>();
  let random = new SeededRandom(1);
  let round = 0;

  return (command) => {
    const [name, ...rest] = command.trim().split(/\s+/);
    const { positional, kv } = parseWords(rest);
    const id = positional[0] ?? '';
    switch (name) {
      case 'seed':
        random = new SeededRandom(Number(id));
        return ['ok'];
      case 'agent': {
        const a: Agent = { id, host: kv.get('host') ?? `${id}.host`, free: parseResources(kv.get('resources') ?? ''), attributes: parseAttributes(kv.get('attributes') ?? '') };
        agents.set(id, a);
        return ['ok'];
      }
      case 'app': {
        const list = (k: string): string[] => (kv.get(k) ?? '').split(',').filter((x) => x !== '');
        apps.set(id, {
          appId: id,
          cpus: Number(kv.get('cpus') ?? 0.1),
          memMb: Number(kv.get('mem') ?? 32),
          diskMb: Number(kv.get('disk') ?? 0),
          portCount: Number(kv.get('ports') ?? list('require').length),
          requiredPorts: kv.has('require') ? list('require').map(Number) : undefined,
          constraints: list('constraints').map(parseConstraint),
          role: kv.get('role') ?? '*',
          acceptedResourceRoles: list('accepted'),
          instances: kv.has('instances') ? Number(kv.get('instances')) : undefined,
          configVersion: kv.get('version'),
        });
        return ['ok'];
      }
      case 'queue': {
        const app = apps.get(id);
        if (app === undefined) throw new Error(`unknown app ${id}`);
        for (let k = Number(kv.get('n') ?? 1); k > 0; k--) {
          const n = (counters.get(id) ?? 0) + 1;
          counters.set(id, n);
          queue.push({ ...app, instanceId: `${id}.${n}` });
        }
        return [`${queue.length} waiting`];
      }
      case 'round': {
        round++;
        const names = kv.has('agents') ? (kv.get('agents') ?? '').split(',') : [...agents.keys()];
        const offers: Offer[] = names.map((a) => {
          const agent = agents.get(a)!;
          return { id: { value: `${a}-r${round}` }, framework_id: { value: 'fw' }, agent_id: { value: a }, hostname: agent.host, resources: agent.free, attributes: agent.attributes };
        });
        const nowMs = Number(kv.get('now') ?? round * 1000);
        const result = computePlacement({ offers, requests: [...queue], placed: [...placed.values()].map((x) => x.p), nowMs, random });
        for (const l of result.launches) {
          const agent = agents.get(l.agentId)!;
          agent.free = subtract(agent.free, l.resources);
          const k = queue.findIndex((r) => r.instanceId === l.instanceId);
          const configVersion = queue[k].configVersion;
          placed.set(l.instanceId, { p: { appId: l.appId, instanceId: l.instanceId, agentId: l.agentId, hostname: l.hostname, attributes: agent.attributes, configVersion }, launch: l });
          queue.splice(k, 1);
        }
        for (const s of result.summary.apps) {
          let acc = stats.get(s.appId);
          if (acc === undefined) stats.set(s.appId, (acc = new OfferStatsAccumulator()));
          acc.record(s, nowMs);
          if (!queue.some((r) => r.appId === s.appId)) acc.reset();
        }
        return describePlacement(result);
      }
      case 'stats': {
        const s = stats.get(id)?.summary();
        if (s === undefined) return ['no statistics'];
        const funnel = (steps: readonly { reason: string; declined: number; processed: number }[]): string => steps.filter((x) => x.declined > 0).map((x) => `${x.reason} ${x.declined}/${x.processed}`).join(', ') || '-';
        return [
          `processedOffersCount ${s.processedOffersCount}, unusedOffersCount ${s.unusedOffersCount}`,
          `lastUnusedOfferAt ${s.lastUnusedOfferAt ?? '-'}, lastUsedOfferAt ${s.lastUsedOfferAt ?? '-'}`,
          `rejectSummaryLastOffers: ${funnel(s.rejectSummaryLastOffers)}`,
          `rejectSummaryLaunchAttempt: ${funnel(s.rejectSummaryLaunchAttempt)}`,
        ];
      }
      case 'explain': {
        const app = apps.get(id)!;
        const agent = agents.get(kv.get('agent') ?? '')!;
        const offer: Offer = { id: { value: 'explain' }, framework_id: { value: 'fw' }, agent_id: { value: agent.id }, hostname: agent.host, resources: agent.free, attributes: agent.attributes };
        return explainConstraints({ ...app, instanceId: 'explain' }, offer, [...placed.values()].map((x) => x.p)).map((v) => v.describe);
      }
      case 'kill': {
        const x = placed.get(id);
        if (x === undefined) throw new Error(`unknown instance ${id}`);
        placed.delete(id);
        const agent = agents.get(x.launch.agentId)!;
        agent.free = add(agent.free, x.launch.resources);
        return [`${id} gone from ${agent.id}`];
      }
      default:
        throw new Error(`unknown command ${name}`);
    }
  };
}

describe('placement transcripts (testdata/*.txt; CYGNET_REWRITE=1 regenerates)', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      for (const r of runTranscriptFile(join(dir, file), handler())) {
        expect(r.actual, `command: ${r.command}`).to.deep.equal(r.expected);
      }
    });
  }
});
