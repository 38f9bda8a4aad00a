/**
 * The master with a real in-process agent (src/executor): a task launched
 * through a raw framework runs, the agent restarts on the same work dir and
 * re-subscribes with its task, and a KILL after that still reaches the task
 * (regression: the e2e "agent restarted" scenario).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startAgent, type AgentHandle } from '../../../src/executor/agent.ts';
import { startMaster, type MasterHandle } from '../../../src/master/master.ts';
import type { SchedulerEvent, TaskStatus } from '../../../src/master/wire.ts';
import { EventReader, post } from './raw-client.ts';

describe('master with a real agent', function () {
  this.timeout(60_000);
  let master: MasterHandle;
  let agent: AgentHandle | undefined;
  let dir: string;
  const readers: { close(): void }[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cygnet-master-agent-'));
    master = await startMaster({ port: 0, ip: '127.0.0.1', allocationIntervalMs: 100, logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    for (const r of readers) r.close();
    await agent?.shutdown();
    await master.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('launch → RUNNING → agent restart → KILL → TASK_KILLED', async () => {
    const agentOpts = { master: `127.0.0.1:${master.port}`, port: 0, ip: '127.0.0.1', workDir: dir, resources: 'cpus:2;mem:512;disk:100;ports:[31000-31010]', heartbeatIntervalMs: 200, statusRetryInitialMs: 300, reconnectInitialMs: 100, reconnectMaxMs: 500 };
    agent = await startAgent(agentOpts);
    const fw = await EventReader.open<SchedulerEvent>(`${master.url}/api/v1/scheduler`, 'mesos.v1.scheduler.Event', 'application/json', 'mesos.v1.scheduler.Call', {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { user: 'u', name: 'real', failover_timeout: 60 } },
    });
    readers.push(fw);
    const fwId = (await fw.next()).subscribed?.framework_id.value ?? '';
    const call = async (c: object): Promise<number> =>
      (await post(`${master.url}/api/v1/scheduler`, JSON.stringify({ framework_id: { value: fwId }, ...c }), { 'content-type': 'application/json', 'mesos-stream-id': fw.streamId })).status;
    const offer = (await fw.nextMatching((e) => e.type === 'OFFERS', 20_000)).offers?.offers?.[0];
    const agentId = offer?.agent_id.value ?? '';
    expect(
      await call({
        type: 'ACCEPT',
        accept: {
          offer_ids: [offer?.id],
          operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 's', task_id: { value: 's1' }, agent_id: { value: agentId }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 32 } }], command: { value: 'exec sleep 100' } }] } }],
        },
      }),
    ).to.equal(202);
    const waitState = async (state: string): Promise<TaskStatus> => {
      for (;;) {
        const ev = await fw.nextMatching((e) => e.type === 'UPDATE', 20_000);
        const s = ev.update?.status;
        if (s === undefined) continue;
        if (s.uuid !== undefined) await call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: s.agent_id, task_id: s.task_id, uuid: s.uuid } });
        if (s.state === state) return s;
      }
    };
    await waitState('TASK_RUNNING');
    await agent.close();
    agent = await startAgent(agentOpts);
    // Re-subscribed with its task: the master still knows it as running on the same agent.
    for (let i = 0; i < 600 && master.node.core.ctx.agents.get(agentId)?.reregisteredAtMs === undefined; i++) await new Promise((r) => setTimeout(r, 25));
    expect(master.node.core.ctx.agents.size).to.equal(1);
    expect(master.node.core.ctx.tasks.get(fwId, 's1')?.state).to.equal('TASK_RUNNING');
    expect(await call({ type: 'KILL', kill: { task_id: { value: 's1' } } })).to.equal(202);
    const killed = await waitState('TASK_KILLED');
    expect(killed.agent_id?.value).to.equal(agentId);
  });
});
