/**
 * Registry watch benchmark.
 *
 * 1. Publisher core: µs per `publish()` (validate, apply, encode once, fan
 *    out) with 0 and 200 in-memory subscribers: the fan-out should add only a
 *    function call per subscriber, never an encode.
 * 2. Snapshot: encoding the snapshot of 1,000 apps × 10 endpoints (once per
 *    revision; every watcher that connects at that revision shares it).
 * 3. End to end on loopback: a watch server in this process, WATCHERS real
 *    RegistryWatchClients in a child process; bursts of deltas published
 *    and the time until every watcher has applied the last one, with this
 *    process's CPU time (the server's cost) beside it.
 *
 * Wall times on a shared machine are noisy; the load average is printed.
 *
 *   npm run bench:registry          (BENCH_QUICK=1 for a smoke run)
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { pino } from 'pino';
import { RegistryPublisher, type RegistrySubscriber } from '../src/registry/registry-publisher.ts';
import type { RegistryApp, RegistryEndpoint } from '../src/registry/types.ts';
import { RegistryWatchServer } from '../src/registry/watch-server.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const CORE_DELTAS = QUICK ? 20_000 : 200_000;
const WATCHERS = QUICK ? 50 : 200;
const BURSTS = [1, 100, 1_000, 10_000];

function app(id: string): RegistryApp {
  return { id, labels: { CYGNET_VHOST: `${id.slice(1).replace(/\//g, '.')}.example` }, ports: [{ name: 'http', protocol: 'tcp', servicePort: 10000, labels: {} }] };
}

function endpoint(appId: string, n: number): RegistryEndpoint {
  return {
    appId,
    taskId: `${appId.slice(1).replace(/\//g, '_')}.${n}`,
    index: n,
    host: `agent-${n % 100}`,
    ip: `10.0.${Math.floor(n / 250) % 250}.${n % 250}`,
    ports: [31000 + (n % 1000)],
    version: '2026-01-01T00:00:00.000Z',
    healthySince: '2026-01-01T00:00:05.000Z',
  };
}

function benchCore(subscribers: number): number {
  const p = new RegistryPublisher({ clusterId: 'bench' });
  const sink: RegistrySubscriber = { deliver: () => undefined, reset: () => undefined };
  for (let i = 0; i < subscribers; i++) p.subscribe(undefined, { ...sink });
  p.publish({ type: 'APP_UPDATED', app: app('/shop/web') });
  const t0 = performance.now();
  for (let i = 0; i < CORE_DELTAS; i += 2) {
    p.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', i % 1000) });
    p.publish({ type: 'ENDPOINT_DOWN', appId: '/shop/web', taskId: endpoint('/shop/web', i % 1000).taskId });
  }
  return ((performance.now() - t0) * 1000) / CORE_DELTAS;
}

function benchSnapshot(): { ms: number; bytes: number } {
  const p = new RegistryPublisher({ clusterId: 'bench' });
  for (let a = 0; a < 1_000; a++) {
    const id = `/team${a % 10}/app${a}`;
    p.publish({ type: 'APP_UPDATED', app: app(id) });
    for (let e = 0; e < 10; e++) p.publish({ type: 'ENDPOINT_UP', endpoint: endpoint(id, a * 10 + e) });
  }
  const t0 = performance.now();
  const bytes = p.snapshotJson().byteLength;
  return { ms: performance.now() - t0, bytes };
}

async function benchEndToEnd(): Promise<string[]> {
  const publisher = new RegistryPublisher({ clusterId: 'bench' });
  publisher.publish({ type: 'APP_UPDATED', app: app('/shop/web') });
  const watch = new RegistryWatchServer({ publisher, log: pino({ level: 'silent' }) });
  const web = express();
  web.use(watch.router);
  const http = createServer(web);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./lib/registry-watchers.ts', import.meta.url)), url, String(WATCHERS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done === true) throw new Error('watcher process ended');
    return r.value as string;
  };
  if ((await next()) !== 'ready') throw new Error('watchers did not connect');
  const rows: string[] = ['| deltas in burst | until all watchers applied the last (ms) | deltas delivered / s (all watchers) | server CPU per delta per watcher (µs) |', '|---|---|---|---|'];
  let n = 0;
  for (const burst of BURSTS) {
    const cpu0 = process.cpuUsage();
    const target = publisher.revision + burst;
    child.stdin.write(`go ${target}\n`);
    for (let i = 0; i < burst; i++) {
      n++;
      publisher.publish(n % 2 === 1 ? { type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', n % 500) } : { type: 'ENDPOINT_DOWN', appId: '/shop/web', taskId: endpoint('/shop/web', (n - 1) % 500).taskId });
      // Let the sockets drain between chunks of a burst, as a real framework yields between commits.
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    const line = await next();
    const cpu = process.cpuUsage(cpu0);
    const ms = Number(line.split(' ')[2]);
    const cpuUs = (cpu.user + cpu.system) / (burst * WATCHERS);
    rows.push(`| ${burst} | ${ms.toFixed(1)} | ${Math.round((burst * WATCHERS) / (ms / 1000)).toLocaleString('en')} | ${cpuUs.toFixed(2)} |`);
  }
  child.stdin.write('exit\n');
  await new Promise((r) => child.once('exit', r));
  watch.close();
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  return rows;
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0];
  console.log(`# registry watch (node ${process.version}, ${cpus().length} cpus, 1-min load ${loadBefore.toFixed(2)} at start)`);
  benchCore(0);
  console.log(`\npublish(): ${benchCore(0).toFixed(2)} µs with 0 subscribers, ${benchCore(200).toFixed(2)} µs with 200 (${CORE_DELTAS} deltas each)`);
  const snap = benchSnapshot();
  console.log(`snapshot of 1,000 apps × 10 endpoints: ${(snap.bytes / 1024 / 1024).toFixed(2)} MiB, encoded in ${snap.ms.toFixed(1)} ms (once per revision)`);
  console.log(`\nEnd to end, ${WATCHERS} watchers in a child process, loopback:\n`);
  for (const row of await benchEndToEnd()) console.log(row);
  console.log(`\n1-min load average at end: ${loadavg()[0].toFixed(2)}`);
}

await main();
