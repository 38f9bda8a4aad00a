/**
 * Compatibility with npm's `marathon-node` 1.1.0 (elasticio's Marathon client:
 * request-promise with `json: true`, bluebird, `eventsource` 1.x for
 * `/v2/events`), unmodified, against a real master, three agents and a
 * framework replica: create, read (one, list, versions, one version, tasks,
 * deployments, queue, info, leader, ping), scale and update through
 * `app.update` (with and without `force`), kill a task, restart, the event
 * stream, and destroy. It needs no Go: part of `npm test`.
 *
 * The client sends `force` as `?force=false` when asked for no force, ends
 * every path with whatever id it was given (`/apps//x` normalises through
 * path.join), and rejects with `StatusCodeError` (`statusCode`, `error` = the
 * parsed body) on non-2xx; these are the client's ways, the server must fit.
 */
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { registerClusterCleanup, startAppCluster, type AppCluster } from '../../helpers/cluster.ts';
import { api, waitFor, waitForApp } from '../../helpers/framework-api.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

// ---- minimal typed view of the untyped CommonJS package ----------------------

type Json = Record<string, unknown>;

interface MarathonAppsApi {
  getList(query?: Json): Promise<{ apps: Json[] }>;
  create(body: Json): Promise<Json>;
  getOne(id: string, query?: Json): Promise<{ app: Json }>;
  update(id: string, body: Json, force?: boolean): Promise<{ version: string; deploymentId: string }>;
  destroy(id: string, force?: boolean): Promise<{ version: string; deploymentId: string }>;
  restart(id: string, force?: boolean): Promise<{ version: string; deploymentId: string }>;
  getTasks(id: string): Promise<{ tasks: Json[] }>;
  killTask(id: string, taskId: string, scale?: boolean): Promise<Json>;
  getVersions(id: string): Promise<{ versions: string[] }>;
  getVersion(id: string, version: string): Promise<Json>;
}

interface EventSourceLike {
  addEventListener(type: string, listener: (e: { data: string }) => void): void;
  on(event: 'open' | 'error', listener: (e?: unknown) => void): void;
  close(): void;
}

interface MarathonClient {
  readonly apps: MarathonAppsApi;
  readonly deployments: { getList(): Promise<Json[]>; destroy(id: string, force?: boolean): Promise<Json> };
  readonly tasks: { getList(): Promise<{ tasks: Json[] }> };
  readonly queue: { get(): Promise<{ queue: Json[] }> };
  readonly info: { get(): Promise<Json> };
  readonly leader: { get(): Promise<{ leader: string }> };
  readonly misc: { ping(): Promise<unknown> };
  readonly events: { createEventSource(opts?: { eventType?: string | string[] }): EventSourceLike };
}

interface StatusCodeError {
  readonly name: string;
  readonly statusCode: number;
  readonly error: Json;
}

function connect(url: string): MarathonClient {
  const create = createRequire(import.meta.url)('marathon-node') as (url: string, opts?: Json) => MarathonClient;
  return create(url);
}

async function rejection(p: Promise<unknown>): Promise<StatusCodeError> {
  try {
    await p;
  } catch (err) {
    return err as StatusCodeError;
  }
  throw new Error('expected the call to be rejected');
}

// ---- the run ------------------------------------------------------------------

