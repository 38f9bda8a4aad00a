/**
 * `cygnet proxy --workers 2`: the primary follows the watch and serves the
 * admin port, two forked workers share the listen port. Every worker must
 * route with the newest table (a change reaches all of them), and the admin
 * port adds up their figures.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { defaultEjectBaseMs, defaultEjectMaxMs, defaultMaxAttempts } from '../../../src/proxy/failure-policy.ts';
import { defaultTimeouts } from '../../../src/proxy/forwarder.ts';
import type { HealthInfo } from '../../../src/proxy/admin-server.ts';
import { startProxy, type RunningProxy } from '../../../src/proxy/main.ts';
import { defaultPool } from '../../../src/proxy/upstream-pools.ts';
import { startBackend, type EchoBody, type TestBackend } from '../../helpers/proxy-backends.ts';
import { appOf, endpointOf } from '../../helpers/proxy-harness.ts';
import { startReplica, type Replica } from '../../helpers/registry-harness.ts';
import { freePorts } from '../raft/helpers.ts';

describe('proxy with two workers (integration)', function () {
  this.timeout(60_000);
  let replica: Replica;
  let proxy: RunningProxy;
  let backends: TestBackend[];

  before(async () => {
    replica = await startReplica({ heartbeatIntervalMs: 200 });
    backends = await Promise.all(['p0', 'p1'].map((n) => startBackend(n)));
    proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      adminListen: { host: '127.0.0.1', port: 0 },
      domain: 'cygnet',
      registryUrls: [replica.url],
      workers: 2,
      timeouts: defaultTimeouts,
      pool: defaultPool,
      policy: { maxAttempts: defaultMaxAttempts, ejectBaseMs: defaultEjectBaseMs, ejectMaxMs: defaultEjectMaxMs },
    });
  });
  after(async () => {
    await proxy.close();
    await replica.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  /** One request on a fresh connection, so the kernel may hand it to either worker. */
  const who = async (): Promise<string> => {
    const res = await request(`http://127.0.0.1:${proxy.port}/`, { headers: { host: 'duo.cygnet', connection: 'close' }, reset: true });
    const text = await res.body.text();
    return res.statusCode === 200 ? (JSON.parse(text) as EchoBody).backend : String(res.statusCode);
  };

  const settle = async (revision: number): Promise<void> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const health = await (await request(`http://127.0.0.1:${proxy.adminPort}/health`)).body.json() as HealthInfo;
      // `revision` is the lowest of the workers': every worker has the change.
      if (health.revision >= revision && health.workers.length === 2) return;
      if (Date.now() > deadline) throw new Error(`workers not at revision ${revision}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('routes through both workers with the newest table and adds up their metrics', async () => {
    replica.publisher.publish({ type: 'APP_UPDATED', app: appOf('/duo') });
    await settle(replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpointOf('/duo', 0, (backends[0] as TestBackend).port) }).revision);
    const first = await Promise.all(Array.from({ length: 20 }, () => who()));
    expect(new Set(first)).to.deep.equal(new Set(['p0']));
    // The change must reach both workers: no request may still go to p0.
    replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpointOf('/duo', 1, (backends[1] as TestBackend).port) });
    const revision = replica.publisher.publish({ type: 'ENDPOINT_DOWN', appId: '/duo', taskId: endpointOf('/duo', 0, 0).taskId }).revision;
    await settle(revision);
    const second = await Promise.all(Array.from({ length: 20 }, () => who()));
    expect(new Set(second)).to.deep.equal(new Set(['p1']));
    const health = await (await request(`http://127.0.0.1:${proxy.adminPort}/health`)).body.json() as HealthInfo;
    expect(health.workers.map((w) => w.revision)).to.deep.equal([revision, revision]);
    expect(health.workers.reduce((s, w) => s + w.responses, 0)).to.equal(40);
    const metrics = await (await request(`http://127.0.0.1:${proxy.adminPort}/metrics`)).body.text();
    expect(metrics).to.include('cygnet_proxy_workers_max 2');
    expect(metrics).to.include('cygnet_proxy_responses_total{app="/duo",code="2xx"} 40');
  });

  it('splits a burst of kept-alive connections evenly between the workers, each served where it lands', async () => {
    replica.publisher.publish({ type: 'APP_UPDATED', app: appOf('/burst') });
    await settle(replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpointOf('/burst', 0, (backends[0] as TestBackend).port) }).revision);
    // Idle workers first: the earlier test's connections may still be closing, and a burst is placed by the counts the workers last reported.
    for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
      const health = await (await request(`http://127.0.0.1:${proxy.adminPort}/health`)).body.json() as HealthInfo;
      if (health.workers.every((w) => w.connections === 0)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 50)); // one report interval (10 ms) and its broadcast, with room
    // All connect before any sends: the kernel queues them on the shared socket and one worker's accept loop takes whatever is pending.
    const sockets = await Promise.all(Array.from({ length: 40 }, () => new Promise<Socket>((resolve, reject) => {
      const s = connect(proxy.port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    })));
    try {
      const answers = await Promise.all(sockets.map((s) => new Promise<string>((resolve, reject) => {
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d.toString('latin1');
          if (got.includes('"backend"')) resolve(got);
        });
        s.once('error', reject);
        s.write('GET / HTTP/1.1\r\nHost: burst.cygnet\r\n\r\n');
      })));
      for (const a of answers) expect(a).to.match(/^HTTP\/1\.1 200 /);
      const deadline = Date.now() + 5_000;
      let split: number[] = [];
      for (;;) {
        const health = await (await request(`http://127.0.0.1:${proxy.adminPort}/health`)).body.json() as HealthInfo;
        split = health.workers.map((w) => w.connections);
        if (split.reduce((s, n) => s + n, 0) === 40 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(split.reduce((s, n) => s + n, 0)).to.equal(40);
      // Within the balancer's slack of 20 each (two connections; reports may lag a burst), not 40/0.
      expect(Math.min(...split), `split ${split.join('/')}`).to.be.at.least(15);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('starts both workers from bin/cygnet.js, which loads tsx through its API (not inherited by a fork)', async () => {
    const [port, admin] = await freePorts(2) as [number, number];
    const bin = fileURLToPath(new URL('../../../bin/cygnet.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'proxy', '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${admin}`, '--registry', replica.url, '--workers', '2'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CYGNET_LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      let workers = 0;
      for (let i = 0; i < 200 && workers < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
        workers = await request(`http://127.0.0.1:${admin}/health`).then((r) => r.body.json()).then((h) => (h as HealthInfo).workers.length, () => 0);
      }
      expect(workers, stderr).to.equal(2);
      expect(stderr).to.not.include('ERR_UNKNOWN_FILE_EXTENSION');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

