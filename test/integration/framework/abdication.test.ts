/**
 * A framework leader cut off from the master (but not from the other
 * replicas) hands its leadership to a replica that reaches the master, as
 * Marathon's leader abdicates when its driver disconnects; when no replica
 * reaches the master, leadership stays where it is. Each replica reaches the
 * master through its own relay, which the test cuts: bytes stop both ways
 * and connections stay open, as on a network gone silent. The master's
 * heartbeats come every 15 s, so the subscription alone would notice only
 * after 30 s; the master probe notices within --abdicate-after.
 */
import { expect } from 'chai';
import path from 'node:path';
import { agentWorkDir, registerClusterCleanup, startAgent, startFrameworkGroup, startMaster, type FrameworkGroup, type FrameworkHandle, type MasterHandle } from '../../helpers/cluster.ts';
import { actingLeaderOf, api, clusterView, getApp, waitFor, type ClusterView } from '../../helpers/framework-api.ts';
import { TcpRelay } from '../../helpers/tcp-relay.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

interface MasterTask { id: string; state: string }

async function masterRunning(m: MasterHandle, prefix: string): Promise<MasterTask[]> {
  const r = await api(`http://${m.address}`, 'GET', '/tasks?limit=100000');
  return (r.body as { tasks: MasterTask[] }).tasks.filter((t) => t.state === 'TASK_RUNNING' && t.id.startsWith(prefix));
}

describe('a framework leader cut off from the master', function () {
  this.timeout(120_000);
  registerClusterCleanup();
  let master: MasterHandle;
  let relays: TcpRelay[];
  let g: FrameworkGroup;

  before(async () => {
    const root = await makeTempDir('cygnet-abdication-');
    master = await startMaster({ workDir: path.join(root, 'master'), extraArgs: ['--allocation-interval', '200ms'] });
    await startAgent({ master: master.address, workDir: agentWorkDir(root, 1), name: 'agent-1', resources: 'cpus:8;mem:8192;disk:1000;ports:[31000-31999]' });
    const [host, port] = master.address.split(':') as [string, string];
    relays = await Promise.all([1, 2, 3].map(() => TcpRelay.start({ host, port: Number(port) })));
    g = await startFrameworkGroup(relays.map((r) => r.address), root, 3, ['--abdicate-after', '2secs']);
    await actingLeaderOf(g.replicas, { reconciled: true });
  });

  afterEach(() => {
    for (const r of relays) r.heal();
  });

  after(async () => {
    await Promise.all(relays.map((r) => r.close()));
  });

  const relayOf = (f: FrameworkHandle): TcpRelay => relays[g.replicas.indexOf(f)] as TcpRelay;
  const views = async (): Promise<ClusterView[]> => Promise.all(g.replicas.map(async (f) => await clusterView(f.url) as ClusterView));

  it('hands leadership to a replica that reaches the master, which then launches what is asked', async () => {
    const leader = await actingLeaderOf(g.replicas, { reconciled: true });
    const r = await api(leader.url, 'POST', '/v2/apps', { id: '/abdication/web', cmd: 'sleep 720', cpus: 0.01, mem: 8, instances: 1 });
    expect(r.status, r.text).to.equal(201);
    await waitFor('1 task running', async () => ((await masterRunning(master, 'abdication_web.')).length === 1 ? true : undefined));

    relayOf(leader).cut();
    const cutAt = Date.now();
    const next = await actingLeaderOf(g.replicas, { exclude: leader, reconciled: true, timeoutMs: 30_000 });
    const tookMs = Date.now() - cutAt;
    // 2 s of silence, the successor's catch-up and election, its subscription and first reconciliation: well under the 30 s the missed heartbeats would take.
    expect(tookMs, 'time from the cut to a successor that acts').to.be.below(15_000);
    const old = await clusterView(leader.url) as ClusterView;
    expect(old.role, 'the cut-off replica follows').to.equal('follower');
    expect(old.masterReachable).to.equal(false);
    expect(old.leader, 'and knows the successor').to.equal((await clusterView(next.url))?.id);

    const scaled = await api(leader.url, 'PUT', '/v2/apps/abdication/web', { instances: 3 });
    expect(scaled.status, `a write through the cut-off replica reaches the successor: ${scaled.text}`).to.equal(200);
    const running = await waitFor('3 tasks running', async () => {
      const ts = await masterRunning(master, 'abdication_web.');
      return ts.length === 3 ? ts : undefined;
    }, 30_000, 200);
    expect(new Set(running.map((t) => t.id)).size).to.equal(3);
    expect((await getApp(next.url, '/abdication/web'))?.tasksRunning).to.equal(3);
  });

  it('stays with the leader while no replica reaches the master, and it subscribes again after', async () => {
    const leader = await actingLeaderOf(g.replicas, { reconciled: true });
    const before = await clusterView(leader.url) as ClusterView;
    for (const r of relays) r.cut();
    // Three and a half abdication periods: each time the leader asks, nobody reaches the master.
    await new Promise((r) => setTimeout(r, 7_000));
    for (const v of await views()) {
      expect(v.leader, `replica ${v.id}'s leader`).to.equal(before.id);
      expect(v.term, `replica ${v.id}'s term`).to.equal(before.term);
    }
    for (const r of relays) r.heal();
    const after = await actingLeaderOf(g.replicas, { reconciled: true, timeoutMs: 45_000 });
    expect(after).to.equal(leader);
    const scaled = await api(leader.url, 'PUT', '/v2/apps/abdication/web', { instances: 1 });
    expect(scaled.status, scaled.text).to.equal(200);
    await waitFor('1 task running', async () => ((await masterRunning(master, 'abdication_web.')).length === 1 ? true : undefined), 30_000, 200);
  });
});
