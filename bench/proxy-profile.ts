/**
 * Profiling aid for the proxy's hot path: one in-process ProxyServer with a
 * static table over 3 node:http backends (child processes), wrk -c64
 * against it, and the proxy's CPU over the run per request; run it under
 * `node --cpu-prof` or `perf` to see where that CPU goes.
 *
 * `relay` instead measures the floor of any proxy built on node's net
 * sockets: a 1:1 byte relay (each client connection piped to one backend
 * connection, no HTTP at all), the least a node forwarder can spend.
 *
 * `--close` sends every request on a new connection (`Connection: close`).
 *
 *   npx tsx bench/proxy-profile.ts [seconds] [proxy|relay] [--close]
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { ProxyServer } from '../src/proxy/proxy-server.ts';

const seconds = Number(process.argv[2] ?? '10');
const mode = process.argv[3] ?? 'proxy';
const backendScript = `
const http = require('node:http');
const body = Buffer.from('hello from ' + process.argv[1] + '\\n');
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }); res.end(body); });
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));
`;
const kids = ['b0', 'b1', 'b2'].map((n) => spawn(process.execPath, ['-e', backendScript, n], { stdio: ['ignore', 'pipe', 'inherit'] }));
const ports = await Promise.all(kids.map((k) => new Promise<number>((resolve) => k.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))))));

let port: number;
let stop: () => Promise<void>;
if (mode === 'relay') {
  let next = 0;
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: ports[next++ % ports.length] as number, noDelay: true });
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  stop = () => new Promise((r) => { server.close(() => r()); });
} else {
  const proxy = new ProxyServer({ host: '127.0.0.1', port: 0, domain: 'cygnet' });
  port = await proxy.listen();
  proxy.applyRegistry([{ id: '/bench/web', labels: {}, ports: [{ protocol: 'tcp', servicePort: 0, labels: {} }], endpoints: ports.map((p, i) => ({ appId: '/bench/web', taskId: `t${i}`, index: i, host: 'localhost', ip: '127.0.0.1', ports: [p], version: '2026-01-01T00:00:00.000Z', healthySince: '2026-01-01T00:00:00.000Z' })) }], 1);
  stop = () => proxy.close();
}
const before = process.cpuUsage();
const closeEach = process.argv.includes('--close');
const wrk = spawn('wrk', ['-t1', '-c64', `-d${seconds}s`, '--latency', '-H', 'Host: web.bench.cygnet', ...(closeEach ? ['-H', 'Connection: close'] : []), `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
wrk.stdout.on('data', (c: Buffer) => { out += c.toString(); });
await new Promise((r) => wrk.once('exit', r));
const u = process.cpuUsage(before);
const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
process.stdout.write(`${out}${mode}: ${requests} requests; CPU per request ${((u.user + u.system) / requests).toFixed(1)} µs (${(u.user / requests).toFixed(1)} user + ${(u.system / requests).toFixed(1)} sys)\n`);
for (const k of kids) k.kill('SIGKILL');
await stop();
process.exit(0);
