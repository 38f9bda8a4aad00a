/**
 * Scheduler API semantics a Mesos client relies on, on a real socket: the
 * `application/recordio` stream type with `Message-Content-Type`, Accept
 * ignored on non-SUBSCRIBE calls, SUBSCRIBE with a `Mesos-Stream-Id` header
 * refused, TEARDOWN ending the stream, a removed framework's re-SUBSCRIBE
 * answered with an ERROR event on a 200 stream, and DECLINE with no offers.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { startMaster, type MasterHandle } from '../../../src/master/master.ts';
import type { SchedulerEvent } from '../../../src/master/wire.ts';
import { EventReader, post } from './raw-client.ts';

const INFO = { user: 'test', name: 'semantics', failover_timeout: 60 };
const JSON_HEADERS = { 'content-type': 'application/json' };

describe('master scheduler API semantics (Mesos clients)', function () {
  this.timeout(30_000);
  let master: MasterHandle;
  let api: string;
  const readers: EventReader<SchedulerEvent>[] = [];

  before(async () => {
    master = await startMaster({ port: 0, ip: '127.0.0.1', logger: pino({ level: 'silent' }) });
    api = `${master.url}/api/v1/scheduler`;
  });

  after(async () => {
    for (const r of readers) r.close();
    await master.close();
  });

  async function open(call: object, media: 'application/json' | 'application/x-protobuf' = 'application/json', headers: Record<string, string> = {}): Promise<EventReader<SchedulerEvent>> {
    const r = await EventReader.open<SchedulerEvent>(api, 'mesos.v1.scheduler.Event', media, 'mesos.v1.scheduler.Call', call, headers);
    readers.push(r);
    return r;
  }

  it('Accept: application/recordio + Message-Accept → Content-Type application/recordio, Message-Content-Type, records in that codec', async () => {
    const r = await open({ type: 'SUBSCRIBE', subscribe: { framework_info: INFO } }, 'application/x-protobuf', {
      accept: 'application/recordio',
      'message-accept': 'application/x-protobuf',
    });
    expect(r.headers['content-type']).to.equal('application/recordio');
    expect(r.headers['message-content-type']).to.equal('application/x-protobuf');
    expect((await r.next()).type).to.equal('SUBSCRIBED');
    const plain = await open({ type: 'SUBSCRIBE', subscribe: { framework_info: INFO } });
    expect(plain.headers['content-type']).to.equal('application/json');
    expect(plain.headers['message-content-type']).to.equal(undefined);
  });

  it('non-SUBSCRIBE calls answer 202 whatever their Accept; DECLINE with no offer ids is fine', async () => {
    const r = await open({ type: 'SUBSCRIBE', subscribe: { framework_info: INFO } });
    const fwId = (await r.next()).subscribed?.framework_id.value ?? '';
    const headers = { ...JSON_HEADERS, accept: 'application/recordio', 'mesos-stream-id': r.streamId };
    const ans = await post(api, JSON.stringify({ type: 'DECLINE', framework_id: { value: fwId }, decline: { offer_ids: [] } }), headers);
    expect([ans.status, ans.text]).to.deep.equal([202, '']);
  });

  it('SUBSCRIBE with a Mesos-Stream-Id header → 400', async () => {
    const ans = await post(api, JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: INFO } }), { ...JSON_HEADERS, 'mesos-stream-id': 'x' });
    expect([ans.status, ans.text]).to.deep.equal([400, "Subscribe calls should not include the 'Mesos-Stream-Id' header"]);
  });

  it('TEARDOWN ends the stream; re-subscribing the removed framework gets 200, one ERROR event, end of stream', async () => {
    const r = await open({ type: 'SUBSCRIBE', subscribe: { framework_info: INFO } });
    const fwId = (await r.next()).subscribed?.framework_id.value ?? '';
    const ans = await post(api, JSON.stringify({ type: 'TEARDOWN', framework_id: { value: fwId } }), { ...JSON_HEADERS, 'mesos-stream-id': r.streamId });
    expect(ans.status).to.equal(202);
    await r.ended$();

    const again = await open({ type: 'SUBSCRIBE', framework_id: { value: fwId }, subscribe: { framework_info: { ...INFO, id: { value: fwId } } } });
    expect(again.status).to.equal(200);
    expect(again.streamId).to.not.equal('');
    const ev = await again.next();
    expect([ev.type, ev.error?.message]).to.deep.equal(['ERROR', 'Framework has been removed']);
    await again.ended$();
    expect(again.isEnded).to.equal(true);
  });

  it('a FrameworkInfo Mesos would not take gets 200, one ERROR event in its words, end of stream (as Mesos refuses a subscription)', async () => {
    const r = await open({ type: 'SUBSCRIBE', subscribe: { framework_info: { ...INFO, roles: ['web'] } } });
    expect(r.status).to.equal(200);
    const ev = await r.next();
    expect([ev.type, ev.error?.message]).to.deep.equal(['ERROR', "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"]);
    await r.ended$();
  });
});
