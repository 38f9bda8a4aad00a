/**
 * Service discovery end to end: a real master, 3 agents (127.0.0.1..3), the
 * framework, the cluster DNS server (`cygnet dns`) and the HTTP load balancer
 * (`cygnet proxy`), both following the framework's registry watch. An app's
 * healthy instances are its A records and the proxy's backends; an instance
 * whose health check fails leaves both and its healthy replacement joins
 * them; a canary gets its share of requests; with the framework stopped both
 * keep serving and catch up when it returns.
 */
import { expect } from 'chai';
import { Resolver } from 'node:dns/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { registerClusterCleanup, restartFramework, startAppCluster, type AppCluster } from '../../helpers/cluster.ts';
import { api, getApp, waitFor } from '../../helpers/framework-api.ts';
import { freePort, waitForPort } from '../../helpers/net.ts';
import { spawnCygnet } from '../../helpers/processes.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

/**
 * An HTTP server on $PORT0 whose health check fails while `<flags>/sick-$PORT0`
 * exists; it answers with $FLAVOUR if set, else its host. Node itself.
 */
const sickableCmd = (flags: string) => `exec ${process.execPath} -e '
const fs = require("fs"), port = process.env.PORT0;
require("http").createServer((q, s) => {
  s.statusCode = fs.existsSync("${flags}/sick-" + port) ? 503 : 200;
  s.end(process.env.FLAVOUR || process.env.HOST);
}).listen(Number(port))'`;

