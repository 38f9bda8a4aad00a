/**
 * CLI for the Raft simulator.
 *   npm run sim -- --seeds 5000            run seeds 1..5000
 *   npm run sim -- --seed 42 --verbose     replay one seed with a trace
 *   --from N (first seed), --steps MS (virtual ms of the faulty phase)
 * Prints failures with their replay command and a throughput line; exits 1 on failure.
 */
import { Command } from 'commander';
import { defaultSimOptions, replayCommand, runSeed } from './simulator.ts';
import type { SimOptions } from './simulator.ts';

const program = new Command()
  .option('--seeds <n>', 'number of seeds to run', '100')
  .option('--seed <n>', 'run exactly this seed')
  .option('--from <n>', 'first seed', '1')
  .option('--steps <ms>', 'virtual ms of the faulty phase', String(defaultSimOptions.safetyMs))
  .option('--verbose', 'print a trace on failure (and stats per seed)', false)
  .parse();

const o = program.opts<{ seeds: string; seed?: string; from: string; steps: string; verbose: boolean }>();
const opts: Partial<SimOptions> = { safetyMs: Number(o.steps), verbose: o.verbose };
const seeds = o.seed !== undefined ? [Number(o.seed)] : Array.from({ length: Number(o.seeds) }, (_, k) => Number(o.from) + k);

const started = performance.now();
let failures = 0;
let events = 0;
let ops = 0;
for (const seed of seeds) {
  const r = runSeed(seed, opts);
  events += r.stats.events;
  ops += r.stats.ops;
  if (o.verbose) console.log(`seed ${seed}: ${r.ok ? 'ok' : 'FAIL'} ${JSON.stringify(r.stats)}`);
  if (!r.ok) {
    failures++;
    console.log(`seed ${seed} FAILED: ${r.failure}\n  replay: ${replayCommand(seed, opts)}`);
  }
}
const secs = (performance.now() - started) / 1000;
console.log(
  `${seeds.length} seeds, ${failures} failed, ${secs.toFixed(1)} s, ${(seeds.length / secs).toFixed(1)} seeds/s, ${events} events, ${ops} ops checked`,
);
process.exitCode = failures > 0 ? 1 : 0;
