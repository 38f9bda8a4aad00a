/**
 * The task runner against real processes: state sequence, exit status and
 * signal messages (exit > 128 vs signal), default signal dispositions, own
 * session, kill-policy escalation, log cap under heavy output, env.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemClock } from '../../../src/common/clock.ts';
import { TaskRunner, computeTerminalStatus, killGraceMs, type StatusDraft } from '../../../src/executor/task-runner.ts';
import type { TaskInfo } from '../../../src/executor/types.ts';
import { TaskProcess } from '../../../src/executor/task-process.ts';
import { killAllTasksUnder } from '../../../src/executor/cleanup.ts';
import { sandboxDir } from '../../../src/executor/sandbox.ts';
import { LaunchGate } from '../../../src/executor/launch-gate.ts';

function task(id: string, command: TaskInfo['command'], extra: Partial<TaskInfo> = {}): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: { value: 'a1' }, command, ...extra };
}

describe('executor/task-runner', function () {
  this.timeout(20000);
  let dir: string;
  before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cygnet-runner-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  /** Kills the task once it is RUNNING and (if given) has created `readyFile` in its sandbox. */
  async function run(t: TaskInfo, opts: { killAfterRunning?: boolean; readyFile?: string; logCapBytes?: number; logCheckIntervalMs?: number } = {}) {
    const statuses: StatusDraft[] = [];
    const sandbox = path.join(dir, t.task_id.value);
    const runner: TaskRunner = new TaskRunner({
      task: t, frameworkId: 'fw1', agentId: 'a1', sandbox, host: '127.0.0.1', clock: systemClock,
      logCapBytes: opts.logCapBytes, logCheckIntervalMs: opts.logCheckIntervalMs,
      onStatus: (d) => statuses.push(d),
      onRunning: () => {
        if (!opts.killAfterRunning) return;
        const poll = () => {
          if (opts.readyFile === undefined || existsSync(path.join(sandbox, opts.readyFile))) runner.kill();
          else setTimeout(poll, 20);
        };
        setTimeout(poll, 100);
      },
    });
    await runner.start();
    await runner.done;
    return { statuses, sandbox, states: statuses.map((s) => s.state) };
  }

  it('exit 0 → STARTING (never STAGING), RUNNING, FINISHED', async () => {
    const { states } = await run(task('ok', { value: 'exit 0' }));
    expect(states).to.deep.equal(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  });

  it('exit 3 → FAILED with the status in the message', async () => {
    const { statuses } = await run(task('fail', { value: 'exit 3' }));
    const last = statuses.at(-1)!;
    expect(last.state).to.equal('TASK_FAILED');
    expect(last.reason).to.equal('REASON_COMMAND_EXECUTOR_FAILED');
    expect(last.message).to.equal('Command exited with status 3');
  });

  it('terminated by a signal → FAILED naming the signal', async () => {
    const { statuses } = await run(task('sig', { shell: false, value: '/bin/sh', arguments: ['sh', '-c', 'kill -USR1 $$'] }));
    expect(statuses.at(-1)!.message).to.equal('Command terminated by signal SIGUSR1');
  });

  it('an exit status above 128 is not taken for a signal', async () => {
    const { statuses } = await run(task('exit138', { value: 'exit 138' }));
    expect(statuses.at(-1)!.message).to.equal('Command exited with status 138');
  });

  it('the task starts with default signal dispositions (nothing ignored) in its own session', async () => {
    const { statuses, sandbox } = await run(task('sigs', { value: 'grep -E "^SigIgn" /proc/$$/status; cut -d" " -f1,5,6 /proc/$$/stat' }));
    expect(statuses.at(-1)!.state).to.equal('TASK_FINISHED');
    const [ign, ids] = (await readFile(path.join(sandbox, 'stdout'), 'utf8')).trim().split('\n');
    expect(ign).to.match(/^SigIgn:\s+0+$/);
    const [pid, pgid, sid] = ids!.trim().split(/\s+/);
    expect(pgid).to.equal(pid);
    expect(sid).to.equal(pid);
  });

  it('a missing binary → FAILED, launch failed', async () => {
    const { statuses } = await run(task('enoent', { shell: false, value: '/nonexistent/binary' }));
    expect(statuses.at(-1)!.state).to.equal('TASK_FAILED');
    expect(statuses.at(-1)!.message).to.match(/ENOENT/);
  });

  it('kill → SIGTERM to the group → KILLED', async () => {
    const { statuses } = await run(task('kill', { value: 'sleep 30' }), { killAfterRunning: true });
    expect(statuses.map((s) => s.state)).to.deep.equal(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
    expect(statuses.at(-1)!.message).to.equal('Command terminated by signal SIGTERM');
  });

  it('kill escalates to SIGKILL after the grace period when SIGTERM is trapped', async () => {
    const t = task('trap', { value: "trap '' TERM; touch ready; while true; do sleep 0.05; done" }, {
      kill_policy: { grace_period: { nanoseconds: 300e6 } },
    });
    const { statuses } = await run(t, { killAfterRunning: true, readyFile: 'ready' });
    expect(statuses.at(-1)!.state).to.equal('TASK_KILLED');
    expect(statuses.at(-1)!.message).to.equal('Command terminated by signal SIGKILL');
  });

  it('50 MB of stdout does not block the task and the file stays within the cap', async () => {
    const cap = 1024 * 1024;
    const { states, sandbox } = await run(task('loud', { value: 'head -c 52428800 /dev/zero; echo done >&2' }), { logCapBytes: cap });
    expect(states.at(-1)).to.equal('TASK_FINISHED');
    expect((await stat(path.join(sandbox, 'stdout'))).size).to.be.at.most(cap);
    expect((await stat(path.join(sandbox, 'stdout.1'))).size).to.be.at.most(cap);
    expect(await readFile(path.join(sandbox, 'stderr'), 'utf8')).to.equal('done\n');
  });

  it('caps the log while the task runs: rotated to .1, the task keeps appending at the new end', async () => {
    const script = 'head -c 5000 /dev/zero; i=0; while [ ! -f stdout.1 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo after';
    const { states, sandbox } = await run(task('live-cap', { value: script }), { logCapBytes: 1000, logCheckIntervalMs: 20 });
    expect(states.at(-1)).to.equal('TASK_FINISHED');
    expect(await readFile(path.join(sandbox, 'stdout'), 'utf8')).to.equal('after\n');
    expect(await readFile(path.join(sandbox, 'stdout.1'))).to.deep.equal(Buffer.alloc(1000));
  });

  it('sets MESOS_* and PORT0/PORT_<NAME> from the ports resource and discovery names', async () => {
    const t = task('env', { value: 'env > env.txt', environment: { variables: [{ name: 'GREETING', value: 'hi' }] } }, {
      resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }, { begin: 31005, end: 31005 }] } }],
      discovery: { visibility: 'FRAMEWORK', ports: { ports: [{ number: 31000, name: 'http' }, { number: 31005, name: 'admin-ui' }] } },
    });
    const { sandbox } = await run(t);
    const env = Object.fromEntries((await readFile(path.join(sandbox, 'env.txt'), 'utf8')).trim().split('\n').map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i), l.slice(i + 1)];
    }));
    expect(env).to.include({
      GREETING: 'hi', MESOS_TASK_ID: 'env', MESOS_FRAMEWORK_ID: 'fw1', MESOS_AGENT_ID: 'a1', MESOS_SANDBOX: sandbox,
      HOST: '127.0.0.1', PORT0: '31000', PORT1: '31001', PORT2: '31005', PORT: '31000', PORT_HTTP: '31000', PORT_ADMIN_UI: '31005',
      PORTS: '31000,31001,31005',
    });
  });

  it('kill before the task started → KILLED without spawning', async () => {
    const statuses: StatusDraft[] = [];
    const runner = new TaskRunner({
      task: task('early', { value: 'sleep 30' }), frameworkId: 'fw1', agentId: 'a1', sandbox: path.join(dir, 'early'),
      host: 'h', clock: systemClock, onStatus: (d) => statuses.push(d),
    });
    runner.kill();
    await runner.start();
    expect(statuses.map((s) => s.state)).to.deep.equal(['TASK_KILLED']);
  });

  it('kill while waiting at the launch gate → KILLED without spawning; the gate bounds supervisor starts', async () => {
    const gate = new LaunchGate(1);
    let release!: () => void;
    const blocker = gate.run(() => new Promise<void>((r) => { release = r; }));
    const statuses: StatusDraft[] = [];
    const runner = new TaskRunner({
      task: task('gated', { value: 'sleep 30' }), frameworkId: 'fw1', agentId: 'a1', sandbox: path.join(dir, 'gated'),
      host: 'h', clock: systemClock, onStatus: (d) => statuses.push(d), launchGate: (fn) => gate.run(fn),
    });
    const started = runner.start();
    for (let i = 0; i < 100 && gate.queued === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(gate.queued).to.equal(1);
    expect(statuses.map((s) => s.state)).to.deep.equal(['TASK_STARTING']);
    runner.kill();
    release();
    await blocker;
    await started;
    expect(statuses.map((s) => s.state)).to.deep.equal(['TASK_STARTING', 'TASK_KILLED']);
    expect(runner.identity).to.equal(undefined);
  });

  it('recover(): re-attaches to a live task, kills it; a pid with another start time is not ours', async () => {
    const first: StatusDraft[] = [];
    const sandbox = path.join(dir, 'reattach');
    const t = task('reattach', { value: 'sleep 30' });
    const runner = new TaskRunner({ task: t, frameworkId: 'fw1', agentId: 'a1', sandbox, host: 'h', clock: systemClock, onStatus: (d) => first.push(d) });
    await runner.start();
    const identity = runner.identity!;
    runner.detach(); // the first agent "dies"; the task keeps running
    expect(TaskProcess.isAlive(identity)).to.equal(true);
    expect(TaskProcess.isAlive({ ...identity, supervisorStartTime: '1' })).to.equal(false);

    const second: StatusDraft[] = [];
    const again = new TaskRunner({ task: t, frameworkId: 'fw1', agentId: 'a1', sandbox, host: 'h', clock: systemClock, onStatus: (d) => second.push(d) });
    again.recover(identity);
    again.kill({ grace_period: { nanoseconds: 0 } });
    await again.done;
    expect(second.map((d) => `${d.state}: ${d.message}`)).to.deep.equal(['TASK_KILLED: Command terminated by signal SIGKILL']);
    expect(first.map((d) => d.state)).to.deep.equal(['TASK_STARTING', 'TASK_RUNNING']);
  });

  it('killAllTasksUnder() kills tasks left behind by a dead agent', async () => {
    const root = path.join(dir, 'work');
    const sandbox = sandboxDir(root, 'fw1', 'orphan', 'r1');
    const statuses: StatusDraft[] = [];
    const runner = new TaskRunner({ task: task('orphan', { value: 'sleep 30' }), frameworkId: 'fw1', agentId: 'a1', sandbox, host: 'h', clock: systemClock, onStatus: (d) => statuses.push(d) });
    await runner.start();
    const identity = runner.identity!;
    runner.detach();
    expect(await killAllTasksUnder(root)).to.equal(1);
    const watcher = new TaskRunner({ task: task('orphan', { value: 'sleep 30' }), frameworkId: 'fw1', agentId: 'a1', sandbox, host: 'h', clock: systemClock, onStatus: (d) => statuses.push(d) });
    watcher.recover(identity);
    await watcher.done;
    expect(statuses.at(-1)!.message).to.equal('Command terminated by signal SIGKILL');
    expect(await killAllTasksUnder(root)).to.equal(0);
  });

  it('computes terminal statuses and grace periods', () => {
    expect(computeTerminalStatus(undefined, false, true)).to.include({ state: 'TASK_FAILED', reason: 'REASON_EXECUTOR_TERMINATED' });
    expect(computeTerminalStatus({ code: 0, signal: null }, true, false).state).to.equal('TASK_KILLED');
    expect(killGraceMs(undefined)).to.equal(3000);
    expect(killGraceMs({ grace_period: { nanoseconds: 1.5e9 } })).to.equal(1500);
  });
});