describe('compat: marathon-node drives the framework unmodified', function () {
  this.timeout(90_000);
  registerClusterCleanup();
  let cluster: AppCluster;
  let m: MarathonClient;

  before(async () => {
    cluster = await startAppCluster(await makeTempDir());
    await waitFor('a framework leader', async () => ((await api(cluster.framework.url, 'GET', '/v2/apps')).status === 200 ? true : undefined));
    m = connect(cluster.framework.url);
  });

  it('answers ping, info and leader', async () => {
    expect(await m.misc.ping()).to.equal('pong');
    const info = await m.info.get();
    expect(info).to.include.keys('name', 'version', 'leader');
    expect((await m.leader.get()).leader).to.equal(`127.0.0.1:${cluster.framework.port}`);
  });

  it('creates, reads, scales, updates, kills, restarts and destroys an app', async () => {
    const events: Json[] = [];
    const es = m.events.createEventSource({ eventType: ['deployment_success', 'status_update_event'] });
    es.addEventListener('deployment_success', (e) => events.push(JSON.parse(e.data) as Json));
    es.addEventListener('status_update_event', (e) => events.push(JSON.parse(e.data) as Json));
    try {
      const created = await m.apps.create({ id: '/compat/node', cmd: 'sleep 600', cpus: 0.1, mem: 16, instances: 1, labels: { team: 'compat' } });
      expect(created).to.include({ id: '/compat/node', instances: 1 });
      expect((created.deployments as Json[])[0]).to.have.property('id').that.is.a('string');
      await waitForApp(cluster.framework.url, '/compat/node', 1);

      const one = await m.apps.getOne('/compat/node', { embed: 'app.tasks' });
      expect(one.app).to.include({ id: '/compat/node', tasksRunning: 1, cmd: 'sleep 600' });
      const list = await m.apps.getList({ label: 'team==compat' });
      expect(list.apps.map((a) => a.id)).to.deep.equal(['/compat/node']);
      expect((await m.apps.getList({ label: 'team==other' })).apps).to.deep.equal([]);

      // Scale: update(id, {instances}) with force omitted (qs force=undefined) and force=false.
      const scaled = await m.apps.update('/compat/node', { instances: 3 }, false);
      expect(scaled.deploymentId).to.be.a('string');
      await waitForApp(cluster.framework.url, '/compat/node', 3);

      // A configuration change: a new version, rolled out.
      const before = await m.apps.getVersions('/compat/node');
      const updated = await m.apps.update('/compat/node', { cmd: 'sleep 700' });
      const settled = await waitFor('the new command on all tasks', async () => {
        const app = (await m.apps.getOne('/compat/node', { embed: 'app.tasks' })).app;
        const tasks = (app.tasks as Json[] | undefined) ?? [];
        return (app.deployments as Json[]).length === 0 && tasks.length === 3 && tasks.every((t) => t.version === updated.version) ? app : undefined;
      }, 60_000);
      expect(settled).to.include({ cmd: 'sleep 700', instances: 3 });
      const after = await m.apps.getVersions('/compat/node');
      expect(after.versions[0]).to.equal(updated.version);
      expect(after.versions.length).to.equal(before.versions.length + 1);
      expect(await m.apps.getVersion('/compat/node', before.versions[0] as string)).to.include({ cmd: 'sleep 600', instances: 3 });

      // Kill one task with scale=true: 2 instances left.
      const tasks = (await m.apps.getTasks('/compat/node')).tasks;
      expect(tasks).to.have.length(3);
      const killed = await m.apps.killTask('/compat/node', tasks[0]?.id as string, true);
      expect(killed).to.have.property('deploymentId');
      await waitForApp(cluster.framework.url, '/compat/node', 2);
      expect((await m.tasks.getList()).tasks.filter((t) => t.appId === '/compat/node')).to.have.length(2);

      const restarted = await m.apps.restart('/compat/node');
      expect(restarted.deploymentId).to.be.a('string');
      await waitFor('the restart to finish', async () => ((await m.deployments.getList()).length === 0 ? true : undefined), 60_000);
      expect((await m.queue.get()).queue).to.deep.equal([]);

      await m.apps.destroy('/compat/node');
      const gone = await waitFor('the app to be gone', async () => {
        const err = await rejection(m.apps.getOne('/compat/node'));
        return err.statusCode === 404 ? err : undefined;
      });
      expect(gone.error).to.deep.equal({ message: "App '/compat/node' does not exist" });
      // The event stream through the client's EventSource, filtered by event_type. (TASK_KILLED, not
      // TASK_RUNNING: the state machine emits no status_update_event for non-terminal updates yet.)
      expect(events.some((e) => e.eventType === 'status_update_event' && e.taskId === tasks[0]?.id && e.taskStatus === 'TASK_KILLED')).to.equal(true);
      expect(events.some((e) => e.eventType === 'deployment_success')).to.equal(true);
    } finally {
      es.close();
    }
  });

  it('gets Marathon\'s error bodies: 422 with field paths, 409 with the deployment, 404', async () => {
    const invalid = await rejection(m.apps.create({ id: '/compat/bad', cmd: 'sleep 1', cpus: -1 }));
    expect(invalid.statusCode).to.equal(422);
    expect(invalid.error).to.deep.equal({ message: 'Invalid JSON', details: [{ path: '/cpus', errors: ['error.min'] }] });

    // Three instances that must each have their own host but only on rack "a": the deployment stays open.
    await m.apps.create({ id: '/compat/stuck', cmd: 'sleep 600', cpus: 0.1, mem: 16, instances: 2, constraints: [['hostname', 'UNIQUE'], ['rack', 'CLUSTER', 'a']] });
    const dep = await waitFor('the open deployment', async () => (await m.deployments.getList()).find((d) => (d.affectedApps as string[]).includes('/compat/stuck')));
    const conflict = await rejection(m.apps.update('/compat/stuck', { instances: 1 }));
    expect(conflict.statusCode).to.equal(409);
    expect(conflict.error.deployments).to.deep.equal([{ id: dep.id }]);
    const forced = await m.apps.update('/compat/stuck', { instances: 1 }, true);
    expect(forced.deploymentId).to.not.equal(dep.id);
    await waitForApp(cluster.framework.url, '/compat/stuck', 1);
    await m.apps.destroy('/compat/stuck', true);

    const missing = await rejection(m.apps.getTasks('/compat/none'));
    expect(missing.statusCode).to.equal(404);
    expect(missing.error).to.deep.equal({ message: "App '/compat/none' does not exist" });
  });
});
