/**
 * End to end, through the scheduler SDK, against a real master process and
 * real agent processes (the `cygnet` CLI from source) on 127.0.0.1:
 *
 *   1. subscribe → offer → launch `sleep 1000` → RUNNING → acknowledge → kill → KILLED
 *   2. exit 1 → TASK_FAILED naming the exit status; exit 0 → TASK_FINISHED (protobuf client)
 *   4. an agent SIGKILLed and restarted on the same work dir recovers its task
 *      (same pid, reconciliation says RUNNING, it can still be killed)
 *   5. a framework that goes away and re-subscribes with its id keeps its tasks
 *   6. the master SIGKILLed and restarted on the same port: agents re-register,
 *      the framework re-subscribes by itself, its task is known again
 *
 * (3, agent loss → LOST/UNREACHABLE, is in agent-loss.test.ts: it needs a
 * master with a short agent ping timeout.) Tests share one cluster and run in
 * order; waits are on events with generous deadlines, never sleeps.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { registerClusterCleanup, restartAgent, startAgent, startMaster, type AgentHandle, type MasterHandle } from '../../helpers/cluster.ts';
import { launchTask, newFramework, offerAttribute, type TestFramework } from '../../helpers/frameworks.ts';
import { pidAlive } from '../../helpers/processes.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import type { TaskState } from '../../../src/protocol/mesos-types.ts';

const onAgent = (node: string) => (o: Parameters<typeof offerAttribute>[0]): boolean => offerAttribute(o, 'node') === node;

async function waitForPidFile(file: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8').trim();
      if (/^\d+$/.test(text)) return Number(text);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no pid in ${file} after ${timeoutMs} ms`);
}

/**
 * Sends explicit reconciliation for `taskId` until an update in `state` arrives
 * (after this call), re-sending every few seconds: after a master restart the
 * agent holding the task may re-register after the framework asks.
 */
