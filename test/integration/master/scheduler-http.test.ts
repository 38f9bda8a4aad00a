/**
 * The master's HTTP edge on a real socket (127.0.0.1, ephemeral port): exact
 * status codes and messages for bad input, media negotiation, SUBSCRIBE stream
 * framing (RecordIO, Mesos-Stream-Id, heartbeats), protobuf both ways, and the
 * operator endpoints. A raw client, not the SDK.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { encodeProtobuf } from '../../../src/protocol/codec.ts';
import { startMaster, type MasterHandle } from '../../../src/master/master.ts';
import type { SchedulerEvent } from '../../../src/master/wire.ts';
import { EventReader, get, json, post } from './raw-client.ts';

const SUBSCRIBE = { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'test', name: 'edge', failover_timeout: 60 } } };
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('master HTTP edge (scheduler API)', function () {
  this.timeout(30_000);
  let master: MasterHandle;
  let api: string;
  const readers: EventReader<SchedulerEvent>[] = [];

  before(async () => {
    master = await startMaster({ port: 0, ip: '127.0.0.1', heartbeatIntervalSec: 0.2, logger: pino({ level: 'silent' }) });
    api = `${master.url}/api/v1/scheduler`;
  });

  after(async () => {
    for (const r of readers) r.close();
    await master.close();
  });

  async function subscribe(media: 'application/json' | 'application/x-protobuf' = 'application/json', headers: Record<string, string> = {}): Promise<EventReader<SchedulerEvent>> {
    const r = await EventReader.open<SchedulerEvent>(api, 'mesos.v1.scheduler.Event', media, 'mesos.v1.scheduler.Call', SUBSCRIBE, headers);
    readers.push(r);
    return r;
  }

  it('SUBSCRIBE: 200, Mesos-Stream-Id UUID, RecordIO records, SUBSCRIBED first, then a HEARTBEAT at once (as Mesos), then HEARTBEATs', async () => {
    const r = await subscribe();
    expect(r.status).to.equal(200);
    expect(r.streamId).to.match(UUID_RE);
    expect(String(r.headers['content-type'])).to.match(/^application\/json/);
    const first = await r.next();
    expect(first.type).to.equal('SUBSCRIBED');
    expect(first.subscribed?.framework_id.value).to.match(new RegExp(`^${master.masterId}-\\d{4}$`));
    expect(first.subscribed?.heartbeat_interval_seconds).to.equal(0.2);
    expect((await r.next()).type).to.equal('HEARTBEAT');
    // Framing: "<len>\n<json>" records back to back.
    const raw = Buffer.concat(r.raw).toString('utf8');
    const m = /^(\d+)\n/.exec(raw);
    expect(m).to.not.equal(null);
    const len = Number(m?.[1]);
    expect(JSON.parse(raw.slice(m?.[0].length, (m?.[0].length ?? 0) + len)).type).to.equal('SUBSCRIBED');
  });

  it('protobuf request and protobuf response', async () => {
    const r = await subscribe('application/x-protobuf');
    expect(String(r.headers['content-type'])).to.equal('application/x-protobuf');
    const ev = await r.next();
    expect(ev.type).to.equal('SUBSCRIBED');
    // A protobuf non-subscribe call is accepted too.
    const body = encodeProtobuf('mesos.v1.scheduler.Call', { type: 'REVIVE', framework_id: ev.subscribed?.framework_id });
    const ans = await post(api, body, { 'content-type': 'application/x-protobuf', 'mesos-stream-id': r.streamId });
    expect([ans.status, ans.text]).to.deep.equal([202, '']);
  });

  it('a protobuf SUBSCRIBE without an Accept, or accepting anything, is answered in JSON, as Mesos does', async () => {
    for (const accept of ['', '*/*']) {
      const r = await subscribe('application/x-protobuf', { accept });
      expect(String(r.headers['content-type']), `Accept: '${accept}'`).to.equal('application/json');
      expect((await r.next()).type).to.equal('SUBSCRIBED');
      r.close();
    }
  });

  it("Accept: 'application/json, application/json' is fine", async () => {
    const r = await subscribe('application/json', { accept: 'application/json, application/json' });
    expect((await r.next()).type).to.equal('SUBSCRIBED');
  });

  it('malformed JSON → 400', async () => {
    const ans = await post(api, '{"type": "SUBSCRIBE",', { 'content-type': 'application/json' });
    expect(ans.status).to.equal(400);
    expect(ans.text).to.match(/^Failed to parse body into JSON/);
  });

  it('a wrongly typed field → 400 naming the field path', async () => {
    const ans = await post(api, JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 5, name: 'x' } } }), { 'content-type': 'application/json' });
    expect(ans.status).to.equal(400);
    expect(ans.text).to.contain('subscribe.framework_info.user');
  });

  it('UPDATE_FRAMEWORK: 200 with an empty body in JSON and protobuf (as Mesos), 400 in its words for a change it refuses', async () => {
    const r = await subscribe();
    const fwId = (await r.next()).subscribed?.framework_id.value ?? '';
    const info = { ...SUBSCRIBE.subscribe.framework_info, id: { value: fwId }, name: 'renamed' };
    const headers = { 'content-type': 'application/json', 'mesos-stream-id': r.streamId };
    const ok = await post(api, JSON.stringify({ type: 'UPDATE_FRAMEWORK', framework_id: { value: fwId }, update_framework: { framework_info: info } }), headers);
    expect([ok.status, ok.text]).to.deep.equal([200, '']);
    const state = JSON.parse((await get(`${master.url}/state`)).text) as { frameworks: { id: string; name: string }[] };
    expect(state.frameworks.find((f) => f.id === fwId)?.name).to.equal('renamed');
    const pb = encodeProtobuf('mesos.v1.scheduler.Call', { type: 'UPDATE_FRAMEWORK', framework_id: { value: fwId }, update_framework: { framework_info: { ...info, name: 'again' } } });
    const okPb = await post(api, pb, { ...headers, 'content-type': 'application/x-protobuf' });
    expect([okPb.status, okPb.text]).to.deep.equal([200, '']);
    const refused = await post(api, JSON.stringify({ type: 'UPDATE_FRAMEWORK', framework_id: { value: fwId }, update_framework: { framework_info: { ...info, user: 'root' } } }), headers);
    expect([refused.status, refused.text]).to.deep.equal([400, "FrameworkInfo update is not valid: Updating 'FrameworkInfo.user' is unsupported; attempted to update from 'test' to 'root'"]);
  });

  it('an unknown call type → 400', async () => {
    const ans = await post(api, JSON.stringify({ type: 'LAUNCH_ROCKETS' }), { 'content-type': 'application/json' });
    expect(ans.status).to.equal(400);
    const unknown = await post(api, JSON.stringify({ type: 'UNKNOWN', framework_id: { value: 'x' } }), { 'content-type': 'application/json' });
    expect([unknown.status, unknown.text]).to.deep.equal([400, "Expecting 'type' to be present"]);
  });

  it('missing Mesos-Stream-Id → 400, wrong → 400, unknown framework → 400, empty body → 400', async () => {
    const r = await subscribe();
    const fwId = (await r.next()).subscribed?.framework_id.value ?? '';
    const revive = JSON.stringify({ type: 'REVIVE', framework_id: { value: fwId } });
    const missing = await post(api, revive, { 'content-type': 'application/json' });
    expect([missing.status, missing.text]).to.deep.equal([400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header"]);
    const wrong = await post(api, revive, { 'content-type': 'application/json', 'mesos-stream-id': 'nope' });
    expect(wrong.status).to.equal(400);
    expect(wrong.text).to.equal(`The stream ID 'nope' included in this request didn't match the stream ID currently associated with framework ID ${fwId}`);
    const unknown = await post(api, JSON.stringify({ type: 'REVIVE', framework_id: { value: 'ghost' } }), { 'content-type': 'application/json', 'mesos-stream-id': r.streamId });
    expect([unknown.status, unknown.text]).to.deep.equal([400, 'Framework cannot be found']);
    const ok = await post(api, revive, { 'content-type': 'application/json', 'mesos-stream-id': r.streamId });
    expect([ok.status, ok.text]).to.deep.equal([202, '']);
    const empty = await post(api, '', { 'content-type': 'application/json' });
    expect(empty.status).to.equal(400);
  });

  it('a framework whose stream closed (with failover_timeout) gets 403 on calls', async () => {
    const r = await subscribe();
    const fwId = (await r.next()).subscribed?.framework_id.value ?? '';
    r.close();
    const call = JSON.stringify({ type: 'REVIVE', framework_id: { value: fwId } });
    let ans = await post(api, call, { 'content-type': 'application/json', 'mesos-stream-id': r.streamId });
    for (let i = 0; i < 500 && ans.status === 202; i++) {
      await new Promise((res) => setTimeout(res, 20));
      ans = await post(api, call, { 'content-type': 'application/json', 'mesos-stream-id': r.streamId });
    }
    expect([ans.status, ans.text]).to.deep.equal([403, 'Framework is not subscribed']);
  });

  it('400 without a Content-Type, 415 with an unsupported one; 406 when Accept allows neither JSON nor protobuf', async () => {
    const { body } = json(SUBSCRIBE);
    const none = await post(api, body, {});
    expect([none.status, none.text]).to.deep.equal([400, "Expecting 'Content-Type' to be present"]);
    expect((await post(api, body, { 'content-type': 'text/plain' })).status).to.equal(415);
    const na = await post(api, body, { 'content-type': 'application/json', accept: 'text/html' });
    expect(na.status).to.equal(406);
    expect(na.text).to.match(/^Expecting 'Accept' to allow/);
  });

  it('405 for GET on the API; 404 JSON for unknown paths; 413 for bodies over 16 MiB', async () => {
    const wrongMethod = await post(api, '', {}, 'GET');
    expect([wrongMethod.status, wrongMethod.headers.allow]).to.deep.equal([405, 'POST']);
    const nf = await get(`${master.url}/no/such/thing`);
    expect(nf.status).to.equal(404);
    expect(JSON.parse(nf.text)).to.deep.include({ code: 'CYG_NOT_FOUND' });
    const big = await post(api, Buffer.alloc(16 * 1024 * 1024 + 10, 0x20), { 'content-type': 'application/json' });
    expect(big.status).to.equal(413);
  });

  it('/health, /state and /metrics answer', async () => {
    const health = await get(`${master.url}/health`);
    expect(health.status).to.equal(200);
    // Idle connections stay open longer than clients pool them (Go: 90 s), not node's 5 s.
    expect(health.headers['keep-alive']).to.equal('timeout=120');
    const state = JSON.parse((await get(`${master.url}/state`)).text) as { id: string; frameworks: unknown[]; activated_slaves: number };
    expect(state.id).to.equal(master.masterId);
    expect(state.frameworks.length).to.be.greaterThan(0);
    const metrics = (await get(`${master.url}/metrics`)).text;
    expect(metrics).to.contain('cygnet_master_agents{state="active"} 0');
    expect(metrics).to.contain('cygnet_master_allocation_cycle_seconds_count');
  });

  it('Mesos operator views /frameworks, /slaves, /tasks, /state-summary answer, also under /master (as Mesos clients call them)', async () => {
    const state = JSON.parse((await get(`${master.url}/state`)).text) as { frameworks: { id: string }[]; slaves: unknown[] };
    for (const prefix of ['', '/master']) {
      const fws = await get(`${master.url}${prefix}/frameworks`);
      expect(fws.status).to.equal(200);
      const summary = JSON.parse((await get(`${master.url}${prefix}/state-summary`)).text) as { hostname: string; frameworks: { id: string; TASK_RUNNING: number }[] };
      expect(summary.frameworks.map((f) => f.id)).to.deep.equal(state.frameworks.map((f) => f.id));
      expect(summary.frameworks.every((f) => typeof f.TASK_RUNNING === 'number')).to.equal(true);
      const fwBody = JSON.parse(fws.text) as { frameworks: { id: string }[]; completed_frameworks: unknown[]; unregistered_frameworks: unknown[] };
      expect(fwBody.frameworks.map((f) => f.id)).to.deep.equal(state.frameworks.map((f) => f.id));
      expect(fwBody.completed_frameworks).to.be.an('array');
      expect(fwBody.unregistered_frameworks).to.deep.equal([]);
      const slaves = JSON.parse((await get(`${master.url}${prefix}/slaves`)).text) as { slaves: unknown[]; recovered_slaves: unknown[] };
      expect(slaves.slaves).to.deep.equal(state.slaves);
      expect(slaves.recovered_slaves).to.deep.equal([]);
      const tasks = JSON.parse((await get(`${master.url}${prefix}/tasks`)).text) as { tasks: unknown[] };
      expect(tasks.tasks).to.be.an('array');
    }
  });
});
