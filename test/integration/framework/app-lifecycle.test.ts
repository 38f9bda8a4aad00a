/**
 * The app framework end to end: a real master, three agents (127.0.0.1..3,
 * racks a/b/c) and one framework replica, driven through Marathon's /v2 API
 * as a user would. Each test uses its own app so a failure points at one
 * behaviour.
 */
import { expect } from 'chai';
import { registerClusterCleanup, restartFramework, startAppCluster, type AppCluster } from '../../helpers/cluster.ts';
import { api, EventRecorder, getApp, waitFor, waitForApp, type MarathonApp, type MarathonTask } from '../../helpers/framework-api.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

/**
 * A tiny HTTP server on `$PORT0` that answers `tag` (its health check passes
 * once it listens). Node itself, so the tests need nothing but Node.
 */
const httpCmd = (tag: string) => `exec ${process.execPath} -e 'require("http").createServer((q, s) => s.end("${tag}")).listen(Number(process.env.PORT0))'`;

const fastHealth = [{ protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 10, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 3 }];

interface MasterTask { id: string; framework_id: string; state: string }

async function masterTasks(c: AppCluster): Promise<MasterTask[]> {
  const r = await api(`http://${c.master.address}`, 'GET', '/tasks?limit=100000');
  return (r.body as { tasks: MasterTask[] }).tasks;
}

