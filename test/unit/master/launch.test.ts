/**
 * MasterCore: ACCEPT with LAUNCH validated as Mesos does (TASK_ERROR /
 * TASK_DROPPED / TASK_LOST updates with the reason, daemon state intact),
 * DECLINE with filters, unused resources returned, offer timeout.
 */
import { expect } from 'chai';
import { Harness, agentEvents, describeAll, launch, offersIn, ports, scalar, task, updatesIn } from './harness.ts';

function setup(opts: { partitionAware?: boolean; offerTimeoutMs?: number } = {}): { h: Harness; fw: { id: string; stream: string }; ag: { id: string; stream: string }; offerId: string } {
  const h = new Harness({ offerTimeoutMs: opts.offerTimeoutMs, agentPingTimeoutMs: 3_600_000 });
  const fw = h.subscribeFramework(opts.partitionAware ? { capabilities: [{ type: 'PARTITION_AWARE' }] } : {});
  const ag = h.subscribeAgent();
  const [offer] = offersIn(ag.effects, fw.id);
  return { h, fw, ag, offerId: offer.id.value };
}

describe('master core: ACCEPT / LAUNCH validation', () => {
  it('a valid launch goes to the agent with allocated resources; the unused rest is re-offered later', () => {
    const { h, fw, ag, offerId } = setup();
    const effects = h.call(fw, launch([offerId], [task('t1', ag.id, [scalar('cpus', 1), scalar('mem', 256), ports(31000, 31000)])], 0));
    const [ev] = agentEvents(effects, ag.id);
    expect(ev.type).to.equal('LAUNCH');
    expect(ev.launch?.task.agent_id.value).to.equal(ag.id);
    expect(ev.launch?.task.resources?.map((r) => r.allocation_info?.role)).to.deep.equal(['*', '*', '*']);
    expect(ev.launch?.framework_info.id?.value).to.equal(fw.id);
    const [again] = offersIn(effects, fw.id);
    expect(again.resources?.find((r) => r.name === 'cpus')?.scalar?.value).to.equal(3);
    expect(again.resources?.find((r) => r.name === 'ports')?.ranges?.range).to.deep.equal([{ begin: 31001, end: 31009 }]);
  });

  it('a task beyond the offer gets TASK_ERROR / REASON_TASK_INVALID saying why', () => {
    const { h, fw, ag, offerId } = setup();
    const effects = h.call(fw, launch([offerId], [task('big', ag.id, [scalar('cpus', 5)])]));
    const [u] = updatesIn(effects, fw.id);
    expect(u.state).to.equal('TASK_ERROR');
    expect(u.reason).to.equal('REASON_TASK_INVALID');
    expect(u.source).to.equal('SOURCE_MASTER');
    expect(u.uuid).to.equal(undefined);
    expect(u.message).to.match(/^Task uses more resources cpus\{ALLOC:\*\}:5 than available/);
    expect(agentEvents(effects)).to.deep.equal([]);
  });

  it('an unknown offer → every task TASK_LOST (or TASK_DROPPED when partition-aware), REASON_INVALID_OFFERS', () => {
    for (const pa of [false, true]) {
      const { h, fw, ag } = setup({ partitionAware: pa });
      const [u] = updatesIn(h.call(fw, launch(['no-such-offer'], [task('t1', ag.id, [scalar('cpus', 1)])])), fw.id);
      expect(u.state).to.equal(pa ? 'TASK_DROPPED' : 'TASK_LOST');
      expect(u.reason).to.equal('REASON_INVALID_OFFERS');
      expect(u.message).to.equal('Task launched with invalid offers: Offer no-such-offer is no longer valid');
      expect(u.agent_id?.value, 'the agent the task named').to.equal(ag.id);
    }
  });

  it('a reused offer is no longer valid', () => {
    const { h, fw, ag, offerId } = setup();
    h.call(fw, launch([offerId], [task('t1', ag.id, [scalar('cpus', 1)])]));
    const [u] = updatesIn(h.call(fw, launch([offerId], [task('t2', ag.id, [scalar('cpus', 1)])])), fw.id);
    expect(u.reason).to.equal('REASON_INVALID_OFFERS');
    expect(h.core.ctx.tasks.get(fw.id, 't2')).to.equal(undefined);
  });

  it('a duplicate task id (in the framework, or twice in one call) gets TASK_ERROR; the other tasks launch', () => {
    const { h, fw, ag, offerId } = setup();
    h.call(fw, launch([offerId], [task('t1', ag.id, [scalar('cpus', 1)])], 0));
    const offer2 = offersIn(h.log, fw.id).at(-1)?.id.value ?? '';
    const effects = h.call(fw, launch([offer2], [task('t1', ag.id, [scalar('cpus', 1)]), task('t2', ag.id, [scalar('cpus', 1)]), task('t2', ag.id, [scalar('cpus', 1)])]));
    expect(updatesIn(effects, fw.id).map((u) => `${u.task_id.value} ${u.state} ${u.message}`)).to.deep.equal([
      't1 TASK_ERROR Task has duplicate ID: t1',
      't2 TASK_ERROR Task has duplicate ID: t2',
    ]);
    expect(agentEvents(effects, ag.id).map((e) => e.launch?.task.task_id.value)).to.deep.equal(['t2']);
  });

  it('offers from two agents in one ACCEPT are refused', () => {
    const h = new Harness();
    const fw = h.subscribeFramework();
    const a1 = h.subscribeAgent();
    const a2 = h.subscribeAgent();
    const [o1] = offersIn(a1.effects, fw.id);
    const [o2] = offersIn(a2.effects, fw.id);
    const [u] = updatesIn(h.call(fw, launch([o1.id.value, o2.id.value], [task('t', a1.id, [scalar('cpus', 1)])])), fw.id);
    expect(u.reason).to.equal('REASON_INVALID_OFFERS');
    expect(u.message).to.match(/^Task launched with invalid offers: Aggregated offers must belong to one single agent/);
  });

  it('malformed task resources, wrong agent id, or no resources → TASK_ERROR with the reason', () => {
    const { h, fw, ag, offerId } = setup();
    const effects = h.call(
      fw,
      launch(
        [offerId],
        [
          task('neg', ag.id, [scalar('cpus', -1)]),
          task('badrange', ag.id, [ports(31005, 31001)]),
          task('elsewhere', 'other-agent', [scalar('cpus', 1)]),
          task('empty', ag.id, []),
        ],
      ),
    );
    expect(updatesIn(effects, fw.id).map((u) => `${u.task_id.value}: ${u.message}`)).to.deep.equal([
      "neg: Invalid resource [0] 'cpus': scalar value must be a finite number >= 0",
      "badrange: Invalid resource [0] 'ports': range [31005-31001] must have integer bounds with 0 <= begin <= end",
      'elsewhere: Task uses invalid agent: other-agent',
      'empty: Task uses no resources',
    ]);
  });

  it('DECLINE with refuse_seconds keeps the agent from this framework until the filter expires', () => {
    const { h, fw, offerId } = setup();
    h.call(fw, { type: 'DECLINE', decline: { offer_ids: [{ value: offerId }], filters: { refuse_seconds: 30 } } });
    expect(offersIn(h.advance(29_000), fw.id)).to.deep.equal([]);
    expect(offersIn(h.advance(1_000), fw.id)).to.have.length(1);
  });

  it('DECLINE with a negative refuse_seconds is accepted and takes the default 5 s, as Mesos does', () => {
    const { h, fw, offerId } = setup();
    h.call(fw, { type: 'DECLINE', decline: { offer_ids: [{ value: offerId }], filters: { refuse_seconds: -1 } } });
    expect(offersIn(h.advance(4_900), fw.id)).to.deep.equal([]);
    expect(offersIn(h.advance(200), fw.id)).to.have.length(1);
  });

  it('DECLINE without filters uses the default 5 s; another framework gets the resources meanwhile', () => {
    const { h, fw, offerId } = setup();
    const other = h.subscribeFramework();
    const effects = h.call(fw, { type: 'DECLINE', decline: { offer_ids: [{ value: offerId }] } });
    expect(offersIn(effects, other.id)).to.have.length(1);
    expect(offersIn(effects, fw.id)).to.deep.equal([]);
  });

  it('offer timeout rescinds outstanding offers (RESCIND event) and re-offers them', () => {
    const { h, fw, offerId } = setup({ offerTimeoutMs: 10_000 });
    const effects = h.advance(10_000);
    expect(describeAll(effects)[0]).to.equal(`framework ${fw.id} <- RESCIND ${offerId}`);
    expect(offersIn(effects, fw.id)).to.have.length(1);
  });

  it('KILL of a known task goes to the agent; of an unknown task answers TASK_LOST by reconciliation', () => {
    const { h, fw, ag, offerId } = setup();
    h.call(fw, launch([offerId], [task('t1', ag.id, [scalar('cpus', 1)])]));
    expect(describeAll(h.call(fw, { type: 'KILL', kill: { task_id: { value: 't1' } } }))).to.deep.equal([`agent ${ag.id} <- KILL t1 of ${fw.id}`]);
    const [u] = updatesIn(h.call(fw, { type: 'KILL', kill: { task_id: { value: 'ghost' } } }), fw.id);
    expect([u.state, u.reason]).to.deep.equal(['TASK_LOST', 'REASON_RECONCILIATION']);
  });
});
