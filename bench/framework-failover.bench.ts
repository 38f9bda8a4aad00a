/**
 * Framework fail-over and write benchmark (`npm run bench:failover`): a real
 * master, 3 real agents, 3 framework replicas (`cygnet framework`, default
 * 50 ms tick), BENCH_APPS (100) apps of BENCH_PER_APP (10) `sleep` instances.
 *
 *  - Fail-over, BENCH_KILLS (12) times: SIGKILL the acting leader; measure
 *    (a) until a write (PUT of an app's labels on an app with no instances,
 *    sent to a surviving replica, which proxies it) answers 200, and
 *    (b) until a new leader is subscribed and has reconciled with the master
 *    (`/v1/cluster` says `reconciled`). The killed replica is restarted and
 *    caught up before the next round. Marathon through ZooKeeper: 10 s+.
 *  - Write throughput: BENCH_WRITERS (16) closed-loop clients PUT label
 *    updates to distinct scale-0 apps through the leader for BENCH_WRITE_S
 *    (10) s: writes/s and p50/p99 (each write is a Raft commit on 3 replicas
 *    with fsync).
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { agentWorkDir, restartFramework, startAgent, startFrameworkGroup, startMaster, type FrameworkGroup, type FrameworkHandle } from '../test/helpers/cluster.ts';
import { actingLeaderOf, api, clusterView, waitFor } from '../test/helpers/framework-api.ts';
import { killAllProcesses } from '../test/helpers/processes.ts';
import { makeTempDir, removeTempDirs } from '../test/helpers/tmp.ts';

const apps = Number(process.env.BENCH_APPS ?? 100);
const perApp = Number(process.env.BENCH_PER_APP ?? 10);
const kills = Number(process.env.BENCH_KILLS ?? 12);
const writers = Number(process.env.BENCH_WRITERS ?? 16);
const writeSeconds = Number(process.env.BENCH_WRITE_S ?? 10);

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

const view = (f: FrameworkHandle) => clusterView(f.url);
const leaderOf = (g: FrameworkGroup, exclude?: FrameworkHandle) => actingLeaderOf(g.replicas, { reconciled: true, ...(exclude !== undefined ? { exclude } : {}) });

async function main(): Promise<void> {
  const root = await makeTempDir('cygnet-bench-failover-');
  const out: string[] = [`# framework fail-over — ${new Date().toISOString()}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`];
  try {
    const master = await startMaster({ workDir: path.join(root, 'master'), extraArgs: ['--allocation-interval', '200ms'] });
    for (let i = 1; i <= 3; i++) {
      await startAgent({ master: master.address, workDir: agentWorkDir(root, i), ip: `127.0.0.${i}`, name: `agent-${i}`, resources: `cpus:64;mem:65536;disk:1000;ports:[${31000 + i * 1000}-${31999 + i * 1000}]`, extraArgs: ['--max-concurrent-launches', '16', '--kill-tasks-on-exit'] });
    }
    const g = await startFrameworkGroup(master.address, root, 3);
    let leader = await leaderOf(g);
    const t0 = performance.now();
    for (let i = 0; i < apps; i++) {
      const r = await api(leader.url, 'POST', '/v2/apps', { id: `/fo/app-${i}`, cmd: 'exec sleep 3600', cpus: 0.001, mem: 1, instances: perApp });
      if (r.status !== 201) throw new Error(`POST: ${r.status} ${r.text}`);
      const w = await api(leader.url, 'POST', '/v2/apps', { id: `/fo/idle-${i}`, cmd: 'sleep 1', cpus: 0.001, mem: 1, instances: 0 });
      if (w.status !== 201) throw new Error(`POST: ${w.status} ${w.text}`);
    }
    await waitFor(`${apps * perApp} running`, async () => {
      const r = await api(leader.url, 'GET', '/v2/tasks?status=running');
      return (r.body as { tasks: unknown[] }).tasks.length >= apps * perApp ? true : undefined;
    }, 15 * 60_000, 500);
    out.push('', `${apps} apps × ${perApp} instances running after ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const writeMs: number[] = [];
    const reconcileMs: number[] = [];
    for (let k = 0; k < kills; k++) {
      leader = await leaderOf(g);
      const victim = leader;
      const survivors = g.replicas.filter((f) => f !== victim);
      const killedAt = performance.now();
      victim.proc.child.kill('SIGKILL');
      let wrote: number | undefined;
      const writeLoop = (async () => {
        for (let n = 0; wrote === undefined; n++) {
          const s = survivors[n % survivors.length] as FrameworkHandle;
          try {
            const r = await request(`${s.url}/v2/apps/fo/idle-0?force=true`, { method: 'PUT', body: JSON.stringify({ labels: { round: `${k}-${n}` } }), headers: { 'content-type': 'application/json' }, headersTimeout: 5000, bodyTimeout: 5000 });
            await r.body.dump();
            if (r.statusCode === 200) wrote = performance.now() - killedAt;
          } catch {
            // a survivor that cannot reach a leader yet: try again at once
          }
        }
      })();
      const next = await leaderOf(g, victim);
      reconcileMs.push(performance.now() - killedAt);
      await writeLoop;
      writeMs.push(wrote ?? NaN);
      await victim.proc.exited;
      const i = g.replicas.indexOf(victim);
      g.replicas[i] = await restartFramework(victim);
      const target = (await view(next))?.applied ?? 0;
      await waitFor('the restarted replica to catch up', async () => (((await view(g.replicas[i] as FrameworkHandle))?.applied ?? 0) >= target ? true : undefined), 60_000, 50);
    }
    writeMs.sort((a, b) => a - b);
    reconcileMs.sort((a, b) => a - b);
    out.push('', `| leader SIGKILL (${kills} runs, ${apps * perApp} instances) | p50 ms | p99 ms | max ms |`, '|---|---:|---:|---:|',
      `| → a write through a survivor answers 200 | ${pct(writeMs, 50).toFixed(0)} | ${pct(writeMs, 99).toFixed(0)} | ${writeMs[writeMs.length - 1]?.toFixed(0)} |`,
      `| → the new leader has subscribed and reconciled | ${pct(reconcileMs, 50).toFixed(0)} | ${pct(reconcileMs, 99).toFixed(0)} | ${reconcileMs[reconcileMs.length - 1]?.toFixed(0)} |`);

    leader = await leaderOf(g);
    const lat: number[] = [];
    const deadline = performance.now() + writeSeconds * 1000;
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const t = performance.now();
        const r = await request(`${leader.url}/v2/apps/fo/idle-${w % apps}?force=true`, { method: 'PUT', body: JSON.stringify({ labels: { n: String(n) } }), headers: { 'content-type': 'application/json' } });
        await r.body.dump();
        if (r.statusCode !== 200) throw new Error(`write answered ${r.statusCode}`);
        lat.push(performance.now() - t);
      }
    }));
    lat.sort((a, b) => a - b);
    out.push('', `| app updates through the API, 3 replicas, ${writers} clients, ${writeSeconds} s | |`, '|---|---:|',
      `| writes/s | ${(lat.length / writeSeconds).toFixed(0)} |`, `| p50 | ${pct(lat, 50).toFixed(1)} ms |`, `| p99 | ${pct(lat, 99).toFixed(1)} ms |`);
  } finally {
    await killAllProcesses();
    await removeTempDirs();
  }
  console.log(out.join('\n'));
}

await main();
