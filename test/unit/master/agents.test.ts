/**
 * MasterCore: agents — liveness (unreachable after agentPingTimeoutMs of
 * silence), TASK_LOST vs TASK_UNREACHABLE for PARTITION_AWARE frameworks,
 * FAILURE events, re-registration that reconciles instead of duplicating,
 * status update forwarding and acknowledgement, and reconciliation.
 */
import { expect } from 'chai';
import { CygnetError } from '../../../src/common/errors.ts';
import { decodeProtobuf, encodeJson, encodeProtobuf } from '../../../src/protocol/codec.ts';
import { renderState, stateSummaryView, tasksView } from '../../../src/master/state-json.ts';
import type { SchedulerEvent } from '../../../src/master/wire.ts';
import { Harness, agentEvents, describeAll, frameworkEvents, launch, offersIn, scalar, task, updatesIn } from './harness.ts';

const UUID1 = Buffer.alloc(16, 1).toString('base64');
const UUID2 = Buffer.alloc(16, 2).toString('base64');
const UUID3 = Buffer.alloc(16, 3).toString('base64');

function running(h: Harness, opts: { partitionAware?: boolean } = {}) {
  const fw = h.subscribeFramework({ failover_timeout: 3600, ...(opts.partitionAware ? { capabilities: [{ type: 'PARTITION_AWARE' }] } : {}) });
  const ag = h.subscribeAgent();
  const [offer] = offersIn(ag.effects, fw.id);
  h.call(fw, launch([offer.id.value], [task('t1', ag.id, [scalar('cpus', 1), scalar('mem', 128)])]));
  h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID1, source: 'SOURCE_EXECUTOR' });
  return { fw, ag };
}

function heartbeat(h: Harness, ag: { id: string; stream: string }): void {
  h.core.agentCall({ type: 'HEARTBEAT', agent_id: { value: ag.id } }, ag.stream, h.now);
}

