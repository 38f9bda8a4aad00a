/**
 * Deployment transcripts (testdata/*.txt; CYGNET_REWRITE=1 regenerates).
 * Commands:
 *   reset                                     a fresh world (no instances, ids from i1)
 *   app min=<0..1> over=<0..1> health=healthy|running kill=YOUNGEST_FIRST|OLDEST_FIRST
 *   instances <version>:<status>[*n] ...      add instances (ids i1, i2, …)
 *   target <version>:<count> ...              the versions wanted (also records the progress baseline)
 *   plan                                      the next step, not applied
 *   step                                      the next step, applied (launch → scheduled, kill → killing)
 *   set <id>=<status> ...                     the cluster changes an instance
 *   gone <id> ...                             instances end
 *   settle                                    pending → ready, killing → gone
 *   run [max=<n>]                             step + settle until done, one line per step
 *   state                                     instances per version
 *   progress                                  computeProgress against the baseline
 */
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeProgress } from '../../../../src/framework/deploy/index.ts';
import type { InstanceStatus, KillSelection } from '../../../../src/framework/deploy/index.ts';
import { parseWords, runTranscriptFile } from '../../../helpers/transcript-file.ts';
import { DeploySim } from './sim.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const STATUSES: readonly InstanceStatus[] = ['scheduled', 'staging', 'running', 'healthy', 'unhealthy', 'killing'];

function status(text: string): InstanceStatus {
  if (!(STATUSES as readonly string[]).includes(text)) throw new Error(`unknown status ${text}`);
  return text as InstanceStatus;
}

function handler(): (command: string) => string[] {
  let sim = new DeploySim();
  let baseline: number | undefined;
  return (command) => {
    const [name, ...rest] = command.trim().split(/\s+/);
    const { positional, kv } = parseWords(rest);
    switch (name) {
      case 'app':
        sim.strategy = { minimumHealthCapacity: Number(kv.get('min') ?? 1), maximumOverCapacity: Number(kv.get('over') ?? 1) };
        sim.healthCounts = kv.get('health') === 'running' ? 'running' : 'healthy';
        sim.killSelection = (kv.get('kill') ?? 'YOUNGEST_FIRST') as KillSelection;
        return ['ok'];
      case 'reset':
        sim = new DeploySim();
        baseline = undefined;
        return ['ok'];
      case 'instances':
        for (const w of positional) {
          const m = /^([^:]+):([a-z]+)(?:\*(\d+))?$/.exec(w);
          if (m === null) throw new Error(`bad instance spec ${w}`);
          for (let k = 0; k < Number(m[3] ?? 1); k++) sim.add(m[1], status(m[2]));
          sim.nowMs += 1;
        }
        return sim.describe();
      case 'target':
        sim.targets = positional.map((w) => {
          const [version, count] = w.split(':');
          return { version, count: Number(count) };
        });
        baseline = computeProgress(sim.input()).remainingUnits;
        return [`targets ${sim.targets.map((t) => `${t.version}:${t.count}`).join(' ') || '(none)'}; ${baseline} unit(s) of work`];
      case 'plan':
        return [sim.plan().describe];
      case 'step': {
        const step = sim.plan();
        sim.apply(step);
        return [step.describe];
      }
      case 'set':
        for (const [id, s] of kv) {
          const i = sim.instances.get(id);
          if (i === undefined) throw new Error(`unknown instance ${id}`);
          i.status = status(s);
          if (i.startedAtMs === undefined && (s === 'running' || s === 'healthy' || s === 'unhealthy')) i.startedAtMs = sim.nowMs;
        }
        return sim.describe();
      case 'gone':
        for (const id of positional) if (!sim.instances.delete(id)) throw new Error(`unknown instance ${id}`);
        return sim.describe();
      case 'settle':
        sim.settle();
        return sim.describe();
      case 'run': {
        const max = Number(kv.get('max') ?? 50);
        const lines: string[] = [];
        for (let k = 0; k < max; k++) {
          const step = sim.plan();
          lines.push(step.describe);
          if (step.done) return lines;
          sim.apply(step);
          sim.settle();
        }
        lines.push(`not done after ${max} steps`);
        return lines;
      }
      case 'state':
        return sim.describe();
      case 'progress':
        return [computeProgress(sim.input(), baseline).describe];
      default:
        throw new Error(`unknown command ${name}`);
    }
  };
}

describe('deployment planner transcripts (testdata/*.txt; CYGNET_REWRITE=1 regenerates)', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      for (const r of runTranscriptFile(join(dir, file), handler())) {
        expect(r.actual, `command: ${r.command}`).to.deep.equal(r.expected);
      }
    });
  }
});
