/**
 * The app framework on 3 replicas with a real master and 3 agents: leader
 * fail-over in the middle of a rolling update and of a scale-up, a paused
 * (partitioned) leader that wakes up, restarts of every replica, and writes
 * through a follower. After each disturbance the master's own task list is the
 * judge: exactly the instances the state says, no duplicate, no orphan.
 */
import { expect } from 'chai';
import path from 'node:path';
import { agentWorkDir, registerClusterCleanup, restartFramework, startAgent, startFrameworkGroup, startMaster, type FrameworkGroup, type FrameworkHandle, type MasterHandle } from '../../helpers/cluster.ts';
import { actingLeaderOf, api, clusterView, getApp, waitFor, type MarathonApp, type MarathonTask } from '../../helpers/framework-api.ts';
import { freePort, waitForPort } from '../../helpers/net.ts';
import { spawnCygnet } from '../../helpers/processes.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

const view = (f: FrameworkHandle) => clusterView(f.url);
const actingLeader = (g: FrameworkGroup, exclude?: FrameworkHandle) => actingLeaderOf(g.replicas, exclude !== undefined ? { exclude } : {});

interface MasterTask { id: string; framework_id: string; state: string }

async function masterRunning(m: MasterHandle): Promise<MasterTask[]> {
  const r = await api(`http://${m.address}`, 'GET', '/tasks?limit=100000');
  return (r.body as { tasks: MasterTask[] }).tasks.filter((t) => t.state === 'TASK_RUNNING');
}

const instanceOf = (taskId: string) => taskId.slice(0, taskId.lastIndexOf('._app.'));

/** The master runs exactly `n` tasks of `appPrefix`, all of `version` in the framework's eyes, one per instance. */
async function expectMasterAgrees(m: MasterHandle, base: string, id: string, n: number): Promise<void> {
  const app = await getApp(base, id) as MarathonApp;
  const prefix = `${id.slice(1).replace(/\//g, '_')}.instance-`;
  const running = await waitFor(`the master to run exactly ${n} tasks of ${id}`, async () => {
    const r = (await masterRunning(m)).filter((t) => t.id.startsWith(prefix));
    return r.length === n ? r : undefined;
  }, 30_000, 200);
  const byId = new Map((app.tasks ?? []).map((t: MarathonTask) => [t.id, t]));
  // A task launched before a scale keeps its version id; what must match is the config it runs.
  const configOf = async (version: string) => ((await api(base, 'GET', `/v2/apps${id}/versions/${version}`)).body as { versionInfo: { lastConfigChangeAt: string } }).versionInfo.lastConfigChangeAt;
  for (const t of running) {
    expect(byId.has(t.id), `master task ${t.id} is one the framework knows`).to.equal(true);
    expect(await configOf(byId.get(t.id)?.version ?? ''), `${t.id} runs the app's current config`).to.equal(app.versionInfo.lastConfigChangeAt);
  }
  expect(new Set(running.map((t) => instanceOf(t.id))).size, 'no instance runs twice').to.equal(n);
}

