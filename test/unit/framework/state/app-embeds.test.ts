/**
 * What Marathon's app JSON embeds about an app's tasks, from the replicated
 * state: `lastTaskFailure` and `taskStats`.
 *
 * `lastTaskFailure`: GET /v2/apps/{id} (and `embed=apps.lastTaskFailure`)
 * shows the app's last task that ended FAILED, ERROR, LOST, DROPPED or GONE,
 * with its host, message, state, task id, time and app version. A task the
 * framework killed, or one that finished, is not a failure. It is part of
 * the replicated state: a snapshot carries it, and deleting the app drops it.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../../src/common/clock.ts';
import { AppService } from '../../../../src/framework/app-service.ts';
import { parseGroupEmbed } from '../../../../src/framework/api/group-routes.ts';
import { parseEmbed, renderAppWithStatus, taskStatsOf } from '../../../../src/framework/api/render.ts';
import type { FrameworkCommand, StatusUpdate } from '../../../../src/framework/state/commands.ts';
import { FrameworkState } from '../../../../src/framework/state/framework-state.ts';

function harness(): { state: FrameworkState; apps: AppService; run: (cmd: FrameworkCommand) => void } {
  const state = new FrameworkState();
  let index = 0;
  const clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
  let uuid = 0;
  const run = (cmd: FrameworkCommand) => state.apply({ index: ++index, term: 1, data: new TextEncoder().encode(JSON.stringify(cmd)) });
  const propose = (cmd: FrameworkCommand) => Promise.resolve(run(cmd));
  const apps = new AppService({ state, propose, clock, newUuid: () => `d-${++uuid}` });
  return { state, apps, run: (cmd) => { run(cmd); } };
}

/** Schedules the app's n-th instance (as the deployment driver does) if it has not got one, launches it on agent S1 at 127.0.0.2 and reports it RUNNING at `runningAtMs` (0: leaves it staging); returns its task id. */
function launchOne(h: ReturnType<typeof harness>, appId: string, n = 1, runningAtMs = 2000): string {
  if (h.state.instancesOf(appId).length < n) {
    const version = h.state.app(appId)?.current.version ?? '';
    h.run({ type: 'Schedule', atMs: 500, instances: [{ instanceId: `${appId.slice(1).replaceAll('/', '_')}.instance-${n}`, appId, version }] });
  }
  const inst = h.state.instancesOf(appId)[n - 1];
  if (inst === undefined) throw new Error('no instance');
  const taskId = `${inst.instanceId}._app.${inst.incarnation + 1}`;
  h.run({ type: 'Launch', atMs: 1000, launches: [{ instanceId: inst.instanceId, incarnation: inst.incarnation + 1, taskId, agentId: 'S1', hostname: '127.0.0.2', hostPorts: [31000] }] });
  if (runningAtMs > 0) status(h, { taskId, state: 'TASK_RUNNING', agentId: 'S1', timestampMs: runningAtMs });
  return taskId;
}

function status(h: ReturnType<typeof harness>, u: StatusUpdate): void {
  h.run({ type: 'TaskStatuses', atMs: u.timestampMs, updates: [u] });
}

function rendered(h: ReturnType<typeof harness>, appId: string, embed = parseEmbed(['app.lastTaskFailure'])): Record<string, unknown> {
  const app = h.state.app(appId);
  if (app === undefined) throw new Error('no app');
  return renderAppWithStatus(h.state, app, embed) as Record<string, unknown>;
}

describe('framework/state lastTaskFailure', () => {
  it('records a failed task with Marathon\'s fields and shows it when embedded', async () => {
    const h = harness();
    await h.apps.create({ id: '/shop/web', cmd: 'exit 3', cpus: 0.1, mem: 16, instances: 1 });
    expect(rendered(h, '/shop/web')).to.not.have.property('lastTaskFailure');
    const taskId = launchOne(h, '/shop/web');
    const version = h.state.app('/shop/web')?.current.version;
    status(h, { taskId, state: 'TASK_FAILED', agentId: 'S1', message: 'Command exited with status 3', timestampMs: Date.parse('2026-12-06T12:00:05Z') });
    expect(rendered(h, '/shop/web').lastTaskFailure).to.deep.equal({
      appId: '/shop/web',
      host: '127.0.0.2',
      message: 'Command exited with status 3',
      state: 'TASK_FAILED',
      taskId,
      timestamp: '2026-12-06T12:00:05.000Z',
      version,
      slaveId: 'S1',
    });
    // Only when asked for: the list without the embed leaves it out.
    expect(rendered(h, '/shop/web', parseEmbed([]))).to.not.have.property('lastTaskFailure');
  });

  it('ignores tasks that finished or were killed; a later failure replaces an earlier one', async () => {
    const h = harness();
    await h.apps.create({ id: '/web', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 1 });
    let taskId = launchOne(h, '/web');
    status(h, { taskId, state: 'TASK_FINISHED', timestampMs: 3000 });
    expect(rendered(h, '/web')).to.not.have.property('lastTaskFailure');
    taskId = launchOne(h, '/web');
    status(h, { taskId, state: 'TASK_KILLED', message: 'killed by the operator', timestampMs: 4000 });
    expect(rendered(h, '/web')).to.not.have.property('lastTaskFailure');
    taskId = launchOne(h, '/web');
    status(h, { taskId, state: 'TASK_LOST', message: 'agent gone', timestampMs: 5000 });
    expect((rendered(h, '/web').lastTaskFailure as { state: string }).state).to.equal('TASK_LOST');
    taskId = launchOne(h, '/web');
    status(h, { taskId, state: 'TASK_ERROR', message: 'bad task', timestampMs: 6000 });
    expect(rendered(h, '/web').lastTaskFailure).to.include({ state: 'TASK_ERROR', message: 'bad task', taskId });
  });

  it('survives a snapshot and restore, and goes with the app when it is deleted', async () => {
    const h = harness();
    await h.apps.create({ id: '/web', cmd: 'exit 1', cpus: 0.1, mem: 16, instances: 1 });
    const taskId = launchOne(h, '/web');
    status(h, { taskId, state: 'TASK_FAILED', message: 'exit 1', timestampMs: 7000 });
    const copy = new FrameworkState();
    copy.restore(h.state.snapshot());
    const app = copy.app('/web');
    expect(app?.lastTaskFailure).to.include({ taskId, state: 'TASK_FAILED', message: 'exit 1' });
    await h.apps.remove('/web', { force: true });
    // A new app under the same id (its predecessor's delete still running, hence force) starts clean.
    await h.apps.create({ id: '/web', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 1 }, { force: true });
    expect(rendered(h, '/web')).to.not.have.property('lastTaskFailure');
  });
});

