/**
 * A closed-loop load generator: `concurrency` workers each issue one call at a
 * time for `durationMs`; reports completed calls per second and latency
 * percentiles of the successful ones.
 */
import { performance } from 'node:perf_hooks';

export interface LoadResult {
  readonly concurrency: number;
  readonly ok: number;
  readonly failed: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export async function runLoad(concurrency: number, durationMs: number, call: (worker: number, seq: number) => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async (w: number): Promise<void> => {
    for (let seq = 0; performance.now() < end; seq++) {
      const t = performance.now();
      if (await call(w, seq)) latencies.push(performance.now() - t);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    ok: latencies.length,
    failed,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies.length === 0 ? NaN : (latencies[latencies.length - 1] as number),
  };
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
