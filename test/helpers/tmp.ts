/**
 * Temporary directories for tests: created under the OS temp dir with a
 * recognisable prefix, removed by `removeTempDirs()` (call it in after()),
 * which first kills any task still running with its sandbox inside them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { killTasksUnder } from './orphans.ts';

const created = new Set<string>();

export async function makeTempDir(prefix = 'cygnet-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  created.add(dir);
  return dir;
}

/** Kills tasks left running under the temp dirs (agents SIGKILLed by tests), then removes the dirs. */
export async function removeTempDirs(): Promise<void> {
  for (const d of created) killTasksUnder(d);
  await Promise.all([...created].map((d) => rm(d, { recursive: true, force: true })));
  created.clear();
}
