/**
 * `cygnet proxy --workers 2`: the primary follows the watch and serves the
 * admin port, two forked workers share the listen port. Every worker must
 * route with the newest table (a change reaches all of them), and the admin
 * port adds up their figures.
 */
import { expect } from 'chai';
import { request } from 'undici';
import { defaultEjectBaseMs, defaultEjectMaxMs, defaultMaxAttempts } from '../../../src/proxy/failure-policy.ts';
import { defaultTimeouts } from '../../../src/proxy/forwarder.ts';
import type { HealthInfo } from '../../../src/proxy/admin-server.ts';
import { startProxy, type RunningProxy } from '../../../src/proxy/main.ts';
import { defaultPool } from '../../../src/proxy/upstream-pools.ts';
import { startBackend, type EchoBody, type TestBackend } from '../../helpers/proxy-backends.ts';
import { appOf, endpointOf } from '../../helpers/proxy-harness.ts';
import { startReplica, type Replica } from '../../helpers/registry-harness.ts';

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
});
