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
  // A supervisor that was dying as we killed it may still write its exit status into a sandbox
  // while the tree is removed (ENOTEMPTY): kill again and retry, as rm's own retries allow.
  await Promise.all([...created].map(async (d) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await rm(d, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        killTasksUnder(d);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }));
  created.clear();
}
