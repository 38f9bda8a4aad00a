/**
 * The read-only Mesos v1 Operator API (POST /api/v1) on a real master with a
 * raw agent (protobuf) running one task of a raw framework (JSON): health,
 * flags, version, metrics, agents, frameworks, tasks, state and master, in
 * JSON and protobuf; and the ugly cases: GET, a missing or unknown type, a
 * body that does not parse, and a call it does not serve (501).
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { decodeProtobuf, encodeProtobuf } from '../../../src/protocol/codec.ts';
import { startMaster, type MasterHandle } from '../../../src/master/master.ts';
import type { MasterEvent, MasterResponse } from '../../../src/protocol/operator-types.ts';
import type { AgentEvent, SchedulerEvent } from '../../../src/master/wire.ts';
import { EventReader, post, type RawAnswer } from './raw-client.ts';

const PB = 'application/x-protobuf';
const UUID = Buffer.alloc(16, 7).toString('base64');

describe('master: the read-only Operator API (POST /api/v1)', function () {
  this.timeout(30_000);
  let master: MasterHandle;
  const readers: { close(): void }[] = [];
  let heartbeat: NodeJS.Timeout | undefined;
  let agentId = '';
  let frameworkId = '';
  let agentCall: (call: object) => Promise<RawAnswer> = () => Promise.reject(new Error('no agent yet'));

  const operator = (body: object): Promise<RawAnswer> => post(`${master.url}/api/v1`, JSON.stringify(body), { 'content-type': 'application/json' });
  const answer = async (type: string): Promise<MasterResponse> => {
    const r = await operator({ type });
    expect(r.status, r.text).to.equal(200);
    expect(r.headers['content-type']).to.match(/^application\/json/);
    return JSON.parse(r.text) as MasterResponse;
  };

  before(async () => {
    master = await startMaster({ port: 0, ip: '127.0.0.1', allocationIntervalMs: 50, agentPingTimeoutMs: 2000, agentHeartbeatIntervalSec: 0.5, roleWeights: { web: 2, batch: 0.5 }, logger: pino({ level: 'silent' }) });
    const agent = await EventReader.open<AgentEvent>(`${master.url}/api/v1/agent`, 'cygnet.agent.Event', PB, 'cygnet.agent.Call', {
      type: 'SUBSCRIBE',
      subscribe: { agent_info: { hostname: 'localhost', port: 5998, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 512 } }] } },
    });
    readers.push(agent);
    agentId = (await agent.next()).subscribed?.agent_id.value ?? '';
    agentCall = (call: object): Promise<RawAnswer> => post(`${master.url}/api/v1/agent`, encodeProtobuf('cygnet.agent.Call', call), { 'content-type': PB, 'mesos-stream-id': agent.streamId });
    heartbeat = setInterval(() => void agentCall({ type: 'HEARTBEAT', agent_id: { value: agentId } }), 200);
    const fw = await EventReader.open<SchedulerEvent>(`${master.url}/api/v1/scheduler`, 'mesos.v1.scheduler.Event', 'application/json', 'mesos.v1.scheduler.Call', {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { user: 'ops', name: 'operator-test', roles: ['web'], capabilities: [{ type: 'MULTI_ROLE' }] } },
    });
    readers.push(fw);
    frameworkId = (await fw.next()).subscribed?.framework_id.value ?? '';
    const offer = (await fw.nextMatching((e) => e.type === 'OFFERS')).offers?.offers?.[0];
    const accepted = await post(`${master.url}/api/v1/scheduler`, JSON.stringify({
      framework_id: { value: frameworkId },
      type: 'ACCEPT',
      accept: { offer_ids: [offer?.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 'web-1', task_id: { value: 'web-1' }, agent_id: { value: agentId }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role: 'web' } }], command: { value: 'sleep 100' } }] } }] },
    }), { 'content-type': 'application/json', 'mesos-stream-id': fw.streamId });
    expect(accepted.status).to.equal(202);
    await agent.nextMatching((e) => e.type === 'LAUNCH');
    expect((await agentCall({ type: 'UPDATE', agent_id: { value: agentId }, update: { status: { task_id: { value: 'web-1' }, state: 'TASK_RUNNING', uuid: UUID, agent_id: { value: agentId }, source: 'SOURCE_EXECUTOR' } } })).status).to.equal(202);
    await fw.nextMatching((e) => e.type === 'UPDATE');
  });

  after(async () => {
    clearInterval(heartbeat);
    for (const r of readers) r.close();
    await master?.close();
  });

  it('answers GET_HEALTH, GET_VERSION, GET_FLAGS, GET_METRICS and GET_MASTER', async () => {
    expect(await answer('GET_HEALTH')).to.deep.equal({ type: 'GET_HEALTH', get_health: { healthy: true } });
    expect((await answer('GET_VERSION')).get_version?.version_info.version).to.match(/^\d+\.\d+\.\d+/);
    const flags = (await answer('GET_FLAGS')).get_flags?.flags ?? [];
    expect(flags.find((f) => f.name === 'agent_ping_timeout')?.value).to.equal('2000ms');
    const metrics = (await answer('GET_METRICS')).get_metrics?.metrics ?? [];
    expect(metrics.length).to.be.greaterThan(5);
    expect(metrics.every((m) => typeof m.name === 'string' && typeof m.value === 'number')).to.equal(true);
    // The names of /metrics/snapshot, as Mesos' GET_METRICS answers.
    expect(metrics.find((m) => m.name === 'master/elected')?.value).to.equal(1);
    expect(metrics.find((m) => m.name === 'master/slaves_active')?.value).to.equal(1);
    expect((await answer('GET_MASTER')).get_master?.master_info?.id).to.equal(master.masterId);
  });

  it("/state carries Mesos' leader_info and flags, as tools that find the leader or a setting there read them", async () => {
    const state = await (await fetch(`${master.url}/state`)).json() as Record<string, unknown>;
    expect(state.leader_info).to.deep.include({ id: master.masterId });
    expect(state.leader).to.equal(state.pid);
    expect((state.flags as Record<string, string>).agent_ping_timeout).to.equal('2000ms');
    expect(state).to.include.keys('build_date', 'capabilities', 'recovered_slaves', 'orphan_tasks', 'unregistered_frameworks');
    expect((state.frameworks as { tasks: unknown[]; unreachable_tasks: unknown[] }[])[0]).to.include.keys('tasks', 'unreachable_tasks');
  });

  it('lists the agent with its allocated resources, the framework with its info, and the running task', async () => {
    const agents = (await answer('GET_AGENTS')).get_agents?.agents ?? [];
    expect(agents.map((a) => [a.agent_info.id?.value, a.active, a.agent_info.hostname])).to.deep.equal([[agentId, true, 'localhost']]);
    expect(agents[0]?.allocated_resources?.find((r) => r.name === 'cpus')?.scalar?.value).to.equal(1);
    expect(agents[0]?.registered_time?.nanoseconds).to.be.greaterThan(1.7e18);
    const frameworks = (await answer('GET_FRAMEWORKS')).get_frameworks?.frameworks ?? [];
    expect(frameworks.map((f) => [f.framework_info.id?.value, f.framework_info.name, f.active, f.connected, f.recovered])).to.deep.equal([[frameworkId, 'operator-test', true, true, false]]);
    const tasks = (await answer('GET_TASKS')).get_tasks;
    expect(tasks?.tasks?.map((t) => [t.task_id.value, t.framework_id.value, t.agent_id.value, t.state])).to.deep.equal([['web-1', frameworkId, agentId, 'TASK_RUNNING']]);
    expect(tasks?.completed_tasks ?? []).to.deep.equal([]);
  });

  it('answers GET_ROLES (subscribed and weighted roles, their frameworks and held resources) and GET_WEIGHTS', async () => {
    const roles = (await answer('GET_ROLES')).get_roles?.roles ?? [];
    expect(roles.map((r) => [r.name, r.weight, (r.frameworks ?? []).map((f) => f.value)])).to.deep.equal([['batch', 0.5, []], ['web', 2, [frameworkId]]]);
    expect(roles.find((r) => r.name === 'web')?.resources?.find((r) => r.name === 'cpus')?.scalar?.value).to.equal(1);
    expect((await answer('GET_WEIGHTS')).get_weights?.weight_infos).to.deep.equal([{ weight: 2, role: 'web' }, { weight: 0.5, role: 'batch' }]);
  });

  it('answers GET_STATE in protobuf when asked, decodable as mesos.v1.master.Response', async () => {
    const r = await post(`${master.url}/api/v1`, encodeProtobuf('mesos.v1.master.Call', { type: 'GET_STATE' }), { 'content-type': PB, accept: PB });
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.match(/^application\/x-protobuf/);
    const state = decodeProtobuf<MasterResponse>('mesos.v1.master.Response', r.body).get_state;
    expect(state?.get_agents?.agents?.map((a) => a.agent_info.id?.value)).to.deep.equal([agentId]);
    expect(state?.get_frameworks?.frameworks?.map((f) => f.framework_info.name)).to.deep.equal(['operator-test']);
    expect(state?.get_tasks?.tasks?.map((t) => t.task_id.value)).to.deep.equal(['web-1']);
    // JSON to a protobuf request when JSON is what the client accepts.
    const asJson = await post(`${master.url}/api/v1`, encodeProtobuf('mesos.v1.master.Call', { type: 'GET_HEALTH' }), { 'content-type': PB, accept: 'application/json' });
    expect(JSON.parse(asJson.text)).to.deep.equal({ type: 'GET_HEALTH', get_health: { healthy: true } });
  });

  it('streams SUBSCRIBED with the state, then every framework, task and agent change as it happens (SUBSCRIBE)', async () => {
    const ops = await EventReader.open<MasterEvent>(`${master.url}/api/v1`, 'mesos.v1.master.Event', 'application/json', 'mesos.v1.master.Call', { type: 'SUBSCRIBE' });
    readers.push(ops);
    const opsPb = await EventReader.open<MasterEvent>(`${master.url}/api/v1`, 'mesos.v1.master.Event', PB, 'mesos.v1.master.Call', { type: 'SUBSCRIBE' });
    readers.push(opsPb);
    const subscribed = await ops.next();
    expect(subscribed.type).to.equal('SUBSCRIBED');
    expect(subscribed.subscribed?.heartbeat_interval_seconds).to.equal(15);
    expect(subscribed.subscribed?.get_state?.get_tasks?.tasks?.map((t) => [t.task_id.value, t.state])).to.deep.equal([['web-1', 'TASK_RUNNING']]);
    expect((await opsPb.next()).subscribed?.get_state?.get_agents?.agents?.map((a) => a.agent_info.id?.value)).to.deep.equal([agentId]);

    // A second framework: FRAMEWORK_ADDED, and its launch is TASK_ADDED.
    const fw2 = await EventReader.open<SchedulerEvent>(`${master.url}/api/v1/scheduler`, 'mesos.v1.scheduler.Event', 'application/json', 'mesos.v1.scheduler.Call', {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { user: 'ops', name: 'batch', roles: ['batch'], capabilities: [{ type: 'MULTI_ROLE' }] } },
    });
    readers.push(fw2);
    const fw2Id = (await fw2.next()).subscribed?.framework_id.value ?? '';
    const added = await ops.nextMatching((e) => e.type === 'FRAMEWORK_ADDED');
    expect([added.framework_added?.framework.framework_info.id?.value, added.framework_added?.framework.framework_info.name]).to.deep.equal([fw2Id, 'batch']);
    const offer = (await fw2.nextMatching((e) => e.type === 'OFFERS')).offers?.offers?.[0];
    expect((await post(`${master.url}/api/v1/scheduler`, JSON.stringify({
      framework_id: { value: fw2Id },
      type: 'ACCEPT',
      accept: { offer_ids: [offer?.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 'job-1', task_id: { value: 'job-1' }, agent_id: { value: agentId }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, allocation_info: { role: 'batch' } }], command: { value: 'true' } }] } }] },
    }), { 'content-type': 'application/json', 'mesos-stream-id': fw2.streamId })).status).to.equal(202);
    const taskAdded = await ops.nextMatching((e) => e.type === 'TASK_ADDED');
    expect([taskAdded.task_added?.task.task_id.value, taskAdded.task_added?.task.framework_id.value, taskAdded.task_added?.task.state]).to.deep.equal(['job-1', fw2Id, 'TASK_STAGING']);

    // The agent reports it finished: TASK_UPDATED with the status.
    expect((await agentCall({ type: 'UPDATE', agent_id: { value: agentId }, update: { framework_id: { value: fw2Id }, status: { task_id: { value: 'job-1' }, state: 'TASK_FINISHED', uuid: Buffer.alloc(16, 8).toString('base64'), agent_id: { value: agentId }, source: 'SOURCE_EXECUTOR' } } })).status).to.equal(202);
    const updated = await ops.nextMatching((e) => e.type === 'TASK_UPDATED');
    expect([updated.task_updated?.framework_id.value, updated.task_updated?.state, updated.task_updated?.status.task_id.value]).to.deep.equal([fw2Id, 'TASK_FINISHED', 'job-1']);

    // The second framework's stream closes (failover_timeout 0): FRAMEWORK_REMOVED.
    fw2.close();
    const removed = await ops.nextMatching((e) => e.type === 'FRAMEWORK_REMOVED');
    expect(removed.framework_removed?.framework_info.id?.value).to.equal(fw2Id);

    // A new agent: AGENT_ADDED; it never heartbeats, so after the ping timeout AGENT_REMOVED.
    const agent2 = await EventReader.open<AgentEvent>(`${master.url}/api/v1/agent`, 'cygnet.agent.Event', PB, 'cygnet.agent.Call', {
      type: 'SUBSCRIBE',
      subscribe: { agent_info: { hostname: 'other', port: 5997, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] } },
    });
    readers.push(agent2);
    const agent2Id = (await agent2.next()).subscribed?.agent_id.value ?? '';
    const agentAdded = await ops.nextMatching((e) => e.type === 'AGENT_ADDED');
    expect([agentAdded.agent_added?.agent.agent_info.id?.value, agentAdded.agent_added?.agent.agent_info.hostname, agentAdded.agent_added?.agent.active]).to.deep.equal([agent2Id, 'other', true]);
    const agentRemoved = await ops.nextMatching((e) => e.type === 'AGENT_REMOVED', 10_000);
    expect(agentRemoved.agent_removed?.agent_id.value).to.equal(agent2Id);
    // The protobuf subscriber saw the same changes.
    expect((await opsPb.nextMatching((e) => e.type === 'AGENT_REMOVED', 10_000)).agent_removed?.agent_id.value).to.equal(agent2Id);
  });

  it('answers the ugly cases precisely: 405, 400 for a missing, unknown or malformed call, 501 for a call it does not serve', async () => {
    expect((await post(`${master.url}/api/v1`, '', {}, 'GET')).status).to.equal(405);
    const missing = await operator({});
    expect([missing.status, missing.text]).to.deep.equal([400, "Expecting 'type' to be present"]);
    const unknown = await operator({ type: 'GET_EVERYTHING' });
    expect(unknown.status).to.equal(400);
    expect(unknown.text).to.contain('type');
    const malformed = await post(`${master.url}/api/v1`, '{"type": ', { 'content-type': 'application/json' });
    expect(malformed.status).to.equal(400);
    const maintenance = await operator({ type: 'START_MAINTENANCE' });
    expect(maintenance.status).to.equal(501);
    expect(maintenance.text).to.match(/^START_MAINTENANCE is not served: .*SUBSCRIBE.*GET_STATE/);
    expect((await post(`${master.url}/api/v1`, '{"type":"GET_HEALTH"}', { 'content-type': 'text/plain' })).status).to.equal(415);
  });
});
