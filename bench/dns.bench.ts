/**
 * cygnet's DNS vs dnsmasq, side by side in one run on this machine:
 *  1. cluster names: dnsperf, 80 % A / 20 % SRV over `--apps` apps with 3
 *     instances each, served by `cygnet dns` (fed by a real registry watch
 *     server in this process) and by dnsmasq (the same records from an
 *     --addn-hosts file and srv-host lines, no upstream for the domain);
 *  2. forwarded names answered from the cache: both forward to the same
 *     fake upstream (in this process), are warmed with every name once,
 *     then dnsperf asks for them again;
 *  3. propagation: ENDPOINT_UP published on the watch server → the new
 *     address in the DNS answer (polled over UDP back to back), p50/p99.
 * Installs dnsperf and dnsmasq from Debian if missing (apt-get). Prints
 * markdown, with the load average: the machine may be shared.
 *
 *   npm run bench:dns [-- --apps 1000 --duration 10 --rounds 2 --propagation 200]
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import express from 'express';
import { pino } from 'pino';
import { percentile } from './lib/load.ts';
import { RegistryPublisher } from '../src/registry/registry-publisher.ts';
import { RegistryWatchServer } from '../src/registry/watch-server.ts';
import type { RegistryEndpoint } from '../src/registry/types.ts';
import { buildQuery, startFakeUpstream, type FakeUpstream } from '../test/helpers/dns.ts';

const program = new Command('dns.bench')
  .option('--apps <n>', 'apps (3 instances each)', '1000')
  .option('--duration <s>', 'seconds per dnsperf run', '10')
  .option('--rounds <n>', 'alternating runs per server', '2')
  .option('--propagation <n>', 'ENDPOINT_UP samples', '200')
  .option('--clients <n>', 'dnsperf -c', '4')
  .parse(process.argv.slice(2), { from: 'user' });
const opts = program.opts<{ apps: string; duration: string; rounds: string; propagation: string; clients: string }>();
const APPS = Number(opts.apps);
const DURATION_S = Number(opts.duration);
const ROUNDS = Number(opts.rounds);
const PROPAGATION = Number(opts.propagation);
const CLIENTS = Number(opts.clients);
const EXTERNAL_NAMES = 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (line: string): void => { process.stderr.write(`${line}\n`); };

function have(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensureTools(): void {
  if (have('dnsperf') && have('dnsmasq')) return;
  log('installing dnsperf and dnsmasq-base with apt-get');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'dnsperf', 'dnsmasq-base'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** A port free for both UDP and TCP on 127.0.0.1. */
async function freeDnsPort(): Promise<number> {
  for (;;) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const port = udp.address().port;
    const ok = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    await new Promise<void>((r) => udp.close(() => r()));
    if (ok) return port;
  }
}

function appIp(a: number, i: number): string {
  return `10.${(a >> 8) & 255}.${a & 255}.${i + 1}`;
}

function ep(a: number, i: number, ip = appIp(a, i)): RegistryEndpoint {
  const appId = `/bench/app-${a}`;
  return { appId, taskId: `${appId}.${i}`, index: i, host: ip, ip, ports: [31000 + i], version: '2026-01-01T00:00:00.000Z', healthySince: '2026-01-01T00:00:00.000Z' };
}

async function startRegistry(): Promise<{ publisher: RegistryPublisher; url: string; http: Server; watch: RegistryWatchServer }> {
  const publisher = new RegistryPublisher({ clusterId: 'bench' });
  for (let a = 0; a < APPS; a++) {
    publisher.publish({ type: 'APP_UPDATED', app: { id: `/bench/app-${a}`, labels: {}, ports: [{ name: 'http', protocol: 'tcp', servicePort: 0, labels: {} }] } });
    for (let i = 0; i < 3; i++) publisher.publish({ type: 'ENDPOINT_UP', endpoint: ep(a, i) });
  }
  const watch = new RegistryWatchServer({ publisher, log: pino({ level: 'silent' }) });
  const app = express();
  app.use(watch.router);
  const http = createServer(app);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  return { publisher, watch, http, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

/** One UDP query; the reply bytes, or undefined after `timeoutMs`. */
function ask(sock: dgram.Socket, port: number, q: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => { sock.off('message', on); resolve(undefined); }, timeoutMs);
    const on = (msg: Buffer): void => { clearTimeout(t); sock.off('message', on); resolve(msg); };
    sock.on('message', on);
    sock.send(q, port, '127.0.0.1');
  });
}

async function waitAnswers(port: number, name: string, timeoutMs: number): Promise<void> {
  const sock = dgram.createSocket('udp4');
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const r = await ask(sock, port, buildQuery(name, 1), 200);
      if (r !== undefined && r.readUInt16BE(6) > 0) return;
      await sleep(50);
    }
    throw new Error(`no answer for ${name} on port ${port} within ${timeoutMs} ms`);
  } finally {
    sock.close();
  }
}