describe('master core: agents and status updates', () => {
  it('status updates are recorded and forwarded with their uuid; ACKNOWLEDGE goes to the agent', () => {
    const h = new Harness();
    const { fw, ag } = running(h);
    const [u] = updatesIn(h.log, fw.id);
    expect([u.state, u.uuid, u.agent_id?.value]).to.deep.equal(['TASK_RUNNING', UUID1, ag.id]);
    expect(h.core.ctx.tasks.get(fw.id, 't1')?.state).to.equal('TASK_RUNNING');
    const ack = h.call(fw, { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: ag.id }, task_id: { value: 't1' }, uuid: UUID1 } });
    expect(describeAll(ack)).to.deep.equal([`agent ${ag.id} <- ACKNOWLEDGE t1 of ${fw.id}`]);
    expect(agentEvents(ack)[0].acknowledge?.uuid).to.equal(UUID1);
  });

  it('an ACKNOWLEDGE whose uuid is not 16 bytes is a 400', () => {
    const h = new Harness();
    const { fw, ag } = running(h);
    let status = 0;
    try {
      h.call(fw, { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: ag.id }, task_id: { value: 't1' }, uuid: 'abc' } });
    } catch (err) {
      if (err instanceof CygnetError) status = err.httpStatus;
    }
    expect(status).to.equal(400);
  });

  it('a terminal update gives the resources back, and the task completes when acknowledged', () => {
    const h = new Harness({ agentPingTimeoutMs: 3_600_000 });
    const { fw, ag } = running(h);
    h.call(fw, { type: 'DECLINE', decline: { offer_ids: offersIn(h.log, fw.id).map((o) => o.id), filters: { refuse_seconds: 0 } } });
    const effects = h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_FINISHED', uuid: UUID2 });
    const [offer] = offersIn(effects, fw.id);
    expect(offer.resources?.find((r) => r.name === 'cpus')?.scalar?.value).to.equal(4);
    expect(h.core.ctx.tasks.get(fw.id, 't1')?.state).to.equal('TASK_FINISHED');
    h.call(fw, { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: ag.id }, task_id: { value: 't1' }, uuid: UUID2 } });
    expect(h.core.ctx.tasks.get(fw.id, 't1')).to.equal(undefined);
    expect(h.core.ctx.tasks.completed().map((t) => t.state)).to.deep.equal(['TASK_FINISHED']);
  });

  it('a silent agent becomes unreachable: TASK_LOST (not partition-aware) with REASON_AGENT_REMOVED, FAILURE, offers rescinded', () => {
    const h = new Harness();
    const { fw, ag } = running(h);
    h.advance(10_000);
    heartbeat(h, ag);
    expect(h.advance(14_999).filter((e) => e.kind === 'framework-event' && e.event.type === 'FAILURE')).to.deep.equal([]);
    const effects = h.advance(1);
    const [u] = updatesIn(effects, fw.id);
    expect([u.task_id.value, u.state, u.reason, u.source, u.uuid]).to.deep.equal(['t1', 'TASK_LOST', 'REASON_AGENT_REMOVED', 'SOURCE_MASTER', undefined]);
    const types = frameworkEvents(effects, fw.id).map((e) => e.type);
    expect(types).to.include.members(['RESCIND', 'UPDATE', 'FAILURE']);
    expect(frameworkEvents(effects, fw.id).find((e) => e.type === 'FAILURE')?.failure?.agent_id?.value).to.equal(ag.id);
    expect(describeAll(effects)).to.include(`close stream ${ag.stream}: no heartbeat for 15000 ms`);
    expect(h.core.ctx.agents.get(ag.id)?.state).to.equal('unreachable');
    expect(h.core.ctx.offers.size).to.equal(0);
  });

  it('PARTITION_AWARE frameworks get TASK_UNREACHABLE instead, with unreachable_time (epoch ns) that encodes', () => {
    const h = new Harness();
    const { fw, ag } = running(h, { partitionAware: true });
    const effects = h.advance(15_000);
    const [u] = updatesIn(effects, fw.id);
    expect([u.state, u.reason]).to.deep.equal(['TASK_UNREACHABLE', 'REASON_AGENT_REMOVED']);
    expect(u.unreachable_time).to.deep.equal({ nanoseconds: h.now * 1_000_000 });
    const event = frameworkEvents(effects, fw.id).find((e) => e.type === 'UPDATE');
    if (event === undefined) throw new Error('no UPDATE');
    expect(encodeJson('mesos.v1.scheduler.Event', event)).to.contain(`"unreachable_time":{"nanoseconds":${h.now}000000}`);
    const pb = decodeProtobuf<SchedulerEvent>('mesos.v1.scheduler.Event', encodeProtobuf('mesos.v1.scheduler.Event', event));
    expect(pb.update?.status.unreachable_time?.nanoseconds).to.equal(h.now * 1_000_000);
    // Reconciliation keeps it, for the task and for an unknown task on that agent.
    const answers = updatesIn(h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' } }, { task_id: { value: 'ghost' }, agent_id: { value: ag.id } }] } }), fw.id);
    expect(answers.map((a) => [a.task_id.value, a.state, a.unreachable_time?.nanoseconds])).to.deep.equal([
      ['t1', 'TASK_UNREACHABLE', h.now * 1_000_000],
      ['ghost', 'TASK_UNREACHABLE', h.now * 1_000_000],
    ]);
    // /state lists it apart from the live tasks, as Mesos does; /tasks and /state-summary still count it.
    const state = renderState(h.core, h.now) as { frameworks: { tasks: { id: string }[]; unreachable_tasks: { id: string; state: string }[] }[] };
    expect(state.frameworks[0]?.tasks).to.deep.equal([]);
    expect(state.frameworks[0]?.unreachable_tasks.map((t) => [t.id, t.state])).to.deep.equal([['t1', 'TASK_UNREACHABLE']]);
    expect((tasksView(state as Parameters<typeof tasksView>[0]).tasks as { id: string }[]).map((t) => t.id)).to.deep.equal(['t1']);
    expect((stateSummaryView(state as Parameters<typeof stateSummaryView>[0]).frameworks as Record<string, unknown>[])[0]).to.include({ TASK_UNREACHABLE: 1 });
  });

  it('an unreachable agent that re-subscribes is reconciled, not duplicated; its running task comes back as running', () => {
    const h = new Harness();
    const { fw, ag } = running(h, { partitionAware: true });
    h.advance(15_000);
    const back = h.subscribeAgent({
      id: ag.id,
      tasks: [task('t1', ag.id, [scalar('cpus', 1), scalar('mem', 128)])],
      statuses: [{ task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID1 }],
      frameworks: [{ user: 'u', name: 'fw', id: { value: fw.id } }],
    });
    expect(back.id).to.equal(ag.id);
    expect(h.core.ctx.agents.size).to.equal(1);
    expect(h.core.ctx.agents.get(ag.id)?.state).to.equal('active');
    expect(updatesIn(back.effects, fw.id).map((u) => u.state)).to.deep.equal(['TASK_RUNNING']);
    expect(h.core.ctx.tasks.get(fw.id, 't1')?.state).to.equal('TASK_RUNNING');
    // Its task's resources stay in use: the new offer has 3 cpus.
    const [offer] = offersIn(back.effects, fw.id);
    expect(offer.resources?.find((r) => r.name === 'cpus')?.scalar?.value).to.equal(3);
  });

  it('re-subscription: a task the master knew but the agent no longer reports is lost', () => {
    const h = new Harness();
    const { fw, ag } = running(h);
    const back = h.subscribeAgent({ id: ag.id });
    expect(describeAll(back.effects)).to.include(`close stream ${ag.stream}: agent re-subscribed`);
    const [u] = updatesIn(back.effects, fw.id);
    expect([u.state, u.reason, u.message]).to.deep.equal(['TASK_LOST', 'REASON_RECONCILIATION', 'Task is unknown to the agent']);
    expect(h.core.ctx.agents.size).to.equal(1);
  });

  it('after a master restart an unknown agent is re-admitted with its id, tasks and frameworks; the framework re-attaches', () => {
    const h = new Harness();
    const back = h.subscribeAgent({
      id: 'old-S3',
      tasks: [task('t9', 'old-S3', [scalar('cpus', 2)])],
      statuses: [{ task_id: { value: 't9' }, state: 'TASK_RUNNING', uuid: UUID1 }],
      frameworks: [{ user: 'u', name: 'fw', id: { value: 'old-0001' }, failover_timeout: 60 }],
    });
    expect(back.id).to.equal('old-S3');
    expect(agentEvents(back.effects, 'old-S3')[0].subscribed?.agent_id.value).to.equal('old-S3');
    expect(h.core.ctx.frameworks.get('old-0001')?.state).to.equal('recovered');
    const stream = h.stream();
    h.core.subscribeFramework({ type: 'SUBSCRIBE', framework_id: { value: 'old-0001' }, subscribe: { framework_info: { user: 'u', name: 'fw', id: { value: 'old-0001' }, failover_timeout: 60 } } }, stream, h.now);
    const effects = h.pump();
    const fw = { id: 'old-0001', stream };
    expect(offersIn(effects, fw.id)[0].resources?.find((r) => r.name === 'cpus')?.scalar?.value).to.equal(2);
    const recon = h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [] } });
    expect(updatesIn(recon, fw.id).map((u) => `${u.task_id.value} ${u.state} ${u.reason}`)).to.deep.equal(['t9 TASK_RUNNING REASON_RECONCILIATION']);
  });

  it('an agent SUBSCRIBE with one FrameworkInfo per task maps each task to its framework; no status = TASK_STAGING', () => {
    const h = new Harness();
    const fwA = { user: 'u', name: 'a', id: { value: 'old-000A' }, failover_timeout: 60 };
    const fwB = { user: 'u', name: 'b', id: { value: 'old-000B' }, failover_timeout: 60 };
    h.subscribeAgent({
      id: 'old-S4',
      tasks: [task('x', 'old-S4', [scalar('cpus', 1)]), task('y', 'old-S4', [scalar('cpus', 1)]), task('z', 'old-S4', [scalar('cpus', 1)])],
      statuses: [
        { task_id: { value: 'x' }, state: 'TASK_RUNNING', uuid: UUID1 },
        { task_id: { value: 'y' }, state: 'TASK_STARTING', uuid: UUID2 },
      ],
      frameworks: [fwA, fwB, fwA],
    });
    const where = (fw: string, id: string): string | undefined => h.core.ctx.tasks.get(fw, id)?.state;
    expect([where('old-000A', 'x'), where('old-000B', 'y'), where('old-000A', 'z')]).to.deep.equal(['TASK_RUNNING', 'TASK_STARTING', 'TASK_STAGING']);
    expect([where('old-000B', 'x'), where('old-000A', 'y')]).to.deep.equal([undefined, undefined]);
    expect(h.core.ctx.frameworks.get('old-000B')?.info.name).to.equal('b');
  });

  it('the same task id in two frameworks on one agent: UPDATE and re-SUBSCRIBE statuses go to the framework they name', () => {
    const h = new Harness();
    const fwA = { user: 'u', name: 'a', id: { value: 'old-000A' }, failover_timeout: 60 };
    const fwB = { user: 'u', name: 'b', id: { value: 'old-000B' }, failover_timeout: 60 };
    // Statuses listed in the opposite order of the tasks: only task_status_framework_ids can pair them right.
    const stream = h.stream();
    h.core.subscribeAgent({
      type: 'SUBSCRIBE',
      subscribe: {
        agent_info: { hostname: 'host1', port: 5051, resources: [scalar('cpus', 4), scalar('mem', 4096)], id: { value: 'old-S5' } },
        tasks: [task('web-1', 'old-S5', [scalar('cpus', 1)]), task('web-1', 'old-S5', [scalar('cpus', 1)])],
        frameworks: [fwA, fwB],
        task_statuses: [{ task_id: { value: 'web-1' }, state: 'TASK_STARTING', uuid: UUID2 }, { task_id: { value: 'web-1' }, state: 'TASK_RUNNING', uuid: UUID1 }],
        task_status_framework_ids: [{ value: 'old-000B' }, { value: 'old-000A' }],
      },
    }, stream, '127.0.0.1', h.now);
    h.pump();
    const where = (fw: string): string | undefined => h.core.ctx.tasks.get(fw, 'web-1')?.state;
    expect([where('old-000A'), where('old-000B')]).to.deep.equal(['TASK_RUNNING', 'TASK_STARTING']);
    // An UPDATE naming framework B moves B's web-1 only.
    h.core.agentCall({ type: 'UPDATE', agent_id: { value: 'old-S5' }, update: { framework_id: { value: 'old-000B' }, status: { task_id: { value: 'web-1' }, state: 'TASK_FAILED', uuid: UUID1, agent_id: { value: 'old-S5' } } } }, stream, h.now);
    h.pump();
    expect([where('old-000A'), where('old-000B')]).to.deep.equal(['TASK_RUNNING', 'TASK_FAILED']);
  });

  it('a framework known only from an agent report that never subscribes is removed after its failover timeout', () => {
    const h = new Harness({ agentPingTimeoutMs: 3_600_000, reregistrationWindowMs: 10_000 });
    const ag = h.subscribeAgent({
      id: 'old-S1',
      tasks: [task('t9', 'old-S1', [scalar('cpus', 2)])],
      statuses: [{ task_id: { value: 't9' }, state: 'TASK_RUNNING' }],
      frameworks: [{ user: 'u', name: 'gone', id: { value: 'old-0002' }, failover_timeout: 30 }],
    });
    expect(agentEvents(h.advance(29_999), ag.id).map((e) => e.type)).to.not.include('SHUTDOWN_FRAMEWORK');
    expect(describeAll(h.advance(1))).to.include(`agent ${ag.id} <- SHUTDOWN_FRAMEWORK old-0002`);
    expect(h.core.ctx.frameworks.get('old-0002')).to.equal(undefined);
  });

  it('RECONCILE explicit: known task → latest state; unknown → TASK_LOST (TASK_UNKNOWN when partition-aware); no uuid', () => {
    for (const pa of [false, true]) {
      const h = new Harness();
      const { fw, ag } = running(h, { partitionAware: pa });
      const effects = h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' }, agent_id: { value: ag.id } }, { task_id: { value: 'nope' } }, { task_id: { value: 'gone' }, agent_id: { value: ag.id } }] } });
      expect(updatesIn(effects, fw.id).map((u) => `${u.task_id.value} ${u.state} ${u.reason} ${String(u.uuid)} ${String(u.message)}`)).to.deep.equal([
        't1 TASK_RUNNING REASON_RECONCILIATION undefined Reconciliation: Latest task state',
        `nope ${pa ? 'TASK_UNKNOWN' : 'TASK_LOST'} REASON_RECONCILIATION undefined Reconciliation: Task is unknown`,
        `gone ${pa ? 'TASK_GONE' : 'TASK_LOST'} REASON_RECONCILIATION undefined Reconciliation: Task is unknown to the agent`,
      ]);
    }
  });

  it('RECONCILE explicit of a task whose terminal update was acknowledged: unknown, as in Mesos (its latest state until then)', () => {
    for (const pa of [false, true]) {
      const h = new Harness();
      const { fw, ag } = running(h, { partitionAware: pa });
      h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_FINISHED', uuid: UUID2 });
      const ask = (): string[] => updatesIn(h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' }, agent_id: { value: ag.id } }, { task_id: { value: 't1' } }] } }), fw.id)
        .map((u) => `${u.state} ${String(u.message)}`);
      expect(ask(), 'before the acknowledgement').to.deep.equal(['TASK_FINISHED Reconciliation: Latest task state', 'TASK_FINISHED Reconciliation: Latest task state']);
      h.call(fw, { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: ag.id }, task_id: { value: 't1' }, uuid: UUID2 } });
      expect(ask(), 'after it').to.deep.equal([
        `${pa ? 'TASK_GONE' : 'TASK_LOST'} Reconciliation: Task is unknown to the agent`,
        `${pa ? 'TASK_UNKNOWN' : 'TASK_LOST'} Reconciliation: Task is unknown`,
      ]);
    }
  });

  it('keeps one status per state the task went through, for /state and /tasks, as Mesos: a repeat replaces the last, data is dropped', () => {
    const h = new Harness();
    const { fw, ag } = running(h);
    h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID2, healthy: true, data: 'c2VjcmV0', timestamp: 2 });
    h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_FINISHED', uuid: UUID3, timestamp: 3 });
    type Listed = { id: string; state: string; statuses: { state: string; healthy?: boolean; data?: string; timestamp?: number }[] };
    const listed = (renderState(h.core, h.now) as { frameworks: { tasks: Listed[] }[] }).frameworks[0]?.tasks ?? [];
    expect(listed.map((t) => [t.id, t.state, t.statuses.map((x) => `${x.state} ${String(x.healthy)} ${String(x.data)} ${String(x.timestamp)}`)])).to.deep.equal([
      ['t1', 'TASK_FINISHED', ['TASK_RUNNING true undefined 2', 'TASK_FINISHED undefined undefined 3']],
    ]);
    h.call(fw, { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: ag.id }, task_id: { value: 't1' }, uuid: UUID3 } });
    const done = (renderState(h.core, h.now) as { completed_tasks: Listed[] }).completed_tasks;
    expect(done.map((t) => t.statuses.map((x) => x.state))).to.deep.equal([['TASK_RUNNING', 'TASK_FINISHED']]);
  });

  it('right after the master starts, reconciliation is silent about unknown tasks (agents may still re-register)', () => {
    const h = new Harness({ reregistrationWindowMs: 15_000 });
    const fw = h.subscribeFramework();
    const silent = h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'maybe' } }] } });
    expect(updatesIn(silent, fw.id)).to.deep.equal([]);
    h.advance(15_000);
    const answered = h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'maybe' } }] } });
    expect(updatesIn(answered, fw.id).map((u) => u.state)).to.deep.equal(['TASK_LOST']);
  });

  it('within that window, a task named on an agent that has registered is answered at once: that agent does not have it', () => {
    const h = new Harness({ reregistrationWindowMs: 15_000 });
    const fw = h.subscribeFramework();
    const ag = h.subscribeAgent();
    const effects = h.call(fw, { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'gone' }, agent_id: { value: ag.id } }, { task_id: { value: 'maybe' }, agent_id: { value: 'not-yet-back' } }] } });
    expect(updatesIn(effects, fw.id).map((u) => `${u.task_id.value} ${u.state} ${String(u.message)}`)).to.deep.equal(['gone TASK_LOST Reconciliation: Task is unknown to the agent']);
  });

  it('RECONCILE implicit (empty list) answers every task the master has for the framework', () => {
    const h = new Harness({ agentPingTimeoutMs: 3_600_000 });
    const { fw, ag } = running(h);
    const [offer] = offersIn(h.advance(5_000), fw.id); // the unused rest, after the default 5 s refusal
    h.call(fw, launch([offer.id.value], [task('t2', ag.id, [scalar('cpus', 1)])]));
    const effects = h.call(fw, { type: 'RECONCILE', reconcile: {} });
    expect(updatesIn(effects, fw.id).map((u) => `${u.task_id.value} ${u.state}`)).to.deep.equal(['t1 TASK_RUNNING', 't2 TASK_STAGING']);
  });

  it('a KILL while the agent is disconnected (not yet unreachable) is re-sent when it re-subscribes', () => {
    // Regression: the e2e "agent restarted" scenario killed the task in the gap
    // between the agent's crash and its re-subscription, and the kill was lost.
    const h = new Harness();
    const { fw, ag } = running(h);
    h.core.agentStreamClosed(ag.id, ag.stream, h.now);
    const during = h.call(fw, { type: 'KILL', kill: { task_id: { value: 't1' } } });
    expect(agentEvents(during)).to.deep.equal([]);
    expect(updatesIn(during, fw.id)).to.deep.equal([]);
    const back = h.subscribeAgent({
      id: ag.id,
      tasks: [task('t1', ag.id, [scalar('cpus', 1), scalar('mem', 128)])],
      statuses: [{ task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID1 }],
      frameworks: [{ user: 'u', name: 'fw', id: { value: fw.id } }],
    });
    expect(agentEvents(back.effects, ag.id).map((e) => e.type)).to.deep.equal(['SUBSCRIBED', 'KILL']);
  });

  it('an older update re-sent by the agent is forwarded for its ack but does not move the state backwards', () => {
    const h = new Harness();
    const fw = h.subscribeFramework();
    const ag = h.subscribeAgent();
    const [offer] = offersIn(ag.effects, fw.id);
    h.call(fw, launch([offer.id.value], [task('t1', ag.id, [scalar('cpus', 1)])]));
    h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID2, timestamp: 200 });
    const effects = h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_STARTING', uuid: UUID1, timestamp: 100 });
    expect(updatesIn(effects, fw.id).map((u) => `${u.state} ${u.uuid}`)).to.deep.equal([`TASK_STARTING ${UUID1}`]);
    expect(h.core.ctx.tasks.get(fw.id, 't1')?.state).to.equal('TASK_RUNNING');
  });

  it('a non-terminal update after a terminal one is forwarded for its ack but never revives the task (Mesos ignores it too)', () => {
    // Seen in the e2e suite: a health-check TASK_RUNNING that the agent sent after the task's
    // TASK_KILLED left the master showing a dead, replaced task as running.
    const h = new Harness();
    const fw = h.subscribeFramework();
    const ag = h.subscribeAgent();
    const [offer] = offersIn(ag.effects, fw.id);
    h.call(fw, launch([offer.id.value], [task('t1', ag.id, [scalar('cpus', 1)])]));
    h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_KILLED', uuid: UUID1, timestamp: 100 });
    const effects = h.agentUpdate(ag, { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: UUID2, timestamp: 200, healthy: true });
    expect(updatesIn(effects, fw.id).map((u) => `${u.state} ${u.uuid}`)).to.deep.equal([`TASK_RUNNING ${UUID2}`]);
    expect(h.core.ctx.tasks.get(fw.id, 't1')?.state).to.equal('TASK_KILLED');
  });

  it('agent calls need the current stream id (400 missing, 403 stale) and agent_id', () => {
    const h = new Harness();
    const ag = h.subscribeAgent();
    const status = (fn: () => void): number => {
      try {
        fn();
      } catch (err) {
        if (err instanceof CygnetError) return err.httpStatus;
      }
      return 202;
    };
    expect(status(() => h.core.agentCall({ type: 'HEARTBEAT', agent_id: { value: ag.id } }, undefined, h.now))).to.equal(400);
    expect(status(() => h.core.agentCall({ type: 'HEARTBEAT', agent_id: { value: ag.id } }, 'stale', h.now))).to.equal(403);
    expect(status(() => h.core.agentCall({ type: 'HEARTBEAT' }, ag.stream, h.now))).to.equal(400);
    expect(status(() => h.core.agentCall({ type: 'HEARTBEAT', agent_id: { value: ag.id } }, ag.stream, h.now))).to.equal(202);
  });
});
