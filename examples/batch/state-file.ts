/**
 * The batch framework's durable memory: its framework id (so a restarted
 * framework fails over instead of registering anew) and each job's progress.
 *
 * `save` writes a temp file, fsyncs it, renames it over the old one and
 * fsyncs the directory: after a crash the file is either the old state or
 * the new one, never a torn mix. The framework saves before it acts on a
 * decision (a launch) and before it acknowledges an update, so a restarted
 * process never forgets something the cluster already knows.
 */
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { CygnetError } from '../../src/common/errors.ts';

/**
 * waiting: not running; eligible once `notBeforeMs` passed.
 * launching: saved before the LAUNCH is sent — the task may or may not exist (reconcile).
 * running: the cluster reported it staging/starting/running.
 * done / failed: terminal (failed = out of retries).
 */
export type JobPhase = 'waiting' | 'launching' | 'running' | 'done' | 'failed';

export interface JobState {
  readonly phase: JobPhase;
  /** Launches so far; the current task id is `<job>.<attempts>`. */
  readonly attempts: number;
  readonly taskId?: string;
  readonly agentId?: string;
  readonly notBeforeMs?: number;
  /** The last terminal status, for the summary. */
  readonly lastState?: string;
  readonly lastMessage?: string;
}

export interface BatchState {
  readonly version: 1;
  readonly frameworkId?: string;
  readonly jobs: Readonly<Record<string, JobState>>;
}

const PHASES: readonly JobPhase[] = ['waiting', 'launching', 'running', 'done', 'failed'];

/** The saved state, or undefined when there is none yet. A damaged file is an error naming it. */
export async function loadState(file: string): Promise<BatchState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const bad = (what: string): CygnetError => new CygnetError('CYG_CORRUPT', `${file}: ${what}; move it away to start the batch afresh`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  const s = doc as Partial<BatchState>;
  if (typeof s !== 'object' || s === null || s.version !== 1 || typeof s.jobs !== 'object' || s.jobs === null) throw bad('not a batch state file (version 1)');
  if (s.frameworkId !== undefined && typeof s.frameworkId !== 'string') throw bad('frameworkId is not a string');
  for (const [id, j] of Object.entries(s.jobs)) {
    if (!PHASES.includes(j.phase) || !Number.isInteger(j.attempts)) throw bad(`job ${id} has no valid phase/attempts`);
  }
  return s as BatchState;
}

export async function saveState(file: string, state: BatchState): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify(state, null, 1)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(path.dirname(path.resolve(file)), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
