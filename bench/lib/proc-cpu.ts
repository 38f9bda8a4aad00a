/**
 * CPU time (user + system) of processes and all their descendants, from
 * /proc, so a benchmark can report CPU per request: on a shared machine
 * that figure moves far less than requests per second do.
 */
import { readFileSync, readdirSync } from 'node:fs';

const ticksPerSecond = 100; // USER_HZ on Linux

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text !== '') out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

/** The pids and every descendant. */
export function processTree(pids: readonly number[]): number[] {
  const seen = new Set<number>();
  const queue = [...pids];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    queue.push(...childrenOf(pid));
  }
  return [...seen];
}

/** Milliseconds of CPU (user, system) used so far by these processes (all threads). */
export function cpuMs(pids: readonly number[]): { userMs: number; sysMs: number } {
  let user = 0;
  let sys = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      user += Number(fields[11]);
      sys += Number(fields[12]);
    } catch {
      // gone
    }
  }
  return { userMs: (user * 1000) / ticksPerSecond, sysMs: (sys * 1000) / ticksPerSecond };
}