describe('framework/api taskStats', () => {
  it('is {} for an app with no task yet, and absent unless embedded', async () => {
    const h = harness();
    await h.apps.create({ id: '/web', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 2 });
    expect(rendered(h, '/web', parseEmbed(['app.taskStats'])).taskStats).to.deep.equal({});
    expect(rendered(h, '/web', parseEmbed([]))).to.not.have.property('taskStats');
  });

  it('counts staged and running tasks, and their life times since they started, by version', async () => {
    const h = harness();
    await h.apps.create({ id: '/web', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 3 });
    launchOne(h, '/web', 1, 10_000);
    launchOne(h, '/web', 2, 20_000);
    launchOne(h, '/web', 3, 0); // still staging
    const app = h.state.app('/web');
    if (app === undefined) throw new Error('no app');
    const stats = taskStatsOf(app, h.state.instancesOf('/web'), 50_000);
    // Every task runs the latest (and only) version: started after the last scaling, on the latest config.
    const expected = { stats: { counts: { staged: 1, running: 2, healthy: 0, unhealthy: 0 }, lifeTime: { averageSeconds: 35, medianSeconds: 40 } } };
    expect(stats).to.deep.equal({ startedAfterLastScaling: expected, withLatestConfig: expected, totalSummary: expected });
    // What the route prints, through the same function.
    expect(Object.keys(rendered(h, '/web', parseEmbed(['apps.taskStats'])).taskStats as object)).to.deep.equal(['startedAfterLastScaling', 'withLatestConfig', 'totalSummary']);
  });

  it('puts tasks of an older configuration under withOutdatedConfig, and none before any started has a lifeTime', async () => {
    const h = harness();
    await h.apps.create({ id: '/web', cmd: 'sleep 1', cpus: 0.1, mem: 16, instances: 1 });
    launchOne(h, '/web', 1, 0);
    await h.apps.update('/web', { cmd: 'sleep 2' }, { partial: true, force: true });
    const app = h.state.app('/web');
    if (app === undefined) throw new Error('no app');
    const stats = taskStatsOf(app, h.state.instancesOf('/web'), 50_000) as Record<string, unknown>;
    expect(stats).to.have.keys('withOutdatedConfig', 'totalSummary');
    expect(stats.withOutdatedConfig).to.deep.equal({ stats: { counts: { staged: 1, running: 0, healthy: 0, unhealthy: 0 } } });
  });
});

describe('embed values, as Marathon resolves them', () => {
  it('takes any of the prefixes group.apps., apps., app. or none, and failures as tasks and lastTaskFailure', () => {
    for (const v of ['tasks', 'app.tasks', 'apps.tasks', 'group.apps.tasks']) expect(parseEmbed([v]).tasks, v).to.equal(true);
    const f = parseEmbed(['apps.failures']);
    expect([f.tasks, f.lastTaskFailure, f.deployments]).to.deep.equal([true, true, true]);
    expect(parseEmbed(['readiness']).readiness).to.equal(true);
    expect(parseEmbed(['app.counts', 'nonsense', 'apps.']).tasks).to.equal(false);
  });

  it('groups: none given is apps and groups; given, only what is named, and group.apps.<x> embeds <x> in each app', () => {
    expect(parseGroupEmbed([])).to.deep.include({ apps: true, groups: true });
    const onlyApps = parseGroupEmbed(['group.apps', 'group.apps.tasks']);
    expect([onlyApps.apps, onlyApps.groups, onlyApps.app.tasks]).to.deep.equal([true, false, true]);
    const tasksOnly = parseGroupEmbed(['group.apps.tasks']);
    expect([tasksOnly.apps, tasksOnly.groups]).to.deep.equal([false, false]);
    expect(parseGroupEmbed(['app.tasks']).app.tasks, 'only group.apps.* reaches the apps of a group').to.equal(false);
  });
});