describe('app framework on 3 replicas', function () {
  this.timeout(240_000);
  registerClusterCleanup();
  let master: MasterHandle;
  let g: FrameworkGroup;
  let root: string;

  before(async () => {
    root = await makeTempDir('cygnet-replicas-');
    master = await startMaster({ workDir: path.join(root, 'master'), extraArgs: ['--allocation-interval', '200ms'] });
    for (let i = 1; i <= 3; i++) {
      await startAgent({ master: master.address, workDir: agentWorkDir(root, i), ip: `127.0.0.${i}`, name: `agent-${i}`, resources: `cpus:8;mem:8192;disk:1000;ports:[${31000 + i * 1000}-${31999 + i * 1000}]`, extraArgs: ['--max-concurrent-launches', '16'] });
    }
    // Small snapshots, so a replica that was away catches up from one (see the last test).
    g = await startFrameworkGroup(master.address, root, 3, ['--snapshot-entries', '50', '--catch-up-entries', '1']);
    const leader = await actingLeader(g);
    await waitFor('subscribed', async () => ((await api(leader.url, 'GET', '/v2/info')).body as { frameworkId: string | null }).frameworkId ?? undefined);
  });

  async function restart(f: FrameworkHandle): Promise<void> {
    const i = g.replicas.indexOf(f);
    g.replicas[i] = await restartFramework(f);
  }

  it('applies a write sent to a follower exactly once', async () => {
    const leader = await actingLeader(g);
    const follower = g.replicas.find((f) => f !== leader) as FrameworkHandle;
    const r = await api(follower.url, 'POST', '/v2/apps', { id: '/via-follower', cmd: 'sleep 700', cpus: 0.01, mem: 8, instances: 1 });
    expect(r.status, r.text).to.equal(201);
    expect(r.headers['x-cygnet-forwarded-to']).to.equal(leader.url.replace('http://', ''));
    const again = await api(follower.url, 'POST', '/v2/apps', { id: '/via-follower', cmd: 'sleep 700', cpus: 0.01, mem: 8, instances: 1 });
    expect(again.status).to.equal(409);
    for (const f of g.replicas) {
      const versions = (await api(f.url, 'GET', '/v2/apps/via-follower/versions')).body as { versions: string[] };
      expect(versions.versions, `versions on ${f.url}`).to.have.lengthOf(1);
    }
    await waitFor('running', async () => ((await getApp(leader.url, '/via-follower'))?.tasksRunning === 1 ? true : undefined));
    await expectMasterAgrees(master, leader.url, '/via-follower', 1);
  });

  it('holds a write sent to a follower while the leader is dead until a new leader takes it', async () => {
    const leader = await actingLeader(g);
    const follower = g.replicas.find((f) => f !== leader) as FrameworkHandle;
    leader.proc.child.kill('SIGKILL');
    await leader.proc.exited;
    // No retry on the client's side: the follower waits out the election and forwards (or serves) it.
    const r = await api(follower.url, 'POST', '/v2/apps', { id: '/during-election', cmd: 'sleep 710', cpus: 0.01, mem: 8, instances: 0 });
    expect(r.status, r.text).to.equal(201);
    const next = await actingLeader(g, leader);
    expect((await api(next.url, 'GET', '/v2/apps/during-election/versions')).body).to.have.property('versions').with.lengthOf(1);
    await restart(leader);
  });

  it('answers a write forwarded to a leader that went silent with 504 once another is elected, not when the leader returns', async () => {
    const leader = await actingLeader(g);
    // not a replica the test before restarted that is still starting (its API answers before its Raft runs)
    const follower = await waitFor('a follower that follows the leader', async () => {
      for (const f of g.replicas) {
        if (f === leader) continue;
        const v = await view(f);
        if (v?.role === 'follower' && v.leader !== 0) return f;
      }
      return undefined;
    });
    // A keep-alive connection from the follower to the leader is open: the forward below is written
    // into it and the stopped leader's kernel accepts it, as a partitioned host's silence would.
    expect((await api(follower.url, 'POST', '/v2/apps', { id: '/before-silence', cmd: 'sleep 711', cpus: 0.01, mem: 8, instances: 0 })).status).to.equal(201);
    leader.proc.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const r = await api(follower.url, 'POST', '/v2/apps', { id: '/into-silence', cmd: 'sleep 712', cpus: 0.01, mem: 8, instances: 0 });
      const tookMs = Date.now() - started;
      expect(r.status, r.text).to.equal(504);
      expect((r.body as { message: string }).message).to.match(/stopped being the leader before it answered.*outcome unknown/);
      expect(tookMs, 'answered after an election, not after the old leader came back').to.be.below(5_000);
      // The next write goes to the new leader.
      const next = await api(follower.url, 'POST', '/v2/apps', { id: '/after-silence', cmd: 'sleep 713', cpus: 0.01, mem: 8, instances: 0 });
      expect(next.status, next.text).to.equal(201);
      expect(next.headers['x-cygnet-forwarded-to'] ?? 'served here').to.not.equal(leader.url.replace('http://', ''));
    } finally {
      leader.proc.child.kill('SIGCONT');
    }
    await waitFor('the old leader to follow', async () => ((await view(leader))?.role === 'follower' ? true : undefined), 30_000, 50);
  });

  it('a replica cut off from the others sends its registry watchers away (503) until it has a leader again', async () => {
    const [alone, ...others] = g.replicas as [FrameworkHandle, ...FrameworkHandle[]];
    const watchStatus = async (): Promise<number> => {
      const res = await fetch(`${alone.url}/v1/registry/watch`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return res.status;
    };
    await waitFor('the watch to be served', async () => ((await watchStatus()) === 200 ? true : undefined), 15_000, 100);
    for (const o of others) o.proc.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      await waitFor('the watch to be refused', async () => ((await watchStatus()) === 503 ? true : undefined), 10_000, 100);
      // an election takes under a second; a replica waits 2 s without a leader before it gives its watchers up
      expect(Date.now() - started).to.be.within(1_500, 6_000);
    } finally {
      for (const o of others) o.proc.child.kill('SIGCONT');
    }
    await waitFor('the watch to be served again', async () => ((await watchStatus()) === 200 ? true : undefined), 15_000, 100);
  });

  it('finishes a rolling update of 10 instances after the leader is SIGKILLed in the middle of it', async () => {
    let leader = await actingLeader(g);
    const id = '/rolling10';
    expect((await api(leader.url, 'POST', '/v2/apps', { id, cmd: 'sleep 701', cpus: 0.01, mem: 8, instances: 10, upgradeStrategy: { minimumHealthCapacity: 0.9, maximumOverCapacity: 0.1 } })).status).to.equal(201);
    await waitFor('10 running', async () => {
      const a = await getApp(leader.url, id);
      return a?.deployments.length === 0 && a.tasksRunning === 10 ? a : undefined;
    }, 60_000);
    expect((await api(leader.url, 'PUT', `/v2/apps${id}`, { cmd: 'sleep 702' })).status).to.equal(200);
    await waitFor('the update under way (2 new running)', async () => {
      const a = await getApp(leader.url, id);
      const fresh = a?.tasks?.filter((t) => t.version === a.version && t.state === 'TASK_RUNNING').length ?? 0;
      return fresh >= 2 ? true : undefined;
    }, 60_000, 20);
    leader.proc.child.kill('SIGKILL');
    await leader.proc.exited;
    const old = leader;
    leader = await actingLeader(g, old);
    const done = await waitFor('the new leader to finish the update', async () => {
      const a = await getApp(leader.url, id);
      return a !== undefined && a.deployments.length === 0 && a.tasksRunning === 10 && a.tasks?.length === 10 && a.tasks.every((t) => t.version === a.version) ? a : undefined;
    }, 120_000, 200);
    expect(done.tasks?.every((t) => t.state === 'TASK_RUNNING')).to.equal(true);
    await expectMasterAgrees(master, leader.url, id, 10);
    await restart(old);
  });

  it('finishes a scale from 0 to 30 after the leader is SIGKILLed in the middle of it', async () => {
    let leader = await actingLeader(g);
    const id = '/scale30';
    expect((await api(leader.url, 'POST', '/v2/apps', { id, cmd: 'sleep 703', cpus: 0.01, mem: 8, instances: 0 })).status).to.equal(201);
    expect((await api(leader.url, 'PUT', `/v2/apps${id}?force=true`, { instances: 30 })).status).to.equal(200);
    await waitFor('some launched', async () => ((await getApp(leader.url, id))?.tasks?.length ?? 0) >= 5 ? true : undefined, 60_000, 10);
    leader.proc.child.kill('SIGKILL');
    await leader.proc.exited;
    const old = leader;
    leader = await actingLeader(g, old);
    await waitFor('30 running', async () => {
      const a = await getApp(leader.url, id);
      return a?.deployments.length === 0 && a.tasksRunning === 30 && a.tasks?.length === 30 ? a : undefined;
    }, 120_000, 200);
    await expectMasterAgrees(master, leader.url, id, 30);
    await restart(old);
  });

  it('a paused leader that wakes up launches and kills nothing and steps down', async () => {
    const leader = await actingLeader(g);
    const id = '/paused';
    expect((await api(leader.url, 'POST', '/v2/apps', { id, cmd: 'sleep 704', cpus: 0.01, mem: 8, instances: 3 })).status).to.equal(201);
    await waitFor('3 running', async () => ((await getApp(leader.url, id))?.tasksRunning === 3 ? true : undefined), 60_000);
    const before = (await masterRunning(master)).map((t) => t.id).sort();
    leader.proc.child.kill('SIGSTOP');
    const next = await actingLeader(g, leader);
    expect(next).to.not.equal(leader);
    // While it sleeps the new leader changes the app; the old one must not undo or redo any of it.
    expect((await api(next.url, 'PUT', `/v2/apps${id}?force=true`, { instances: 4 })).status).to.equal(200);
    await waitFor('4 running', async () => ((await getApp(next.url, id))?.tasksRunning === 4 ? true : undefined), 60_000);
    const during = (await masterRunning(master)).map((t) => t.id).sort();
    leader.proc.child.kill('SIGCONT');
    const woke = await waitFor('the old leader to step down', async () => {
      const v = await view(leader);
      return v !== undefined && v.role !== 'leader' && !v.actingLeader ? v : undefined;
    }, 30_000, 50);
    expect(woke.role).to.equal('follower');
    await new Promise((r) => setTimeout(r, 2000));
    const after = (await masterRunning(master)).map((t) => t.id).sort();
    expect(after, 'nothing launched or killed after the old leader woke').to.deep.equal(during);
    expect(during.filter((t) => before.includes(t))).to.have.lengthOf(before.length);
    await expectMasterAgrees(master, next.url, id, 4);
  });

  it('keeps apps, versions and deployments across restarts of every replica, one at a time and all at once', async () => {
    let leader = await actingLeader(g);
    expect((await api(leader.url, 'POST', '/v2/apps', { id: '/durable', cmd: 'sleep 705', cpus: 0.01, mem: 8, instances: 1 })).status).to.equal(201);
    await waitFor('the first deployment done', async () => ((await getApp(leader.url, '/durable'))?.deployments.length === 0 ? true : undefined));
    expect((await api(leader.url, 'PUT', '/v2/apps/durable', { cmd: 'sleep 706' })).status).to.equal(200);
    await waitFor('the update done', async () => ((await getApp(leader.url, '/durable'))?.deployments.length === 0 ? true : undefined));
    // An app that cannot be placed keeps its deployment open across the restarts.
    const stuck = await api(leader.url, 'POST', '/v2/apps', { id: '/stuck', cmd: 'sleep 707', cpus: 0.01, mem: 8, instances: 1, constraints: [['rack', 'IS', 'nowhere']] });
    expect(stuck.status).to.equal(201);
    // A replica that has just restarted may answer 503 until it knows a leader: ask again.
    const snapshot = (base: string) => waitFor(`a consistent read from ${base}`, async () => {
      const [a, v, d] = await Promise.all([api(base, 'GET', '/v2/apps'), api(base, 'GET', '/v2/apps/durable/versions'), api(base, 'GET', '/v2/deployments')]);
      if (a.status !== 200 || v.status !== 200 || d.status !== 200) return undefined;
      return {
        apps: (a.body as { apps: MarathonApp[] }).apps.map((x) => `${x.id}@${x.version}`).sort(),
        versions: (v.body as { versions: string[] }).versions,
        deployments: (d.body as { id: string }[]).map((x) => x.id).sort(),
      };
    });
    const expected = await snapshot(leader.url);
    expect(expected.deployments).to.include(stuck.headers['marathon-deployment-id']);
    for (const f of [...g.replicas]) {
      f.proc.child.kill('SIGKILL');
      await f.proc.exited;
      await restart(f);
      leader = await actingLeader(g);
    }
    expect(await snapshot(leader.url)).to.deep.equal(expected);
    for (const f of g.replicas) f.proc.child.kill('SIGKILL');
    await Promise.all(g.replicas.map((f) => f.proc.exited));
    for (const f of [...g.replicas]) await restart(f);
    leader = await actingLeader(g);
    for (const f of g.replicas) expect(await snapshot(f.url), `state on ${f.url}`).to.deep.equal(expected);
    await expectMasterAgrees(master, leader.url, '/durable', 1);
  });

  it('brings a replica that was down through many writes back from a snapshot', async () => {
    let leader = await actingLeader(g);
    const away = g.replicas.find((f) => f !== leader) as FrameworkHandle;
    away.proc.child.kill('SIGKILL');
    await away.proc.exited;
    // Far more entries than --snapshot-entries: the others compact their logs past where it stopped.
    expect((await api(leader.url, 'POST', '/v2/apps', { id: '/churn', cmd: 'sleep 708', cpus: 0.01, mem: 8, instances: 0 })).status).to.equal(201);
    for (let i = 1; i <= 60; i++) {
      const r = await api(leader.url, 'PUT', '/v2/apps/churn?force=true', { labels: { round: String(i) } });
      expect(r.status, r.text).to.equal(200);
    }
    await restart(away);
    const back = g.replicas.find((f) => f.dataDir === away.dataDir) as FrameworkHandle;
    leader = await actingLeader(g);
    const leaderApplied = (await view(leader))?.applied ?? 0;
    await waitFor('the returning replica to catch up', async () => ((await view(back))?.applied ?? 0) >= leaderApplied ? true : undefined, 30_000, 100);
    const app = (await api(back.url, 'GET', '/v2/apps/churn', undefined, { 'cygnet-stale-ok': 'true' })).body as { app: { labels: Record<string, string> } };
    expect(app.app.labels.round).to.equal('60');
    expect(back.proc.lines.join('\n')).to.match(/snapshot installed from the leader/);
  });

  it('adds a fourth replica (learner, then voter) and removes it again, through the CLI', async () => {
    const leader = await actingLeader(g);
    const apiPort = await freePort();
    const raftPort = await freePort();
    const peers = [...g.replicas.map((f, i) => `${i + 1}=127.0.0.1:${f.raftPort}`), `4=127.0.0.1:${raftPort}`].join(',');
    const fourth = spawnCygnet('framework-4', ['framework', '--id', '4', '--join', '--peers', peers, '--http', `127.0.0.1:${apiPort}`, '--master', master.address, '--data-dir', path.join(root, 'framework-4'), '--tick', '50ms']);
    await waitForPort(apiPort, 60_000);
    const cli = async (args: string[]) => {
      const p = spawnCygnet('cluster-cli', ['cluster', '--url', leader.url, ...args]);
      const { code } = await p.exited;
      return { code, out: p.lines.join('\n') };
    };
    const learner = await cli(['add', '4', `127.0.0.1:${raftPort}`]);
    expect(learner.code, learner.out).to.equal(0);
    expect(learner.out).to.contain('learners: 4');
    const target = (await view(leader))?.applied ?? 0;
    const four = { url: `http://127.0.0.1:${apiPort}` } as FrameworkHandle;
    await waitFor('the learner to catch up', async () => (((await view(four))?.applied ?? 0) >= target ? true : undefined), 30_000, 50);
    const voter = await cli(['add', '4', `127.0.0.1:${raftPort}`, '--voter']);
    expect(voter.code, voter.out).to.equal(0);
    expect(voter.out).to.contain('voters: 1,2,3,4');
    // The new voter serves: a write sent to it reaches the leader once.
    const w = await api(four.url, 'POST', '/v2/apps', { id: '/via-fourth', cmd: 'sleep 709', cpus: 0.01, mem: 8, instances: 0 });
    expect(w.status, w.text).to.equal(201);
    const status = await cli(['status']);
    expect(status.out).to.match(/voters: +1, 2, 3, 4/);
    const removed = await cli(['remove', '4']);
    expect(removed.code, removed.out).to.equal(0);
    expect(removed.out).to.contain('voters: 1,2,3;');
    fourth.child.kill('SIGTERM');
    await fourth.exited;
    const bad = await cli(['add', 'four', 'nowhere']);
    expect(bad.code).to.equal(2);
  });
});
