/**
 * Profiling aid for the proxy's hot path: one in-process ProxyServer with a
 * static table over 3 node:http backends (child processes), for
 * `node --cpu-prof` while wrk runs against the printed port.
 *
 *   npx tsx bench/proxy-profile.ts [seconds]
 */
import { spawn } from 'node:child_process';
import { ProxyServer } from '../src/proxy/proxy-server.ts';

const seconds = Number(process.argv[2] ?? '10');
const backendScript = `
const http = require('node:http');
const body = Buffer.from('hello from ' + process.argv[1] + '\\n');
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }); res.end(body); });
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));
`;
const kids = ['b0', 'b1', 'b2'].map((n) => spawn(process.execPath, ['-e', backendScript, n], { stdio: ['ignore', 'pipe', 'inherit'] }));
const ports = await Promise.all(kids.map((k) => new Promise<number>((resolve) => k.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))))));
const proxy = new ProxyServer({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0), domain: 'cygnet' });
const port = await proxy.listen();
proxy.applyRegistry([{ id: '/bench/web', labels: {}, ports: [{ protocol: 'tcp', servicePort: 0, labels: {} }], endpoints: ports.map((p, i) => ({ appId: '/bench/web', taskId: `t${i}`, index: i, host: 'localhost', ip: '127.0.0.1', ports: [p], version: '2026-01-01T00:00:00.000Z', healthySince: '2026-01-01T00:00:00.000Z' })) }], 1);
process.stdout.write(`${port}\n`);
const before = process.cpuUsage();
const wrk = spawn('wrk', ['-t1', '-c64', `-d${seconds}s`, '--latency', '-H', 'Host: web.bench.cygnet', `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'inherit', 'inherit'] });
await new Promise((r) => wrk.once('exit', r));
const u = process.cpuUsage(before);
process.stdout.write(`proxy cpu during wrk: user ${(u.user / 1000).toFixed(0)} ms, sys ${(u.system / 1000).toFixed(0)} ms\n`);
for (const k of kids) k.kill('SIGKILL');
await proxy.close();
process.exit(0);
