/**
 * Master ↔ agent protocol and the full offer → launch → update → ack path on
 * real sockets, with a raw agent (protobuf) and a raw framework (JSON): the
 * agent's resources become an offer, ACCEPT/LAUNCH reaches the agent's
 * stream, the agent's UPDATE reaches the framework with its uuid, the
 * framework's ACKNOWLEDGE reaches the agent. Then the agent goes silent and
 * the framework sees TASK_LOST + FAILURE; it comes back and is reconciled.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { encodeProtobuf } from '../../../src/protocol/codec.ts';
import { startMaster, type MasterHandle } from '../../../src/master/master.ts';
import type { AgentEvent, SchedulerEvent } from '../../../src/master/wire.ts';
import { EventReader, get, post } from './raw-client.ts';

const PB = 'application/x-protobuf';
const UUID = Buffer.alloc(16, 9).toString('base64');

describe('master ↔ agent flow (real sockets)', function () {
  this.timeout(30_000);
  let master: MasterHandle;
  const readers: { close(): void }[] = [];

  before(async () => {
    master = await startMaster({ port: 0, ip: '127.0.0.1', agentPingTimeoutMs: 2000, agentHeartbeatIntervalSec: 0.5, allocationIntervalMs: 50, logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    for (const r of readers) r.close();
    await master.close();
  });

  const agentInfo = {
    hostname: 'localhost',
    port: 5999,
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 2 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 1024 } },
    ],
    attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }],
  };

  async function agentSubscribe(body: object): Promise<EventReader<AgentEvent>> {
    const r = await EventReader.open<AgentEvent>(`${master.url}/api/v1/agent`, 'cygnet.agent.Event', PB, 'cygnet.agent.Call', body);
    readers.push(r);
    return r;
  }

  async function agentCall(streamId: string, call: object): Promise<number> {
    return (await post(`${master.url}/api/v1/agent`, encodeProtobuf('cygnet.agent.Call', call), { 'content-type': PB, 'mesos-stream-id': streamId })).status;
  }

  it('offer → launch → update → acknowledge → agent lost → agent back', async () => {
    const agent = await agentSubscribe({ type: 'SUBSCRIBE', subscribe: { agent_info: agentInfo } });
    const subscribed = await agent.next();
    expect(subscribed.type).to.equal('SUBSCRIBED');
    const agentId = subscribed.subscribed?.agent_id.value ?? '';
    expect(agentId).to.equal(`${master.masterId}-S0`);
    const hb = setInterval(() => void agentCall(agent.streamId, { type: 'HEARTBEAT', agent_id: { value: agentId } }), 50);
    try {
      const fw = await EventReader.open<SchedulerEvent>(`${master.url}/api/v1/scheduler`, 'mesos.v1.scheduler.Event', 'application/json', 'mesos.v1.scheduler.Call', {
        type: 'SUBSCRIBE',
        subscribe: { framework_info: { user: 'u', name: 'flow', failover_timeout: 60 } },
      });
      readers.push(fw);
      const fwId = (await fw.next()).subscribed?.framework_id.value ?? '';
      const offers = await fw.nextMatching((e) => e.type === 'OFFERS');
      const offer = offers.offers?.offers?.[0];
      expect(offer?.agent_id.value).to.equal(agentId);
      expect(offer?.url?.address.port).to.equal(5999);
      expect(offer?.attributes?.[0].text?.value).to.equal('r1');
      const sched = async (call: object): Promise<number> =>
        (await post(`${master.url}/api/v1/scheduler`, JSON.stringify({ framework_id: { value: fwId }, ...call }), { 'content-type': 'application/json', 'mesos-stream-id': fw.streamId })).status;
      expect(
        await sched({
          type: 'ACCEPT',
          accept: {
            offer_ids: [offer?.id],
            operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 't', task_id: { value: 't1' }, agent_id: { value: agentId }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }], command: { value: 'sleep 10' } }] } }],
          },
        }),
      ).to.equal(202);
      const launch = await agent.nextMatching((e) => e.type === 'LAUNCH');
      expect(launch.launch?.task.task_id.value).to.equal('t1');
      expect(launch.launch?.framework_info.id?.value).to.equal(fwId);
      expect(await agentCall(agent.streamId, { type: 'UPDATE', agent_id: { value: agentId }, update: { status: { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID, agent_id: { value: agentId }, source: 'SOURCE_EXECUTOR' } } })).to.equal(202);
      const update = await fw.nextMatching((e) => e.type === 'UPDATE');
      expect([update.update?.status.state, update.update?.status.uuid]).to.deep.equal(['TASK_RUNNING', UUID]);
      expect(await sched({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: agentId }, task_id: { value: 't1' }, uuid: UUID } })).to.equal(202);
      const ack = await agent.nextMatching((e) => e.type === 'ACKNOWLEDGE');
      expect(ack.acknowledge?.uuid).to.equal(UUID);

      // The agent goes silent: after the ping timeout its task is TASK_LOST and the framework gets FAILURE.
      clearInterval(hb);
      const lost = await fw.nextMatching((e) => e.type === 'UPDATE');
      expect([lost.update?.status.state, lost.update?.status.reason]).to.deep.equal(['TASK_LOST', 'REASON_AGENT_REMOVED']);
      const failure = await fw.nextMatching((e) => e.type === 'FAILURE');
      expect(failure.failure?.agent_id?.value).to.equal(agentId);
      await agent.ended$();
      expect(await agentCall(agent.streamId, { type: 'HEARTBEAT', agent_id: { value: agentId } })).to.equal(403);

      // It re-subscribes with its id and its running task: same agent, task running again.
      const back = await agentSubscribe({
        type: 'SUBSCRIBE',
        subscribe: {
          agent_info: { ...agentInfo, id: { value: agentId } },
          tasks: [launch.launch?.task],
          task_statuses: [{ task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID, agent_id: { value: agentId } }],
          frameworks: [launch.launch?.framework_info],
        },
      });
      expect((await back.next()).subscribed?.agent_id.value).to.equal(agentId);
      const again = await fw.nextMatching((e) => e.type === 'UPDATE');
      expect(again.update?.status.state).to.equal('TASK_RUNNING');
      const state = JSON.parse((await get(`${master.url}/state`)).text) as { slaves: { id: string; active: boolean; used_resources: { cpus: number } }[] };
      expect(state.slaves.map((s) => [s.id, s.active, s.used_resources.cpus])).to.deep.equal([[agentId, true, 1]]);
    } finally {
      clearInterval(hb);
    }
  });
});
