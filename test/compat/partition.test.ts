/**
 * Jepsen-style: three framework replicas on three "hosts" (network
 * namespaces, test/helpers/netns.ts), a master and an agent beside them.
 * While clients write and read through every replica, the leader is cut off
 * from the other two replicas (iptables DROP both ways: silence, not refused
 * connections) three times, 5 s each, and healed in between. It still
 * reaches the master and the clients. Checked afterwards:
 *   - no acknowledged write is lost, on any replica, and all replicas agree;
 *   - no stale read: an app acknowledged before a GET began is found by it,
 *     whichever replica answers (reads are linearizable);
 *   - the majority side goes on acknowledging writes during each partition;
 *   - a refused write answers 503 (not applied) or 504 (outcome unknown) only;
 *   - an app scaled through random replicas all along converges: the master
 *     runs exactly as many of its tasks as the app asks for (the cut-off
 *     leader, still subscribed to the master, launched or kept nothing extra);
 *   - a registry watcher (what DNS and the proxy run) attached to the leader
 *     when it is cut off sees an app the majority creates, before the
 *     partition heals: the cut-off replica sends its watchers elsewhere.
 * Two more: an agent cut off from the master, and a framework leader cut off
 * from the master only (it must hand its leadership to a replica that
 * reaches the master).
 * Needs root, iproute2 and iptables: it runs in `npm run test:compat`.
 */
import { expect } from 'chai';
import path from 'node:path';
import { registerClusterCleanup, startAgent, startFramework } from '../helpers/cluster.ts';
import { api, clusterView, getApp, waitFor, waitForApp } from '../helpers/framework-api.ts';
import { masterAgentTimeoutArgs } from '../integration/e2e/timeouts.ts';
import { waitForPort } from '../helpers/net.ts';
import { TestNetwork, type Host } from '../helpers/netns.ts';
import { killAllProcesses, repoRoot, spawnCygnet, spawnProcess, type ManagedProcess } from '../helpers/processes.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { RegistryWatchClient } from '../../src/registry/watch-client.ts';

const API_PORT = 8080;
const RAFT_PORT = 9080;
const PARTITIONS = 3;
const PARTITION_MS = 6_000;
const HEALED_MS = 4_000;
const WRITE_TIMEOUT_MS = 8_000;
const REJOIN_TIMEOUT_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;

interface Outcome { readonly status: number | 'error'; readonly body: string }

async function call(url: string, method: string, body?: unknown, timeoutMs = WRITE_TIMEOUT_MS): Promise<Outcome> {
  try {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 'error', body: String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name) };
  }
}

/** Registers the suite's cleanup; the function it returns builds the network and a master on its gateway. */
function testNetworkSuite(): (hosts: number, masterArgs?: readonly string[]) => Promise<{ network: TestNetwork; root: string; master: string }> {
  registerClusterCleanup();
  let net: TestNetwork | undefined;
  after(async () => {
    await killAllProcesses();
    await net?.destroy();
  });
  return async (hosts, masterArgs = []) => {
    const why = await TestNetwork.unavailable();
    if (why !== undefined) throw new Error(`this test needs a test network: ${why}`);
    const network = await TestNetwork.create(hosts);
    net = network;
    const root = await makeTempDir();
    spawnCygnet('master', ['master', '--ip', network.gateway, '--port', '5050', '--allocation-interval', '200ms', ...masterArgs]);
    await waitForPort(5050, 60_000, network.gateway);
    return { network, root, master: `${network.gateway}:5050` };
  };
}