describe('app framework end to end (master + 3 agents + framework)', function () {
  this.timeout(180_000);
  registerClusterCleanup();
  let c: AppCluster;
  let base: string;

  before(async () => {
    c = await startAppCluster(await makeTempDir('cygnet-framework-e2e'));
    base = c.framework.url;
    await waitFor('the framework to subscribe', async () => {
      const r = await api(base, 'GET', '/v2/info');
      return (r.body as { frameworkId: string | null }).frameworkId ?? undefined;
    });
  });

  it('serves the root group of a new cluster as Marathon does: empty, with version Timestamp(0)', async () => {
    const root = await api(base, 'GET', '/v2/groups');
    expect(root.status).to.equal(200);
    expect(root.body).to.deep.equal({ id: '/', apps: [], groups: [], pods: [], dependencies: [], version: '1970-01-01T00:00:00.000Z' });
  });

  it('places 3 instances with UNIQUE hostname on 3 agents, and shows why a 4th and 5th cannot be placed', async () => {
    const r = await api(base, 'POST', '/v2/apps', { id: '/shop/web', cmd: 'sleep 600', cpus: 0.01, mem: 16, instances: 3, constraints: [['hostname', 'UNIQUE']] });
    expect(r.status).to.equal(201);
    expect(r.headers['marathon-deployment-id']).to.be.a('string');
    const app = await waitForApp(base, '/shop/web', 3);
    expect(new Set(app.tasks?.map((t) => t.host))).to.have.lengthOf(3);

    const scaled = await api(base, 'PUT', '/v2/apps/shop/web', { instances: 5 });
    expect(scaled.status).to.equal(200);
    const entry = await waitFor('the queue to explain the 2 unplaced instances', async () => {
      const q = (await api(base, 'GET', '/v2/queue')).body as { queue: { count: number; app: { id: string }; processedOffersSummary: { rejectSummaryLaunchAttempt: { reason: string; declined: number }[] } }[] };
      const e = q.queue.find((x) => x.app.id === '/shop/web');
      return e !== undefined && e.processedOffersSummary.rejectSummaryLaunchAttempt.some((s) => s.reason === 'UnfulfilledConstraint' && s.declined > 0) ? e : undefined;
    });
    expect(entry.count).to.equal(2);
    expect((await getApp(base, '/shop/web'))?.tasksRunning).to.equal(3);

    // Lifting the constraint (a config change) lets all 5 run.
    const lifted = await api(base, 'PUT', '/v2/apps/shop/web?force=true', { constraints: [] });
    expect(lifted.status).to.equal(200);
    await waitForApp(base, '/shop/web', 5);
    expect((await api(base, 'DELETE', '/v2/apps/shop/web')).status).to.equal(200);
  });

  it('keeps a rolling update gated by an HTTP health check within minimumHealthCapacity and maximumOverCapacity', async () => {
    const id = '/roll';
    const upgradeStrategy = { minimumHealthCapacity: 0.5, maximumOverCapacity: 0.5 };
    const created = await api(base, 'POST', '/v2/apps', { id, cmd: httpCmd('v1'), cpus: 0.01, mem: 32, instances: 4, portDefinitions: [{ port: 0, name: 'http' }], healthChecks: fastHealth, upgradeStrategy });
    expect(created.status, created.text).to.equal(201);
    const v1 = await waitForApp(base, id, 4, { healthy: true });

    const events = new EventRecorder(base);
    await events.ready;
    const update = await api(base, 'PUT', `/v2/apps${id}`, { cmd: httpCmd('v2') });
    expect(update.status).to.equal(200);
    const v2 = await waitFor('all 4 instances on the new version', async () => {
      const app = await getApp(base, id);
      return app !== undefined && app.deployments.length === 0 && app.tasksHealthy === 4 && app.tasks?.every((t) => t.version === app.version) && app.tasks.length === 4 ? app : undefined;
    }, 90_000);
    // The stream may trail the API by a moment: wait for the deployment's end on it before replaying.
    await waitFor('deployment_success on the stream', async () => (events.ofType('deployment_success').length > 0 ? true : undefined), 10_000, 20);
    events.close();
    expect(v2.version).to.not.equal(v1.version);

    // Replay the stream: live = launched and not yet terminal; healthy = last health verdict true.
    const live = new Set<string>(v1.tasks?.map((t) => t.id));
    const healthy = new Set<string>(v1.tasks?.map((t) => t.id));
    const versionOf = new Map<string, string>(v1.tasks?.map((t) => [t.id, t.version]));
    let minHealthy = Infinity;
    let maxLive = 0;
    let sideBySide = false;
    const terminal = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE']);
    for (const e of events.events) {
      if (e.data.appId !== id && e.data.runSpecId !== id) continue;
      if (e.event === 'status_update_event') {
        const task = e.data.taskId as string;
        versionOf.set(task, e.data.version as string);
        if (terminal.has(e.data.taskStatus as string)) {
          live.delete(task);
          healthy.delete(task);
        } else live.add(task);
      } else if (e.event === 'health_status_changed_event') {
        const task = e.data.taskId as string;
        if (e.data.alive === true) healthy.add(task);
        else healthy.delete(task);
      } else continue;
      minHealthy = Math.min(minHealthy, healthy.size);
      maxLive = Math.max(maxLive, live.size);
      const liveVersions = new Set([...live].map((t) => versionOf.get(t)));
      if (liveVersions.has(v1.version) && liveVersions.has(v2.version)) sideBySide = true;
    }
    expect(events.ofType('deployment_success').length).to.be.greaterThan(0);
    expect(minHealthy, 'healthy instances never below ceil(4 × 0.5)').to.be.at.least(2);
    expect(maxLive, 'live instances never above 4 + floor(4 × 0.5)').to.be.at.most(6);
    expect(sideBySide, 'old and new instances ran side by side (a rolling update, not stop-then-start)').to.equal(true);
  });

  it('runs a canary of 1 instance at 20 % next to the old version, then promotes it', async () => {
    const id = '/canary';
    const created = await api(base, 'POST', '/v2/apps', { id, cmd: httpCmd('stable'), cpus: 0.01, mem: 32, instances: 3, portDefinitions: [{ port: 0 }], healthChecks: fastHealth });
    expect(created.status, created.text).to.equal(201);
    const stable = await waitForApp(base, id, 3, { healthy: true });

    const started = await api(base, 'POST', `/v1/apps${id}/canary`, { app: { cmd: httpCmd('canary') }, instances: 1, weight: 0.2 });
    expect(started.status, started.text).to.equal(200);
    const during = await waitFor('1 canary and 2 stable instances, healthy', async () => {
      const app = await getApp(base, id);
      if (app === undefined || app.deployments.length > 0 || app.tasksHealthy !== 3 || app.tasks?.length !== 3) return undefined;
      const onCanary = app.tasks.filter((t) => t.version === app.version).length;
      return onCanary === 1 ? app : undefined;
    }, 60_000);
    expect(during.tasks?.filter((t) => t.version === stable.version)).to.have.lengthOf(2);
    const registry = (await api(base, 'GET', '/v1/registry')).body as { apps: { id: string; versionWeights?: Record<string, number>; endpoints: unknown[] }[] };
    const entry = registry.apps.find((a) => a.id === id);
    expect(entry?.versionWeights).to.deep.equal({ [stable.versionInfo.lastConfigChangeAt]: 0.8, [during.versionInfo.lastConfigChangeAt]: 0.2 });
    expect(entry?.endpoints).to.have.lengthOf(3);

    const promoted = await api(base, 'POST', `/v1/apps${id}/canary/promote`);
    expect(promoted.status, promoted.text).to.equal(200);
    const after = await waitFor('every instance on the canary config', async () => {
      const app = await getApp(base, id);
      return app !== undefined && app.deployments.length === 0 && app.tasksHealthy === 3 && app.tasks?.length === 3 &&
        app.tasks.every((t) => !stable.tasks?.some((s) => s.id === t.id)) ? app : undefined;
    }, 90_000);
    const reg2 = (await api(base, 'GET', '/v1/registry')).body as { apps: { id: string; versionWeights?: unknown }[] };
    expect(reg2.apps.find((a) => a.id === id)?.versionWeights).to.equal(undefined);
    expect(after.versionInfo.lastConfigChangeAt).to.equal(during.versionInfo.lastConfigChangeAt);
  });

  it('rolls back to the first version with PUT {"version": …}', async () => {
    const id = '/rollback';
    expect((await api(base, 'POST', '/v2/apps', { id, cmd: 'sleep 601', cpus: 0.01, mem: 16, instances: 2 })).status).to.equal(201);
    const first = await waitForApp(base, id, 2);
    expect((await api(base, 'PUT', `/v2/apps${id}`, { cmd: 'sleep 602' })).status).to.equal(200);
    await waitFor('the update to finish', async () => {
      const a = await getApp(base, id);
      return a !== undefined && a.deployments.length === 0 && a.tasks?.length === 2 && a.tasks.every((t) => t.version === a.version) && a.version !== first.version ? a : undefined;
    });
    // A PUT that changes nothing is no upgrade: the running tasks stay.
    const settled = await getApp(base, id);
    expect((await api(base, 'PUT', `/v2/apps${id}`, { instances: 2 })).status).to.equal(200);
    await waitFor('the no-op deployment done', async () => ((await getApp(base, id))?.deployments.length === 0 ? true : undefined));
    expect((await getApp(base, id))?.tasks?.map((t) => t.id).sort()).to.deep.equal(settled?.tasks?.map((t) => t.id).sort());
    const versions = (await api(base, 'GET', `/v2/apps${id}/versions`)).body as { versions: string[] };
    expect(versions.versions).to.have.lengthOf(3);
    expect(versions.versions[2]).to.equal(first.version);
    const back = await api(base, 'PUT', `/v2/apps${id}`, { version: first.version });
    expect(back.status, back.text).to.equal(200);
    const rolled = await waitFor('the rollback to finish', async () => {
      const a = await getApp(base, id);
      return a !== undefined && a.deployments.length === 0 && a.tasks?.length === 2 && a.tasksRunning === 2 ? a : undefined;
    });
    const def = (await api(base, 'GET', `/v2/apps${id}`)).body as { app: { cmd: string } };
    expect(def.app.cmd).to.equal('sleep 601');
    expect(rolled.versionInfo.lastConfigChangeAt).to.equal(first.versionInfo.lastConfigChangeAt);
  });

  it('replaces an instance whose process exits, under the same instance id, with growing backoff', async () => {
    const id = '/crashy';
    expect((await api(base, 'POST', '/v2/apps', { id, cmd: 'sleep 0.2; exit 3', cpus: 0.01, mem: 16, instances: 1, backoffSeconds: 1, backoffFactor: 2, maxLaunchDelaySeconds: 60 })).status).to.equal(201);
    const events = new EventRecorder(base);
    await events.ready;
    const failures = await waitFor('three failed runs', async () => {
      const f = events.ofType('status_update_event').filter((e) => e.data.appId === id && e.data.taskStatus === 'TASK_FAILED');
      return f.length >= 3 ? f : undefined;
    }, 60_000);
    events.close();
    const instanceOf = (taskId: string) => taskId.slice(0, taskId.lastIndexOf('._app.'));
    const ids = failures.map((e) => e.data.taskId as string);
    expect(new Set(ids.map(instanceOf)).size, 'one stable instance id').to.equal(1);
    expect(new Set(ids).size, 'a new task per run').to.equal(ids.length);
    const at = failures.map((e) => Date.parse(e.data.timestamp as string));
    // Each run lasts ~0.2 s; the gaps grow with the backoff (≥ 1 s, then ≥ 2 s).
    expect(at[1]! - at[0]!).to.be.at.least(1000);
    expect(at[2]! - at[1]!).to.be.at.least(2000);
    expect((await api(base, 'DELETE', `/v2/apps${id}`)).status).to.equal(200);
  });

  it('DELETE /v2/queue/{app}/delay launches a backed-off instance at once; 404 for an app with nothing waiting', async () => {
    const id = '/crash-slow';
    expect((await api(base, 'POST', '/v2/apps', { id, cmd: 'sleep 0.2; exit 3', cpus: 0.01, mem: 16, instances: 1, backoffSeconds: 60, maxLaunchDelaySeconds: 300 })).status).to.equal(201);
    const events = new EventRecorder(base);
    await events.ready;
    const failed = () => events.ofType('status_update_event').filter((e) => e.data.appId === id && e.data.taskStatus === 'TASK_FAILED');
    await waitFor('the first failure', async () => (failed().length >= 1 ? true : undefined), 30_000);
    const queued = await waitFor('the instance queued with its 60 s backoff', async () => {
      const q = ((await api(base, 'GET', '/v2/queue')).body as { queue: { app: { id: string }; delay: { timeLeftSeconds: number }; role: string }[] }).queue.find((e) => e.app.id === id);
      return q !== undefined && q.delay.timeLeftSeconds > 30 ? q : undefined;
    }, 10_000);
    expect(queued, 'marathon-python maps a queue item onto a fixed constructor without role').to.not.have.property('role');
    const reset = await api(base, 'DELETE', `/v2/queue${id}/delay`);
    expect(reset.status, reset.text).to.equal(204);
    // Launched again at once, not a minute later: it fails again within seconds.
    await waitFor('a second run right after the reset', async () => (failed().length >= 2 ? true : undefined), 20_000);
    events.close();
    expect((await api(base, 'DELETE', `/v2/apps${id}`)).status).to.equal(200);
    const none = await api(base, 'DELETE', '/v2/queue/nothing/here/delay');
    expect(none.status).to.equal(404);
    expect(none.body).to.deep.equal({ message: 'Application /nothing/here not found in tasks queue.' });
  });

  it('speaks the older and looser forms Marathon clients use: text/plain task lists, status[] filters, embed prefixes, group embeds, ping negotiation', async () => {
    const id = '/compat/web';
    expect((await api(base, 'POST', '/v2/apps', { id, cmd: 'sleep 608', cpus: 0.01, mem: 8, instances: 2, portDefinitions: [{ port: 0 }, { port: 0 }] })).status).to.equal(201);
    expect((await api(base, 'POST', '/v2/apps', { id: '/compat/portless', cmd: 'sleep 608', cpus: 0.01, mem: 8, instances: 0, portDefinitions: [] })).status).to.equal(201);
    const app = await waitForApp(base, id, 2);
    const [p0, p1] = (app.portDefinitions ?? []).map((p) => p.port);
    const tasks = [...(app.tasks ?? [])].sort((a, b) => a.id.localeCompare(b.id));
    // haproxy-marathon-bridge: `Accept: text/plain`, tab-separated, a tab after every entry.
    const text = await api(base, 'GET', `/v2/apps${id}/tasks`, undefined, { accept: 'text/plain' });
    expect(text.headers['content-type']).to.match(/^text\/plain/);
    const line = (port: number | undefined, k: number): string => `compat_web\t${String(port)}\t${tasks.map((t) => `${t.host}:${String(t.ports[k])}\t`).join('')}`;
    const [l0, l1] = text.text.split('\n');
    const sortEntries = (l: string | undefined): string => { const [a, b, ...rest] = (l ?? '').split('\t'); return [a, b, ...rest.filter((x) => x !== '').sort(), ''].join('\t'); };
    expect(sortEntries(l0)).to.equal(sortEntries(line(p0, 0)));
    expect(sortEntries(l1)).to.equal(sortEntries(line(p1, 1)));
    const all = await api(base, 'GET', '/v2/tasks', undefined, { accept: 'text/plain' });
    expect(all.text).to.contain('compat_portless\t \t\n');
    expect((await api(base, 'GET', `/v2/apps${id}/tasks`, undefined, { accept: '*/*' })).body, 'JSON wins when both are acceptable').to.have.property('tasks');
    expect((await api(base, 'GET', `/v2/apps${id}/tasks`)).body).to.have.nested.property('tasks[0].role', '*');
    // status and status[], in any case; staging means TASK_STAGING only; an unknown value filters nothing.
    const count = async (q: string): Promise<number> => ((await api(base, 'GET', `/v2/tasks?${q}`)).body as { tasks: { appId: string }[] }).tasks.filter((t) => t.appId === id).length;
    expect(await count('status=RUNNING')).to.equal(2);
    expect(await count('status[]=running')).to.equal(2);
    expect(await count('status[]=staging')).to.equal(0);
    expect(await count('status=nonsense')).to.equal(2);
    // embed with any of Marathon's prefixes, on the list and on one app; failures = tasks + lastTaskFailure.
    for (const e of ['tasks', 'app.tasks', 'apps.tasks', 'apps.failures']) {
      const listed = ((await api(base, 'GET', `/v2/apps?id=${id}&embed=${e}`)).body as { apps: { tasks?: unknown[] }[] }).apps[0];
      expect(listed?.tasks, e).to.have.lengthOf(2);
    }
    // Groups: embed names what comes; group.apps.tasks reaches the apps; /apps lists every app below.
    const g = (await api(base, 'GET', '/v2/groups/compat?embed=group.apps&embed=group.apps.tasks')).body as { apps: { id: string; tasks?: unknown[] }[]; groups: unknown[] };
    expect(g.apps.find((a) => a.id === id)?.tasks).to.have.lengthOf(2);
    const noApps = (await api(base, 'GET', '/v2/groups?embed=group.groups')).body as { apps: unknown[]; groups: { id: string; apps: unknown[] }[] };
    expect(noApps.groups.find((x) => x.id === '/compat')?.apps).to.deep.equal([]);
    const below = (await api(base, 'GET', '/v2/groups/compat/apps')).body as { id: string }[];
    expect(below.map((a) => a.id).sort()).to.deep.equal(['/compat/portless', id]);
    // The group wildcard: every app below the group, and their tasks.
    const star = (await api(base, 'GET', '/v2/apps/compat/*')).body as { '*': { id: string; tasks: unknown[] }[] };
    expect(star['*'].map((a) => a.id)).to.deep.equal(['/compat/portless', id]);
    expect(star['*'][1]?.tasks).to.have.lengthOf(2);
    expect(((await api(base, 'GET', '/v2/apps/compat/*/tasks')).body as { tasks: unknown[] }).tasks).to.have.lengthOf(2);
    expect((await api(base, 'GET', '/v2/apps/nothing-here/*')).status).to.equal(404);
    // scale and wipe together is refused, as Marathon does.
    const both = await api(base, 'DELETE', `/v2/apps${id}/tasks?scale=true&wipe=true`);
    expect(both.status).to.equal(400);
    expect(both.body).to.deep.equal({ message: 'You cannot use scale and wipe at the same time.' });
    // A task id from an earlier run of an instance names the instance: its current task is killed (Marathon's AppTasksResource).
    const current = tasks[0]?.id as string;
    const earlier = current.replace(/\._app\.(\d+)$/, (_m, n: string) => `._app.${Number(n) + 7}`);
    const killed = await api(base, 'DELETE', `/v2/apps${id}/tasks/${earlier}`);
    expect(killed.status, killed.text).to.equal(200);
    expect(killed.body).to.have.nested.property('task.id', current);
    expect((await api(base, 'DELETE', `/v2/apps${id}/tasks/compat_web.instance-nope._app.1`)).status).to.equal(404);
    // A known path with a method it does not serve is a 405 naming the ones it does (Jersey's answer); an unknown path a 404.
    const wrong = await api(base, 'POST', '/v2/leader');
    expect([wrong.status, wrong.headers.allow]).to.deep.equal([405, 'GET, DELETE, HEAD']);
    expect((await api(base, 'PUT', '/v2/tasks')).status).to.equal(405);
    expect((await api(base, 'GET', '/v2/nothing')).status).to.equal(404);
    // /ping: text first, JSON for a JSON-only client, 204 for neither.
    expect((await api(base, 'GET', '/ping', undefined, { accept: 'application/json' })).text).to.equal('"pong"');
    expect((await api(base, 'GET', '/ping', undefined, { accept: '*/*' })).text).to.equal('pong');
    expect((await api(base, 'GET', '/ping', undefined, { accept: 'image/png' })).status).to.equal(204);
    // DELETE without force supersedes a deployment, as Marathon's does.
    expect((await api(base, 'PUT', `/v2/apps${id}`, { constraints: [['hostname', 'IS', 'nowhere']] })).status).to.equal(200);
    expect((await api(base, 'DELETE', `/v2/apps${id}?force=false`)).status).to.equal(409);
    expect((await api(base, 'DELETE', `/v2/apps${id}`)).status).to.equal(200);
    expect((await api(base, 'DELETE', '/v2/apps/compat/portless')).status).to.equal(200);
    // A lone replica asked to abdicate wins its own election, as a lone Marathon does: 200, and it still leads.
    const abdicated = await api(base, 'DELETE', '/v2/leader');
    expect([abdicated.status, abdicated.body]).to.deep.equal([200, { message: 'Leadership abdicated' }]);
    expect((await api(base, 'GET', '/v2/leader')).status).to.equal(200);
  });

  it('kills tasks by id with POST /v2/tasks/delete: the killed tasks without scale (replaced), a deployment with scale=true', async () => {
    const id = '/bulk-kill';
    expect((await api(base, 'POST', '/v2/apps', { id, cmd: 'sleep 600', cpus: 0.01, mem: 16, instances: 3 })).status).to.equal(201);
    const running = await waitFor('3 running tasks', async () => {
      const tasks = ((await api(base, 'GET', `/v2/apps${id}/tasks`)).body as { tasks: MarathonTask[] }).tasks.filter((t) => t.state === 'TASK_RUNNING');
      return tasks.length === 3 ? tasks : undefined;
    });
    const [first, second, third] = running as [MarathonTask, MarathonTask, MarathonTask];
    // An id that is not a task id at all refuses the whole call, as Marathon does; nothing is killed.
    const refused = await api(base, 'POST', '/v2/tasks/delete', { ids: [first.id, 'nope'] });
    expect([refused.status, refused.body]).to.deep.equal([400, { message: "Invalid task id 'nope'. [taskId nope no valid identifier]" }]);
    const killed = await api(base, 'POST', '/v2/tasks/delete', { ids: [first.id, 'web.instance-00000000-0000-0000-0000-000000000000._app.1'] });
    expect(killed.status).to.equal(200);
    expect((killed.body as { tasks: MarathonTask[] }).tasks.map((t) => [t.id, t.appId, t.state])).to.deep.equal([[first.id, id, 'TASK_RUNNING']]);
    // Not scaled: the app keeps 3 instances and the killed one is replaced.
    await waitFor('the killed task replaced', async () => {
      const tasks = ((await api(base, 'GET', `/v2/apps${id}/tasks`)).body as { tasks: MarathonTask[] }).tasks;
      return tasks.filter((t) => t.state === 'TASK_RUNNING' && t.id !== first.id).length === 3 ? true : undefined;
    });
    const scaled = await api(base, 'POST', '/v2/tasks/delete?scale=true', { ids: [second.id, third.id] });
    expect(scaled.status, JSON.stringify(scaled.body)).to.equal(200);
    expect(scaled.body).to.have.keys('version', 'deploymentId');
    const app = await waitFor('the app scaled to 1 with its deployment done', async () => {
      const a = await getApp(base, id);
      return a !== undefined && a.instances === 1 && a.tasksRunning === 1 && a.deployments.length === 0 ? a : undefined;
    });
    expect(app.instances).to.equal(1);
    expect((await api(base, 'DELETE', `/v2/apps${id}`)).status).to.equal(200);
  });

  it('brings the instances of a SIGKILLed agent back on the other agents', async () => {
    const id = '/survivor';
    expect((await api(base, 'POST', '/v2/apps', { id, cmd: 'sleep 603', cpus: 0.01, mem: 16, instances: 3, constraints: [['hostname', 'UNIQUE']], unreachableStrategy: { inactiveAfterSeconds: 1, expungeAfterSeconds: 2 } })).status).to.equal(201);
    const before = await waitForApp(base, id, 3);
    // Free a host for the replacement: scale to 2 first, then kill an agent that runs one.
    expect((await api(base, 'PUT', `/v2/apps${id}`, { instances: 2 })).status).to.equal(200);
    const two = await waitForApp(base, id, 2);
    const victimHost = two.tasks?.[0]?.host as string;
    const victim = c.agents.find((a) => a.args.includes(victimHost));
    expect(victim, `agent on ${victimHost}`).to.not.equal(undefined);
    victim!.proc.child.kill('SIGKILL');
    const after = await waitFor('2 running again, none on the dead agent', async () => {
      const a = await getApp(base, id);
      const running = a?.tasks?.filter((t) => t.state === 'TASK_RUNNING') ?? [];
      return a !== undefined && running.length === 2 && running.every((t) => t.host !== victimHost) ? a : undefined;
    }, 60_000);
    expect(after.tasks?.map((t) => t.host)).to.not.include(victimHost);
    expect(before.tasks).to.have.lengthOf(3);
  });

  it('loses and doubles nothing when the framework process is SIGKILLed and restarted, and reconciles with the master', async () => {
    const id = '/steady';
    expect((await api(base, 'POST', '/v2/apps', { id, cmd: 'sleep 604', cpus: 0.01, mem: 16, instances: 4 })).status).to.equal(201);
    const before = await waitForApp(base, id, 4);
    const appsBefore = ((await api(base, 'GET', '/v2/apps')).body as { apps: MarathonApp[] }).apps.map((a) => a.id).sort();
    c.framework.proc.child.kill('SIGKILL');
    await c.framework.proc.exited;
    c.framework = await restartFramework(c.framework);
    base = c.framework.url;
    const after = await waitForApp(base, id, 4);
    expect(after.tasks?.map((t) => t.id).sort()).to.deep.equal(before.tasks?.map((t) => t.id).sort());
    const appsAfter = ((await api(base, 'GET', '/v2/apps')).body as { apps: MarathonApp[] }).apps.map((a) => a.id).sort();
    expect(appsAfter).to.deep.equal(appsBefore);
    // The master's view agrees: every running task of ours is one the framework knows, once.
    const fw = (await api(base, 'GET', '/v2/tasks')).body as { tasks: MarathonTask[] };
    const known = new Set(fw.tasks.map((t) => t.id));
    const running = (await masterTasks(c)).filter((t) => t.state === 'TASK_RUNNING');
    for (const t of running) expect(known.has(t.id), `master task ${t.id} known to the framework`).to.equal(true);
    expect(new Set(running.map((t) => t.id)).size).to.equal(running.length);
  });

  it('answers 404 for unknown apps and 409 for a second deployment on a locked app', async () => {
    expect((await api(base, 'GET', '/v2/apps/nope')).status).to.equal(404);
    expect((await api(base, 'DELETE', '/v2/apps/nope')).status).to.equal(404);
    const r = await api(base, 'POST', '/v2/apps', { id: '/locked', cmd: 'sleep 605', cpus: 0.01, mem: 16, instances: 1, constraints: [['rack', 'IS', 'nowhere']] });
    expect(r.status).to.equal(201);
    const conflict = await api(base, 'PUT', '/v2/apps/locked', { instances: 2 });
    expect(conflict.status).to.equal(409);
    expect((conflict.body as { deployments: { id: string }[] }).deployments[0]?.id).to.equal(r.headers['marathon-deployment-id']);
    expect((await api(base, 'PUT', '/v2/apps/locked?force=true', { instances: 0 })).status).to.equal(200);
    const bad = await api(base, 'POST', '/v2/apps', { id: '/bad', cmd: 'x', cpus: -1, mem: 'lots' });
    expect(bad.status).to.equal(422);
    expect(JSON.stringify(bad.body)).to.match(/\/cpus|\/mem/);
  });

  it('cancels a deployment as Marathon does: without force it reverts (a new app goes away), with force it stops (202)', async () => {
    const stuck = await api(base, 'POST', '/v2/apps', { id: '/revert', cmd: 'sleep 607', cpus: 0.01, mem: 8, instances: 1, constraints: [['rack', 'IS', 'nowhere']] });
    expect(stuck.status).to.equal(201);
    const revert = await api(base, 'DELETE', `/v2/deployments/${String(stuck.headers['marathon-deployment-id'])}`);
    expect(revert.status).to.equal(200);
    expect(revert.body).to.have.keys('deploymentId', 'version');
    const deploysOfRevert = async (): Promise<number> => ((await api(base, 'GET', '/v2/deployments')).body as { affectedApps: string[] }[]).filter((d) => d.affectedApps.includes('/revert')).length;
    // Gone, and its removal finished too (until then a new POST of the id is a 409, as in Marathon).
    await waitFor('the reverted app gone', async () => ((await api(base, 'GET', '/v2/apps/revert')).status === 404 && (await deploysOfRevert()) === 0 ? true : undefined));
    const again = await api(base, 'POST', '/v2/apps', { id: '/revert', cmd: 'sleep 607', cpus: 0.01, mem: 8, instances: 1, constraints: [['rack', 'IS', 'nowhere']] });
    expect(again.status).to.equal(201);
    const stop = await api(base, 'DELETE', `/v2/deployments/${String(again.headers['marathon-deployment-id'])}?force=true`);
    expect(stop.status).to.equal(202);
    expect(stop.text, 'no body, as Marathon').to.equal('');
    expect((await api(base, 'GET', '/v2/apps/revert')).status).to.equal(200);
    expect(await deploysOfRevert()).to.equal(0);
    expect((await api(base, 'DELETE', '/v2/apps/revert')).status).to.equal(200);
  });

  it('PUT /v2/apps creates and updates several apps; it validates and checks every lock before writing any', async () => {
    // A new app's own start deployment holds it until the scheduler's next step ends it.
    const settled = (...ids: string[]) => waitFor(`no deployment of ${ids.join(', ')}`, async () => (((await api(base, 'GET', '/v2/deployments')).body as { affectedApps: string[] }[]).some((d) => d.affectedApps.some((a) => ids.includes(a))) ? undefined : true));
    expect((await api(base, 'POST', '/v2/apps', { id: '/bulk/a', cmd: 'sleep 608', cpus: 0.01, mem: 8, instances: 0 })).status).to.equal(201);
    await settled('/bulk/a');
    const bad = await api(base, 'PUT', '/v2/apps', [{ id: '/bulk/a', instances: 0, cmd: 'sleep 609' }, { cmd: 'sleep 1' }]);
    expect(bad.status).to.equal(422);
    expect(bad.body).to.deep.equal({ message: 'Invalid JSON', details: [{ path: '/1/id', errors: ['error.path.missing'] }] });
    const badField = await api(base, 'PUT', '/v2/apps', [{ id: '/bulk/b', cmd: 'sleep 1', cpus: 0.01, mem: -1 }]);
    expect((badField.body as { details: { path: string }[] }).details.map((d) => d.path)).to.deep.equal(['/0/mem']);
    expect((await api(base, 'GET', '/v2/apps/bulk/a')).body).to.have.nested.property('app.cmd', 'sleep 608');
    expect((await api(base, 'PUT', '/v2/apps', { id: '/bulk/a' })).status).to.equal(422);
    const ok = await api(base, 'PUT', '/v2/apps', [{ id: '/bulk/a', cmd: 'sleep 609' }, { id: '/bulk/b', cmd: 'sleep 610', cpus: 0.01, mem: 8, instances: 0 }]);
    expect(ok.status).to.equal(200);
    expect(ok.body).to.have.keys('deploymentId', 'version');
    expect((await api(base, 'GET', '/v2/apps/bulk/a')).body).to.have.nested.property('app.cmd', 'sleep 609');
    expect((await api(base, 'GET', '/v2/apps/bulk/b')).body).to.have.nested.property('app.cmd', 'sleep 610');
    expect((await api(base, 'PATCH', '/v2/apps', [{ id: '/bulk/nope', instances: 1 }])).status).to.equal(404);
    await settled('/bulk/a', '/bulk/b');
    // A lock on one app refuses the whole array unless forced.
    const stuck = await api(base, 'PUT', '/v2/apps', [{ id: '/bulk/b', instances: 1, constraints: [['rack', 'IS', 'nowhere']] }]);
    expect(stuck.status).to.equal(200);
    const locked = await api(base, 'PATCH', '/v2/apps', [{ id: '/bulk/a', cmd: 'sleep 611' }, { id: '/bulk/b', instances: 0 }]);
    expect(locked.status).to.equal(409);
    expect((locked.body as { deployments: { id: string }[] }).deployments[0]?.id).to.equal((stuck.body as { deploymentId: string }).deploymentId);
    expect((await api(base, 'GET', '/v2/apps/bulk/a')).body).to.have.nested.property('app.cmd', 'sleep 609');
    expect((await api(base, 'PATCH', '/v2/apps?force=true', [{ id: '/bulk/a', cmd: 'sleep 611' }, { id: '/bulk/b', instances: 0 }])).status).to.equal(200);
    expect((await api(base, 'GET', '/v2/apps/bulk/a')).body).to.have.nested.property('app.cmd', 'sleep 611');
  });

  it('filters GET /v2/apps with Marathon\'s label selectors, and refuses one that does not parse (422)', async () => {
    const apps = [
      { id: '/sel/prod-web', labels: { env: 'production', tier: 'web' } },
      { id: '/sel/qa-db', labels: { env: 'qa', tier: 'db' } },
      { id: '/sel/bare', labels: {} },
    ];
    for (const a of apps) expect((await api(base, 'POST', '/v2/apps', { ...a, cmd: 'sleep 607', cpus: 0.01, mem: 8, instances: 0 })).status).to.equal(201);
    const ids = async (selector: string): Promise<string[]> => {
      const r = await api(base, 'GET', `/v2/apps?id=/sel/&label=${encodeURIComponent(selector)}`);
      expect(r.status, r.text).to.equal(200);
      return (r.body as { apps: { id: string }[] }).apps.map((a) => a.id).sort();
    };
    expect(await ids('env')).to.deep.equal(['/sel/prod-web', '/sel/qa-db']);
    expect(await ids('env in (production, staging)')).to.deep.equal(['/sel/prod-web']);
    expect(await ids('tier != web'), 'an app without the label does not match !=').to.deep.equal(['/sel/qa-db']);
    expect(await ids('env notin (qa), tier == web')).to.deep.equal(['/sel/prod-web']);
    const byCmd = await api(base, 'GET', '/v2/apps?cmd=SLEEP%20607&id=/SEL/');
    expect((byCmd.body as { apps: unknown[] }).apps, 'cmd and id filters ignore case, as Marathon\'s do').to.have.lengthOf(3);
    const bad = await api(base, 'GET', `/v2/apps?label=${encodeURIComponent('env in production')}`);
    expect(bad.status).to.equal(422);
    expect((bad.body as { message: string }).message).to.match(/^Can not parse label selector env in production\. Reason: /);
  });

  it('serves the groups app ids imply, and metrics as Marathon JSON or Prometheus text', async () => {
    for (const id of ['/g/a/x', '/g/b']) expect((await api(base, 'POST', '/v2/apps', { id, cmd: 'sleep 606', cpus: 0.01, mem: 8, instances: 0 })).status).to.equal(201);
    const root = (await api(base, 'GET', '/v2/groups')).body as { id: string; groups: { id: string; apps: { id: string }[]; groups: { id: string; apps: { id: string }[] }[] }[] };
    expect(root.id).to.equal('/');
    const g = root.groups.find((x) => x.id === '/g');
    expect(g?.apps.map((a) => a.id)).to.deep.equal(['/g/b']);
    expect(g?.groups.map((x) => [x.id, x.apps.map((a) => a.id)])).to.deep.equal([['/g/a', ['/g/a/x']]]);
    expect(((await api(base, 'GET', '/v2/groups/g/a')).body as { apps: { id: string }[] }).apps.map((a) => a.id)).to.deep.equal(['/g/a/x']);
    expect((await api(base, 'GET', '/v2/groups/nope')).status).to.equal(404);
    const patch = await api(base, 'PATCH', '/v2/groups/g', { enforceRole: true });
    expect(patch.status).to.equal(405);
    expect(patch.headers.allow).to.equal('GET, POST, PUT, DELETE');
    const json = await api(base, 'GET', '/metrics', undefined, { accept: 'application/json' });
    expect((json.body as { gauges: Record<string, { value: number }> }).gauges['cygnet.framework.apps']?.value).to.be.at.least(2);
    // As Marathon: JSON also to a client that takes anything; Prometheus text to a scraper that prefers it, and at /metrics/prometheus.
    const any = await api(base, 'GET', '/metrics', undefined, { accept: '*/*' });
    expect(any.headers['content-type']).to.match(/^application\/json/);
    const scraper = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    for (const [path, accept] of [['/metrics', scraper], ['/metrics', 'text/plain'], ['/metrics/prometheus', '*/*']] as const) {
      const text = await api(base, 'GET', path, undefined, { accept });
      expect(text.text, `${path} with ${accept}`).to.match(/^cygnet_framework_apps \d+$/m);
    }
  });
  it('creates, changes and deletes groups as app writes (POST, PUT, DELETE /v2/groups)', async () => {
    const app = (id: string, instances: number, cmd = 'sleep 620') => ({ id, cmd, cpus: 0.01, mem: 8, instances });
    const created = await api(base, 'POST', '/v2/groups', { id: 'team', apps: [app('api', 1)], groups: [{ id: 'db', apps: [app('/team/db/pg', 0)] }] });
    expect(created.status, created.text).to.equal(201);
    expect(created.headers.location).to.equal('/v2/groups/team');
    expect(created.body).to.have.all.keys('version', 'deploymentId');
    // One deployment for the group, as Marathon runs: listed with both apps until the last of them is done.
    const groupDeployment = (created.body as { deploymentId: string }).deploymentId;
    const listed = (await api(base, 'GET', '/v2/deployments')).body as { id: string; affectedApps: string[] }[];
    expect(listed.filter((d) => d.id === groupDeployment).map((d) => [...d.affectedApps].sort())).to.deep.equal([['/team/api', '/team/db/pg']]);
    await waitFor('the group deployment to end', async () => {
      const open = (await api(base, 'GET', '/v2/deployments')).body as { id: string }[];
      return open.some((d) => d.id === groupDeployment) ? undefined : true;
    });
    expect((await getApp(base, '/team/api'))?.tasksRunning, 'the app is running when its group deployment is done').to.equal(1);
    await waitForApp(base, '/team/api', 1);
    const tree = (await api(base, 'GET', '/v2/groups/team')).body as { apps: { id: string }[]; groups: { id: string; apps: { id: string }[] }[] };
    expect(tree.apps.map((a) => a.id)).to.deep.equal(['/team/api']);
    expect(tree.groups.map((g) => [g.id, g.apps.map((a) => a.id)])).to.deep.equal([['/team/db', ['/team/db/pg']]]);
    // Apps created together get service ports of their own.
    const servicePorts = await Promise.all(['/team/api', '/team/db/pg'].map(async (id) => (await getApp(base, id))?.portDefinitions?.[0]?.port));
    expect(servicePorts[0]).to.be.a('number');
    expect(servicePorts[0]).to.not.equal(servicePorts[1]);

    // Marathon's answers to a group that exists, and to bad input, with JSON paths into the group.
    const again = await api(base, 'POST', '/v2/groups', { id: '/team', apps: [app('other', 0)] });
    expect(again.status).to.equal(409);
    expect((again.body as { message: string }).message).to.equal('Group /team is already created. Use PUT to change this group.');
    const badCpus = await api(base, 'POST', '/v2/groups', { id: '/bad', apps: [{ ...app('x', 0), cpus: 'lots' }] });
    expect(badCpus.status).to.equal(422);
    expect((badCpus.body as { details: { path: string }[] }).details.map((d) => d.path)).to.deep.equal(['/apps/0/cpus']);
    const outside = await api(base, 'POST', '/v2/groups', { id: '/bad', groups: [{ id: 'inner', apps: [app('/elsewhere/x', 0)] }] });
    expect(outside.status).to.equal(422);
    expect((outside.body as { details: { path: string }[] }).details.map((d) => d.path)).to.deep.equal(['/groups/0/apps/0/id']);
    // An empty group is kept, as in Marathon, until it is deleted.
    const empty = await api(base, 'POST', '/v2/groups', { id: '/empty', groups: [{ id: 'inner' }] });
    expect(empty.status, empty.text).to.equal(201);
    expect(empty.body).to.have.all.keys('version', 'deploymentId');
    const emptyGroup = (await api(base, 'GET', '/v2/groups/empty')).body as { id: string; apps: unknown[]; groups: { id: string }[]; version: string };
    expect([emptyGroup.id, emptyGroup.apps, emptyGroup.groups.map((g) => g.id)]).to.deep.equal(['/empty', [], ['/empty/inner']]);
    expect(emptyGroup.version).to.equal((empty.body as { version: string }).version);
    // Its apps are none, not a 404: the group exists.
    expect((await api(base, 'GET', '/v2/groups/empty/apps')).body).to.deep.equal([]);
    expect((await api(base, 'GET', '/v2/apps/empty/*')).body).to.deep.equal({ '*': [] });
    const asApp = await api(base, 'POST', '/v2/apps', app('/empty/inner', 0));
    expect(asApp.status, 'an app may not take a group\'s id').to.equal(422);
    expect((asApp.body as { details: { path: string; errors: string[] }[] }).details).to.deep.equal([{ path: '/id', errors: ['Groups and Applications may not have the same identifier.'] }]);
    expect((await api(base, 'DELETE', '/v2/groups/empty')).status).to.equal(200);
    expect((await api(base, 'GET', '/v2/groups/empty')).status).to.equal(404);
    expect((await api(base, 'POST', '/v2/groups', '{"id": "/broken", "apps": [')).status).to.equal(400);
    expect((await api(base, 'GET', '/v2/apps/bad/x')).status, 'nothing written by a refused group').to.equal(404);
    expect((await api(base, 'PUT', '/v2/groups/team', { version: '2026-01-01T00:00:00.000Z' })).status).to.equal(422);
    expect((await api(base, 'PUT', '/v2/groups/team/versions/2026-01-01T00:00:00.000Z')).status).to.equal(422);

    // scaleBy scales every app inside; Marathon rounds up.
    const scaled = await api(base, 'PUT', '/v2/groups/team', { scaleBy: 2 });
    expect(scaled.status, scaled.text).to.equal(200);
    await waitForApp(base, '/team/api', 2);
    expect((await getApp(base, '/team/db/pg'))?.instances).to.equal(0);

    // A PUT that lists the group's apps and subgroups in full: apps left out go away, new ones come.
    const replaced = await api(base, 'PUT', '/v2/groups/team?force=true', { apps: [app('api', 2), app('worker', 0, 'sleep 622')], groups: [] });
    expect(replaced.status, replaced.text).to.equal(200);
    await waitFor('the group to hold api and worker only', async () => {
      const g = (await api(base, 'GET', '/v2/groups/team')).body as { apps: { id: string }[]; groups: unknown[] };
      return g.groups.length === 0 && g.apps.map((a) => a.id).join() === '/team/api,/team/worker' ? g : undefined;
    });

    // The same update again changes nothing: no new version of either app.
    const versionsBefore = ((await api(base, 'GET', '/v2/apps/team/api/versions')).body as { versions: string[] }).versions.length;
    const same = await api(base, 'PUT', '/v2/groups/team?force=true', { apps: [app('api', 2), app('worker', 0, 'sleep 622')], groups: [] });
    expect(same.status, same.text).to.equal(200);
    expect(((await api(base, 'GET', '/v2/apps/team/api/versions')).body as { versions: string[] }).versions).to.have.lengthOf(versionsBefore);

    const deleted = await api(base, 'DELETE', '/v2/groups/team?force=true');
    expect(deleted.status, deleted.text).to.equal(200);
    expect(deleted.headers['marathon-deployment-id']).to.equal((deleted.body as { deploymentId: string }).deploymentId);
    await waitFor('the group and its tasks to be gone', async () => {
      const gone = (await api(base, 'GET', '/v2/groups/team')).status === 404;
      const left = (await masterTasks(c)).filter((t) => t.id.startsWith('team_') && t.state === 'TASK_RUNNING');
      return gone && left.length === 0 ? true : undefined;
    });
    expect((await api(base, 'DELETE', '/v2/groups/team')).status).to.equal(404);

    // As in Marathon, a group outlives its last app until the group is deleted.
    expect((await api(base, 'POST', '/v2/apps', app('/left/alone', 0))).status).to.equal(201);
    expect((await api(base, 'DELETE', '/v2/apps/left/alone')).status).to.equal(200);
    const left = await api(base, 'GET', '/v2/groups/left');
    expect([left.status, (left.body as { apps: unknown[] }).apps]).to.deep.equal([200, []]);
    expect((await api(base, 'DELETE', '/v2/groups/left')).status).to.equal(200);
    expect((await api(base, 'GET', '/v2/groups/left')).status).to.equal(404);
  });
});
