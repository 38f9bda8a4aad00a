/**
 * Deployment events carry Marathon's event plan (`DeploymentPlanWrites`):
 * id, original and target root groups, steps, version. Not the
 * `/v2/deployments` entry shape: python3-marathon builds its
 * MarathonDeploymentPlan from exactly these keys and rejects any other.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../../src/common/clock.ts';
import { AppService } from '../../../../src/framework/app-service.ts';
import type { CommandResult, FrameworkCommand } from '../../../../src/framework/state/commands.ts';
import { FrameworkState } from '../../../../src/framework/state/framework-state.ts';
import type { MarathonEvent } from '../../../../src/framework/state/observer.ts';
import { renderDeployments } from '../../../../src/framework/state/render-deployment.ts';

const planKeys = ['id', 'original', 'target', 'steps', 'version'];
const groupKeys = ['id', 'apps', 'groups', 'pods', 'dependencies', 'version'];

interface Group { id: string; apps: { id: string; instances: number }[]; groups: Group[] }
interface Plan { id: string; original: Group; target: Group; steps: { actions: { action: string; app: string }[] }[] }

function harness(): { apps: AppService; events: MarathonEvent[]; state: FrameworkState; propose: (cmd: FrameworkCommand) => Promise<CommandResult> } {
  const state = new FrameworkState();
  const events: MarathonEvent[] = [];
  state.setObserver({ event: (e) => events.push(e), registry: () => undefined, restored: () => undefined });
  let index = 0;
  const clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
  let uuid = 0;
  const propose = (cmd: FrameworkCommand) => Promise.resolve(state.apply({ index: ++index, term: 1, data: new TextEncoder().encode(JSON.stringify(cmd)) }));
  const apps = new AppService({ state, propose, clock, newUuid: () => `d-${++uuid}` });
  return { apps, events, state, propose };
}

function appsIn(g: Group): { id: string; instances: number }[] {
  return [...g.apps, ...g.groups.flatMap(appsIn)];
}

function checkShape(plan: Plan): void {
  expect(Object.keys(plan)).to.deep.equal(planKeys);
  const walk = (g: Group): void => {
    expect(Object.keys(g)).to.deep.equal(groupKeys);
    g.groups.forEach(walk);
  };
  walk(plan.original);
  walk(plan.target);
}

describe('framework/state deployment events', () => {
  it('a start has no app in original, the new app nested under its groups in target', async () => {
    const { apps, events } = harness();
    await apps.create({ id: '/shop/back/api', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 2 });
    const info = events.find((e) => e.eventType === 'deployment_info');
    const plan = info?.plan as Plan;
    checkShape(plan);
    expect(plan.original.id).to.equal('/');
    expect(appsIn(plan.original)).to.deep.equal([]);
    expect(plan.target.groups[0]?.id).to.equal('/shop');
    expect(plan.target.groups[0]?.groups[0]?.id).to.equal('/shop/back');
    expect(appsIn(plan.target).map((a) => [a.id, a.instances])).to.deep.equal([['/shop/back/api', 2]]);
    // Marathon's two steps for a new app: started at 0 instances, then scaled; the first ends at once.
    expect(plan.steps).to.deep.equal([{ actions: [{ action: 'StartApplication', app: '/shop/back/api' }] }, { actions: [{ action: 'ScaleApplication', app: '/shop/back/api' }] }]);
    expect(events.filter((e) => e.eventType.startsWith('deployment_')).map((e) => [e.eventType, e.currentStep])).to.deep.equal([
      ['deployment_info', plan.steps[0]],
      ['deployment_step_success', plan.steps[0]],
      ['deployment_info', plan.steps[1]],
    ]);
  });

  it('a scale shows both versions; a forced delete ends the open deployment and keeps the deleted app in original', async () => {
    const { apps, events } = harness();
    await apps.create({ id: '/web', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 1 });
    await apps.update('/web', { instances: 3 }, { force: true, partial: true });
    const infos = () => [...new Set(events.filter((e) => e.eventType === 'deployment_info').map((e) => e.plan as Plan))];
    const scale = infos()[1] as Plan;
    expect(scale.steps).to.deep.equal([{ actions: [{ action: 'ScaleApplication', app: '/web' }] }]);
    checkShape(scale);
    expect(appsIn(scale.original).map((a) => a.instances)).to.deep.equal([1]);
    expect(appsIn(scale.target).map((a) => a.instances)).to.deep.equal([3]);
    await apps.remove('/web', { force: true });
    const ended = events.filter((e) => e.eventType === 'deployment_failed' || e.eventType === 'deployment_success');
    expect(ended.map((e) => (e.plan as Plan).id)).to.include(scale.id);
    const del = infos()[2] as Plan;
    checkShape(del);
    expect(appsIn(del.original).map((a) => [a.id, a.instances])).to.deep.equal([['/web', 3]]);
    expect(appsIn(del.target)).to.deep.equal([]);
    expect(del.steps[0]?.actions[0]?.action).to.equal('StopApplication');
  });

  it('an API write emits api_post_event (client, path, the app JSON) and group_change_success; a scheduler write only the latter', async () => {
    const { apps, events } = harness();
    await apps.create({ id: '/shop/web', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 1 }, { origin: { clientIp: '127.0.0.9', uri: '/v2/apps' } });
    const post = events.find((e) => e.eventType === 'api_post_event');
    expect([post?.clientIp, post?.uri, (post?.appDefinition as { id: string; instances: number }).id]).to.deep.equal(['127.0.0.9', '/v2/apps', '/shop/web']);
    const change = events.find((e) => e.eventType === 'group_change_success');
    expect([change?.groupId, change?.version]).to.deep.equal(['/shop', (post?.appDefinition as { version: string }).version]);
    // Marathon's order: the API's event, the group change, then the deployment.
    expect(events.map((e) => e.eventType).slice(0, 3)).to.deep.equal(['api_post_event', 'group_change_success', 'deployment_info']);
    events.length = 0;
    await apps.update('/shop/web', { instances: 2 }, { partial: true, force: true });
    expect(events.map((e) => e.eventType)).to.not.include('api_post_event');
    expect(events.map((e) => e.eventType)).to.include('group_change_success');
    events.length = 0;
    await apps.remove('/shop/web', { force: true });
    expect(events.filter((e) => e.eventType === 'group_change_success').map((e) => e.groupId)).to.deep.equal(['/shop']);
  });

  it('a write of several apps is one deployment: listed once, ended by one event when the last member ends, across a snapshot', async () => {
    const { apps, events, state, propose } = harness();
    const w = await apps.updateMany([
      { id: '/shop/web', cmd: 'sleep 1', cpus: 0.1, mem: 16 },
      { id: '/shop/api', cmd: 'sleep 1', cpus: 0.1, mem: 16 },
      { id: '/db', cmd: 'sleep 1', cpus: 0.1, mem: 16 },
    ]);
    const members = state.deploymentsOfBatch(w.deploymentId);
    expect(members.map((d) => d.appId)).to.deep.equal(['/shop/web', '/shop/api', '/db']);
    expect(state.deployment(w.deploymentId), 'the batch id is no member\'s').to.equal(undefined);
    const listed = renderDeployments(state.deployments(), (b) => state.endedOfBatch(b));
    expect(listed).to.have.length(1);
    // Marathon's steps: the three apps started, then scaled; the starts end at once.
    expect(listed[0]).to.include({ id: w.deploymentId, currentStep: 2, totalSteps: 2 });
    expect((listed[0]?.steps as { actions: { action: string }[] }[]).map((s) => s.actions.map((a) => a.action))).to.deep.equal([Array(3).fill('StartApplication'), Array(3).fill('ScaleApplication')]);
    expect(listed[0]?.affectedApps).to.deep.equal(['/shop/web', '/shop/api', '/db']);
    // A member's lock names the batch.
    await apps.update('/db', { instances: 2 }, { partial: true }).then(() => expect.fail('locked'), (err: Error) => expect(err.message).to.include(`/v2/deployments/${w.deploymentId}`));

    const finish = (appId: string, outcome: 'success' | 'failed') => propose({ type: 'FinishDeployment', atMs: Date.parse('2026-12-06T12:00:05Z'), deploymentId: (state.deploymentOf(appId) as { id: string }).id, outcome, ...(outcome === 'failed' ? { reason: 'no offers' } : {}) });
    const batchEvents = () => events.filter((e) => (e.eventType === 'deployment_success' || e.eventType === 'deployment_failed') && e.id === w.deploymentId);
    await finish('/shop/web', 'success');
    expect(batchEvents()).to.deep.equal([]);
    // A replica restored from a snapshot now ends the batch the same way.
    const restored = new FrameworkState();
    const restoredEvents: MarathonEvent[] = [];
    restored.setObserver({ event: (e) => restoredEvents.push(e), registry: () => undefined, restored: () => undefined });
    restored.restore(state.snapshot());
    for (const [s, finishIn] of [[state, finish], [restored, (appId: string, outcome: 'success' | 'failed') => Promise.resolve(restored.apply({ index: 100, term: 1, data: new TextEncoder().encode(JSON.stringify({ type: 'FinishDeployment', atMs: Date.parse('2026-12-06T12:00:05Z'), deploymentId: (restored.deploymentOf(appId) as { id: string }).id, outcome, ...(outcome === 'failed' ? { reason: 'no offers' } : {}) })) }))]] as const) {
      await finishIn('/shop/api', 'failed');
      const left = renderDeployments(s.deployments(), (b) => s.endedOfBatch(b));
      expect(left.map((d) => d.id)).to.deep.equal([w.deploymentId]);
      expect(left[0]?.affectedApps, 'every app of the batch, done or not').to.deep.equal(['/shop/web', '/shop/api', '/db']);
      expect((left[0]?.currentActions as { app: string }[]).map((a) => a.app)).to.deep.equal(['/db']);
      await finishIn('/db', 'success');
      expect(renderDeployments(s.deployments(), (b) => s.endedOfBatch(b))).to.deep.equal([]);
    }
    for (const list of [events, restoredEvents]) {
      const ended = list.filter((e) => (e.eventType === 'deployment_success' || e.eventType === 'deployment_failed') && e.id === w.deploymentId);
      expect(ended.map((e) => e.eventType)).to.deep.equal(['deployment_failed']);
      expect(ended[0]?.reason).to.equal('no offers');
      const plan = ended[0]?.plan as Plan;
      checkShape(plan);
      expect(plan.id).to.equal(w.deploymentId);
      expect(plan.steps[0]?.actions.map((a) => a.app).sort()).to.deep.equal(list === events ? ['/db', '/shop/api', '/shop/web'] : ['/db', '/shop/api']);
    }
    const merged = (batchEvents()[0]?.plan as Plan).target;
    expect(appsIn(merged).map((a) => a.id).sort()).to.deep.equal(['/db', '/shop/api', '/shop/web']);
    expect(merged.groups.map((g) => g.id)).to.deep.equal(['/shop']);
  });

  it('DELETE of a batch reverts every member that is still open, as one new batch', async () => {
    const { apps, state } = harness();
    await apps.create({ id: '/a', cmd: 'sleep 1', cpus: 0.1, mem: 16 });
    const w = await apps.updateMany([{ id: '/a', instances: 3 }, { id: '/b', cmd: 'sleep 1', cpus: 0.1, mem: 16 }], { force: true, partial: true });
    const revert = await apps.cancelDeployment(w.deploymentId);
    expect(revert?.deploymentId).to.not.equal(w.deploymentId);
    expect(state.deploymentsOfBatch(w.deploymentId)).to.deep.equal([]);
    expect(state.deploymentsOfBatch(revert?.deploymentId as string).map((d) => [d.appId, d.kind])).to.deep.equal([['/a', 'rollback'], ['/b', 'delete']]);
    expect(state.app('/a')?.current.definition.instances).to.equal(1);
    expect(state.app('/b')).to.equal(undefined);
    const forced = await apps.cancelDeployment(revert?.deploymentId as string, { force: true });
    expect(forced).to.equal(undefined);
    expect([...state.deployments()]).to.deep.equal([]);
  });
});
