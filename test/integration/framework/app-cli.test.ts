/**
 * `cygnet app` end to end: the CLI (run in this process through main(), as
 * the shell would run it) against a real master, three agents and a
 * framework replica: create from a file, list, scale, tasks, show, delete,
 * and a 404 printed as an error with exit code 1.
 */
import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../../src/cli/main.ts';
import { registerClusterCleanup, startAppCluster, type AppCluster } from '../../helpers/cluster.ts';
import { api, waitFor, waitForApp } from '../../helpers/framework-api.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

describe('cygnet app against a real cluster', function () {
  this.timeout(90_000);
  registerClusterCleanup();
  let cluster: AppCluster;
  let root = '';

  before(async () => {
    root = await makeTempDir();
    cluster = await startAppCluster(root);
    await waitFor('a framework leader', async () => ((await api(cluster.framework.url, 'GET', '/v2/apps')).status === 200 ? true : undefined));
  });

  async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['app', '--url', cluster.framework.url, ...argv], (l) => err.push(l), { out: (l) => out.push(l) });
    return { code, out, err };
  }

  it('creates, lists, scales, shows tasks and deletes an app', async () => {
    const file = path.join(root, 'web.json');
    await writeFile(file, JSON.stringify({ id: '/cli/web', cmd: 'sleep 600', cpus: 0.1, mem: 16, instances: 1 }));
    const created = await cli('create', '-f', file);
    expect(created.err).to.deep.equal([]);
    expect(created.code).to.equal(0);
    expect(created.out[0]).to.match(/^created \/cli\/web: deployment [0-9a-f-]{36}, version \d{4}-/);
    await waitForApp(cluster.framework.url, '/cli/web', 1);

    const list = await cli('list');
    expect(list.code).to.equal(0);
    expect(list.out[0]).to.match(/^ID\s+RUNNING/);
    expect(list.out.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2))).to.deep.equal([['/cli/web', '1/1']]);

    const scaled = await cli('scale', '/cli/web', '3');
    expect(scaled.code).to.equal(0);
    expect(scaled.out[0]).to.match(/^scaled \/cli\/web: deployment [0-9a-f-]{36}/);
    const app = await waitForApp(cluster.framework.url, '/cli/web', 3);

    const tasks = await cli('tasks', '/cli/web');
    expect(tasks.code).to.equal(0);
    const rows = tasks.out.slice(1).map((l) => l.split(/\s{2,}/));
    expect(rows.map((r) => r[0]).sort()).to.deep.equal((app.tasks ?? []).map((t) => t.id).sort());
    expect(rows.every((r) => r[3] === 'TASK_RUNNING')).to.equal(true);

    const asJson = await cli('tasks', '/cli/web', '--json');
    expect((JSON.parse(asJson.out.join('\n')) as { tasks: unknown[] }).tasks).to.have.length(3);

    const shown = await cli('show', 'cli/web');
    expect(shown.out[0]).to.equal('id:           /cli/web');
    expect(shown.out).to.include('instances:    3 (running 3, staged 0, healthy 0, unhealthy 0)');

    const deleted = await cli('delete', '/cli/web');
    expect(deleted.code).to.equal(0);
    expect(deleted.out[0]).to.match(/^deleting \/cli\/web: deployment /);
    await waitFor('the app to be gone', async () => ((await api(cluster.framework.url, 'GET', '/v2/apps/cli/web')).status === 404 ? true : undefined));
    expect((await cli('list')).out).to.deep.equal(['no apps']);
  });

  it('runs a canary, promotes it, and rolls back to the previous configuration', async () => {
    const url = cluster.framework.url;
    const file = path.join(root, 'shop.json');
    const patch = path.join(root, 'canary.json');
    await writeFile(file, JSON.stringify({ id: '/cli/shop', cmd: 'sleep 601', cpus: 0.1, mem: 16, instances: 2 }));
    await writeFile(patch, JSON.stringify({ cmd: 'sleep 602' }));
    expect((await cli('create', '-f', file)).code).to.equal(0);
    const base = await waitForApp(url, '/cli/shop', 2);

    const started = await cli('canary', '/cli/shop', '-f', patch, '--instances', '1', '--weight', '0.2');
    expect(started.err).to.deep.equal([]);
    expect(started.out[0]).to.match(/^canary started on \/cli\/shop: deployment /);
    const versionsOf = (app: { tasks?: { version: string }[] }) => (app.tasks ?? []).map((t) => t.version).sort();
    const split = await waitFor('one canary task beside one base task', async () => {
      const app = await waitForApp(url, '/cli/shop', 2);
      return new Set(versionsOf(app)).size === 2 ? app : undefined;
    }, 60_000);
    expect(versionsOf(split)).to.include(base.version);

    expect((await cli('canary', 'promote', '/cli/shop')).code).to.equal(0);
    const promoted = await waitFor('every task on the canary version', async () => {
      const app = await waitForApp(url, '/cli/shop', 2);
      return versionsOf(app).every((v) => v !== base.version) ? app : undefined;
    }, 60_000);
    const shown = await cli('show', '/cli/shop');
    expect(shown.out).to.include('cmd:          sleep 602');

    const rolledBack = await cli('rollback', '/cli/shop');
    expect(rolledBack.err).to.deep.equal([]);
    expect(rolledBack.out[0]).to.match(/^rolled back to \S+: \/cli\/shop: deployment /);
    await waitFor('the rollback to finish', async () => {
      const app = await waitForApp(url, '/cli/shop', 2);
      return versionsOf(app).every((v) => v !== promoted.version) ? app : undefined;
    }, 60_000);
    expect((await cli('show', '/cli/shop')).out).to.include('cmd:          sleep 601');
    expect((await cli('delete', '/cli/shop')).code).to.equal(0);
  });

  it('prints a 404 as an error line and exits 1', async () => {
    for (const argv of [['scale', '/cli/none', '2'], ['show', '/cli/none'], ['tasks', '/cli/none']]) {
      expect(await cli(...argv), argv.join(' ')).to.deep.equal({ code: 1, out: [], err: ["error: App '/cli/none' does not exist (HTTP 404)"] });
    }
  });
});
