/**
 * Nothing is reported before it is durable, shown through an injected disk
 * that fails (the real disk underneath, a fake master on a real socket):
 *  - a launch whose checkpoint fails never starts; the framework gets
 *    TASK_FAILED saying why;
 *  - a status whose checkpoint fails is retried and sent only once it is on
 *    disk; the failures are counted in the agent's /metrics;
 *  - a checkpoint that is there but unreadable (EIO) stops the agent at start
 *    with an error naming the file, unless --discard-unreadable-checkpoints.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { startAgent, type AgentHandle, type AgentOptions } from '../../../src/executor/agent.ts';
import { nodeCheckpointFs, type CheckpointFs } from '../../../src/executor/checkpoint-fs.ts';
import { CheckpointUnreadableError } from '../../../src/executor/checkpoint-store.ts';
import { parseAgentFlags } from '../../../src/executor/flags.ts';
import type { TaskInfo } from '../../../src/executor/types.ts';
import { FakeMaster } from './fake-master.ts';

const FW = 'fw1';

function sleepTask(id: string): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: { value: 'agent-1' }, command: { value: 'sleep 30' }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }] };
}

/** The real disk; `failWrite` and `failRead` decide, per call, whether it fails instead (with an errno-style error). */
class FlakyDisk {
  failWrite: (file: string, data: string) => 'EIO' | 'ENOSPC' | undefined = () => undefined;
  failRead: (file: string) => 'EIO' | 'EACCES' | undefined = () => undefined;
  failedWrites = 0;
  readonly fs: CheckpointFs = {
    ...nodeCheckpointFs,
    writeSynced: (file, data) => {
      const code = this.failWrite(file, data);
      if (code === undefined) return nodeCheckpointFs.writeSynced(file, data);
      this.failedWrites++;
      return Promise.reject(Object.assign(new Error(`${code}: simulated failure, write '${file}'`), { code }));
    },
    readFile: (file) => {
      const code = this.failRead(file);
      if (code === undefined) return nodeCheckpointFs.readFile(file);
      return Promise.reject(Object.assign(new Error(`${code}: simulated failure, read '${file}'`), { code }));
    },
  };
}

