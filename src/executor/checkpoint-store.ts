/**
 * Durable agent state under `<workDir>/meta/` (the I/O shell; no decisions):
 *
 *   meta/agent.json                                  {agentId}
 *   meta/frameworks/<fwId>/framework.json            FrameworkInfo
 *   meta/frameworks/<fwId>/tasks/<taskId>.json       TaskCheckpoint
 *
 * Every write is: write a unique tmp file, fsync it, rename over the target,
 * fsync the directory — so a crash leaves either the old or the new content,
 * never a torn file. Writes to one path are serialized in call order (the last
 * call wins). Callers await a write before reporting what it records
 * ("checkpoint before report").
 */
import { mkdir, open, readFile, readdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { CygnetError, describeError } from '../common/errors.ts';
import type { ProcessIdentity } from './task-process.ts';
import { checkIdComponent } from './sandbox.ts';
import type { FrameworkInfo, TaskInfo, TaskStatus } from './types.ts';

/** Everything needed to recover one task after an agent restart. */
export interface TaskCheckpoint {
  frameworkId: string;
  task: TaskInfo;
  runUuid: string;
  sandbox: string;
  /** Set once the supervisor and task exist. */
  process?: ProcessIdentity;
  /** The latest status generated for the task. */
  latest?: TaskStatus;
  /** Updates not yet acknowledged, oldest first. */
  pending: TaskStatus[];
}

export interface RecoveredState {
  agentId?: string;
  frameworks: Map<string, FrameworkInfo>;
  tasks: TaskCheckpoint[];
  /** Files that could not be read (reported, skipped). */
  problems: string[];
}

export class CheckpointStore {
  readonly metaDir: string;
  private readonly chains = new Map<string, Promise<void>>();
  private tmpSeq = 0;

  constructor(workDir: string) {
    this.metaDir = path.join(workDir, 'meta');
  }

  /** Resolves when no write or removal is in progress. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  async writeAgentId(agentId: string): Promise<void> {
    await this.writeJson(path.join(this.metaDir, 'agent.json'), { agentId });
  }

  async writeFramework(info: FrameworkInfo): Promise<void> {
    const id = info.id?.value ?? '';
    await this.writeJson(path.join(this.frameworkDir(id), 'framework.json'), info);
  }

  async writeTask(cp: TaskCheckpoint): Promise<void> {
    await this.writeJson(this.taskPath(cp.frameworkId, cp.task.task_id.value), cp);
  }

  async removeTask(frameworkId: string, taskId: string): Promise<void> {
    const file = this.taskPath(frameworkId, taskId);
    await this.serialize(file, async () => {
      await unlink(file).catch(() => undefined);
      await fsyncDir(path.dirname(file));
    });
  }

  async removeFramework(frameworkId: string): Promise<void> {
    await rm(this.frameworkDir(frameworkId), { recursive: true, force: true });
  }

  /** Reads everything back. Unreadable files are listed in `problems`, never thrown. */
  async recover(): Promise<RecoveredState> {
    const state: RecoveredState = { frameworks: new Map(), tasks: [], problems: [] };
    const agent = await readJson(path.join(this.metaDir, 'agent.json'), state.problems);
    if (isRecord(agent) && typeof agent.agentId === 'string') state.agentId = agent.agentId;
    const fwRoot = path.join(this.metaDir, 'frameworks');
    for (const fwId of await listDir(fwRoot)) {
      const fw = await readJson(path.join(fwRoot, fwId, 'framework.json'), state.problems);
      if (isRecord(fw)) state.frameworks.set(fwId, fw as unknown as FrameworkInfo);
      const taskDir = path.join(fwRoot, fwId, 'tasks');
      for (const file of await listDir(taskDir)) {
        if (!file.endsWith('.json')) continue;
        const cp = await readJson(path.join(taskDir, file), state.problems);
        if (isTaskCheckpoint(cp)) state.tasks.push(cp);
        else if (cp !== undefined) state.problems.push(`${path.join(taskDir, file)}: not a task checkpoint`);
      }
    }
    return state;
  }

  private frameworkDir(frameworkId: string): string {
    return path.join(this.metaDir, 'frameworks', checkIdComponent('framework_id.value', frameworkId));
  }

  private taskPath(frameworkId: string, taskId: string): string {
    return path.join(this.frameworkDir(frameworkId), 'tasks', `${checkIdComponent('task_id.value', taskId)}.json`);
  }

  private async writeJson(file: string, value: unknown): Promise<void> {
    const data = JSON.stringify(value);
    await this.serialize(file, async () => {
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}-${this.tmpSeq++}`;
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      await fsyncDir(path.dirname(file));
    });
  }

  /** Runs `fn` after every earlier operation on `file` finished (success or not). */
  private serialize(file: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(file) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.chains.set(file, next);
    void next.finally(() => { if (this.chains.get(file) === next) this.chains.delete(file); }).catch(() => undefined);
    return next.catch((err: unknown) => {
      throw new CygnetError('CYG_INTERNAL', `checkpoint ${file}: ${describeError(err)}`, { cause: err });
    });
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

async function readJson(file: string, problems: string[]): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    problems.push(`${file}: ${describeError(err)}`);
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isTaskCheckpoint(v: unknown): v is TaskCheckpoint {
  return isRecord(v) && typeof v.frameworkId === 'string' && isRecord(v.task) && typeof v.runUuid === 'string'
    && typeof v.sandbox === 'string' && Array.isArray(v.pending);
}