function startCygnet(port: number, registryUrl: string, upstreamPort: number): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dns',
    '--listen', `127.0.0.1:${port}`, '--admin-listen', '127.0.0.1:0', '--registry', registryUrl, '--upstream', `127.0.0.1:${upstreamPort}`, '--ttl', '60'], {
    stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CYGNET_LOG_LEVEL: 'warn' },
  });
  return child;
}

/** `withSrv` false: the same A records without the srv-host lines (dnsmasq's best case for A queries). */
function startDnsmasq(dir: string, port: number, upstreamPort: number, withSrv: boolean): ChildProcess {
  const hosts: string[] = [];
  const tag = withSrv ? 'full' : 'hosts-only';
  const conf = [
    `port=${port}`, 'listen-address=127.0.0.1', 'bind-interfaces', 'no-resolv', 'no-hosts', 'no-negcache',
    `addn-hosts=${join(dir, `hosts-${tag}`)}`, 'cache-size=10000', `server=127.0.0.1#${upstreamPort}`, 'local=/cygnet/', 'user=root', 'pid-file=',
    'dns-forward-max=1000',
  ];
  for (let a = 0; a < APPS; a++) {
    const name = `app-${a}.bench.cygnet`;
    for (let i = 0; i < 3; i++) {
      hosts.push(`${appIp(a, i)} ${name}`, `${appIp(a, i)} ${i}.${name}`);
      if (withSrv) conf.push(`srv-host=_http._tcp.${name},${i}.${name},${31000 + i},0,1`);
    }
  }
  writeFileSync(join(dir, `hosts-${tag}`), `${hosts.join('\n')}\n`);
  writeFileSync(join(dir, `dnsmasq-${tag}.conf`), `${conf.join('\n')}\n`);
  return spawn('dnsmasq', ['-k', `--conf-file=${join(dir, `dnsmasq-${tag}.conf`)}`], { stdio: ['ignore', 'ignore', 'inherit'] });
}

interface PerfResult {
  readonly qps: number;
  readonly avgMs: number;
  readonly maxMs: number;
  readonly lostPct: number;
}

/** Runs dnsperf without blocking this process (the registry and the fake upstream live here). */
async function dnsperf(port: number, file: string, seconds: number, extra: string[] = []): Promise<PerfResult> {
  const { stdout: out } = await promisify(execFile)('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', String(CLIENTS), '-T', '1', ...extra], { encoding: 'utf8' });
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? 'NaN');
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    maxMs: num(/Average Latency \(s\):\s+[\d.]+ \(min [\d.]+, max ([\d.]+)\)/) * 1000,
    lostPct: num(/Queries lost:\s+\d+ \(([\d.]+)%\)/),
  };
}

function fmt(r: PerfResult): string {
  return `${Math.round(r.qps).toLocaleString('en-US')} | ${r.avgMs.toFixed(3)} | ${r.maxMs.toFixed(1)} | ${r.lostPct.toFixed(2)} %`;
}

async function propagation(publisher: RegistryPublisher, port: number): Promise<number[]> {
  const sock = dgram.createSocket('udp4');
  const samples: number[] = [];
  try {
    for (let k = 0; k < PROPAGATION; k++) {
      const a = (k * 37) % APPS;
      const ip = `10.250.${(k >> 8) & 255}.${k & 255}`;
      const want = Buffer.from(ip.split('.').map(Number));
      const q = buildQuery(`app-${a}.bench.cygnet`, 1);
      const started = performance.now();
      publisher.publish({ type: 'ENDPOINT_UP', endpoint: { ...ep(a, 3, ip), taskId: `/bench/app-${a}.new${k}` } });
      for (;;) {
        const r = await ask(sock, port, q, 1000);
        if (r !== undefined && r.includes(want)) break;
        if (performance.now() - started > 10_000) throw new Error(`ENDPOINT_UP ${k} not visible after 10 s`);
      }
      samples.push(performance.now() - started);
      publisher.publish({ type: 'ENDPOINT_DOWN', appId: `/bench/app-${a}`, taskId: `/bench/app-${a}.new${k}` });
      await sleep(5);
    }
  } finally {
    sock.close();
  }
  return samples.sort((x, y) => x - y);
}

