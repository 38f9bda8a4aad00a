/**
 * A task is (framework id, task id): two frameworks launch the same task id
 * `web-1` on one real agent (in-process master and agent, real processes).
 * Both reach RUNNING as two processes; an agent restart recovers both; each
 * framework's KILL kills only its own; reconciliation of each framework sees
 * only its own task.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { startAgent, type AgentHandle, type AgentOptions } from '../../../src/executor/agent.ts';
import { startMaster, type MasterHandle } from '../../../src/master/master.ts';
import type { SchedulerEvent, TaskStatus } from '../../../src/master/wire.ts';
import { EventReader, post } from './raw-client.ts';

interface Fw {
  readonly id: string;
  readonly events: EventReader<SchedulerEvent>;
  call(c: object): Promise<number>;
  /** Next UPDATE for web-1 (acknowledged), skipping others, until `state`. */
  waitState(state: string): Promise<TaskStatus>;
}

interface AgentTaskView {
  id: string;
  framework_id: string;
  state: string;
  sandbox: string;
}

const TASK = 'web-1';

describe('task identity: the same task id in two frameworks on one agent', function () {
  this.timeout(90_000);
  let master: MasterHandle;
  let agent: AgentHandle | undefined;
  let dir: string;
  const readers: { close(): void }[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cygnet-task-identity-'));
    master = await startMaster({ port: 0, ip: '127.0.0.1', allocationIntervalMs: 50, logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    for (const r of readers) r.close();
    await agent?.shutdown();
    await master.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function subscribe(name: string): Promise<Fw> {
    const events = await EventReader.open<SchedulerEvent>(`${master.url}/api/v1/scheduler`, 'mesos.v1.scheduler.Event', 'application/json', 'mesos.v1.scheduler.Call', {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { user: 'u', name, failover_timeout: 60 } },
    });
    readers.push(events);
    const id = (await events.next()).subscribed?.framework_id.value ?? '';
    const call = async (c: object): Promise<number> =>
      (await post(`${master.url}/api/v1/scheduler`, JSON.stringify({ framework_id: { value: id }, ...c }), { 'content-type': 'application/json', 'mesos-stream-id': events.streamId })).status;
    const waitState = async (state: string): Promise<TaskStatus> => {
      for (;;) {
        const ev = await events.nextMatching((e) => e.type === 'UPDATE' && e.update?.status.task_id.value === TASK, 30_000);
        const s = ev.update!.status;
        if (s.uuid !== undefined) await call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: s.agent_id, task_id: s.task_id, uuid: s.uuid } });
        if (s.state === state) return s;
      }
    };
    return { id, events, call, waitState };
  }

  async function launch(fw: Fw): Promise<void> {
    const offer = (await fw.events.nextMatching((e) => e.type === 'OFFERS' && (e.offers?.offers?.length ?? 0) > 0, 30_000)).offers!.offers![0]!;
    const status = await fw.call({
      type: 'ACCEPT',
      accept: {
        offer_ids: [offer.id],
        operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 'web', task_id: { value: TASK }, agent_id: offer.agent_id, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 16 } }], command: { value: 'exec sleep 100' } }] } }],
        filters: { refuse_seconds: 0.05 },
      },
    });
    expect(status).to.equal(202);
  }

  async function agentTasks(): Promise<AgentTaskView[]> {
    const res = await request(`http://127.0.0.1:${agent!.port}/state`);
    return ((await res.body.json()) as { tasks: AgentTaskView[] }).tasks;
  }

  /** Explicit reconciliation of web-1: every UPDATE with reason REASON_RECONCILIATION that arrives for this framework. */
  async function reconcile(fw: Fw, agentId: string): Promise<TaskStatus[]> {
    expect(await fw.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: TASK }, agent_id: { value: agentId } }] } })).to.equal(202);
    const ev = await fw.events.nextMatching((e) => e.type === 'UPDATE' && e.update?.status.reason === 'REASON_RECONCILIATION', 10_000);
    const got = [ev.update!.status];
    // Anything else for this framework would arrive right behind it.
    for (;;) {
      const more = await fw.events.nextMatching((e) => e.type === 'UPDATE' && e.update?.status.reason === 'REASON_RECONCILIATION', 300).catch(() => undefined);
      if (more === undefined) return got;
      got.push(more.update!.status);
    }
  }

  it('both run, both survive an agent restart, each KILL and reconciliation touches only its own', async () => {
    const agentOpts: AgentOptions = { master: `127.0.0.1:${master.port}`, port: 0, ip: '127.0.0.1', workDir: dir, resources: 'cpus:2;mem:512;disk:100;ports:[31000-31010]', heartbeatIntervalMs: 200, statusRetryInitialMs: 300, reconnectInitialMs: 100, reconnectMaxMs: 500 };
    agent = await startAgent(agentOpts);
    const a = await subscribe('fw-a');
    const b = await subscribe('fw-b');
    await launch(a);
    await launch(b);
    const [runA, runB] = await Promise.all([a.waitState('TASK_RUNNING'), b.waitState('TASK_RUNNING')]);
    expect(runA.agent_id?.value).to.equal(runB.agent_id?.value);
    let tasks = await agentTasks();
    expect(tasks.map((t) => `${t.framework_id}/${t.id}/${t.state}`).sort()).to.deep.equal([`${a.id}/${TASK}/TASK_RUNNING`, `${b.id}/${TASK}/TASK_RUNNING`].sort());
    expect(new Set(tasks.map((t) => t.sandbox)).size).to.equal(2);

    // The agent restarts: both tasks are recovered from their own checkpoints.
    const agentId = runA.agent_id!.value;
    await agent.close();
    agent = await startAgent(agentOpts);
    for (let i = 0; i < 600 && master.node.core.ctx.agents.get(agentId)?.reregisteredAtMs === undefined; i++) await new Promise((r) => setTimeout(r, 25));
    tasks = await agentTasks();
    expect(tasks.map((t) => `${t.framework_id}/${t.state}`).sort()).to.deep.equal([`${a.id}/TASK_RUNNING`, `${b.id}/TASK_RUNNING`].sort());
    expect(master.node.core.ctx.tasks.get(a.id, TASK)?.state).to.equal('TASK_RUNNING');
    expect(master.node.core.ctx.tasks.get(b.id, TASK)?.state).to.equal('TASK_RUNNING');

    // A kills its web-1: B's keeps running.
    expect(await a.call({ type: 'KILL', kill: { task_id: { value: TASK }, agent_id: { value: agentId } } })).to.equal(202);
    await a.waitState('TASK_KILLED');
    tasks = await agentTasks();
    expect(tasks.filter((t) => t.framework_id === b.id).map((t) => t.state)).to.deep.equal(['TASK_RUNNING']);
    expect(master.node.core.ctx.tasks.get(b.id, TASK)?.state).to.equal('TASK_RUNNING');

    // Reconciliation: each framework hears of its own task only. A's was killed and the kill acknowledged,
    // so, as in Mesos, the master no longer knows it and the agent does not have it.
    const recA = await reconcile(a, agentId);
    const recB = await reconcile(b, agentId);
    expect(recA.map((s) => `${s.task_id.value}/${s.state}/${String(s.message)}`)).to.deep.equal([`${TASK}/TASK_LOST/Reconciliation: Task is unknown to the agent`]);
    expect(recB.map((s) => `${s.task_id.value}/${s.state}`)).to.deep.equal([`${TASK}/TASK_RUNNING`]);

    // B kills its own.
    expect(await b.call({ type: 'KILL', kill: { task_id: { value: TASK }, agent_id: { value: agentId } } })).to.equal(202);
    await b.waitState('TASK_KILLED');
  });
});