/** One request through the proxy; the answer body (the instance's host, or its flavour). */
async function viaProxy(port: number, host: string, timeoutMs = 5000): Promise<string> {
  const r = await request(`http://127.0.0.1:${port}/`, { headers: { host }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const body = await r.body.text();
  return r.statusCode === 200 ? body : `HTTP ${r.statusCode}`;
}

async function resolveSorted(r: Resolver, name: string): Promise<string[]> {
  try {
    return (await r.resolve4(name)).sort();
  } catch {
    return [];
  }
}

describe('service discovery: framework → cluster DNS and HTTP load balancer', function () {
  this.timeout(180_000);
  registerClusterCleanup();
  let c: AppCluster;
  let base: string;
  let dnsPort: number;
  let proxyPort: number;
  let resolver: Resolver;
  let flags: string;

  before(async () => {
    const root = await makeTempDir('cygnet-discovery-');
    flags = path.join(root, 'flags');
    mkdirSync(flags);
    c = await startAppCluster(root);
    base = c.framework.url;
    dnsPort = await freePort();
    const admin = await freePort();
    spawnCygnet('dns', ['dns', '--listen', `127.0.0.1:${dnsPort}`, '--admin-listen', `127.0.0.1:${admin}`, '--registry', base, '--ttl', '1']);
    await waitForPort(dnsPort, 60_000);
    proxyPort = await freePort();
    spawnCygnet('proxy', ['proxy', '--listen', `127.0.0.1:${proxyPort}`, '--admin-listen', `127.0.0.1:${await freePort()}`, '--registry', base]);
    await waitForPort(proxyPort, 60_000);
    resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
  });

  it('answers an app by name with the hosts of its healthy instances, and follows health', async () => {
    const r = await api(base, 'POST', '/v2/apps', {
      id: '/shop/web', cmd: sickableCmd(flags), cpus: 0.01, mem: 32, instances: 3,
      portDefinitions: [{ port: 0, name: 'http' }], constraints: [['hostname', 'UNIQUE']],
      healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 5, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 3 }],
    });
    expect(r.status, r.text).to.equal(201);
    const all = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
    await waitFor('web.shop.cygnet → 3 hosts', async () => ((await resolveSorted(resolver, 'web.shop.cygnet')).join() === all.join() ? true : undefined), 60_000, 100);
    const srv = await resolver.resolveSrv('_http._tcp.web.shop.cygnet');
    const app = await getApp(base, '/shop/web');
    expect(srv.map((s) => s.port).sort()).to.deep.equal(app?.tasks?.map((t) => t.ports[0]).sort());

    // The proxy reaches every instance in turn (the server answers with its host).
    const hosts = await waitFor('the proxy to route to all 3', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) seen.add(await viaProxy(proxyPort, 'web.shop.cygnet'));
      return [...seen].sort().join() === all.join() ? seen : undefined;
    }, 30_000, 100);
    expect(hosts.size).to.equal(3);

    const victim = app?.tasks?.find((t) => t.host === '127.0.0.2');
    writeFileSync(path.join(flags, `sick-${victim?.ports[0]}`), '');
    await waitFor('the unhealthy instance to leave the answers', async () => ((await resolveSorted(resolver, 'web.shop.cygnet')).join() === '127.0.0.1,127.0.0.3' ? true : undefined), 30_000, 50);
    for (let i = 0; i < 20; i++) expect(await viaProxy(proxyPort, 'web.shop.cygnet'), 'no traffic to the unhealthy instance').to.not.equal('127.0.0.2');
    // The agent kills it after 3 failed checks; its replacement (a new port, so healthy) joins again.
    await waitFor('the replacement to join the answers', async () => ((await resolveSorted(resolver, 'web.shop.cygnet')).join() === all.join() ? true : undefined), 60_000, 100);
    const after = await getApp(base, '/shop/web');
    expect(after?.tasks?.map((t) => t.id)).to.not.include(victim?.id);
  });

  it('gives a 20 % canary about a fifth of the requests through the proxy', async () => {
    const started = await api(base, 'POST', '/v1/apps/shop/web/canary', { app: { env: { FLAVOUR: 'canary' } }, instances: 1, weight: 0.2 });
    expect(started.status, started.text).to.equal(200);
    await waitFor('the canary deployed and healthy', async () => {
      const a = await getApp(base, '/shop/web');
      return a?.deployments.length === 0 && a.tasksHealthy === 3 ? true : undefined;
    }, 60_000);
    await waitFor('the proxy to know the canary', async () => ((await viaProxy(proxyPort, 'web.shop.cygnet', 30)) === 'canary' ? true : undefined), 30_000, 10);
    let canary = 0;
    const n = 1000;
    for (let i = 0; i < n; i++) if ((await viaProxy(proxyPort, 'web.shop.cygnet')) === 'canary') canary++;
    expect(canary / n).to.be.within(0.15, 0.25);
    expect((await api(base, 'POST', '/v1/apps/shop/web/canary/abort')).status).to.equal(200);
    await waitFor('the canary gone', async () => {
      const a = await getApp(base, '/shop/web');
      return a?.deployments.length === 0 && a.tasksHealthy === 3 ? true : undefined;
    }, 60_000);
  });

  it('keeps answering while the framework is down, and catches up when it returns', async () => {
    const before = await resolveSorted(resolver, 'web.shop.cygnet');
    expect(before).to.have.lengthOf(3);
    c.framework.proc.child.kill('SIGKILL');
    await c.framework.proc.exited;
    await new Promise((r) => setTimeout(r, 1500));
    expect(await resolveSorted(resolver, 'web.shop.cygnet')).to.deep.equal(before);
    expect(before).to.include(await viaProxy(proxyPort, 'web.shop.cygnet'));
    c.framework = await restartFramework(c.framework);
    base = c.framework.url;
    await waitFor('the framework back', async () => ((await getApp(base, '/shop/web'))?.tasksHealthy === 3 ? true : undefined), 60_000);
    expect((await api(base, 'DELETE', '/v2/apps/shop/web')).status).to.equal(200);
    await waitFor('the deleted app to leave DNS', async () => {
      try {
        await resolver.resolve4('web.shop.cygnet');
        return undefined;
      } catch (err) {
        return (err as { code?: string }).code === 'ENOTFOUND' ? true : undefined;
      }
    }, 30_000, 100);
    await waitFor('the proxy to stop routing the deleted app', async () => {
      const r = await request(`http://127.0.0.1:${proxyPort}/`, { headers: { host: 'web.shop.cygnet' } });
      await r.body.dump();
      return r.statusCode === 404 ? true : undefined;
    }, 30_000, 100);
  });
});