async function main(): Promise<void> {
  ensureTools();
  const dir = mkdtempSync(join(tmpdir(), 'dns-bench-'));
  const upstream: FakeUpstream = await startFakeUpstream(Object.fromEntries(Array.from({ length: EXTERNAL_NAMES }, (_, i) => [`ext-${i}.example.org`, `192.0.2.${(i % 250) + 1}`])), { ttlSec: 3600 });
  const registry = await startRegistry();
  const cygnetPort = await freeDnsPort();
  const dnsmasqPort = await freeDnsPort();
  const dnsmasqHostsPort = await freeDnsPort();
  const children: ChildProcess[] = [];
  const loadBefore = loadavg();
  try {
    children.push(startCygnet(cygnetPort, registry.url, upstream.port));
    children.push(startDnsmasq(dir, dnsmasqPort, upstream.port, true));
    children.push(startDnsmasq(dir, dnsmasqHostsPort, upstream.port, false));
    await waitAnswers(cygnetPort, `app-${APPS - 1}.bench.cygnet`, 60_000);
    await waitAnswers(dnsmasqPort, `app-${APPS - 1}.bench.cygnet`, 20_000);
    await waitAnswers(dnsmasqHostsPort, `app-${APPS - 1}.bench.cygnet`, 20_000);

    const cluster: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const a = (i * 7919) % APPS;
      cluster.push(i % 5 === 4 ? `_http._tcp.app-${a}.bench.cygnet SRV` : `app-${a}.bench.cygnet A`);
    }
    writeFileSync(join(dir, 'cluster.txt'), `${cluster.join('\n')}\n`);
    // A only as well: dnsmasq keeps srv-host records in a list it scans, which the mix above pays for.
    writeFileSync(join(dir, 'cluster-a.txt'), `${cluster.filter((l) => l.endsWith(' A')).join('\n')}\n`);
    writeFileSync(join(dir, 'external.txt'), `${Array.from({ length: EXTERNAL_NAMES }, (_, i) => `ext-${i}.example.org A`).join('\n')}\n`);

    const rows: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, port] of [['cygnet dns', cygnetPort], ['dnsmasq', dnsmasqPort]] as const) {
        const res = await dnsperf(port, join(dir, 'cluster.txt'), DURATION_S);
        log(`cluster ${name} round ${r + 1}: ${fmt(res)}`);
        rows.push(`| cluster names (80 % A, 20 % SRV) | ${name} | ${r + 1} | ${fmt(res)} |`);
        const a = await dnsperf(port, join(dir, 'cluster-a.txt'), DURATION_S);
        log(`cluster A-only ${name} round ${r + 1}: ${fmt(a)}`);
        rows.push(`| cluster names (A only) | ${name} | ${r + 1} | ${fmt(a)} |`);
      }
      const h = await dnsperf(dnsmasqHostsPort, join(dir, 'cluster-a.txt'), DURATION_S);
      log(`cluster A-only dnsmasq without srv-host round ${r + 1}: ${fmt(h)}`);
      rows.push(`| cluster names (A only) | dnsmasq, no srv-host lines | ${r + 1} | ${fmt(h)} |`);
    }
    // Warm both caches with every external name once, then measure cache hits.
    await dnsperf(cygnetPort, join(dir, 'external.txt'), 30, ['-n', '1']);
    await dnsperf(dnsmasqPort, join(dir, 'external.txt'), 30, ['-n', '1']);
    const askedAfterWarm = upstream.asked.length;
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, port] of [['cygnet dns', cygnetPort], ['dnsmasq', dnsmasqPort]] as const) {
        const res = await dnsperf(port, join(dir, 'external.txt'), DURATION_S);
        log(`cache ${name} round ${r + 1}: ${fmt(res)}`);
        rows.push(`| forwarded, from cache | ${name} | ${r + 1} | ${fmt(res)} |`);
      }
    }
    const upstreamDuringCacheRuns = upstream.asked.length - askedAfterWarm;

    const prop = await propagation(registry.publisher, cygnetPort);
    const loadAfter = loadavg();
    const out = [
      `## DNS (bench/dns.bench.ts, ${APPS} apps × 3 instances, dnsperf ${DURATION_S} s × ${ROUNDS} rounds, -c ${CLIENTS} -T 1)`,
      '',
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after (shared machine: figures are noisy).`,
      '',
      '| workload | server | round | queries/s | avg latency ms | max latency ms | lost |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Upstream queries during the cache runs: ${upstreamDuringCacheRuns} (both caches answered everything).`,
      '',
      `Propagation (ENDPOINT_UP published on the watch server → address in the UDP answer of \`cygnet dns\`, ${prop.length} samples): ` +
        `p50 ${percentile(prop, 0.5).toFixed(1)} ms, p99 ${percentile(prop, 0.99).toFixed(1)} ms, max ${(prop[prop.length - 1] ?? 0).toFixed(1)} ms.`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sleep(300);
    registry.watch.close();
    registry.http.closeAllConnections();
    registry.http.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`dns.bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