async function reconcileUntil(fw: TestFramework, taskId: string, state: TaskState, timeoutMs = 60_000): Promise<void> {
  const from = fw.rec.updates.length;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await fw.client.reconcile([{ taskId }]).catch(() => undefined);
    try {
      await fw.rec.waitForState(taskId, state, 3_000, from);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

/** Sends KILL until TASK_KILLED arrives, re-sending every few seconds (a KILL can be dropped while an agent reconnects). */
async function killUntil(fw: TestFramework, taskId: string, timeoutMs = 60_000): Promise<void> {
  const from = fw.rec.updates.length;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await fw.client.kill(taskId).catch(() => undefined);
    try {
      await fw.rec.waitForState(taskId, 'TASK_KILLED', 5_000, from);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

describe('e2e: tasks through master and agents', function () {
  this.timeout(90_000);
  let root: string;
  let master: MasterHandle;
  let agents: AgentHandle[] = [];

  before(async function () {
    this.timeout(120_000);
    root = await makeTempDir('cygnet-e2e-');
    master = await startMaster({ workDir: path.join(root, 'master') });
    agents = await Promise.all(['a1', 'a2'].map((node) => startAgent({
      master: master.address,
      workDir: path.join(root, node),
      resources: 'cpus:4;mem:4096;disk:10000;ports:[31000-32000]',
      // Unacknowledged updates are re-sent after 1 s instead of Mesos' 10 s, so
      // a framework that failed over gets them back quickly.
      extraArgs: ['--attributes', `node:${node}`, '--status-retry-initial-ms', '1000'],
      name: `agent-${node}`,
    })));
  });

  registerClusterCleanup();

  it('1. launches a real command, reports STARTING/RUNNING, takes ACKs, kills it → TASK_KILLED', async () => {
    const fw = newFramework(master.address, { name: 'e2e-basic' }, { autoAcknowledge: false });
    const acked: string[] = [];
    fw.client.on('update', (s) => {
      if (s.uuid === undefined) return;
      fw.client.acknowledge(s).then(() => acked.push(s.state), () => undefined);
    });
    const sub = await fw.client.subscribe();
    expect(sub.frameworkId).to.be.a('string').and.not.equal('');
    const offer = await launchTask(fw, { taskId: 'basic-1', command: 'sleep 1000' });
    expect(offer.agent_id.value).to.be.a('string');

    const running = await fw.rec.waitForState('basic-1', 'TASK_RUNNING');
    expect(running.agent_id?.value).to.equal(offer.agent_id.value);
    const states = fw.rec.updates.filter((u) => u.task_id.value === 'basic-1').map((u) => u.state);
    expect(states.every((s) => ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'].includes(s)), states.join(',')).to.equal(true);
    await fw.rec.waitFor('RUNNING acknowledged', () => (acked.includes('TASK_RUNNING') ? true : undefined));

    await fw.client.kill('basic-1', offer.agent_id.value);
    const killed = await fw.rec.waitForState('basic-1', 'TASK_KILLED');
    expect(killed.task_id.value).to.equal('basic-1');
    await fw.rec.waitFor('KILLED acknowledged', () => (acked.includes('TASK_KILLED') ? true : undefined));
    await fw.client.teardown();
  });

  it('2. exit 1 → TASK_FAILED with the exit status; exit 0 → TASK_FINISHED (protobuf)', async () => {
    const fw = newFramework(master.address, { name: 'e2e-exit' }, { contentType: 'protobuf' });
    await fw.client.subscribe();
    await launchTask(fw, { taskId: 'exit-1', command: 'exit 1' });
    await launchTask(fw, { taskId: 'exit-0', command: 'true' });
    const failed = await fw.rec.waitForState('exit-1', 'TASK_FAILED');
    expect(failed.message ?? '', 'TASK_FAILED message').to.match(/\b1\b/);
    expect(failed.message ?? '').to.match(/exit/i);
    const finished = await fw.rec.waitForState('exit-0', 'TASK_FINISHED');
    expect(finished.task_id.value).to.equal('exit-0');
    expect(fw.rec.updates.some((u) => u.task_id.value === 'exit-0' && u.state === 'TASK_FAILED')).to.equal(false);
    await fw.client.teardown();
  });

  it("3. serves Mesos' /metrics/snapshot, /version, /flags and /roles, counting a running task and a finished one", async () => {
    type Snapshot = Record<string, number>;
    const snapshot = async (address: string): Promise<Snapshot> => {
      const res = await request(`http://${address}/metrics/snapshot`);
      expect(res.statusCode).to.equal(200);
      return (await res.body.json()) as Snapshot;
    };
    const agentsRunning = async (): Promise<number> => (await Promise.all(agents.map((a) => snapshot(`127.0.0.1:${a.port}`)))).reduce((n, s) => n + (s['slave/tasks_running'] ?? 0), 0);
    const before = await snapshot(master.address);
    const agentsBefore = await agentsRunning();
    const fw = newFramework(master.address, { name: 'e2e-metrics' });
    await fw.client.subscribe();
    await launchTask(fw, { taskId: 'metrics-run', command: 'sleep 1000', cpus: 0.5 });
    await launchTask(fw, { taskId: 'metrics-done', command: 'true' });
    await fw.rec.waitForState('metrics-run', 'TASK_RUNNING');
    await fw.rec.waitForState('metrics-done', 'TASK_FINISHED');
    const after = await snapshot(master.address);
    expect(after['master/elected']).to.equal(1);
    expect(after['master/slaves_active']).to.equal(2);
    expect(after['master/cpus_total']).to.equal(8);
    expect(after['master/tasks_running']).to.equal((before['master/tasks_running'] ?? 0) + 1);
    expect(after['master/tasks_finished']).to.equal((before['master/tasks_finished'] ?? 0) + 1);
    expect(after['master/cpus_used']).to.be.closeTo((before['master/cpus_used'] ?? 0) + 0.5, 1e-9);
    expect(after['master/cpus_percent']).to.be.closeTo(after['master/cpus_used']! / 8, 1e-9);
    expect(after['master/frameworks_connected']).to.be.at.least(1);
    expect(after['system/cpus_total']).to.be.a('number').and.above(0);
    expect(Object.values(after).every((v) => typeof v === 'number' && Number.isFinite(v)), 'every value a finite number').to.equal(true);
    expect(await agentsRunning()).to.equal(agentsBefore + 1);
    const agent = await snapshot(`127.0.0.1:${agents[0]!.port}`);
    expect([agent['slave/registered'], agent['slave/cpus_total']]).to.deep.equal([1, 4]);
    for (const address of [master.address, `127.0.0.1:${agents[0]!.port}`]) {
      expect(await (await request(`http://${address}/version`)).body.json()).to.deep.equal({ version: '1.11.0', git_tag: 'cygnet-0.1.0' });
    }
    // Mesos' v0 /flags and /roles (also under /master), the JSON forms of GET_FLAGS and GET_ROLES.
    const flags = (await (await request(`http://${master.address}/master/flags`)).body.json()) as { flags: Record<string, string> };
    expect(flags.flags.port).to.equal(String(master.port));
    const roles = (await (await request(`http://${master.address}/roles`)).body.json()) as { roles: { name: string; weight: number; frameworks: string[]; resources: Record<string, number | string> }[] };
    const star = roles.roles.find((r) => r.name === '*');
    expect(star?.frameworks).to.include(fw.client.frameworkId);
    expect(star?.resources.cpus).to.be.at.least(0.5);
    // The one master is the leader: /redirect and /master/redirect send a client back to it.
    for (const path of ['/redirect', '/master/redirect']) {
      const res = await request(`http://${master.address}${path}`);
      await res.body.dump();
      expect([res.statusCode, res.headers.location], path).to.deep.equal([307, `//127.0.0.1:${master.port}`]);
    }
    await killUntil(fw, 'metrics-run');
    await fw.client.teardown();
  });

  it('4. an agent restarted on the same work dir recovers its running task (same pid)', async () => {
    const fw = newFramework(master.address, { name: 'e2e-agent-restart' });
    await fw.client.subscribe();
    const pidFile = path.join(root, 'restart-task.pid');
    await launchTask(fw, { taskId: 'survivor', command: `echo $$ > ${pidFile}; exec sleep 1000`, pick: onAgent('a2') });
    await fw.rec.waitForState('survivor', 'TASK_RUNNING');
    const pid = await waitForPidFile(pidFile);
    expect(pidAlive(pid)).to.equal(true);

    const a2 = agents[1]!;
    await a2.proc.kill9();
    expect(pidAlive(pid), 'the task outlives its agent').to.equal(true);
    agents[1] = await restartAgent(a2);
    // Until the new agent process has re-registered, the master answers from
    // what it knew and drops KILLs (as Mesos does), so wait for that first.
    await agents[1].proc.waitForLine(/subscribed to master/, 60_000);

    await reconcileUntil(fw, 'survivor', 'TASK_RUNNING');
    expect(pidAlive(pid)).to.equal(true);
    expect(Number(readFileSync(pidFile, 'utf8').trim()), 'not relaunched').to.equal(pid);
    const bad = fw.rec.updates.filter((u) => u.task_id.value === 'survivor' && !['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'].includes(u.state));
    expect(bad.map((u) => `${u.state} ${u.message ?? ''}`)).to.deep.equal([]);

    await killUntil(fw, 'survivor');
    await waitUntil(() => !pidAlive(pid), 'the recovered task process to be gone');
    await fw.client.teardown();
  });

  it('5. a framework that re-subscribes with its id within failover_timeout keeps its tasks', async () => {
    const first = newFramework(master.address, { name: 'e2e-failover', failover_timeout: 120 });
    const sub = await first.client.subscribe();
    await launchTask(first, { taskId: 'kept', command: 'sleep 1000' });
    const running = await first.rec.waitForState('kept', 'TASK_RUNNING');
    // As Mesos' agent: the command executor is named after the task, and the container's network (the agent's) is in the update.
    expect(running.executor_id?.value).to.equal('kept');
    expect(running.container_status?.network_infos?.[0]?.ip_addresses?.[0]?.ip_address).to.match(/^127\./);
    await first.client.close();

    const second = newFramework(master.address, { name: 'e2e-failover', failover_timeout: 120, id: { value: sub.frameworkId } });
    const resub = await second.client.subscribe();
    expect(resub.frameworkId).to.equal(sub.frameworkId);
    expect(resub.failover).to.equal(true);
    await second.client.reconcile();
    const status = await second.rec.waitForState('kept', 'TASK_RUNNING');
    expect(status.agent_id?.value).to.be.a('string');
    await second.client.kill('kept');
    await second.rec.waitForState('kept', 'TASK_KILLED');
    await second.client.teardown();
  });

  it('6. after a master restart on the same port, agents re-register and the framework gets its task back', async () => {
    const fw = newFramework(master.address, { name: 'e2e-master-restart', failover_timeout: 300 });
    const sub = await fw.client.subscribe();
    await launchTask(fw, { taskId: 'through-restart', command: 'sleep 1000' });
    await fw.rec.waitForState('through-restart', 'TASK_RUNNING');

    await master.proc.kill9();
    await fw.rec.waitFor('the SDK noticing the master is gone', () => fw.rec.disconnects[0]);
    master = await startMaster({ port: master.port, workDir: master.workDir, extraArgs: master.extraArgs, name: "master'" });

    const resub = await fw.rec.waitFor('automatic re-subscription', () => fw.rec.subscribed[1], 60_000);
    expect(resub.frameworkId).to.equal(sub.frameworkId);
    expect(resub.failover).to.equal(true);
    await reconcileUntil(fw, 'through-restart', 'TASK_RUNNING');

    await killUntil(fw, 'through-restart');
    await fw.client.teardown();
  });
});

async function waitUntil(pred: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
