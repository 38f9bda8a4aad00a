/**
 * MasterCore ↔ allocator accounting: at most one open offer per framework and
 * agent (a finished task's resources do not open a second one; an accepted
 * offer, even fully used, closes), and a launched task is TASK_STAGING in
 * /state and reconciliation until its agent reports TASK_STARTING (agents do
 * not send TASK_STAGING; the master marks it when relaying LAUNCH).
 */
import { expect } from 'chai';
import { renderState } from '../../../src/master/state-json.ts';
import { Harness, agentEvents, launch, offersIn, ports, scalar, task, updatesIn } from './harness.ts';

function setup(): { h: Harness; fw: { id: string; stream: string }; ag: { id: string; stream: string }; offerId: string } {
  const h = new Harness({ agentPingTimeoutMs: 3_600_000 });
  const fw = h.subscribeFramework();
  const ag = h.subscribeAgent();
  const [offer] = offersIn(ag.effects, fw.id);
  return { h, fw, ag, offerId: offer.id.value };
}

describe('master core: one open offer per framework and agent', () => {
  it("a finished task's resources wait for the framework's open offer on that agent to close", () => {
    const { h, fw, ag, offerId } = setup();
    const launched = h.call(fw, launch([offerId], [task('t1', ag.id, [scalar('cpus', 1), scalar('mem', 128)])], 0));
    const [rest] = offersIn(launched, fw.id);
    expect(rest.resources?.find((r) => r.name === 'cpus')?.scalar?.value).to.equal(3);

    const finished = h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_FINISHED', uuid: 'AAAAAAAAAAAAAAAAAAAAAA==', timestamp: 1 });
    expect(offersIn(finished, fw.id)).to.deep.equal([]);
    expect(h.core.ctx.offers.ofFramework(fw.id).map((o) => o.id)).to.deep.equal([rest.id.value]);

    const declined = h.call(fw, { type: 'DECLINE', decline: { offer_ids: [rest.id], filters: { refuse_seconds: 0 } } });
    const [whole] = offersIn(declined, fw.id);
    expect(whole.resources?.find((r) => r.name === 'cpus')?.scalar?.value).to.equal(4);
  });

  it('an offer accepted in full closes: resources freed later are offered again', () => {
    const { h, fw, ag, offerId } = setup();
    const all = [scalar('cpus', 4), scalar('mem', 4096), ports(31000, 31009)];
    const launched = h.call(fw, launch([offerId], [task('t1', ag.id, all)]));
    expect(agentEvents(launched, ag.id).map((e) => e.type)).to.deep.equal(['LAUNCH']);
    expect(offersIn(launched, fw.id)).to.deep.equal([]);
    const finished = h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_FAILED', uuid: 'AAAAAAAAAAAAAAAAAAAAAA==', timestamp: 1 });
    expect(offersIn(finished, fw.id)).to.have.length(1);
  });
});

describe('master core: TASK_STAGING is the master’s', () => {
  interface StateTasks {
    frameworks: { tasks: { id: string; state: string }[] }[];
  }

  it('/state and reconciliation say TASK_STAGING from LAUNCH until the agent reports TASK_STARTING', () => {
    const { h, fw, ag, offerId } = setup();
    h.call(fw, launch([offerId], [task('t1', ag.id, [scalar('cpus', 1)])]));
    const stateOf = (): string | undefined => (renderState(h.core, h.now) as unknown as StateTasks).frameworks[0].tasks.find((t) => t.id === 't1')?.state;
    expect(stateOf()).to.equal('TASK_STAGING');
    const implicit = updatesIn(h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [] } }), fw.id);
    const explicit = updatesIn(h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' }, agent_id: { value: ag.id } }] } }), fw.id);
    for (const u of [...implicit, ...explicit]) {
      expect([u.task_id.value, u.state, u.reason, u.agent_id?.value]).to.deep.equal(['t1', 'TASK_STAGING', 'REASON_RECONCILIATION', ag.id]);
    }
    expect(implicit.length + explicit.length).to.equal(2);

    const started = h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_STARTING', uuid: 'AAAAAAAAAAAAAAAAAAAAAA==', timestamp: 1 });
    expect(updatesIn(started, fw.id).map((u) => u.state)).to.deep.equal(['TASK_STARTING']);
    expect(stateOf()).to.equal('TASK_STARTING');
    const after = updatesIn(h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [] } }), fw.id);
    expect(after.map((u) => u.state)).to.deep.equal(['TASK_STARTING']);
  });

  it('an agent re-subscribing with a task but no status for it keeps it TASK_STAGING', () => {
    const { h, fw, ag, offerId } = setup();
    const [launched] = agentEvents(h.call(fw, launch([offerId], [task('t1', ag.id, [scalar('cpus', 1)])])), ag.id);
    const info = launched.launch?.task;
    if (info === undefined) throw new Error('no LAUNCH');
    h.subscribeAgent({ id: ag.id, tasks: [info], statuses: [], frameworks: [{ user: 'u', name: 'fw', id: { value: fw.id } }] });
    expect(h.core.ctx.tasks.get(fw.id, 't1')?.state).to.equal('TASK_STAGING');
  });
});
