/**
 * Agent restart, with the agent as a real process: it is SIGKILLed while two
 * tasks run; one task exits (status 7) while the agent is down. The restarted
 * agent re-subscribes with the same id and both tasks, re-sends the update the
 * master never acknowledged (same uuid), reports the exit that happened while
 * it was down with its real status, and can still kill the surviving task
 * (re-attached via /proc, not a child any more).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import type { TaskInfo } from '../../../src/executor/types.ts';
import { FakeMaster } from './fake-master.ts';
import { killAllTasksUnder } from '../../../src/executor/cleanup.ts';

const MAIN = path.resolve('src/executor/main.ts');

function startAgentProcess(master: string, workDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--master', master, '--port', '0', '--work-dir', workDir,
    '--status-retry-initial-ms', '200', '--media', 'protobuf'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CYGNET_LOG_LEVEL: 'warn' } });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`agent exited with ${code}: ${err}`)));
  });
}

async function waitForFile(file: string, timeoutMs = 10000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await access(file);
      return;
    } catch {
      if (Date.now() > until) throw new Error(`timed out waiting for ${file}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describe('executor/agent restart (real agent process)', function () {
  this.timeout(40000);
  let master: FakeMaster;
  let dir: string;
  let agent: ChildProcess | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cygnet-restart-'));
    master = new FakeMaster();
    await master.start();
  });
  after(async () => {
    if (agent && agent.exitCode === null) agent.kill('SIGKILL');
    // Kill any task group left behind by a failed run.
    await killAllTasksUnder(dir);
    await master.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function ack(taskId: string, state: string): void {
    const s = master.updates().find((u) => u.task_id.value === taskId && u.state === state)!;
    master.send({ type: 'ACKNOWLEDGE', acknowledge: { framework_id: { value: 'fw1' }, task_id: { value: taskId }, uuid: s.uuid! } });
  }
  async function launch(task: TaskInfo, ackRunning: boolean): Promise<void> {
    master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: 'fw', id: { value: 'fw1' } }, task } });
    for (const s of ['TASK_STARTING', 'TASK_RUNNING']) {
      await master.waitForUpdate(task.task_id.value, s);
      if (s !== 'TASK_RUNNING' || ackRunning) ack(task.task_id.value, s);
    }
  }

  it('recovers a live task, reports one that exited meanwhile, re-sends the unacked update', async () => {
    const first = await startAgentProcess(master.address, dir);
    agent = first.child;
    await master.waitFor((c) => c.some((x) => x.type === 'SUBSCRIBE'), 'SUBSCRIBE');
    const base = { agent_id: { value: 'agent-1' }, resources: [] };
    await launch({ ...base, name: 'a', task_id: { value: 'ta' }, command: { value: 'sleep 30' } }, false);
    await launch({ ...base, name: 'b', task_id: { value: 'tb' }, command: { value: 'while [ ! -f "$MESOS_SANDBOX/go" ]; do sleep 0.05; done; exit 7' } }, true);
    const state = (await (await request(`http://127.0.0.1:${first.port}/state`)).body.json()) as { id: string; tasks: { id: string; sandbox: string }[] };
    const sandboxB = state.tasks.find((t) => t.id === 'tb')!.sandbox;
    const runningA = master.updates().find((u) => u.task_id.value === 'ta' && u.state === 'TASK_RUNNING')!;

    // The agent dies; task b finishes while no agent is watching.
    agent.kill('SIGKILL');
    await new Promise((r) => agent!.once('exit', r));
    await writeFile(path.join(sandboxB, 'go'), '');
    await waitForFile(path.join(sandboxB, '.cygnet-exit.json'));

    const subscribesBefore = master.calls.filter((c) => c.type === 'SUBSCRIBE').length;
    // b's RUNNING ack may not have been checkpointed before the kill: whatever b re-sends is acked.
    master.autoAck.add('tb');
    const second = await startAgentProcess(master.address, dir);
    agent = second.child;
    await master.waitFor((c) => c.filter((x) => x.type === 'SUBSCRIBE').length > subscribesBefore, 're-SUBSCRIBE');
    const sub = master.calls.filter((c) => c.type === 'SUBSCRIBE').at(-1)!.subscribe!;
    expect(sub.agent_info.id?.value).to.equal(state.id);
    expect(sub.tasks?.map((t) => t.task_id.value).sort()).to.deep.equal(['ta', 'tb']);

    // The unacknowledged RUNNING of a is re-sent with its original uuid.
    await master.waitFor(() => master.updates().filter((u) => u.uuid === runningA.uuid).length >= 2, 'RUNNING of ta re-sent');
    // b's exit while the agent was down is reported with its real status.
    await master.waitForUpdate('tb', 'TASK_FAILED');
    expect(master.updates().find((u) => u.task_id.value === 'tb' && u.state === 'TASK_FAILED')!.message).to.equal('Command exited with status 7');

    // a is still running and can be killed by the new agent.
    ack('ta', 'TASK_RUNNING');
    master.send({ type: 'KILL', kill: { framework_id: { value: 'fw1' }, task_id: { value: 'ta' } } });
    await master.waitForUpdate('ta', 'TASK_KILLED');
    expect(master.updates().find((u) => u.task_id.value === 'ta' && u.state === 'TASK_KILLED')!.message).to.equal('Command terminated by signal SIGTERM');
    expect(master.errors).to.deep.equal([]);
    agent.kill('SIGTERM');
    await new Promise((r) => agent!.once('exit', r));
  });
});
