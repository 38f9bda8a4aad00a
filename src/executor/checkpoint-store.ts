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
 *
 * Recovery tells "nothing there" (ENOENT) from "cannot read it" (EACCES, EIO,
 * a file that does not parse): the latter is a `CheckpointUnreadableError`
 * naming the file, so the agent stops rather than forget tasks it reported —
 * unless the operator asked to discard unreadable checkpoints
 * (`recover({ discardUnreadable: true })`), which lists them in `problems`.
 */
import path from 'node:path';
import { CygnetError, describeError } from '../common/errors.ts';
import { isNotFound, nodeCheckpointFs, type CheckpointFs } from './checkpoint-fs.ts';
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
  /** Files that could not be read and were discarded (only with `discardUnreadable`). */
  problems: string[];
}

/** A checkpoint exists but cannot be read or parsed: recovering without it would forget what it records. */
export class CheckpointUnreadableError extends CygnetError {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super('CYG_CORRUPT', `unreadable checkpoint ${file}: ${describeError(cause)} (start the agent with --discard-unreadable-checkpoints to drop it)`, { cause });
    this.file = file;
  }
}

export class CheckpointStore {
  readonly metaDir: string;
  private readonly fs: CheckpointFs;
  private readonly chains = new Map<string, Promise<void>>();
  private tmpSeq = 0;

  constructor(workDir: string, fs: CheckpointFs = nodeCheckpointFs) {
    this.metaDir = path.join(workDir, 'meta');
    this.fs = fs;
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
      await this.fs.unlink(file).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      await this.fs.syncDir(path.dirname(file));
    });
  }

  async removeFramework(frameworkId: string): Promise<void> {
    await this.fs.rmTree(this.frameworkDir(frameworkId));
  }

  /**
   * Reads everything back. A missing file or directory is "nothing there"; any other read
   * failure or unparsable content throws `CheckpointUnreadableError`, or with
   * `discardUnreadable` is skipped and listed in `problems`.
   */
  async recover(opts: { discardUnreadable?: boolean } = {}): Promise<RecoveredState> {
    const state: RecoveredState = { frameworks: new Map(), tasks: [], problems: [] };
    const unreadable = (file: string, err: unknown): undefined => {
      const e = new CheckpointUnreadableError(file, err);
      if (opts.discardUnreadable !== true) throw e;
      state.problems.push(e.message);
      return undefined;
    };
    const read = async (file: string): Promise<unknown> => {
      let text: string;
      try {
        text = await this.fs.readFile(file);
      } catch (err) {
        return isNotFound(err) ? undefined : unreadable(file, err);
      }
      try {
        return JSON.parse(text);
      } catch (err) {
        return unreadable(file, err);
      }
    };
    const list = async (dir: string): Promise<string[]> => {
      try {
        return (await this.fs.readdir(dir)).sort();
      } catch (err) {
        if (!isNotFound(err)) unreadable(dir, err);
        return [];
      }
    };
    const agent = await read(path.join(this.metaDir, 'agent.json'));
    if (isRecord(agent) && typeof agent.agentId === 'string') state.agentId = agent.agentId;
    const fwRoot = path.join(this.metaDir, 'frameworks');
    for (const fwId of await list(fwRoot)) {
      const fw = await read(path.join(fwRoot, fwId, 'framework.json'));
      if (isRecord(fw)) state.frameworks.set(fwId, fw as unknown as FrameworkInfo);
      const taskDir = path.join(fwRoot, fwId, 'tasks');
      for (const file of await list(taskDir)) {
        if (!file.endsWith('.json')) continue;
        const cp = await read(path.join(taskDir, file));
        if (isTaskCheckpoint(cp)) state.tasks.push(cp);
        else if (cp !== undefined) unreadable(path.join(taskDir, file), new Error('not a task checkpoint'));
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
      await this.fs.mkdir(path.dirname(file));
      const tmp = `${file}.tmp-${process.pid}-${this.tmpSeq++}`;
      await this.fs.writeSynced(tmp, data);
      await this.fs.rename(tmp, file);
      await this.fs.syncDir(path.dirname(file));
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isTaskCheckpoint(v: unknown): v is TaskCheckpoint {
  return isRecord(v) && typeof v.frameworkId === 'string' && isRecord(v.task) && typeof v.runUuid === 'string'
    && typeof v.sandbox === 'string' && Array.isArray(v.pending);
}
