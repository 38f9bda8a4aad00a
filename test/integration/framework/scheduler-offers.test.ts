/**
 * The scheduler shell against a scripted master (real HTTP, our SDK): what it
 * sends in reply to offers and updates.
 *
 * Regression (found by the reaction benchmark): offers that arrived before the
 * first reconciliation finished were declined with the long idle filter, and
 * since the scheduler had not SUPPRESSed yet, new demand sent no REVIVE — the
 * app's first instance waited out the 120 s filter. Demand must REVIVE
 * whenever long filters are outstanding.
 */
import { expect } from 'chai';
import { AppService } from '../../../src/framework/app-service.ts';
import { FrameworkScheduler } from '../../../src/framework/scheduler/framework-scheduler.ts';
import type { FrameworkCommand } from '../../../src/framework/state/commands.ts';
import { FrameworkState } from '../../../src/framework/state/framework-state.ts';
import { systemClock } from '../../../src/common/clock.ts';
import type { Offer, SchedulerCall } from '../../../src/protocol/mesos-types.ts';
import { FakeSchedulerMaster } from '../../helpers/fake-scheduler-master.ts';
import { Writable } from 'node:stream';
import { createRootLogger } from '../../../src/common/log.ts';
import { ProposalTimeoutError } from '../../../src/raft/errors.ts';

function offer(id: string): Offer {
  return {
    id: { value: id }, framework_id: { value: 'fw-1' }, agent_id: { value: 'agent-1' }, hostname: '127.0.0.1',
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 4 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 4096 } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31100 }] } },
    ],
  };
}

describe('framework scheduler against a scripted master', function () {
  this.timeout(20_000);
  let master: FakeSchedulerMaster;
  let scheduler: FrameworkScheduler;
  let state: FrameworkState;

  beforeEach(async () => {
    master = new FakeSchedulerMaster();
    await master.start();
    state = new FrameworkState();
    let index = 0;
    const propose = (cmd: FrameworkCommand) => Promise.resolve(state.apply({ index: ++index, term: 1, data: new TextEncoder().encode(JSON.stringify(cmd)) }));
    scheduler = new FrameworkScheduler({ state, propose, masters: [master.address], stepIntervalMs: 50 });
  });

  afterEach(async () => {
    await scheduler.stop();
    await master.stop();
  });

  const callsOf = (type: SchedulerCall['type']) => master.calls.filter((c) => c.call.type === type);

  /** Starts the scheduler, offers it one agent before any app exists, and waits for the DECLINE. */
  async function startAndDeclineAnOffer(): Promise<void> {
    scheduler.start();
    await master.waitFor(() => master.currentStreamId !== undefined, 'subscribe');
    master.send({ type: 'OFFERS', offers: { offers: [offer('o-1')] } });
    await master.waitFor(() => callsOf('DECLINE').length > 0, 'the idle decline');
  }

  /** An API write of an app with one instance: demand for an offer. */
  async function createDemand(): Promise<void> {
    let index = 1000;
    const apps = new AppService({ state, propose: (cmd) => Promise.resolve(state.apply({ index: ++index, term: 1, data: new TextEncoder().encode(JSON.stringify(cmd)) })), clock: systemClock, onWrite: () => scheduler.kick() });
    await apps.create({ id: '/demand', cmd: 'sleep 10', cpus: 0.1, mem: 16, instances: 1 });
  }

  it('declines idle offers with a long filter, and REVIVEs when demand appears, then launches', async () => {
    // Demand arrives while the first reconciliation is still under way, before any SUPPRESS.
    master.slowCalls = { types: ['RECONCILE'], delayMs: 500 };
    await startAndDeclineAnOffer();
    expect(callsOf('DECLINE')[0]?.call.decline?.filters?.refuse_seconds).to.equal(120);
    expect(callsOf('SUPPRESS')).to.have.lengthOf(0);

    await createDemand();
    await master.waitFor(() => callsOf('REVIVE').length > 0, 'a REVIVE for the new demand');
    // As a master does after REVIVE: offers again (every allocation cycle) until one is used.
    let n = 2;
    const reoffer = setInterval(() => master.send({ type: 'OFFERS', offers: { offers: [offer(`o-${n++}`)] } }), 100);
    await master.waitFor(() => callsOf('ACCEPT').length > 0, 'the launch').finally(() => clearInterval(reoffer));
    const launched = callsOf('ACCEPT')[0]?.call.accept?.operations?.[0]?.launch?.task_infos ?? [];
    expect(launched).to.have.lengthOf(1);
    expect(launched[0]?.task_id.value).to.match(/^demand\.instance-[0-9a-f-]+\._app\.1$/);
    // The launch was committed before the ACCEPT went out.
    expect(state.instanceOfTask(launched[0]?.task_id.value ?? '')?.phase).to.equal('launched');
  });

  it('sends the REVIVE for new demand only once the idle DECLINE before it was answered', async () => {
    // Regression (a CI run): sent at once on two connections, the REVIVE reached the master first, the
    // DECLINE's 120 s filter stayed, and nothing revived again: the app's first instance waited 60 s+.
    master.slowCalls = { types: ['RECONCILE', 'DECLINE'], delayMs: 400 };
    await startAndDeclineAnOffer();
    await createDemand();
    await master.waitFor(() => callsOf('REVIVE').length > 0, 'a REVIVE for the new demand');
    expect(callsOf('REVIVE')[0]?.unansweredAtArrival).to.not.include('DECLINE');
  });

  it('tries the REVIVE again when the master refused it', async () => {
    master.failCalls = { types: ['REVIVE'], times: 1 };
    await startAndDeclineAnOffer();
    await createDemand();
    await master.waitFor(() => callsOf('REVIVE').length >= 2, 'a second REVIVE after the refused one');
  });

  it('kills a running task it does not know, and acknowledges only after committing a known one', async () => {
    scheduler.start();
    await master.waitFor(() => master.currentStreamId !== undefined, 'subscribe');
    master.send({ type: 'UPDATE', update: { status: { task_id: { value: 'stranger._app.1' }, state: 'TASK_RUNNING', agent_id: { value: 'agent-1' }, uuid: 'AAAAAAAAAAAAAAAAAAAAAA==' } } });
    await master.waitFor(() => callsOf('KILL').length > 0, 'the kill of the unknown task');
    expect(callsOf('KILL')[0]?.call.kill?.task_id.value).to.equal('stranger._app.1');
    await master.waitFor(() => callsOf('ACKNOWLEDGE').length > 0, 'the acknowledgement');
  });
});

