/**
 * Kills every task still running under an agent work dir, with no agent
 * needed: for test cleanup after an agent was SIGKILLed (its tasks outlive
 * it by design) and for operators wiping a host. A task group is signalled
 * only if /proc/<pid>/cwd is its sandbox (see killOrphanInSandbox), so a
 * reused pid is never hit.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { EXIT_FILE, sandboxesRoot } from './sandbox.ts';
import { killOrphanInSandbox } from './task-process.ts';

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => path.join(dir, d.name));
  } catch {
    return [];
  }
}

/** SIGKILLs the process group of every live task under `workDir`; returns how many were killed. */
export async function killAllTasksUnder(workDir: string): Promise<number> {
  let killed = 0;
  for (const fw of await subdirs(sandboxesRoot(workDir))) {
    for (const task of await subdirs(fw)) {
      for (const run of await subdirs(task)) {
        if (killOrphanInSandbox(path.join(run, `${EXIT_FILE}.pid`), run)) killed++;
      }
    }
  }
  return killed;
}
