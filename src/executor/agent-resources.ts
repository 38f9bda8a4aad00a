/**
 * What this host offers. `computeAgentResources` is pure (host facts in,
 * resources out); `detectHostFacts` is the only part that asks the OS.
 *
 * Detected: cpus = os.availableParallelism(); mem = total memory minus a
 * reserve (MEM_RESERVE_FRACTION, at least MIN_MEM_RESERVE_MB, as Mesos keeps
 * some for the host); disk = free + used space of the work dir's filesystem
 * (statfs) minus DISK_RESERVE_FRACTION; ports = DEFAULT_PORTS.
 * `--resources` (Mesos text syntax or JSON) overrides per resource name;
 * other names it lists (e.g. `gpus`) are added.
 */
import { availableParallelism, totalmem } from 'node:os';
import { statfs } from 'node:fs/promises';
import { parseAttributes, parseResources } from '../common/resource-parse.ts';
import type { Attribute, Resource } from './types.ts';

export const DEFAULT_PORTS = { begin: 31000, end: 32000 } as const;
/** Mesos reserves min(1 GiB, 50%) of memory for the host; we keep the same shape. */
export const MIN_MEM_RESERVE_MB = 1024;
export const MEM_RESERVE_FRACTION = 0.5;
/** Mesos reserves min(5 GiB, 50%) of disk; same shape. */
export const MIN_DISK_RESERVE_MB = 5 * 1024;
export const DISK_RESERVE_FRACTION = 0.5;

export interface HostFacts {
  cpus: number;
  memTotalMb: number;
  diskTotalMb: number;
}

export async function detectHostFacts(workDir: string): Promise<HostFacts> {
  let diskTotalMb: number;
  try {
    const s = await statfs(workDir);
    diskTotalMb = Math.floor((s.blocks * s.bsize) / (1024 * 1024));
  } catch {
    diskTotalMb = 0;
  }
  return { cpus: availableParallelism(), memTotalMb: Math.floor(totalmem() / (1024 * 1024)), diskTotalMb };
}

/** Mesos' rule: reserve min(MIN, fraction × total) for the host. */
export function usable(totalMb: number, minReserveMb: number, fraction: number): number {
  return Math.max(0, Math.floor(totalMb - Math.min(minReserveMb, totalMb * fraction)));
}

export function computeAgentResources(facts: HostFacts, overrides: string | undefined): Resource[] {
  const detected: Resource[] = [
    { name: 'cpus', type: 'SCALAR', scalar: { value: facts.cpus }, role: '*' },
    { name: 'mem', type: 'SCALAR', scalar: { value: usable(facts.memTotalMb, MIN_MEM_RESERVE_MB, MEM_RESERVE_FRACTION) }, role: '*' },
    { name: 'disk', type: 'SCALAR', scalar: { value: usable(facts.diskTotalMb, MIN_DISK_RESERVE_MB, DISK_RESERVE_FRACTION) }, role: '*' },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ ...DEFAULT_PORTS }] }, role: '*' },
  ];
  if (overrides === undefined || overrides.trim() === '') return detected;
  const given = parseResources(overrides, '*', 'resources');
  const names = new Set(given.map((r) => r.name));
  return [...detected.filter((r) => !names.has(r.name)), ...given];
}

export function computeAgentAttributes(text: string | undefined): Attribute[] {
  return text === undefined || text.trim() === '' ? [] : parseAttributes(text, 'attributes');
}
