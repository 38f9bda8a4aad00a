/**
 * Health checks: the pure state machine (grace period, changes reported once,
 * kill after consecutive failures) and the three probe kinds on real sockets
 * and processes.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { HealthCore, describeHealthAction, healthConfig } from '../../../src/executor/health-state.ts';
import { probe } from '../../../src/executor/health-monitor.ts';

describe('executor/health-state', () => {
  const config = { delayMs: 0, intervalMs: 1000, timeoutMs: 500, consecutiveFailures: 3, gracePeriodMs: 5000 };

  it('ignores failures in the grace period, reports each change once, kills after N failures', () => {
    const core = new HealthCore(config, 0);
    const steps: [boolean, number][] = [[false, 1000], [false, 2000], [true, 3000], [true, 4000], [false, 5000], [true, 6000], [false, 7000], [false, 8000], [false, 9000], [false, 10000]];
    const log = steps.map(([ok, t]) => `${t}:${ok ? 'ok' : 'fail'} -> ${core.onResult(ok, t, 'HTTP 500').map(describeHealthAction).join(', ')}`);
    expect(log).to.deep.equal([
      '1000:fail -> ',
      '2000:fail -> ',
      '3000:ok -> healthy=true',
      '4000:ok -> ',
      '5000:fail -> healthy=false',
      '6000:ok -> healthy=true',
      '7000:fail -> healthy=false',
      '8000:fail -> ',
      '9000:fail -> kill: Task killed after 3 consecutive failed health checks (last: HTTP 500)',
      '10000:fail -> ',
    ]);
    expect(core.phase).to.equal('killed');
  });

  it('counts failures after the grace period even without a first success', () => {
    const core = new HealthCore({ ...config, consecutiveFailures: 1 }, 0);
    expect(core.onResult(false, 4999).map(describeHealthAction)).to.deep.equal([]);
    expect(core.onResult(false, 5000).map(describeHealthAction)).to.deep.equal(['healthy=false', 'kill: Task killed after 1 consecutive failed health checks']);
  });

  it('applies Mesos defaults', () => {
    expect(healthConfig({})).to.deep.equal({ delayMs: 15000, intervalMs: 10000, timeoutMs: 20000, consecutiveFailures: 3, gracePeriodMs: 10000 });
  });
});

describe('executor/health-monitor probes', () => {
  let http: Server;
  let httpPort: number;
  let status = 200;
  before(async () => {
    http = createServer((_req, res) => { res.writeHead(status).end(); });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as AddressInfo).port;
  });
  after(async () => { await new Promise((r) => http.close(r)); });
  const signal = new AbortController().signal;

  it('HTTP: 2xx/3xx healthy, 500 not, explicit statuses honoured', async () => {
    status = 204;
    expect(await probe({ type: 'HTTP', http: { port: httpPort, path: 'health' } }, '127.0.0.1', tmpdir(), 2000, signal)).to.deep.equal({ ok: true });
    status = 500;
    expect(await probe({ type: 'HTTP', http: { port: httpPort } }, '127.0.0.1', tmpdir(), 2000, signal)).to.deep.equal({ ok: false, detail: 'HTTP 500' });
    expect(await probe({ type: 'HTTP', http: { port: httpPort, statuses: [500] } }, '127.0.0.1', tmpdir(), 2000, signal)).to.deep.equal({ ok: true });
  });

  it('TCP: accepted connection healthy, refused not', async () => {
    const srv = createTcpServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    expect(await probe({ type: 'TCP', tcp: { port } }, '127.0.0.1', tmpdir(), 2000, signal)).to.deep.equal({ ok: true });
    await new Promise((r) => srv.close(r));
    const res = await probe({ type: 'TCP', tcp: { port } }, '127.0.0.1', tmpdir(), 2000, signal);
    expect(res.ok).to.equal(false);
  });

  it('COMMAND: exit 0 healthy, exit 1 not, a hung command times out', async () => {
    expect(await probe({ type: 'COMMAND', command: { value: 'true' } }, '127.0.0.1', tmpdir(), 5000, signal)).to.deep.equal({ ok: true });
    expect(await probe({ type: 'COMMAND', command: { value: 'exit 1' } }, '127.0.0.1', tmpdir(), 5000, signal)).to.deep.equal({ ok: false, detail: 'command exited with status 1' });
    const hung = await probe({ type: 'COMMAND', command: { value: 'sleep 10' } }, '127.0.0.1', tmpdir(), 200, signal);
    expect(hung.ok).to.equal(false);
  });
});
