/**
 * CLI for the Raft simulator.
 *   npm run sim -- --seeds 5000            run seeds 1..5000
 *   npm run sim -- --seed 42 --verbose     replay one seed with a trace
 *   --from N (first seed), --steps MS (virtual ms of the faulty phase),
 *   --no-faults (shows the fault-coverage check failing), --broken VARIANT
 *   (ackBeforeFsync | readsWithoutBarrier: shows the checkers failing)
 * Prints failures with their replay command, which fault kinds never
 * happened, and a throughput line; exits 1 on a failure or a missing fault kind.
 */
import { Command, Option } from 'commander';
import { defaultSimOptions, missingFaults, replayCommand, runSeed } from './simulator.ts';
import type { BrokenVariant, SimOptions, SimStats } from './simulator.ts';

const program = new Command()
  .option('--seeds <n>', 'number of seeds to run', '100')
  .option('--seed <n>', 'run exactly this seed')
  .option('--from <n>', 'first seed', '1')
  .option('--steps <ms>', 'virtual ms of the faulty phase', String(defaultSimOptions.safetyMs))
  .option('--voters <n>', 'initial voters', String(defaultSimOptions.initialVoters))
  .option('--no-faults', 'inject no faults (the coverage check must then fail)')
  .addOption(new Option('--broken <variant>', 'run a deliberately broken variant').choices(['ackBeforeFsync', 'readsWithoutBarrier']))
  .option('--verbose', 'print a trace on failure (and stats per seed)', false)
  .parse();

const o = program.opts<{ seeds: string; seed?: string; from: string; steps: string; voters: string; faults: boolean; broken?: BrokenVariant; verbose: boolean }>();
const opts: Partial<SimOptions> = { safetyMs: Number(o.steps), initialVoters: Number(o.voters), verbose: o.verbose, faults: o.faults, broken: o.broken };
const seeds = o.seed !== undefined ? [Number(o.seed)] : Array.from({ length: Number(o.seeds) }, (_, k) => Number(o.from) + k);

const started = performance.now();
let failures = 0;
let events = 0;
let ops = 0;
const stats: SimStats[] = [];
for (const seed of seeds) {
  const r = await runSeed(seed, opts);
  stats.push(r.stats);
  events += r.stats.events;
  ops += r.stats.ops;
  if (o.verbose) console.log(`seed ${seed}: ${r.ok ? 'ok' : 'FAIL'} digest ${r.digest.slice(0, 16)} ${JSON.stringify(r.stats)}`);
  if (!r.ok) {
    failures++;
    console.log(`seed ${seed} FAILED (${r.failureKind}): ${r.failure}\n  replay: ${replayCommand(seed, opts)}`);
  }
}
const secs = (performance.now() - started) / 1000;
const sum = (k: keyof SimStats): number => stats.reduce((a, s) => a + s[k], 0);
const missing = seeds.length > 1 ? missingFaults(stats) : [];
console.log(
  `${seeds.length} seeds, ${failures} failed, ${secs.toFixed(1)} s, ${(seeds.length / secs).toFixed(1)} seeds/s, ${events} events, ${ops} ops checked`,
);
console.log(
  `faults: ${sum('crashes')} crashes (${sum('powerLosses')} before fsync), ${sum('partitions')} partitions, ${sum('snapshotsInstalled')} snapshot installs, ${sum('confChanges')} membership changes, ${sum('transfers')} leadership transfers, ${sum('appliedBeforeOwnFsync')} entries a leader applied before its own fsync`,
);
if (missing.length > 0) console.log(`FAULT COVERAGE: never happened: ${missing.join(', ')}`);
process.exitCode = failures > 0 || missing.length > 0 ? 1 : 0;