describe('framework scheduler: a step whose commands cannot be committed', function () {
  this.timeout(20_000);
  let master: FakeSchedulerMaster;
  let scheduler: FrameworkScheduler | undefined;

  beforeEach(async () => {
    master = new FakeSchedulerMaster();
    await master.start();
  });

  afterEach(async () => {
    await scheduler?.stop();
    await master.stop();
  });

  /** Runs a scheduler whose `Schedule` commands fail with `failure`, with demand for one instance; returns the step failure's log level. */
  async function stepFailureLevel(failure: Error): Promise<number> {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string }); done(); } });
    const state = new FrameworkState();
    let index = 0;
    const apply = (cmd: FrameworkCommand) => state.apply({ index: ++index, term: 1, data: new TextEncoder().encode(JSON.stringify(cmd)) });
    const propose = (cmd: FrameworkCommand) => (cmd.type === 'Schedule' ? Promise.reject(failure) : Promise.resolve(apply(cmd)));
    const sched = new FrameworkScheduler({ state, propose, masters: [master.address], stepIntervalMs: 50, log: createRootLogger({ level: 'info', format: 'json', color: false }, sink) });
    scheduler = sched;
    await new AppService({ state, propose: (cmd) => Promise.resolve(apply(cmd)), clock: systemClock, onWrite: () => sched.kick() }).create({ id: '/demand', cmd: 'sleep 10', cpus: 0.1, mem: 16, instances: 1 });
    sched.start();
    await master.waitFor(() => lines.some((l) => l.msg === 'scheduler step failed'), 'a failed step');
    return (lines.find((l) => l.msg === 'scheduler step failed') as { level: number }).level;
  }

  it('logs a warning when leadership is in doubt (a timeout, a lost slot): the next step or leader does it again', async () => {
    expect(await stepFailureLevel(new ProposalTimeoutError('proposal', 5000))).to.equal(40);
  });

  it('logs an error for anything else', async () => {
    expect(await stepFailureLevel(new Error('a bug'))).to.equal(50);
  });
});