describe('executor/agent: nothing is reported before it is durable (failing disk)', function () {
  this.timeout(30_000);
  let master: FakeMaster;
  let agent: AgentHandle | undefined;
  let dir: string;
  let disk: FlakyDisk;
  let opts: AgentOptions;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cygnet-agent-durable-'));
    master = new FakeMaster();
    await master.start();
    disk = new FlakyDisk();
    opts = { master: master.address, port: 0, ip: '127.0.0.1', workDir: dir, resources: 'cpus:2;mem:1024;disk:1000', statusRetryInitialMs: 200, reconnectInitialMs: 50, reconnectMaxMs: 200, checkpointRetryInitialMs: 20, checkpointFs: disk.fs };
    agent = await startAgent(opts);
    await master.waitFor((c) => c.some((x) => x.type === 'SUBSCRIBE'), 'SUBSCRIBE');
  });
  afterEach(async () => {
    await agent?.shutdown();
    await master.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const launch = (id: string) => master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: 'fw', id: { value: FW } }, task: sleepTask(id) } });
  const taskFile = (id: string) => path.join(dir, 'meta', 'frameworks', FW, 'tasks', `${id}.json`);

  async function metric(name: string): Promise<number> {
    const res = await request(`http://127.0.0.1:${agent!.port}/metrics`);
    const text = await res.body.text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (line === undefined) throw new Error(`no ${name} in /metrics:\n${text}`);
    return Number(line.split(' ')[1]);
  }

  it('a launch that cannot be checkpointed is not started: TASK_FAILED with the reason', async () => {
    disk.failWrite = (file) => (file.includes(`${path.sep}tasks${path.sep}t1.json`) ? 'ENOSPC' : undefined);
    master.autoAck.add('t1');
    launch('t1');
    await master.waitForUpdate('t1', 'TASK_FAILED');
    const updates = master.updates().filter((u) => u.task_id.value === 't1');
    expect(updates.map((u) => u.state)).to.deep.equal(['TASK_FAILED']);
    expect(updates[0]!.reason).to.equal('REASON_CONTAINER_LAUNCH_FAILED');
    expect(updates[0]!.message).to.match(/could not checkpoint it: .*ENOSPC/);
    const state = (await (await request(`http://127.0.0.1:${agent!.port}/state`)).body.json()) as { tasks: unknown[] };
    expect(state.tasks).to.deep.equal([]);
    expect(await metric('cygnet_agent_checkpoint_failures_total')).to.equal(1);
    // The same task id launched again once the disk is back (and the failure acknowledged) runs normally.
    for (let i = 0; i < 200 && (await metric('cygnet_agent_pending_status_updates')) > 0; i++) await new Promise((r) => setTimeout(r, 25));
    disk.failWrite = () => undefined;
    launch('t1');
    await master.waitForUpdate('t1', 'TASK_RUNNING');
  });

  it('a status whose checkpoint fails is retried and reported only once it is on disk (not even in a re-SUBSCRIBE)', async () => {
    let diskBack = false;
    disk.failWrite = (_file, data) => (data.includes('"TASK_STARTING"') && !diskBack ? 'EIO' : undefined);
    const onDiskWhenReported: string[][] = [];
    master.onUpdate = (st) => {
      if (st.task_id.value !== 't2') return;
      const cp = JSON.parse(readFileSync(taskFile('t2'), 'utf8')) as { pending: { uuid: string }[] };
      onDiskWhenReported.push([st.state, String(disk.failedWrites), String(cp.pending.some((p) => p.uuid === st.uuid))]);
    };
    master.autoAck.add('t2');
    launch('t2');
    for (let i = 0; i < 400 && disk.failedWrites < 3; i++) await new Promise((r) => setTimeout(r, 10));
    // The agent re-subscribes while STARTING is not durable: it lists the task, but no status for it.
    master.dropStream();
    await master.waitFor((c) => c.filter((x) => x.type === 'SUBSCRIBE').length >= 2, 're-SUBSCRIBE');
    const resub = master.calls.filter((x) => x.type === 'SUBSCRIBE')[1]!.subscribe!;
    expect(resub.tasks?.map((t) => t.task_id.value)).to.deep.equal(['t2']);
    expect(resub.task_statuses ?? []).to.deep.equal([]);
    expect(master.updates().filter((u) => u.task_id.value === 't2')).to.deep.equal([]);
    diskBack = true;
    const failures = disk.failedWrites; // no write fails from here on
    expect(failures).to.be.at.least(3);
    await master.waitForUpdate('t2', 'TASK_RUNNING');
    expect(await metric('cygnet_agent_checkpoint_failures_total')).to.equal(failures);
    // STARTING went out only after its failed writes, and was on disk when it did.
    expect(onDiskWhenReported[0]).to.deep.equal(['TASK_STARTING', String(failures), 'true']);
    expect(onDiskWhenReported.every(([, , durable]) => durable === 'true')).to.equal(true);
  });

  it('an unreadable checkpoint stops the agent naming the file, unless the operator discards it', async () => {
    master.autoAck.add('t3');
    launch('t3');
    await master.waitForUpdate('t3', 'TASK_RUNNING');
    await agent!.close();
    agent = undefined;
    disk.failRead = (file) => (file === taskFile('t3') ? 'EIO' : undefined);
    let err: unknown;
    await startAgent(opts).then(
      (a) => { agent = a; },
      (e: unknown) => { err = e; },
    );
    expect(err).to.be.instanceOf(CheckpointUnreadableError);
    expect((err as CheckpointUnreadableError).file).to.equal(taskFile('t3'));
    expect((err as Error).message).to.contain('EIO').and.to.contain('--discard-unreadable-checkpoints');

    const flags = parseAgentFlags(['--work-dir', dir, '--discard-unreadable-checkpoints']);
    expect(flags.discardUnreadableCheckpoints).to.equal(true);
    agent = await startAgent({ ...opts, discardUnreadableCheckpoints: flags.discardUnreadableCheckpoints });
    const state = (await (await request(`http://127.0.0.1:${agent.port}/state`)).body.json()) as { tasks: unknown[] };
    expect(state.tasks).to.deep.equal([]);
    // The task it forgot is still running (the operator chose to lose track of it): end it here.
    disk.failRead = () => undefined;
    await agent.close();
    agent = await startAgent(opts);
  });
});
