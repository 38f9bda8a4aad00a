/**
 * SchedulerClient against an in-process fake Scheduler API endpoint
 * (test/helpers/fake-scheduler-master.ts): subscription, stream id and
 * framework id on calls, typed errors, redirects, failover after a dropped
 * stream, and missed-heartbeat detection driven by a ManualClock.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../src/common/clock.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import { SchedulerCallError, SchedulerClient, SchedulerStateError } from '../../../src/framework/sdk/index.ts';
import { ValidationError } from '../../../src/common/errors.ts';
import { FakeSchedulerMaster } from '../../helpers/fake-scheduler-master.ts';
import { SchedulerRecorder } from '../../helpers/scheduler-recorder.ts';
import type { Offer, SchedulerEvent } from '../../../src/protocol/mesos-types.ts';

const frameworkInfo = { user: 'tester', name: 'sdk-unit', failover_timeout: 60 };
const fastBackoff = { minMs: 5, maxMs: 20 };

function offer(id: string): Offer {
  return {
    id: { value: id },
    framework_id: { value: 'fw-1' },
    agent_id: { value: 'agent-1' },
    hostname: 'localhost',
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 } }],
  };
}

describe('SchedulerClient', () => {
  const masters: FakeSchedulerMaster[] = [];
  const clients: SchedulerClient[] = [];

  async function fakeMaster(): Promise<FakeSchedulerMaster> {
    const m = new FakeSchedulerMaster();
    masters.push(m);
    await m.start();
    return m;
  }
  function client(opts: Partial<ConstructorParameters<typeof SchedulerClient>[0]> & { masters: string[] }): SchedulerClient {
    const c = new SchedulerClient({ frameworkInfo, backoff: fastBackoff, random: new SeededRandom(1), ...opts });
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(masters.splice(0).map((m) => m.stop()));
  });

  it('subscribes, dispatches typed events and sends calls with the stream id and framework id', async () => {
    const m = await fakeMaster();
    const c = client({ masters: [m.address] });
    const rec = new SchedulerRecorder(c);
    const info = await c.subscribe();
    expect(info).to.include({ frameworkId: 'fw-1', streamId: 'stream-1', failover: false, heartbeatIntervalSeconds: 15 });
    expect(c.state).to.equal('subscribed');
    expect(c.describe()).to.equal(`scheduler-client subscribed framework=fw-1 master=http://${m.address} stream=stream-1`);
    expect(m.subscribes[0]?.subscribe?.framework_info).to.deep.equal(frameworkInfo);

    m.send({ type: 'OFFERS', offers: { offers: [offer('o1'), offer('o2')] } });
    m.send({ type: 'HEARTBEAT' });
    m.send({ type: 'RESCIND', rescind: { offer_id: { value: 'o2' } } });
    await rec.waitFor('rescind', () => rec.rescinded[0]);
    expect(rec.offers.map((o) => o.id.value)).to.deep.equal(['o1', 'o2']);
    expect(rec.heartbeats).to.equal(1);

    await c.launch(rec.offers[0]!, [{ name: 't', task_id: { value: 't1' }, agent_id: { value: 'agent-1' }, command: { value: 'true' } }], { refuse_seconds: 1 });
    await c.decline(['o2']);
    await c.kill('t1', 'agent-1');
    await c.reconcile([{ taskId: 't1' }]);
    await c.revive(['*']);
    await c.suppress();
    await c.message('agent-1', 'exec-1', 'hi');
    expect(m.calls.map((r) => r.call.type)).to.deep.equal(['ACCEPT', 'DECLINE', 'KILL', 'RECONCILE', 'REVIVE', 'SUPPRESS', 'MESSAGE']);
    for (const r of m.calls) {
      expect(r.streamId).to.equal('stream-1');
      expect(r.call.framework_id).to.deep.equal({ value: 'fw-1' });
    }
    expect(m.calls[0]?.call.accept).to.deep.equal({
      offer_ids: [{ value: 'o1' }],
      operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 't', task_id: { value: 't1' }, agent_id: { value: 'agent-1' }, command: { value: 'true' } }] } }],
      filters: { refuse_seconds: 1 },
    });
    expect(m.calls[6]?.call.message?.data).to.equal(Buffer.from('hi').toString('base64'));
  });

  it('skips an event it cannot read (a newer master\'s type) and stays on the stream', async () => {
    const m = await fakeMaster();
    const c = client({ masters: [m.address] });
    const rec = new SchedulerRecorder(c);
    await c.subscribe();
    m.send({ type: 'UPDATE_OPERATION_STATUS', update_operation_status: {} } as unknown as SchedulerEvent);
    m.send({ type: 'OFFERS', offers: { offers: [offer('o1')] } });
    await rec.waitFor('the offer after it', () => rec.offers[0]);
    expect(c.state).to.equal('subscribed');
    expect(m.subscribes, 'no re-subscription').to.have.lengthOf(1);
  });

  it('acknowledges only updates that carry a uuid, and auto-acknowledges when asked', async () => {
    const m = await fakeMaster();
    const c = client({ masters: [m.address], autoAcknowledge: true });
    const rec = new SchedulerRecorder(c);
    await c.subscribe();
    await c.acknowledge({ task_id: { value: 't1' }, state: 'TASK_RUNNING' });
    expect(m.calls).to.have.length(0);
    m.send({ type: 'UPDATE', update: { status: { task_id: { value: 't1' }, state: 'TASK_RUNNING', agent_id: { value: 'a1' }, uuid: 'AAEC' } } });
    await rec.waitForState('t1', 'TASK_RUNNING');
    await m.waitFor(() => m.calls.length === 1, 'the auto ACKNOWLEDGE');
    expect(m.calls[0]?.call).to.deep.equal({
      type: 'ACKNOWLEDGE',
      framework_id: { value: 'fw-1' },
      acknowledge: { agent_id: { value: 'a1' }, task_id: { value: 't1' }, uuid: 'AAEC' },
    });
  });

  it('turns a non-202 answer into a SchedulerCallError with the status and Mesos message', async () => {
    const m = await fakeMaster();
    const c = client({ masters: [m.address] });
    await c.subscribe();
    m.callStatus = 400;
    m.callBody = 'Failed to validate scheduler::Call: Expecting \'kill\' to be present';
    const err = await c.kill('t1').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(SchedulerCallError);
    expect(err).to.include({ status: 400, code: 'CYG_BAD_REQUEST', callType: 'KILL' });
    expect((err as Error).message).to.equal("KILL answered 400: Failed to validate scheduler::Call: Expecting 'kill' to be present");
  });

  it('refuses calls before subscribing and after close', async () => {
    const m = await fakeMaster();
    const c = client({ masters: [m.address] });
    await expectRejects(c.revive(), SchedulerStateError, /REVIVE: not subscribed \(idle\)/);
    await c.subscribe();
    await c.close();
    await expectRejects(c.revive(), SchedulerStateError, /not subscribed \(closed\)/);
    await expectRejects(c.subscribe(), SchedulerStateError, /client is closed/);
  });

  it('rejects bad options with the field path', () => {
    expect(() => new SchedulerClient({ masters: [], frameworkInfo })).to.throw(ValidationError, /masters: expected a non-empty list/);
    expect(() => new SchedulerClient({ masters: ['nohost'], frameworkInfo })).to.throw(ValidationError, /masters\[0\]: expected host:port, got "nohost"/);
    expect(() => new SchedulerClient({ masters: ['a:1'], frameworkInfo: { name: 'x' } as never })).to.throw(ValidationError, /frameworkInfo.user: expected a string/);
  });

  it('fails subscribe() for good when the master rejects SUBSCRIBE with 4xx', async () => {
    const m = await fakeMaster();
    m.subscribeAnswers = [{ kind: 'status', status: 400, body: "Failed to validate scheduler::Call: 'framework_info.user' is missing" }];
    const c = client({ masters: [m.address] });
    const rec = new SchedulerRecorder(c);
    const err = await c.subscribe().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(SchedulerCallError);
    expect((err as SchedulerCallError).status).to.equal(400);
    expect(rec.errors[0]).to.match(/SUBSCRIBE answered 400: .*framework_info.user/);
    expect(c.state).to.equal('closed');
    expect(m.subscribes).to.have.length(1);
  });

  it('follows a 307 leader redirect (Mesos-style //host:port Location)', async () => {
    const follower = await fakeMaster();
    const leader = await fakeMaster();
    follower.subscribeAnswers = [{ kind: 'redirect', location: `//${leader.address}/api/v1/scheduler` }];
    const c = client({ masters: [follower.address] });
    const info = await c.subscribe();
    expect(info.masterUrl).to.equal(`http://${leader.address}`);
    await c.revive();
    expect(leader.calls.map((r) => r.call.type)).to.deep.equal(['REVIVE']);
    expect(follower.calls).to.have.length(0);
  });

  it('skips an unreachable master and subscribes to the next one', async () => {
    const dead = await fakeMaster();
    const deadAddress = dead.address;
    await dead.stop();
    masters.splice(masters.indexOf(dead), 1);
    const live = await fakeMaster();
    const c = client({ masters: [deadAddress, live.address] });
    const rec = new SchedulerRecorder(c);
    const info = await c.subscribe();
    expect(info.masterUrl).to.equal(`http://${live.address}`);
    expect(rec.disconnects[0]?.reason).to.match(/cannot reach/);
  });

  it('re-subscribes with the same framework id (failover) when the stream ends', async () => {
    const m = await fakeMaster();
    m.subscribeAnswers = [{ kind: 'accept', frameworkId: 'fw-given' }];
    const c = client({ masters: [m.address] });
    const rec = new SchedulerRecorder(c);
    await c.subscribe();
    m.endStream();
    const second = await rec.waitFor('second SUBSCRIBED', () => rec.subscribed[1]);
    expect(second).to.include({ frameworkId: 'fw-given', failover: true, streamId: 'stream-2' });
    expect(rec.disconnects[0]?.reason).to.equal('master closed the stream');
    expect(m.subscribes[1]?.framework_id).to.deep.equal({ value: 'fw-given' });
    expect(m.subscribes[1]?.subscribe?.framework_info.id).to.deep.equal({ value: 'fw-given' });
    await c.revive();
    expect(m.calls[0]?.streamId).to.equal('stream-2');
  });

  it('reconnects when no event arrives within two heartbeat intervals', async () => {
    const m = await fakeMaster();
    m.subscribeAnswers = [{ kind: 'accept', heartbeatIntervalSeconds: 1 }];
    const clock = new ManualClock();
    const c = client({ masters: [m.address], clock });
    const rec = new SchedulerRecorder(c);
    await c.subscribe();
    clock.advance(1_500);
    m.send({ type: 'HEARTBEAT' });
    await rec.waitFor('heartbeat', () => (rec.heartbeats === 1 ? true : undefined));
    clock.advance(1_900); // 1.9 s since the heartbeat: still alive
    expect(rec.disconnects).to.have.length(0);
    clock.advance(200); // 2.1 s of silence
    const d = await rec.waitFor('disconnect', () => rec.disconnects[0]);
    expect(d.reason).to.equal('missed heartbeats: nothing for 2000 ms');
    clock.advance(fastBackoff.maxMs);
    await rec.waitFor('re-subscribed', () => rec.subscribed[1]);
    expect(m.subscribes[1]?.framework_id).to.deep.equal({ value: 'fw-1' });
  });

  it('stops for good on an ERROR event', async () => {
    const m = await fakeMaster();
    const c = client({ masters: [m.address] });
    const rec = new SchedulerRecorder(c);
    await c.subscribe();
    m.send({ type: 'ERROR', error: { message: 'Framework has been removed' } });
    await rec.waitFor('error', () => rec.errors[0]);
    expect(rec.errors[0]).to.match(/Framework has been removed/);
    await rec.waitFor('closed', () => (c.state === 'closed' ? true : undefined));
    expect(m.subscribes).to.have.length(1);
  });
});

async function expectRejects(p: Promise<unknown>, type: new (...a: never[]) => Error, message: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(type);
  expect((err as Error).message).to.match(message);
}
