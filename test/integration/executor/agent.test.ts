/**
 * The agent against a fake master on real sockets: subscribe, launch a real
 * `sleep`, STARTING/RUNNING in order (never TASK_STAGING: the master marks
 * that itself) with one update in flight per task, ack, kill → KILLED,
 * forgotten after the terminal ack; an unacked update is retried with the
 * same uuid; the next update is sent only once the previous ack is
 * checkpointed; a dropped stream is re-subscribed with the same agent id, the
 * running tasks and one FrameworkInfo per task.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { startAgent, type AgentHandle } from '../../../src/executor/agent.ts';
import type { TaskInfo } from '../../../src/executor/types.ts';
import { FakeMaster } from './fake-master.ts';
import { encodeRecord } from '../../../src/protocol/recordio.ts';

function sleepTask(id: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    name: id, task_id: { value: id }, agent_id: { value: 'agent-1' }, command: { value: 'sleep 30' },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }, { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31001, end: 31001 }] } }],
    ...extra,
  };
}

for (const media of ['application/json', 'application/x-protobuf'] as const) {
  describe(`executor/agent with a fake master (${media})`, function () {
    this.timeout(30000);
    let master: FakeMaster;
    let agent: AgentHandle;
    let dir: string;

    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'cygnet-agent-'));
      master = new FakeMaster();
      await master.start();
      agent = await startAgent({
        master: master.address, port: 0, ip: '127.0.0.1', workDir: dir, media,
        resources: 'cpus:2;mem:1024;disk:1000', attributes: 'rack:r1', statusRetryInitialMs: 200, reconnectInitialMs: 50, reconnectMaxMs: 200,
      });
      await master.waitFor((c) => c.some((x) => x.type === 'SUBSCRIBE'), 'SUBSCRIBE');
    });
    afterEach(async () => {
      await agent.shutdown();
      await master.stop();
      await rm(dir, { recursive: true, force: true });
    });

    function ack(taskId: string, state: string): void {
      const s = master.updates().find((u) => u.task_id.value === taskId && u.state === state)!;
      master.send({ type: 'ACKNOWLEDGE', acknowledge: { framework_id: { value: 'fw1' }, task_id: { value: taskId }, uuid: s.uuid! } });
    }

    it('subscribes with resources, runs a task through STARTING/RUNNING (no STAGING), kills it', async () => {
      const sub = master.calls[0].subscribe!;
      expect(sub.agent_info.port).to.equal(agent.port);
      expect(sub.agent_info.resources?.find((r) => r.name === 'cpus')?.scalar?.value).to.equal(2);
      expect(sub.agent_info.attributes?.[0].name).to.equal('rack');
      master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: 'fw', id: { value: 'fw1' } }, task: sleepTask('t1') } });
      await master.waitForUpdate('t1', 'TASK_STARTING');
      // One in flight: RUNNING is not sent before STARTING is acked, and STARTING is retried with the same uuid.
      await master.waitFor(() => master.updates().filter((u) => u.state === 'TASK_STARTING').length >= 2, 'STARTING retry');
      const starting = master.updates().filter((u) => u.state === 'TASK_STARTING');
      expect(starting[0].uuid).to.equal(starting[1].uuid);
      expect(master.updates().some((u) => u.state === 'TASK_RUNNING')).to.equal(false);
      ack('t1', 'TASK_STARTING');
      await master.waitForUpdate('t1', 'TASK_RUNNING');
      ack('t1', 'TASK_RUNNING');
      const running = master.updates().find((u) => u.state === 'TASK_RUNNING')!;
      expect(running.agent_id?.value).to.equal(agent.agentId());
      const state = (await (await request(`http://127.0.0.1:${agent.port}/state`)).body.json()) as { tasks: { id: string; state: string }[] };
      expect(state.tasks).to.deep.equal([{ ...state.tasks[0], id: 't1', state: 'TASK_RUNNING' }]);
      // Mesos' own path for it, the `url` an offer gives for the agent.
      for (const path of ['/slave(1)/state', '/slave(1)/state.json', '/state.json']) {
        expect(await (await request(`http://127.0.0.1:${agent.port}${path}`)).body.json(), path).to.deep.equal(state);
      }
      master.send({ type: 'KILL', kill: { framework_id: { value: 'fw1' }, task_id: { value: 't1' }, kill_policy: { grace_period: { nanoseconds: 1e9 } } } });
      await master.waitForUpdate('t1', 'TASK_KILLED');
      const killed = master.updates().find((u) => u.state === 'TASK_KILLED')!;
      expect(killed.message).to.equal('Command terminated by signal SIGTERM');
      expect(master.updates().filter((u) => u.state === 'TASK_STAGING')).to.deep.equal([]);
      ack('t1', 'TASK_KILLED');
      await master.waitFor(() => true, 'nothing');
      for (let i = 0; i < 50; i++) {
        const s = (await (await request(`http://127.0.0.1:${agent.port}/state`)).body.json()) as { tasks: unknown[] };
        if (s.tasks.length === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('task not forgotten after its terminal ack');
    });

    it('re-subscribes with its agent id and running task after the stream drops', async () => {
      master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: 'fw', id: { value: 'fw1' } }, task: sleepTask('t2') } });
      await master.waitForUpdate('t2', 'TASK_STARTING');
      ack('t2', 'TASK_STARTING');
      await master.waitForUpdate('t2', 'TASK_RUNNING');
      const id = agent.agentId();
      master.dropStream();
      await master.waitFor((c) => c.filter((x) => x.type === 'SUBSCRIBE').length >= 2, 're-SUBSCRIBE');
      const sub = master.calls.filter((x) => x.type === 'SUBSCRIBE')[1].subscribe!;
      expect(sub.agent_info.id?.value).to.equal(id);
      expect(sub.tasks?.map((t) => t.task_id.value)).to.deep.equal(['t2']);
      expect(sub.task_statuses?.map((s) => s.state)).to.deep.equal(['TASK_RUNNING']);
      expect(sub.frameworks?.map((f) => f.id?.value)).to.deep.equal(['fw1']);
      // The unacked RUNNING update is re-sent on the new stream.
      await master.waitFor(() => master.updates().filter((u) => u.state === 'TASK_RUNNING').length >= 2, 'RUNNING re-sent');
    });

    it('re-subscribes with one FrameworkInfo per task, in the order of tasks', async () => {
      for (const [fw, ids] of [['fwA', ['a1', 'a2']], ['fwB', ['b1']]] as const) {
        for (const id of ids) {
          master.autoAck.add(id);
          master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: fw, id: { value: fw } }, task: sleepTask(id) } });
        }
      }
      for (const id of ['a1', 'a2', 'b1']) await master.waitForUpdate(id, 'TASK_RUNNING');
      master.dropStream();
      await master.waitFor((c) => c.filter((x) => x.type === 'SUBSCRIBE').length >= 2, 're-SUBSCRIBE');
      const sub = master.calls.filter((x) => x.type === 'SUBSCRIBE')[1].subscribe!;
      expect(sub.tasks).to.have.length(3);
      const owner = (id: string) => (id.startsWith('a') ? 'fwA' : 'fwB');
      expect(sub.frameworks?.map((f) => f.id?.value)).to.deep.equal(sub.tasks!.map((t) => owner(t.task_id.value)));
      expect(sub.task_statuses?.map((st) => st.task_id.value)).to.deep.equal(sub.tasks!.map((t) => t.task_id.value));
    });

    it('sends the next update only after the previous ack is checkpointed', async () => {
      const cpFile = path.join(dir, 'meta', 'frameworks', 'fw1', 'tasks', 'tc.json');
      const pendingOnDisk = () => (JSON.parse(readFileSync(cpFile, 'utf8')) as { pending: { state: string }[] }).pending.map((p) => p.state);
      const seenWithRunning: string[][] = [];
      master.onUpdate = (st) => { if (st.task_id.value === 'tc' && st.state === 'TASK_RUNNING') seenWithRunning.push(pendingOnDisk()); };
      master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: 'fw', id: { value: 'fw1' } }, task: sleepTask('tc') } });
      await master.waitForUpdate('tc', 'TASK_STARTING');
      // Hold the ack until RUNNING is queued behind STARTING, so the ack is what releases RUNNING.
      for (let i = 0; i < 200 && pendingOnDisk().join() !== 'TASK_STARTING,TASK_RUNNING'; i++) await new Promise((r) => setTimeout(r, 25));
      expect(pendingOnDisk()).to.deep.equal(['TASK_STARTING', 'TASK_RUNNING']);
      ack('tc', 'TASK_STARTING');
      await master.waitForUpdate('tc', 'TASK_RUNNING');
      // When the master saw RUNNING, the checkpoint no longer listed the acknowledged STARTING.
      expect(seenWithRunning[0]).to.deep.equal(['TASK_RUNNING']);
      ack('tc', 'TASK_RUNNING');
      await master.waitFor(() => pendingOnDisk().length === 0, 'RUNNING ack checkpointed');

      // A restarted agent (same work dir) re-sends nothing that was acknowledged.
      await agent.close();
      const before = master.updates().length;
      agent = await startAgent({ master: master.address, port: 0, ip: '127.0.0.1', workDir: dir, media, statusRetryInitialMs: 200 });
      await master.waitFor((c) => c.filter((x) => x.type === 'SUBSCRIBE').length >= 2, 're-SUBSCRIBE');
      expect(master.calls.filter((x) => x.type === 'SUBSCRIBE')[1].subscribe!.task_statuses?.map((st) => st.state)).to.deep.equal(['TASK_RUNNING']);
      await new Promise((r) => setTimeout(r, 600)); // three retry intervals: an unacked update would have been re-sent
      expect(master.updates().slice(before)).to.deep.equal([]);
    });

    it('skips a malformed event and keeps serving the stream', async () => {
      master.sendRaw(encodeRecord(media === 'application/json' ? '{"type": 42, "launch": "nope"' : new Uint8Array([0x08, 0xff, 0xff, 0x0a, 0x99])));
      master.sendRaw(encodeRecord(media === 'application/json' ? '{"type":"LAUNCH","launch":{"task":{"task_id":{"value":5}}}}' : new Uint8Array([0x12, 0x03, 0x01])));
      master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: 'fw', id: { value: 'fw1' } }, task: sleepTask('tm') } });
      await master.waitForUpdate('tm', 'TASK_STARTING');
      expect(master.calls.filter((c) => c.type === 'SUBSCRIBE')).to.have.length(1);
    });

    it('reports a launch with a failing fetch as TASK_FAILED saying why', async () => {
      const t = sleepTask('t3', { command: { value: 'true', uris: [{ value: `http://127.0.0.1:${master.port}/nothing.tgz` }] } });
      master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: 'fw', id: { value: 'fw1' } }, task: t } });
      await master.waitForUpdate('t3', 'TASK_STARTING');
      ack('t3', 'TASK_STARTING');
      await master.waitForUpdate('t3', 'TASK_FAILED');
      const failed = master.updates().find((u) => u.state === 'TASK_FAILED')!;
      expect(failed.reason).to.equal('REASON_CONTAINER_LAUNCH_FAILED');
      expect(failed.message).to.match(/Failed to fetch .*nothing\.tgz/);
    });

    it('fails a Docker task at once (REASON_CONTAINER_LAUNCH_FAILED) rather than running its command on the host', async () => {
      const marker = path.join(tmpdir(), `cygnet-docker-ran-${process.pid}`);
      const t = sleepTask('td', { command: { value: `touch ${marker}` }, container: { type: 'DOCKER', docker: { image: 'nginx:1.25' } } });
      master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: 'fw', id: { value: 'fw1' } }, task: t } });
      await master.waitForUpdate('td', 'TASK_FAILED');
      const failed = master.updates().filter((u) => u.task_id.value === 'td');
      expect(failed.map((u) => [u.state, u.reason])).to.deep.equal([['TASK_FAILED', 'REASON_CONTAINER_LAUNCH_FAILED']]);
      expect(failed[0]?.message).to.match(/None of the enabled containerizers \(mesos\) could create a container.*\(nginx:1\.25\)$/);
      expect(existsSync(marker), 'the command never ran').to.equal(false);
    });

    it('reports health changes as RUNNING updates and kills after consecutive failures', async () => {
      master.autoAck.add('th');
      const t = sleepTask('th', {
        command: { value: 'touch ok; sleep 30' },
        health_check: { type: 'COMMAND', command: { value: 'test -f "$MESOS_SANDBOX/ok"' }, delay_seconds: 0, interval_seconds: 0.05, grace_period_seconds: 60, consecutive_failures: 2, timeout_seconds: 5 },
      });
      master.send({ type: 'LAUNCH', launch: { framework_info: { user: 'u', name: 'fw', id: { value: 'fw1' } }, task: t } });
      await master.waitFor(() => master.updates().some((u) => u.task_id.value === 'th' && u.healthy === true), 'healthy=true');
      const state = (await (await request(`http://127.0.0.1:${agent.port}/state`)).body.json()) as { tasks: { id: string; sandbox: string }[] };
      await rm(path.join(state.tasks.find((x) => x.id === 'th')!.sandbox, 'ok'));
      await master.waitForUpdate('th', 'TASK_KILLED');
      const seen = master.updates().filter((u) => u.task_id.value === 'th').map((u) => `${u.state}${u.healthy === undefined ? '' : ` healthy=${u.healthy}`}`);
      const distinct = seen.filter((x, i) => x !== seen[i - 1]);
      expect(distinct).to.deep.equal(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING healthy=true', 'TASK_RUNNING healthy=false', 'TASK_KILLED healthy=false']);
      expect(master.updates().find((u) => u.state === 'TASK_KILLED')!.message).to.match(/^Task killed after 2 consecutive failed health checks/);
    });

    it('serves /health, /metrics and confined /files/read', async () => {
      const health = await request(`http://127.0.0.1:${agent.port}/health`);
      await health.body.dump();
      expect(health.statusCode).to.equal(200);
      expect(health.headers['keep-alive'], 'idle connections stay open longer than clients pool them').to.equal('timeout=120');
      const metrics = await (await request(`http://127.0.0.1:${agent.port}/metrics`)).body.text();
      expect(metrics).to.contain('cygnet_agent_pending_status_updates 0');
      const escape = await request(`http://127.0.0.1:${agent.port}/files/read?path=${encodeURIComponent('../meta/agent.json')}&offset=0`);
      expect(escape.statusCode).to.equal(400);
      await escape.body.dump();
      const missing = await request(`http://127.0.0.1:${agent.port}/files/read?path=nope&offset=0`);
      expect(missing.statusCode).to.equal(404);
      await missing.body.dump();
      const sb = path.join(dir, 'sandboxes', 'fwx');
      await mkdir(sb, { recursive: true });
      await writeFile(path.join(sb, 'hello.txt'), 'hello sandbox');
      await symlink('/etc/hostname', path.join(sb, 'leak'));
      const read = async (p: string, q = '&offset=6&length=100') => {
        const res = await request(`http://127.0.0.1:${agent.port}/files/read?path=${encodeURIComponent(p)}${q}`);
        return { status: res.statusCode, body: (await res.body.json()) as { data?: string; offset?: number } };
      };
      expect(await read(path.join(sb, 'hello.txt'))).to.deep.equal({ status: 200, body: { data: 'sandbox', offset: 6 } });
      expect(await read('fwx/hello.txt', '')).to.deep.equal({ status: 200, body: { data: '', offset: 13 } });
      expect((await read('fwx/leak')).status).to.equal(400);
      expect((await read('fwx/hello.txt', '&offset=abc')).status).to.equal(400);
    });
  });
}
