/**
 * Compatibility with Debian's python3-marathon (marathon-python 0.13),
 * unmodified, against a real master, three agents and a framework replica.
 * That client builds fixed Python objects from every body (an unknown key is
 * a TypeError) and ends its event stream on an unknown eventType, so a pass
 * here means apps, tasks, deployments, groups and event plans have exactly
 * Marathon's keys. Needs the Debian package: it runs in `npm run test:compat`
 * (`.ci/run` installs python3-marathon). The driver is
 * `test/compat/python/marathon_client.py`; it prints one JSON report.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { registerClusterCleanup, startAppCluster, type AppCluster } from '../helpers/cluster.ts';
import { api, waitFor } from '../helpers/framework-api.ts';
import { makeTempDir } from '../helpers/tmp.ts';

interface Step { readonly ok: boolean; readonly value?: unknown; readonly error?: string }
interface Report {
  readonly steps: Record<string, Step>;
  readonly events: { type: string; class: string; id?: string; planId?: string; targetApps?: string[]; actions?: string[] }[];
  readonly eventErrors: string[];
}

const driver = fileURLToPath(new URL('./python/marathon_client.py', import.meta.url));

function runDriver(url: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    // Debian's python3, whatever python3 comes first on PATH: the package installs into its dist-packages.
    execFile('/usr/bin/python3', [driver, url], { timeout: 150_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`marathon_client.py failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Report);
    });
  });
}

describe('compat: python3-marathon drives the framework unmodified', function () {
  this.timeout(180_000);
  registerClusterCleanup();
  let cluster: AppCluster;
  let report: Report;

  before(async () => {
    cluster = await startAppCluster(await makeTempDir());
    await waitFor('a framework leader', async () => ((await api(cluster.framework.url, 'GET', '/v2/apps')).status === 200 ? true : undefined));
    report = await runDriver(cluster.framework.url);
    if (process.env.CYGNET_COMPAT_DUMP !== undefined) console.log(JSON.stringify(report, null, 1));
  });

  const ok = (name: string): unknown => {
    const s = report.steps[name];
    expect(s, `step ${name}`).to.not.equal(undefined);
    expect(s?.error, `step ${name}`).to.equal(undefined);
    return s?.value;
  };

  it('creates, lists, scales, updates and kills tasks, parsing every body into its models', () => {
    // It sends Accept: application/json, and Marathon answers that with the JSON string.
    expect(ok('ping')).to.equal('"pong"');
    expect(ok('leader')).to.deep.equal({ leader: `127.0.0.1:${cluster.framework.port}` });
    expect(ok('create')).to.equal('/py/web');
    expect(ok('running')).to.equal(2);
    expect(ok('list_apps')).to.deep.equal(['/py/web']);
    expect(ok('list_tasks')).to.have.lengthOf(2);
    expect(ok('scale')).to.deep.equal(['deploymentId', 'version']);
    ok('scaled');
    ok('deployments');
    expect(ok('versions')).to.equal(2);
    expect(ok('get_version')).to.equal(2);
    expect(ok('update')).to.deep.equal(['deploymentId', 'version']);
    ok('updated');
    expect(ok('update_apps')).to.deep.equal(['deploymentId', 'version']);
    expect(ok('updated_apps')).to.equal('sleep 603');
    expect(ok('delete_side')).to.equal(true);
    expect(ok('kill_task')).to.equal('MarathonTask');
    expect(ok('kill_task_scale')).to.deep.equal(['deploymentId', 'version']);
    ok('after_kill');
    expect(ok('groups')).to.equal('/py');
    expect(ok('queue')).to.deep.equal([]);
  });

  it('shows an unplaceable app in the queue (MarathonQueueItem), and cancelling its deployment reverts it', () => {
    expect(ok('stuck')).to.equal('/py/stuck');
    expect(ok('queue_stuck')).to.deep.equal([['/py/stuck', 2, true]]);
    expect(ok('stuck_deployment')).to.deep.equal([['/py/stuck']]);
    expect(ok('cancel_stuck')).to.deep.equal(['deploymentId', 'version']);
    expect(ok('stuck_gone')).to.equal('gone');
  });

  it('creates, scales, updates and deletes a group with its apps (MarathonGroup)', () => {
    expect(ok('create_group')).to.deep.equal(['deploymentId', 'version']);
    expect(ok('group_running')).to.equal(1);
    expect(ok('get_group')).to.deep.equal(['/pyg', ['/pyg/a'], ['/pyg/inner']]);
    expect(ok('scale_group')).to.deep.equal(['deploymentId', 'version']);
    // Marathon rounds up: 1 → 2, and 0 stays 0.
    expect(ok('group_scaled')).to.deep.equal([0]);
    expect(ok('update_group')).to.deep.equal(['deploymentId', 'version']);
    expect(ok('group_updated')).to.equal('sleep 606');
    expect(ok('delete_group')).to.deep.equal(['deploymentId', 'version']);
    expect(ok('group_deleted')).to.equal('gone');
    expect(report.steps.missing_group?.error).to.match(/^NotFoundError: .*Group '\/pyg' does not exist/);
    expect(ok('create_empty_group')).to.deep.equal(['deploymentId', 'version']);
    expect(ok('get_empty_group')).to.deep.equal(['/pyempty', 0, 0]);
    expect(ok('delete_empty_group')).to.deep.equal(['deploymentId', 'version']);
    expect(report.steps.missing_empty_group?.error).to.match(/^NotFoundError: .*Group '\/pyempty' does not exist/);
  });

  it('deletes the app', () => {
    expect(ok('delete')).to.be.a('string');
    ok('deleted');
  });

  it('gets Marathon\'s errors as the client\'s exceptions: 404 as NotFoundError, 422 as MarathonHttpError', () => {
    expect(report.steps.missing?.error).to.match(/^NotFoundError: .*does not exist/);
    expect(report.steps.invalid?.error).to.match(/^MarathonHttpError: .*HTTP 422 returned with message, "Invalid JSON"/);
  });

  it('reads the event stream into its event classes, deployment plans included, without an error', () => {
    expect(report.eventErrors).to.deep.equal([]);
    const types = new Set(report.events.map((e) => e.type));
    for (const t of ['event_stream_attached', 'api_post_event', 'group_change_success', 'deployment_info', 'deployment_success', 'deployment_step_success', 'status_update_event']) expect(types, t).to.include(t);
    const started = report.events.find((e) => e.type === 'deployment_info' && e.actions?.includes('StartApplication'));
    expect(started?.class).to.equal('MarathonDeploymentInfo');
    expect(started?.targetApps).to.deep.equal(['/py/web']);
    const deletion = report.steps.delete?.value;
    expect(report.events.find((e) => e.type === 'deployment_info' && e.planId === deletion)?.actions).to.deep.equal(['StopApplication']);
    expect(report.events.some((e) => e.type === 'deployment_success' && e.id === deletion)).to.equal(true);
  });
});
