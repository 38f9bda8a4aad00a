/**
 * Sandbox layout under the agent's work dir, and confinement of paths that
 * come from outside (the /files API, fetched archives).
 *
 *   <workDir>/sandboxes/<frameworkId>/<taskId>/<runUuid>/   the task's cwd
 *       stdout, stdout.1, stderr, stderr.1                  capped logs (see log-cap.ts)
 *       .cygnet-exit.json                                   written by the supervisor
 *   <workDir>/meta/                                         checkpoints (checkpoint-store.ts)
 *
 * Invariant: ids become single path components (no '/', no '..', no NUL), so
 * a task id can never point a sandbox outside its parent.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BadRequestError, ValidationError } from '../common/errors.ts';

export const EXIT_FILE = '.cygnet-exit.json';

/** A name longer than this is refused as a path component (ext4 NAME_MAX is 255). */
export const MAX_ID_LENGTH = 200;

export function sandboxesRoot(workDir: string): string {
  return path.join(workDir, 'sandboxes');
}

/** Validates an id used as one directory name. */
export function checkIdComponent(fieldPath: string, id: string): string {
  if (typeof id !== 'string' || id === '' || id === '.' || id === '..' || /[/\0]/.test(id) || id.length > MAX_ID_LENGTH) {
    throw new ValidationError(fieldPath, `a non-empty id without '/', NUL, '.' or '..' (at most ${MAX_ID_LENGTH} chars)`, JSON.stringify(id));
  }
  return id;
}

export function sandboxDir(workDir: string, frameworkId: string, taskId: string, runUuid: string): string {
  return path.join(
    sandboxesRoot(workDir),
    checkIdComponent('framework_id.value', frameworkId),
    checkIdComponent('task_id.value', taskId),
    checkIdComponent('run uuid', runUuid),
  );
}

export async function createSandbox(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
}

/**
 * Resolves `requested` (absolute, or relative to `root`) and requires it to
 * stay inside `root`; throws BadRequestError otherwise (NUL bytes, escapes).
 */
export function confinePath(root: string, requested: string): string {
  if (requested.includes('\0')) throw new BadRequestError('path: must not contain NUL');
  const resolvedRoot = path.resolve(root);
  const resolved = path.resolve(resolvedRoot, requested);
  if (resolved !== resolvedRoot && !resolved.startsWith(resolvedRoot + path.sep)) {
    throw new BadRequestError(`path: must be inside ${resolvedRoot}`);
  }
  return resolved;
}