/** `cygnet <args>` on `host`, inside its network namespace. */
function spawnCygnetOn(network: TestNetwork, host: Host, name: string, args: readonly string[]): ManagedProcess {
  const [cmd, ...prefix] = network.exec(host);
  return spawnProcess(name, cmd as string, [...prefix, process.execPath, '--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), ...args], { env: { CYGNET_LOG_LEVEL: 'info' } });
}

/** An agent beside the master, and one framework replica on each host of `network`. */
function spawnAgentAndReplicas(network: TestNetwork, root: string, master: string): ManagedProcess[] {
  spawnCygnet('agent', ['agent', '--master', master, '--ip', network.gateway, '--port', '5051', '--work-dir', path.join(root, 'agent'),
    '--resources', 'cpus:4;mem:4096;disk:10000;ports:[31000-31999]', '--heartbeat-interval-ms', '500']);
  const peers = network.hosts.map((h, i) => `${i + 1}=${h.ip}:${RAFT_PORT}`).join(',');
  return network.hosts.map((h, i) => spawnCygnetOn(network, h, `framework-${i + 1}`, [
    'framework', '--id', String(i + 1), '--peers', peers, '--http', `${h.ip}:${API_PORT}`, '--master', master,
    '--data-dir', path.join(root, `framework-${i + 1}`), '--reconcile-interval', '2secs',
  ]));
}

describe('compat: a partitioned framework leader (network namespaces, iptables)', function () {
  this.timeout(240_000);
  const start = testNetworkSuite();

  it('loses no acknowledged write, serves no stale read, keeps the majority writing, and converges', async () => {
    const { network, root, master } = await start(3);
    const replicas = spawnAgentAndReplicas(network, root, master);
    await Promise.all(network.hosts.map((h) => waitForPort(API_PORT, 60_000, h.ip)));
    const urls = network.hosts.map((h) => `http://${h.ip}:${API_PORT}`);
    const leaderHost = async (): Promise<Host | undefined> => {
      for (const u of urls) {
        const r = await call(`${u}/v2/leader`, 'GET', undefined, 1_500);
        if (r.status !== 200) continue;
        const leader = (JSON.parse(r.body) as { leader: string }).leader;
        const host = network.hosts.find((h) => leader === `${h.ip}:${API_PORT}`);
        if (host !== undefined) return host;
      }
      return undefined;
    };
    await waitFor('a leader', leaderHost, 60_000, 200);
    expect((await call(`${urls[0]}/v2/apps`, 'POST', { id: '/p/scaled', cmd: 'sleep 1000', instances: 1, cpus: 0.01, mem: 8 })).status).to.equal(201);

    const acked = new Map<string, number>(); // app id → when acknowledged
    const refusals: string[] = [];
    const stale: string[] = [];
    const windows: { host: string; from: number; to: number }[] = [];
    const watchLagsMs: number[] = [];
    const rejoinMs: number[] = [];
    let reads = 0;
    let stop = false;

    // Each client keeps to one replica, as Jepsen's do: a client of the cut-off replica waits
    // out its timeouts while the others go on (a client picking replicas at random would soon
    // be stuck on the cut-off one, and so would every client).
    const writer = async (c: number): Promise<void> => {
      const url = urls[c % urls.length] as string;
      for (let n = 0; !stop; n++) {
        const id = `/p/w${c}-${n}`;
        const r = await call(`${url}/v2/apps`, 'POST', { id, cmd: 'sleep 1000', instances: 0, cpus: 0.01, mem: 8 });
        if (r.status === 201) acked.set(id, Date.now());
        else {
          refusals.push(`${r.status} ${r.body.slice(0, 120)}`);
          await sleep(100);
        }
      }
    };
    const reader = async (c: number): Promise<void> => {
      const url = urls[c % urls.length] as string;
      while (!stop) {
        const entries = [...acked.entries()];
        if (entries.length === 0) {
          await sleep(20);
          continue;
        }
        const [id, ackedAt] = pick(entries);
        const began = Date.now();
        const r = await call(`${url}/v2/apps${id}`, 'GET');
        if (r.status === 'error' || r.status >= 500) {
          await sleep(100);
          continue;
        }
        reads++;
        if (r.status === 404 && began > ackedAt) stale.push(`${id} (acknowledged ${began - ackedAt} ms before) not found on ${url}`);
      }
    };
    const scaler = async (): Promise<void> => {
      while (!stop) {
        await call(`${pick(urls)}/v2/apps/p/scaled?force=true`, 'PUT', { instances: Math.floor(Math.random() * 4) });
        await sleep(700);
      }
    };
    const nemesis = async (): Promise<void> => {
      await sleep(3_000);
      for (let i = 0; i < PARTITIONS; i++) {
        const leader = await waitFor('a leader to cut off', leaderHost, 20_000, 200);
        const others = network.hosts.filter((h) => h !== leader);
        const leaderUrl = `http://${leader.ip}:${API_PORT}`;
        const watcher = new RegistryWatchClient({ urls: [leaderUrl, ...others.map((h) => `http://${h.ip}:${API_PORT}`)] });
        watcher.start();
        try {
          await waitFor('a registry watcher on the leader', async () => (watcher.connected && watcher.currentUrl === leaderUrl ? true : undefined), 10_000, 20);
          await network.partition(leader, others);
          const from = Date.now();
          const mark = `/p/mark${i}`;
          const majority = `http://${(others[0] as Host).ip}:${API_PORT}`;
          await waitFor(`${mark} acknowledged by the majority`, async () => {
            const r = await call(`${majority}/v2/apps`, 'POST', { id: mark, cmd: 'sleep 1000', instances: 0, cpus: 0.01, mem: 8 });
            return r.status === 201 || r.status === 409 ? true : undefined;
          }, PARTITION_MS, 50);
          const ackedAt = Date.now();
          await waitFor(`the watcher to see ${mark} while ${leader.ip} is cut off`, async () => (watcher.state.app(mark) !== undefined ? true : undefined), from + PARTITION_MS - Date.now(), 20);
          watchLagsMs.push(Date.now() - ackedAt);
          await sleep(from + PARTITION_MS - Date.now());
          await network.heal();
          const healedAt = Date.now();
          windows.push({ host: leader.ip, from, to: healedAt });
          // The cut-off replica follows again soon after the heal, not when TCP's retransmission backoff
          // (tens of seconds by then) happens to retry the connections the partition left behind.
          await waitFor(`${leader.ip} to follow the leader again after the heal`, async () => {
            const v = await clusterView(leaderUrl);
            return v?.role === 'follower' && v.leader !== 0 ? true : undefined;
          }, REJOIN_TIMEOUT_MS, 50);
          rejoinMs.push(Date.now() - healedAt);
        } finally {
          await watcher.close();
        }
        await sleep(HEALED_MS);
      }
      stop = true;
    };
    await Promise.all([nemesis(), scaler(), ...[0, 1, 2, 3, 4, 5].map(writer), ...[0, 1, 2].map(reader)]);

    // All replicas agree, and hold every acknowledged write.
    const appSets = await waitFor('the replicas to agree', async () => {
      const sets: string[][] = [];
      for (const u of urls) {
        const r = await call(`${u}/v2/apps`, 'GET');
        if (r.status !== 200) return undefined;
        sets.push((JSON.parse(r.body) as { apps: { id: string }[] }).apps.map((a) => a.id).sort());
      }
      return sets.every((s) => JSON.stringify(s) === JSON.stringify(sets[0])) ? sets : undefined;
    }, 30_000, 500);
    const present = new Set(appSets[0]);
    const lost = [...acked.keys()].filter((id) => !present.has(id));
    expect(acked.size, 'writes acknowledged').to.be.greaterThan(100);
    expect(lost, 'acknowledged writes missing after the partitions').to.deep.equal([]);
    expect(stale, `stale reads among ${reads}`).to.deep.equal([]);
    expect(reads).to.be.greaterThan(100);
    expect(refusals.filter((r) => !/^(503|504|error) /.test(r)), 'refusals other than 503, 504 or a timeout').to.deep.equal([]);
    for (const w of windows) {
      const during = [...acked.values()].filter((t) => t > w.from + 2_000 && t <= w.to).length;
      expect(during, `writes acknowledged by the majority in the last 3 s of the partition of ${w.host}`).to.be.greaterThan(0);
    }

    // The scaled app converges: the master runs exactly the instances the framework asks for.
    await waitFor('the scaled app to converge on the master', async () => {
      const app = await api(urls[0] as string, 'GET', '/v2/apps/p/scaled');
      const want = (app.body as { app: { instances: number } }).app.instances;
      const state = await call(`http://${master}/state`, 'GET');
      if (state.status !== 200) return undefined;
      const running = (JSON.parse(state.body) as { frameworks: { tasks: { id: string; state: string }[] }[] }).frameworks
        .flatMap((f) => f.tasks).filter((t) => t.id.startsWith('p_scaled.') && t.state === 'TASK_RUNNING').length;
      return running === want ? true : undefined;
    }, 60_000, 500);
    for (const r of replicas) expect(r.running, `${r.name} still running`).to.equal(true);
    expect(watchLagsMs, 'registry watcher saw each mark').to.have.lengthOf(PARTITIONS);
    expect(rejoinMs, 'each cut-off replica followed again after its heal').to.have.lengthOf(PARTITIONS);
    if (process.env.CYGNET_PARTITION_FIGURES === '1') console.log(JSON.stringify({ acked: acked.size, reads, watchLagsMs, rejoinMs }));
  });
});

describe('compat: an agent cut off from the master, and back (network namespaces, iptables)', function () {
  this.timeout(180_000);
  const start = testNetworkSuite();

  it('replaces its instances elsewhere, and kills the old ones when it comes back: never more than asked for', async () => {
    const { network, root, master } = await start(1, masterAgentTimeoutArgs);
    const host = network.hosts[0] as Host;
    spawnCygnetOn(network, host, 'agent-cut', ['agent', '--master', master, '--ip', host.ip, '--port', '5051', '--work-dir', path.join(root, 'agent-cut'),
      '--resources', 'cpus:4;mem:4096;disk:10000;ports:[31000-31999]', '--heartbeat-interval-ms', '500']);
    await waitForPort(5051, 60_000, host.ip);
    const framework = await startFramework({ master, dataDir: path.join(root, 'framework') });
    const base = framework.url;
    await waitFor('a framework leader', async () => ((await api(base, 'GET', '/v2/apps')).status === 200 ? true : undefined), 30_000);
    const id = '/parted';
    const app = { id, cmd: 'sleep 1000', cpus: 0.01, mem: 8, instances: 2, unreachableStrategy: { inactiveAfterSeconds: 1, expungeAfterSeconds: 2 } };
    expect((await api(base, 'POST', '/v2/apps', app)).status).to.equal(201);
    // Only the agent to be cut off is there yet: both instances run on it.
    const first = await waitForApp(base, id, 2, { timeoutMs: 60_000 });
    const onCut = (first.tasks ?? []).map((t) => t.id);
    expect((first.tasks ?? []).every((t) => t.host === host.ip)).to.equal(true);
    for (const i of [2, 3]) {
      await startAgent({ master, workDir: path.join(root, `agent-${i}`), ip: `127.0.0.${i}`, name: `agent-${i}`, resources: `cpus:4;mem:4096;disk:10000;ports:[${31000 + i * 1000}-${31999 + i * 1000}]`, extraArgs: ['--heartbeat-interval-ms', '500'] });
    }

    await network.isolate(host);
    const masterRunning = async (): Promise<{ id: string; slave_id: string }[]> => {
      const state = (await api(`http://${master}`, 'GET', '/state')).body as { frameworks: { tasks: { id: string; state: string; slave_id: string }[] }[] };
      return state.frameworks.flatMap((f) => f.tasks).filter((t) => t.id.startsWith('parted.') && t.state === 'TASK_RUNNING');
    };
    // Replaced on the other agents once the master has given the cut-off one up (ping timeout) and the
    // app's unreachableStrategy lets go of the old instances.
    await waitFor('2 replacements running elsewhere', async () => {
      const a = await getApp(base, id);
      const elsewhere = (a?.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING' && t.host !== host.ip);
      return elsewhere.length === 2 ? true : undefined;
    }, 60_000, 200);

    await network.heal();
    await waitFor('the cut-off agent to be back', async () => {
      const agents = ((await api(`http://${master}`, 'GET', '/state')).body as { slaves: { hostname: string; active: boolean }[] }).slaves;
      return agents.find((a) => a.hostname === host.ip)?.active === true ? true : undefined;
    }, 60_000, 200);
    // It comes back with its two old tasks still running: they must be killed, not kept.
    await waitFor('the old instances killed', async () => {
      const agentState = (await api(`http://${host.ip}:5051`, 'GET', '/state')).body as { tasks: { id: string; state: string }[] };
      const live = agentState.tasks.filter((t) => onCut.includes(t.id) && t.state === 'TASK_RUNNING');
      return live.length === 0 ? true : undefined;
    }, 60_000, 200);
    // The agent shows a kill as soon as it starts (TASK_KILLING); the master hears TASK_KILLED once the task is gone.
    const running = await waitFor('the master to have heard of the kills', async () => {
      const r = await masterRunning();
      return r.some((t) => onCut.includes(t.id)) ? undefined : r;
    }, 30_000, 200);
    expect(running).to.have.lengthOf(2);
    const end = await getApp(base, id);
    expect(end?.tasks?.filter((t) => t.state === 'TASK_RUNNING').map((t) => t.host).sort()).to.deep.equal(['127.0.0.2', '127.0.0.3']);
  });
});

describe('compat: a framework leader cut off from the master only (network namespaces, iptables)', function () {
  this.timeout(180_000);
  const start = testNetworkSuite();

  it('hands leadership to a replica that reaches the master, which launches what is asked; the cut-off one follows again after', async () => {
    const { network, root, master } = await start(3);
    spawnAgentAndReplicas(network, root, master);
    await Promise.all(network.hosts.map((h) => waitForPort(API_PORT, 60_000, h.ip)));
    const urlOf = (h: Host): string => `http://${h.ip}:${API_PORT}`;
    const actingOn = async (hosts: readonly Host[]): Promise<Host | undefined> => {
      for (const h of hosts) {
        const v = await clusterView(urlOf(h));
        if (v?.role === 'leader' && v.actingLeader && v.reconciled) return h;
      }
      return undefined;
    };
    const leader = await waitFor('an acting leader', () => actingOn(network.hosts), 60_000, 200);
    const others = network.hosts.filter((h) => h !== leader);
    const app = { id: '/cut-from-master', cmd: 'sleep 1000', cpus: 0.01, mem: 8, instances: 1 };
    expect((await call(`${urlOf(leader)}/v2/apps`, 'POST', app)).status).to.equal(201);
    const masterRunning = async (): Promise<number> => {
      const state = (await api(`http://${master}`, 'GET', '/state')).body as { frameworks: { tasks: { id: string; state: string }[] }[] };
      return state.frameworks.flatMap((f) => f.tasks).filter((t) => t.id.startsWith('cut-from-master.') && t.state === 'TASK_RUNNING').length;
    };
    await waitFor('1 task running', async () => ((await masterRunning()) === 1 ? true : undefined), 60_000, 200);

    // The master (and this test process) sit on the gateway: the leader still reaches its two peers, and nothing else.
    await network.cutFromGateway(leader);
    const cutAt = Date.now();
    const next = await waitFor('another acting leader', () => actingOn(others), 40_000, 200);
    const tookMs = Date.now() - cutAt;
    expect(tookMs, 'from the cut to a successor that acts').to.be.below(20_000);
    expect((await call(`${urlOf(next)}/v2/apps${app.id}`, 'PUT', { instances: 3 })).status).to.equal(200);
    await waitFor('3 tasks running', async () => ((await masterRunning()) === 3 ? true : undefined), 60_000, 200);

    await network.heal();
    await waitFor('the cut-off replica following, and reaching the master again', async () => {
      const v = await clusterView(urlOf(leader));
      return v?.role === 'follower' && v.leader === network.hosts.indexOf(next) + 1 && v.masterReachable ? v : undefined;
    }, REJOIN_TIMEOUT_MS, 100);
    expect(await masterRunning(), 'nothing launched twice').to.equal(3);
    if (process.env.CYGNET_PARTITION_FIGURES === '1') process.stdout.write(`      cut from the master: a successor acted ${tookMs} ms after the cut\n`);
  });
});

