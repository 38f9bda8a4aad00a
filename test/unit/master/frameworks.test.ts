/**
 * MasterCore: framework subscription, failover (re-subscribe with the same id),
 * failover_timeout expiry, teardown, and the stream/framework checks of
 * non-SUBSCRIBE calls (Mesos' status codes and wording).
 */
import { expect } from 'chai';
import { CygnetError } from '../../../src/common/errors.ts';
import { roleError } from '../../../src/master/scheduler-call-validation.ts';
import { Harness, agentEvents, describeAll, frameworkEvents, launch, offersIn, scalar, task } from './harness.ts';

function rejection(fn: () => void): { status: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof CygnetError) return { status: err.httpStatus, message: err.message };
    throw err;
  }
  throw new Error('expected the call to be rejected');
}

describe('master core: frameworks', () => {
  it('a new framework gets a <masterId>-0000 id, SUBSCRIBED with heartbeat 15 s and master_info, then offers', () => {
    const h = new Harness();
    const fw = h.subscribeFramework();
    expect(fw.id).to.equal(`${h.core.masterId}-0000`);
    const [ev] = frameworkEvents(fw.effects, fw.id);
    expect(ev.type).to.equal('SUBSCRIBED');
    expect(ev.subscribed?.heartbeat_interval_seconds).to.equal(15);
    expect(ev.subscribed?.master_info?.id).to.equal(h.core.masterId);
    const ag = h.subscribeAgent();
    const offers = offersIn(ag.effects, fw.id);
    expect(offers).to.have.length(1);
    expect(offers[0].agent_id.value).to.equal(ag.id);
    expect(offers[0].url?.address.port).to.equal(5051);
    // Without MULTI_ROLE the offer carries no allocation_info (MESOS-8237), as from Mesos; the master's record keeps it.
    expect(offers[0]).to.not.have.property('allocation_info');
    expect(offers[0].resources?.some((r) => r.allocation_info !== undefined)).to.equal(false);
    expect(h.core.ctx.offers.ofFramework(fw.id)[0]?.resources.every((r) => r.allocation_info?.role === '*')).to.equal(true);
    expect(h.subscribeFramework().id).to.equal(`${h.core.masterId}-0001`);
  });

  it('a MULTI_ROLE framework gets allocation_info on the offer and on every resource', () => {
    const h = new Harness();
    const fw = h.subscribeFramework({ roles: ['web'], capabilities: [{ type: 'MULTI_ROLE' }] });
    const ag = h.subscribeAgent();
    const [offer] = offersIn(ag.effects, fw.id);
    expect(offer?.allocation_info).to.deep.equal({ role: 'web' });
    expect(offer?.resources?.every((r) => r.allocation_info?.role === 'web')).to.equal(true);
  });

  it("offers a reservation in the form the framework knows (RESERVATION_REFINEMENT: a reservations stack), and takes either form back", () => {
    const reserved = { ...scalar('cpus', 2), role: 'web' };
    for (const refined of [true, false]) {
      const h = new Harness();
      const fw = h.subscribeFramework({ roles: ['web'], capabilities: [{ type: 'MULTI_ROLE' }, ...(refined ? [{ type: 'RESERVATION_REFINEMENT' as const }] : [])] });
      const ag = h.subscribeAgent({ resources: [reserved, scalar('mem', 1024)] });
      const [offer] = offersIn(ag.effects, fw.id);
      const cpus = offer?.resources?.find((r) => r.name === 'cpus');
      if (refined) expect([cpus?.role, cpus?.reservations]).to.deep.equal([undefined, [{ type: 'STATIC', role: 'web' }]]);
      else expect([cpus?.role, cpus?.reservations]).to.deep.equal(['web', undefined]);
      // Launching on the reserved cpus works in either form the framework sends.
      const asSent = refined ? { ...scalar('cpus', 1), reservations: [{ type: 'STATIC' as const, role: 'web' }] } : { ...scalar('cpus', 1), role: 'web' };
      const effects = h.call(fw, launch([offer?.id.value ?? ''], [task('t1', ag.id, [asSent, scalar('mem', 64)])]));
      const run = agentEvents(effects, ag.id).find((e) => e.type === 'LAUNCH');
      expect(run?.launch?.task.resources?.find((r) => r.name === 'cpus')?.role, refined ? 'refined' : 'role').to.equal('web');
    }
  });

  it('re-subscribing with the same id fails over: old stream gets ERROR and is closed, tasks are kept, offers re-made', () => {
    const h = new Harness();
    const fw = h.subscribeFramework({ failover_timeout: 60 });
    const ag = h.subscribeAgent();
    const [offer] = offersIn(ag.effects, fw.id);
    h.call(fw, launch([offer.id.value], [task('t1', ag.id, [scalar('cpus', 1), scalar('mem', 128)])]));
    const stream2 = h.stream();
    const id = h.core.subscribeFramework({ type: 'SUBSCRIBE', framework_id: { value: fw.id }, subscribe: { framework_info: { user: 'u', name: 'fw', id: { value: fw.id }, failover_timeout: 60 } } }, stream2, h.now);
    const effects = h.pump();
    expect(id).to.equal(fw.id);
    expect(describeAll(effects).slice(0, 3)).to.deep.equal([
      `framework ${fw.id} <- ERROR Framework failed over`,
      `close stream ${fw.stream}: framework failed over`,
      `framework ${fw.id} <- SUBSCRIBED ${fw.id}`,
    ]);
    const offers = offersIn(effects, fw.id);
    expect(offers).to.have.length(1);
    expect(h.core.ctx.tasks.get(fw.id, 't1')?.state).to.equal('TASK_STAGING');
    // Calls on the old stream are now refused.
    const r = rejection(() => h.core.schedulerCall({ type: 'REVIVE', framework_id: { value: fw.id } }, fw.stream, h.now));
    expect(r.status).to.equal(400);
    expect(r.message).to.equal(`The stream ID '${fw.stream}' included in this request didn't match the stream ID currently associated with framework ID ${fw.id}`);
  });

  it('on failover, agents holding unacknowledged updates of the framework are asked to re-send them now', () => {
    const h = new Harness({ agentPingTimeoutMs: 3_600_000 });
    const fw = h.subscribeFramework({ failover_timeout: 60 });
    const ag = h.subscribeAgent();
    const [offer] = offersIn(ag.effects, fw.id);
    h.call(fw, launch([offer.id.value], [task('t1', ag.id, [scalar('cpus', 1)]), task('t2', ag.id, [scalar('cpus', 1)])]));
    h.core.frameworkStreamClosed(fw.id, fw.stream, h.now);
    h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: 'AQEBAQEBAQEBAQEBAQEBAQ==' });
    h.core.subscribeFramework({ type: 'SUBSCRIBE', framework_id: { value: fw.id }, subscribe: { framework_info: { user: 'u', name: 'fw', id: { value: fw.id }, failover_timeout: 60 } } }, 's2', h.now);
    expect(describeAll(h.pump())).to.include(`agent ${ag.id} <- RECONCILE t1`);
  });

  it('a disconnected framework is removed when failover_timeout expires, and its tasks are shut down', () => {
    const h = new Harness();
    const fw = h.subscribeFramework({ failover_timeout: 10 });
    const ag = h.subscribeAgent();
    const [offer] = offersIn(ag.effects, fw.id);
    h.call(fw, launch([offer.id.value], [task('t1', ag.id, [scalar('cpus', 1)])]));
    h.core.frameworkStreamClosed(fw.id, fw.stream, h.now);
    h.pump();
    expect(h.core.ctx.frameworks.get(fw.id)?.state).to.equal('disconnected');
    expect(h.advance(9_999).filter((e) => e.kind === 'agent-event')).to.deep.equal([]);
    const effects = h.advance(1);
    expect(describeAll(effects)).to.include(`agent ${ag.id} <- SHUTDOWN_FRAMEWORK ${fw.id}`);
    expect(h.core.ctx.frameworks.get(fw.id)).to.equal(undefined);
    expect(h.core.ctx.frameworks.isCompleted(fw.id)).to.equal(true);
    expect(h.core.ctx.tasks.completed().map((t) => `${t.taskId} ${t.state}`)).to.deep.equal(['t1 TASK_KILLED']);
    // Re-subscribing with a removed id is refused.
    const r = rejection(() => h.core.subscribeFramework({ type: 'SUBSCRIBE', framework_id: { value: fw.id }, subscribe: { framework_info: { user: 'u', name: 'fw', id: { value: fw.id } } } }, 's', h.now));
    expect(r).to.deep.equal({ status: 403, message: 'Framework has been removed' });
  });

  it('re-subscribing within failover_timeout keeps the framework and cancels the expiry', () => {
    const h = new Harness();
    const fw = h.subscribeFramework({ failover_timeout: 10 });
    h.core.frameworkStreamClosed(fw.id, fw.stream, h.now);
    h.advance(5_000);
    h.core.subscribeFramework({ type: 'SUBSCRIBE', framework_id: { value: fw.id }, subscribe: { framework_info: { user: 'u', name: 'fw', id: { value: fw.id }, failover_timeout: 10 } } }, 's2', h.now);
    h.advance(60_000);
    expect(h.core.ctx.frameworks.get(fw.id)?.state).to.equal('connected');
  });

  it('failover_timeout 0 (Mesos default) removes the framework as soon as its stream closes', () => {
    const h = new Harness();
    const fw = h.subscribeFramework();
    h.core.frameworkStreamClosed(fw.id, fw.stream, h.now);
    h.pump();
    expect(h.core.ctx.frameworks.get(fw.id)).to.equal(undefined);
  });

  it('an unknown framework id (master restarted) is accepted with that id', () => {
    const h = new Harness();
    const id = h.core.subscribeFramework({ type: 'SUBSCRIBE', framework_id: { value: 'old-master-0007' }, subscribe: { framework_info: { user: 'u', name: 'fw', id: { value: 'old-master-0007' } } } }, 's', h.now);
    expect(id).to.equal('old-master-0007');
  });

  it('TEARDOWN kills the tasks, closes the stream and forgets the framework', () => {
    const h = new Harness();
    const fw = h.subscribeFramework({ failover_timeout: 100 });
    const ag = h.subscribeAgent();
    const [offer] = offersIn(ag.effects, fw.id);
    h.call(fw, launch([offer.id.value], [task('t1', ag.id, [scalar('cpus', 1)])]));
    const effects = h.call(fw, { type: 'TEARDOWN' });
    expect(describeAll(effects)).to.include.members([`agent ${ag.id} <- SHUTDOWN_FRAMEWORK ${fw.id}`, `close stream ${fw.stream}: Framework requested teardown`]);
    expect(h.core.ctx.frameworks.size).to.equal(0);
    // A late TASK_KILLED from the agent is acknowledged by the master on the framework's behalf.
    const late = h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_KILLED', uuid: 'AAAAAAAAAAAAAAAAAAAAAA==' });
    expect(describeAll(late)).to.deep.equal([`agent ${ag.id} <- ACKNOWLEDGE t1 of ${fw.id}`]);
  });

  it('non-SUBSCRIBE calls: unknown framework 400, missing stream id 400, wrong stream id 400, disconnected 403', () => {
    const h = new Harness();
    const fw = h.subscribeFramework({ failover_timeout: 100 });
    expect(rejection(() => h.core.schedulerCall({ type: 'REVIVE', framework_id: { value: 'nope' } }, fw.stream, h.now))).to.deep.equal({ status: 400, message: 'Framework cannot be found' });
    expect(rejection(() => h.core.schedulerCall({ type: 'REVIVE', framework_id: { value: fw.id } }, undefined, h.now))).to.deep.equal({
      status: 400,
      message: "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
    });
    expect(rejection(() => h.core.schedulerCall({ type: 'REVIVE', framework_id: { value: fw.id } }, 'other', h.now)).status).to.equal(400);
    expect(rejection(() => h.core.schedulerCall({ type: 'REVIVE' }, fw.stream, h.now)).message).to.equal("Expecting 'framework_id' to be present");
    expect(rejection(() => h.core.schedulerCall({ type: 'ACCEPT', framework_id: { value: fw.id } }, fw.stream, h.now)).message).to.equal("Expecting 'accept' to be present");
    h.core.frameworkStreamClosed(fw.id, fw.stream, h.now);
    expect(rejection(() => h.core.schedulerCall({ type: 'REVIVE', framework_id: { value: fw.id } }, fw.stream, h.now))).to.deep.equal({ status: 403, message: 'Framework is not subscribed' });
  });

  it('SUBSCRIBE validation: framework_id must match framework_info.id; roles must be valid', () => {
    const h = new Harness();
    expect(rejection(() => h.core.subscribeFramework({ type: 'SUBSCRIBE', framework_id: { value: 'a' }, subscribe: { framework_info: { user: 'u', name: 'n', id: { value: 'b' } } } }, 's', h.now)).message).to.equal(
      "'framework_id' differs from 'subscribe.framework_info.id'",
    );
    // One without the other is a mismatch too (Mesos compares them as protobuf values).
    for (const call of [
      { type: 'SUBSCRIBE' as const, framework_id: { value: 'a' }, subscribe: { framework_info: { user: 'u', name: 'n' } } },
      { type: 'SUBSCRIBE' as const, subscribe: { framework_info: { user: 'u', name: 'n', id: { value: 'a' } } } },
    ]) {
      expect(rejection(() => h.core.subscribeFramework(call, 's', h.now))).to.deep.equal({ status: 400, message: "'framework_id' differs from 'subscribe.framework_info.id'" });
    }
    // FrameworkInfo errors in Mesos' words (the HTTP shell answers them with an ERROR event, see scheduler-http.test.ts).
    const refusal = (info: Record<string, unknown>, suppressed?: string[]) => rejection(() => h.core.subscribeFramework({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n', ...info }, ...(suppressed !== undefined ? { suppressed_roles: suppressed } : {}) } }, 's', h.now)).message;
    const multi = { capabilities: [{ type: 'MULTI_ROLE' }] };
    expect(refusal({ roles: ['ok', 'bad role'], ...multi })).to.equal("'FrameworkInfo.roles' contains invalid role: Role component 'bad role' is invalid because it contains backspace or whitespace");
    expect(refusal({ roles: ['a'] })).to.equal("'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable");
    expect(refusal({ role: 'a', ...multi })).to.equal("'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable");
    expect(refusal({ roles: ['a', 'b', 'a'], ...multi })).to.equal("'FrameworkInfo.roles' contains duplicate items: { a }");
    expect(refusal({ role: '/x' })).to.equal("'FrameworkInfo.role' is not a valid role: Role '/x' cannot start with a slash");
    expect(refusal({ roles: ['a'], ...multi }, ['b'])).to.equal('Suppressed roles { b } are not contained in the set of roles');
    expect(h.core.drain()).to.deep.equal([]);
  });

  it('roles follow Mesos: hierarchical names are valid, bad components are refused in its words', () => {
    for (const ok of ['*', 'web', 'eng/web', 'a/b/c', '.hidden', 'a.b', 'a\\b']) expect(roleError(ok), ok).to.equal(undefined);
    expect(roleError('/eng')).to.equal("Role '/eng' cannot start with a slash");
    expect(roleError('eng/')).to.equal("Role 'eng/' cannot end with a slash");
    expect(roleError('a//b')).to.equal("Role 'a//b' cannot contain two adjacent slashes");
    expect(roleError('a/../b')).to.equal("Role 'a/../b' cannot include '..' as a component");
    expect(roleError('a/*')).to.equal("Role 'a/*' cannot include '*' as a component");
    expect(roleError('a/-b')).to.equal("Role component '-b' is invalid because it starts with a dash");
    expect(roleError('a b')).to.equal("Role component 'a b' is invalid because it contains backspace or whitespace");
    expect(roleError('')).to.equal('Role names cannot be the empty string');
    const h = new Harness();
    expect(h.subscribeFramework({ roles: ['eng/web'], capabilities: [{ type: 'MULTI_ROLE' }] }).id).to.match(/-\d{4}$/);
  });

  it('drops a SUPPRESS or REVIVE naming a role that is invalid or not its own, whole, as Mesos does (accepted, no effect)', () => {
    const h = new Harness();
    const fw = h.subscribeFramework();
    h.call(fw, { type: 'SUPPRESS', suppress: { roles: ['*', 'not-mine'] } });
    h.call(fw, { type: 'SUPPRESS', suppress: { roles: ['bad role'] } });
    const ag = h.subscribeAgent();
    expect(offersIn(ag.effects, fw.id), 'nothing was suppressed').to.have.length(1);
  });

  it('SUPPRESS stops offers, REVIVE brings them back', () => {
    const h = new Harness();
    const fw = h.subscribeFramework();
    h.call(fw, { type: 'SUPPRESS' });
    const ag = h.subscribeAgent();
    expect(offersIn(ag.effects, fw.id)).to.deep.equal([]);
    expect(offersIn(h.advance(2000), fw.id)).to.deep.equal([]);
    const revived = h.call(fw, { type: 'REVIVE' });
    expect(offersIn(revived, fw.id)).to.have.length(1);
    expect(agentEvents(revived)).to.deep.equal([]);
  });

  it('UPDATE_FRAMEWORK changes roles and suppression in place: offers to a dropped role are rescinded, the new role is offered', () => {
    const h = new Harness();
    const multi = [{ type: 'MULTI_ROLE' as const }];
    const fw = h.subscribeFramework({ roles: ['web'], capabilities: multi });
    const ag = h.subscribeAgent();
    const [offer] = offersIn(ag.effects, fw.id);
    expect(offer?.allocation_info).to.deep.equal({ role: 'web' });
    const info = { user: 'u', name: 'n', id: { value: fw.id }, roles: ['batch'], capabilities: multi };
    const effects = h.call(fw, { type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: info } });
    const events = frameworkEvents(effects, fw.id);
    expect(events.map((e) => e.type)).to.deep.equal(['RESCIND', 'OFFERS']);
    expect(events[0]?.rescind?.offer_id.value).to.equal(offer?.id.value);
    expect(events[1]?.offers?.offers?.[0]?.allocation_info).to.deep.equal({ role: 'batch' });
    const rec = h.core.ctx.frameworks.get(fw.id);
    expect([rec?.roles, rec?.state, rec?.info.name]).to.deep.equal([['batch'], 'connected', 'n']);
    // The same subscription goes on; suppressing its only role stops offers, as SUPPRESS would.
    const [again] = offersIn(effects, fw.id);
    h.call(fw, { type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: info, suppressed_roles: ['batch'] } });
    const declined = h.call(fw, { type: 'DECLINE', decline: { offer_ids: [{ value: again?.id.value ?? '' }], filters: { refuse_seconds: 0 } } });
    expect([...offersIn(declined, fw.id), ...offersIn(h.advance(2000), fw.id)]).to.deep.equal([]);
    expect(offersIn(h.call(fw, { type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: info } }), fw.id)).to.have.length(1);
  });

  it('UPDATE_FRAMEWORK refuses what Mesos refuses, in its words, and changes nothing', () => {
    const h = new Harness();
    const fw = h.subscribeFramework({ principal: 'p', checkpoint: true });
    const base = { user: 'u', name: 'fw', id: { value: fw.id }, principal: 'p', checkpoint: true };
    const refused = (info: Record<string, unknown>, suppressed?: string[]) =>
      rejection(() => h.call(fw, { type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...base, ...info } as typeof base, ...(suppressed !== undefined ? { suppressed_roles: suppressed } : {}) } }));
    expect(refused({ id: { value: 'other' } })).to.deep.equal({ status: 400, message: "'framework_id' differs from 'update_framework.framework_info.id'" });
    expect(refused({ principal: 'q' }).message).to.equal("FrameworkInfo update is not valid: Changing framework's principal is not allowed.");
    expect(refused({ user: 'root' }).message).to.equal("FrameworkInfo update is not valid: Updating 'FrameworkInfo.user' is unsupported; attempted to update from 'u' to 'root'");
    expect(refused({ checkpoint: false }).message).to.equal("FrameworkInfo update is not valid: Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from 'true' to 'false'");
    expect(refused({ role: '/x' }).message).to.equal("Supplied FrameworkInfo is not valid: 'FrameworkInfo.role' is not a valid role: Role '/x' cannot start with a slash");
    expect(refused({}, ['elsewhere']).message).to.equal("'UpdateFramework' call is not valid: Suppressed roles { elsewhere } are not contained in the set of roles");
    expect(rejection(() => h.call(fw, { type: 'UPDATE_FRAMEWORK' })).message).to.equal("Expecting 'update_framework' to be present");
    expect(h.core.ctx.frameworks.get(fw.id)?.info.principal).to.equal('p');
  });
});
