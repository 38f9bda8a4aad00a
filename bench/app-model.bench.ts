/**
 * App-model benchmark: the per-request cost of the pure app module, which sits
 * on every `/v2/apps` write (parse, merge, compare, new version) and on every
 * app in a `GET /v2/apps` listing (render). Inputs are the fixtures under
 * test/fixtures/marathon/. Prints a markdown table: median and p99 of
 * microseconds per operation over ROUNDS rounds of BATCH operations each.
 *
 *   npx tsx bench/app-model.bench.ts      (BENCH_QUICK=1 for a smoke run)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { firstAppVersion, nextAppVersion } from '../src/framework/app/app-version.ts';
import { applyAppUpdate, isScaleOnly } from '../src/framework/app/merge-app.ts';
import { parseAppDefinition } from '../src/framework/app/parse-app.ts';
import { renderApp } from '../src/framework/app/render-app.ts';

const QUICK = process.env.BENCH_QUICK === '1';
/** Operations per timed round: enough that timer resolution is negligible. */
const BATCH = QUICK ? 200 : 2_000;
/** Timed rounds per operation, after WARMUP untimed ones. */
const ROUNDS = QUICK ? 5 : 31;
const WARMUP = QUICK ? 1 : 5;

const dir = fileURLToPath(new URL('../test/fixtures/marathon/', import.meta.url));
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(dir + f, 'utf8')) as unknown);
const defs = fixtures.map((j) => parseAppDefinition(j));
const versions = defs.map((d) => firstAppVersion(d, Date.UTC(2026, 0, 1)));
const invalid = { id: '/Bad', cmd: 1, cpus: -1, constraints: [['x']], healthChecks: [{ protocol: 'NOPE' }] };

let sink = 0;
const ops: Record<string, (i: number) => void> = {
  'parse (valid fixture)': (i) => { sink += parseAppDefinition(fixtures[i % fixtures.length]).instances; },
  'parse (invalid → 422 body)': () => { try { parseAppDefinition(invalid); } catch { sink++; } },
  'render (GET shape)': (i) => { sink += Object.keys(renderApp(versions[i % versions.length]!)).length; },
  'PUT {"instances": n} (merge + isScaleOnly)': (i) => {
    const d = defs[i % defs.length]!;
    const next = applyAppUpdate(d, { instances: (i % 7) + 1 });
    sink += isScaleOnly(d, next) ? 1 : 0;
  },
  'nextAppVersion (compare + versionInfo)': (i) => {
    const v = versions[i % versions.length]!;
    sink += nextAppVersion(v, { ...v.definition, instances: v.definition.instances + 1 }, Date.UTC(2026, 0, 2))?.version.length ?? 0;
  },
};

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

console.log(`node ${process.version}, ${cpus().length} cpus, loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| operation | median µs/op | p99 µs/op |');
console.log('|---|---:|---:|');
for (const [name, op] of Object.entries(ops)) {
  const samples: number[] = [];
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) op(i);
    const us = Number(process.hrtime.bigint() - t0) / 1000 / BATCH;
    if (r >= WARMUP) samples.push(us);
  }
  samples.sort((a, b) => a - b);
  console.log(`| ${name} | ${percentile(samples, 0.5).toFixed(1)} | ${percentile(samples, 0.99).toFixed(1)} |`);
}
if (sink === 0) console.log('(nothing measured)');
