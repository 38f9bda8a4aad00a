/**
 * Tasks outlive their agent on purpose (a restarted agent re-attaches them),
 * so a test that SIGKILLs an agent leaves its tasks running. This finds the
 * task supervisors (src/executor/supervisor/task-supervisor.sh) whose
 * sandbox lies under a directory and kills them and their tasks' process
 * groups. Linux /proc only; elsewhere it does nothing.
 */
import { readFileSync, readdirSync } from 'node:fs';

const supervisorMarker = 'task-supervisor.';

function readProc(pid: string, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

function parentOf(pid: string): string | undefined {
  const stat = readProc(pid, 'stat');
  if (stat === undefined) return undefined;
  // pid (comm) state ppid ... — comm may contain spaces, so split after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** SIGKILLs every task supervisor whose arguments mention `dir`, and its children's process groups. Returns how many. */
export function killTasksUnder(dir: string): number {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return 0;
  }
  const supervisors = pids.filter((pid) => {
    const cmd = readProc(pid, 'cmdline');
    return cmd !== undefined && cmd.includes(supervisorMarker) && cmd.includes(dir);
  });
  if (supervisors.length === 0) return 0;
  const set = new Set(supervisors);
  for (const pid of pids) {
    const ppid = parentOf(pid);
    if (ppid !== undefined && set.has(ppid)) {
      tryKill(-Number(pid), 'SIGKILL');
      tryKill(Number(pid), 'SIGKILL');
    }
  }
  for (const pid of supervisors) tryKill(Number(pid), 'SIGKILL');
  return supervisors.length;
}
