/**
 * Discovery propagation through the whole chain (`npm run bench:discovery`):
 * a real master, 3 agents, one framework replica and the cluster DNS server.
 * BENCH_ROUNDS (30) times, the app (an HTTP server with an HTTP health
 * check) is scaled up by one instance; from the moment the framework's event
 * stream says the new task is healthy (the agent's check passed, the master
 * relayed the update and the framework committed it) until
 *  - its port is in the app's SRV answer (`cygnet dns`, polled every 1 ms);
 *  - it is in `cygnet proxy`'s routing table (its admin `/routes`, polled
 *    every 1 ms after the SRV answer has it): the next request may go to it;
 *  - a request through `cygnet proxy` is answered by it (each instance
 *    answers with its port; polled with a burst of one request per instance
 *    every 1 ms, so this includes the burst's own time: a few ms, more for
 *    the first connection to a new instance);
 * p50 / p99 / max. Mesos-DNS polls the master every 60 s; marathon-lb
 * regenerates and reloads HAProxy on each change.
 */
import { Resolver } from 'node:dns/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { startAppCluster } from '../test/helpers/cluster.ts';
import { api, EventRecorder, getApp, waitFor } from '../test/helpers/framework-api.ts';
import { freePort, waitForPort } from '../test/helpers/net.ts';
import { killAllProcesses, spawnCygnet } from '../test/helpers/processes.ts';
import { makeTempDir, removeTempDirs } from '../test/helpers/tmp.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 30);

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

async function main(): Promise<void> {
  const out: string[] = [`# discovery propagation — ${new Date().toISOString()}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`];
  try {
    const c = await startAppCluster(await makeTempDir('cygnet-bench-discovery-'));
    const base = c.framework.url;
    await waitFor('subscribed', async () => ((await api(base, 'GET', '/v2/info')).body as { frameworkId: string | null }).frameworkId ?? undefined, 60_000);
    const dnsPort = await freePort();
    spawnCygnet('dns', ['dns', '--listen', `127.0.0.1:${dnsPort}`, '--admin-listen', `127.0.0.1:${await freePort()}`, '--registry', base]);
    await waitForPort(dnsPort, 60_000);
    const proxyPort = await freePort();
    const adminPort = await freePort();
    spawnCygnet('proxy', ['proxy', '--listen', `127.0.0.1:${proxyPort}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--registry', base]);
    await waitForPort(proxyPort, 60_000);
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    const r = await api(base, 'POST', '/v2/apps', { id: '/bench/disc', cmd: portServer, cpus: 0.001, mem: 16, instances: 1, portDefinitions: [{ port: 0, name: 'p' }], healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 30, intervalSeconds: 1, timeoutSeconds: 1 }] });
    if (r.status !== 201) throw new Error(`POST: ${r.status} ${r.text}`);
    await waitFor('first instance', async () => ((await getApp(base, '/bench/disc'))?.tasksHealthy === 1 ? true : undefined), 60_000);
    const events = new EventRecorder(base);
    await events.ready;
    const dnsMs: number[] = [];
    const proxyMs: number[] = [];
    const tableMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const seen = events.events.length;
      expect200(await api(base, 'PUT', '/v2/apps/bench/disc?force=true', { instances: i + 2 }));
      const healthy = await waitFor('the new task healthy on the stream', async () => events.events.slice(seen).find((e) => e.event === 'health_status_changed_event' && e.data.alive === true), 60_000, 1);
      const t0 = performance.now();
      const taskId = healthy.data.taskId as string;
      const task = (await getApp(base, '/bench/disc'))?.tasks?.find((t) => t.id === taskId);
      const port = task?.ports[0];
      await waitFor('the port in SRV', async () => {
        try {
          return (await resolver.resolveSrv('_p._tcp.disc.bench.cygnet')).some((s) => s.port === port) ? true : undefined;
        } catch {
          return undefined;
        }
      }, 10_000, 1);
      dnsMs.push(performance.now() - t0);
      await waitFor('the port in the proxy table', async () => {
        const t = await (await request(`http://127.0.0.1:${adminPort}/routes`)).body.text();
        return t.includes(`:${String(port)}"`) ? true : undefined;
      }, 10_000, 1);
      tableMs.push(performance.now() - t0);
      await waitFor('a request routed to it', async () => {
        const answers = await Promise.all(Array.from({ length: i + 2 }, () => viaProxy(proxyPort)));
        return answers.includes(String(port)) ? true : undefined;
      }, 10_000, 1);
      proxyMs.push(performance.now() - t0);
    }
    events.close();
    dnsMs.sort((a, b) => a - b);
    tableMs.sort((a, b) => a - b);
    proxyMs.sort((a, b) => a - b);
    out.push('', `| healthy on /v2/events → visible (${rounds} scale-ups) | p50 ms | p99 ms | max ms |`, '|---|---:|---:|---:|',
      `| SRV answer of cygnet dns | ${pct(dnsMs, 50).toFixed(1)} | ${pct(dnsMs, 99).toFixed(1)} | ${dnsMs[dnsMs.length - 1]?.toFixed(1)} |`,
      `| in the routing table of cygnet proxy (its admin /routes: the next request may go to it) | ${pct(tableMs, 50).toFixed(1)} | ${pct(tableMs, 99).toFixed(1)} | ${tableMs[tableMs.length - 1]?.toFixed(1)} |`,
      `| a request through cygnet proxy answered by it (each probe: one request per instance at once) | ${pct(proxyMs, 50).toFixed(1)} | ${pct(proxyMs, 99).toFixed(1)} | ${proxyMs[proxyMs.length - 1]?.toFixed(1)} |`);
  } finally {
    await killAllProcesses();
    await removeTempDirs();
  }
  console.log(out.join('\n'));
}

/** Each instance answers with its own port (node: the probe measures the proxy, not a slow instance's first answer). */
const portServer = `exec ${JSON.stringify(process.execPath)} -e "require('node:http').createServer((q, s) => s.end(process.env.PORT0)).listen(Number(process.env.PORT0))"`;

async function viaProxy(port: number): Promise<string> {
  const r = await request(`http://127.0.0.1:${port}/`, { headers: { host: 'disc.bench.cygnet' } });
  return r.body.text();
}

function expect200(a: { status: number; text: string }): void {
  if (a.status !== 200) throw new Error(`answered ${a.status}: ${a.text}`);
}

await main();
