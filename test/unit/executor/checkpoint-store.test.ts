/**
 * Checkpoint store: atomic replace (no temp files left, last write wins in
 * call order), recovery of agent id, frameworks and tasks; a file that is
 * there but cannot be read (corrupt, EACCES, EIO through an injected disk)
 * stops recovery naming the file, unless the operator asked to discard it.
 */
import { expect } from 'chai';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeCheckpointFs, type CheckpointFs } from '../../../src/executor/checkpoint-fs.ts';
import { CheckpointStore, CheckpointUnreadableError, type TaskCheckpoint } from '../../../src/executor/checkpoint-store.ts';

/** The real disk, except that reading `failing` (a path suffix) fails with `code`. */
function diskFailingAt(failing: string, code: 'EACCES' | 'EIO', op: 'readFile' | 'readdir' = 'readFile'): CheckpointFs {
  const fail = (p: string) => Promise.reject(Object.assign(new Error(`${code}: simulated, ${op} '${p}'`), { code }));
  return {
    ...nodeCheckpointFs,
    readFile: (p) => (op === 'readFile' && p.endsWith(failing) ? fail(p) : nodeCheckpointFs.readFile(p)),
    readdir: (p) => (op === 'readdir' && p.endsWith(failing) ? fail(p) : nodeCheckpointFs.readdir(p)),
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function cp(taskId: string, state: 'TASK_STAGING' | 'TASK_RUNNING', pending = 1): TaskCheckpoint {
  const status = { task_id: { value: taskId }, state, uuid: `u-${state}` };
  return {
    frameworkId: 'fw1', runUuid: 'r1', sandbox: '/tmp/x',
    task: { name: taskId, task_id: { value: taskId }, agent_id: { value: 'a1' } },
    latest: status, pending: Array.from({ length: pending }, () => status),
  };
}

describe('executor/checkpoint-store', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cygnet-cp-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('recovers agent id, frameworks and tasks; concurrent writes end with the last one', async () => {
    const store = new CheckpointStore(dir);
    await store.writeAgentId('agent-7');
    await store.writeFramework({ user: 'u', name: 'marathon', id: { value: 'fw1' } });
    await Promise.all([store.writeTask(cp('t1', 'TASK_STAGING')), store.writeTask(cp('t1', 'TASK_RUNNING', 2)), store.writeTask(cp('t2', 'TASK_STAGING'))]);
    const files = await readdir(path.join(dir, 'meta/frameworks/fw1/tasks'));
    expect(files.sort()).to.deep.equal(['t1.json', 't2.json']);
    const rec = await new CheckpointStore(dir).recover();
    expect(rec.agentId).to.equal('agent-7');
    expect(rec.frameworks.get('fw1')?.name).to.equal('marathon');
    const t1 = rec.tasks.find((t) => t.task.task_id.value === 't1')!;
    expect(t1.latest?.state).to.equal('TASK_RUNNING');
    expect(t1.pending).to.have.length(2);
    expect(rec.problems).to.deep.equal([]);
  });

  it('removes tasks; a corrupt checkpoint stops recovery naming it, unless discarding was asked for', async () => {
    const store = new CheckpointStore(dir);
    await store.writeTask(cp('t1', 'TASK_RUNNING'));
    await store.writeTask(cp('t2', 'TASK_RUNNING'));
    await store.removeTask('fw1', 't1');
    await writeFile(path.join(dir, 'meta/frameworks/fw1/tasks/t3.json'), '{"frameworkId": "fw1", trunc');
    // A crash between write and rename leaves only a temp file: it is not a checkpoint.
    await writeFile(path.join(dir, 'meta/frameworks/fw1/tasks/t4.json.tmp-99-0'), '{"half": ');
    const err = await rejection(store.recover());
    expect(err).to.be.instanceOf(CheckpointUnreadableError);
    expect((err as CheckpointUnreadableError).file).to.equal(path.join(dir, 'meta/frameworks/fw1/tasks/t3.json'));
    const rec = await store.recover({ discardUnreadable: true });
    expect(rec.tasks.map((t) => t.task.task_id.value)).to.deep.equal(['t2']);
    expect(rec.problems).to.have.length(1);
    expect(rec.problems[0]).to.contain('t3.json');
  });

  for (const code of ['EACCES', 'EIO'] as const) {
    it(`an ${code} reading a task checkpoint is not "nothing there": recovery fails naming the file`, async () => {
      await new CheckpointStore(dir).writeTask(cp('t1', 'TASK_RUNNING'));
      await new CheckpointStore(dir).writeTask(cp('t2', 'TASK_RUNNING'));
      const store = new CheckpointStore(dir, diskFailingAt('tasks/t1.json', code));
      const err = await rejection(store.recover());
      expect(err).to.be.instanceOf(CheckpointUnreadableError);
      expect((err as Error).message).to.contain(path.join(dir, 'meta/frameworks/fw1/tasks/t1.json')).and.to.contain(code);
      const rec = await store.recover({ discardUnreadable: true });
      expect(rec.tasks.map((t) => t.task.task_id.value)).to.deep.equal(['t2']);
      expect(rec.problems[0]).to.contain('t1.json');
    });
  }

  it('an unreadable directory (EIO listing tasks/) fails recovery too; a missing one is empty', async () => {
    await new CheckpointStore(dir).writeTask(cp('t1', 'TASK_RUNNING'));
    const err = await rejection(new CheckpointStore(dir, diskFailingAt('fw1/tasks', 'EIO', 'readdir')).recover());
    expect((err as CheckpointUnreadableError).file).to.equal(path.join(dir, 'meta/frameworks/fw1/tasks'));
    const empty = await new CheckpointStore(path.join(dir, 'nowhere')).recover();
    expect(empty.tasks).to.deep.equal([]);
    expect(empty.agentId).to.equal(undefined);
  });

  it('refuses ids that would escape the meta dir', async () => {
    const store = new CheckpointStore(dir);
    const bad = cp('../evil', 'TASK_RUNNING');
    let err: unknown;
    try { await store.writeTask(bad); } catch (e) { err = e; }
    expect(String(err)).to.contain('task_id.value');
  });
});
