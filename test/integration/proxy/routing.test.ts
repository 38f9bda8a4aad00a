/**
 * The proxy fed by a real registry watch server, forwarding to real HTTP
 * backends on 127.0.0.1: who gets traffic as instances come, go and carry
 * canary weights, what a client gets when nothing can answer, the headers
 * a backend sees, and routing through a watch outage.
 */
import { expect } from 'chai';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { startProxyHarness, appOf, endpointOf, type ProxyHarness } from '../../helpers/proxy-harness.ts';
import { backendHopHeader, startBackend, type EchoBody, type TestBackend } from '../../helpers/proxy-backends.ts';
import { startReplica } from '../../helpers/registry-harness.ts';

describe('proxy routing (integration)', function () {
  this.timeout(30_000);
  let h: ProxyHarness;
  let backends: TestBackend[];
  const agent = new Agent({ connections: 16, keepAliveTimeout: 2_000 });

  const get = async (host: string, path = '/'): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> => {
    const res = await request(`${h.url}${path}`, { headers: { host }, dispatcher: agent });
    return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
  };
  const who = async (host: string, path = '/'): Promise<string> => (JSON.parse((await get(host, path)).body) as EchoBody).backend;

  before(async () => {
    h = await startProxyHarness();
    backends = await Promise.all(['b0', 'b1', 'b2', 'b3'].map((n) => startBackend(n)));
  });
  after(async () => {
    await agent.close();
    await h.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('sends requests to every healthy instance in turn', async () => {
    await h.app(appOf('/shop/web'));
    for (let i = 0; i < 3; i++) await h.up(endpointOf('/shop/web', i, (backends[i] as TestBackend).port));
    const seen: string[] = [];
    for (let i = 0; i < 9; i++) seen.push(await who('web.shop.cygnet'));
    expect(seen.slice(0, 3).sort()).to.deep.equal(['b0', 'b1', 'b2']);
    expect(seen.slice(3, 6)).to.deep.equal(seen.slice(0, 3));
    expect(seen.slice(6, 9)).to.deep.equal(seen.slice(0, 3));
  });

  it('stops sending to an instance once it turns unhealthy (ENDPOINT_DOWN)', async () => {
    await h.down('/shop/web', endpointOf('/shop/web', 1, 0).taskId);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add(await who('web.shop.cygnet'));
    expect([...seen].sort()).to.deep.equal(['b0', 'b2']);
  });

  it('gives a canary at 20 % weight 20 % ± 5 % of 1,000 requests', async () => {
    const stable = '2026-01-01T00:00:00.000Z';
    const canary = '2026-02-01T00:00:00.000Z';
    await h.app(appOf('/canary', { CYGNET_VHOST: 'canary.example.com' }, { [stable]: 80, [canary]: 20 }));
    for (let i = 0; i < 3; i++) await h.up(endpointOf('/canary', i, (backends[i] as TestBackend).port, stable));
    await h.up(endpointOf('/canary', 3, (backends[3] as TestBackend).port, canary));
    const counts: Record<string, number> = {};
    for (let batch = 0; batch < 50; batch++) {
      const names = await Promise.all(Array.from({ length: 20 }, () => who('canary.example.com')));
      for (const n of names) counts[n] = (counts[n] ?? 0) + 1;
    }
    expect(counts.b3).to.be.within(150, 250);
    expect((counts.b0 ?? 0) + (counts.b1 ?? 0) + (counts.b2 ?? 0)).to.equal(1000 - (counts.b3 ?? 0));
  });

  it('keeps a client on one instance with CYGNET_BALANCE=source, and spreads by load with leastconn', async () => {
    await h.app(appOf('/sticky', { CYGNET_BALANCE: 'source' }));
    for (let i = 0; i < 3; i++) await h.up(endpointOf('/sticky', i, (backends[i] as TestBackend).port));
    const sticky = new Set(await Promise.all(Array.from({ length: 20 }, () => who('sticky.cygnet'))));
    expect(sticky.size).to.equal(1);
    await h.app(appOf('/least', { CYGNET_BALANCE: 'leastconn' }));
    for (let i = 0; i < 3; i++) await h.up(endpointOf('/least', i, (backends[i] as TestBackend).port));
    // One at a time, every instance is idle at each pick: the tie rotates over all of them.
    const least = new Set<string>();
    for (let i = 0; i < 6; i++) least.add(await who('least.cygnet'));
    expect([...least].sort()).to.deep.equal(['b0', 'b1', 'b2']);
  });

  it('routes by the longest path prefix', async () => {
    await h.app(appOf('/site', { CYGNET_VHOST: 'paths.example.com' }));
    await h.app(appOf('/api', { CYGNET_VHOST: 'paths.example.com', CYGNET_PATH: '/api' }));
    await h.up(endpointOf('/site', 0, (backends[0] as TestBackend).port));
    await h.up(endpointOf('/api', 0, (backends[3] as TestBackend).port));
    expect(await who('paths.example.com', '/api/users?x=1')).to.equal('b3');
    expect(await who('paths.example.com', '/apiary')).to.equal('b0');
    const body = JSON.parse((await get('paths.example.com', '/api/users?x=1')).body) as EchoBody;
    expect(body.url).to.equal('/api/users?x=1');
  });

  it('answers 404 with a clear body when nothing matches, 503 when the app has no healthy instance', async () => {
    const miss = await get('nothing.example.com', '/x');
    expect(miss.status).to.equal(404);
    expect(JSON.parse(miss.body)).to.deep.equal({ code: 'CYG_PROXY_NO_ROUTE', message: "no app is routed for host 'nothing.example.com' and path '/x' (see the admin port's /routes)" });
    await h.app(appOf('/idle'));
    const none = await get('idle.cygnet');
    expect(none.status).to.equal(503);
    expect(JSON.parse(none.body)).to.deep.equal({ code: 'CYG_PROXY_NO_INSTANCE', message: 'app /idle has no healthy instance' });
  });

  it('sets X-Forwarded-For/-Proto/-Host and drops hop-by-hop headers both ways', async () => {
    // Raw bytes: HTTP clients refuse to send Connection-named headers themselves.
    const raw = await rawExchange(h.url, [
      'GET /h HTTP/1.1', 'Host: web.shop.cygnet', 'X-Forwarded-For: 203.0.113.9', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: evil.example.com',
      'Connection: close, X-Drop-Me', 'X-Drop-Me: 1', 'TE: trailers', 'Proxy-Authorization: Basic eA==', 'Keep-Alive: timeout=1', 'X-Keep: yes', '', '',
    ].join('\r\n'));
    const [head, payload] = raw.split('\r\n\r\n') as [string, string];
    const body = JSON.parse(payload) as EchoBody;
    expect(body.headers['x-forwarded-for']).to.equal('203.0.113.9, 127.0.0.1');
    expect(body.headers['x-forwarded-proto']).to.equal('http');
    expect(body.headers['x-forwarded-host']).to.equal('web.shop.cygnet');
    expect(body.headers['x-keep']).to.equal('yes');
    expect(body.headers.host).to.equal('web.shop.cygnet');
    for (const name of ['x-drop-me', 'te', 'proxy-authorization', 'keep-alive']) expect(body.headers[name], name).to.equal(undefined);
    expect(head.toLowerCase()).to.not.include(backendHopHeader);
    expect(head.toLowerCase()).to.not.include('timeout=5');
  });

  it('serves absolute-form requests (curl -x, http_proxy=) by the URL\'s host and path, and forwards them in origin-form', async () => {
    // The Host field disagrees on purpose: RFC 9112 §3.2.2 says the target's authority wins.
    const raw = await rawExchange(h.url, ['GET http://web.shop.cygnet/abs?q=1 HTTP/1.1', 'Host: nothing.example.com', 'Connection: close', '', ''].join('\r\n'));
    const [head, payload] = raw.split('\r\n\r\n') as [string, string];
    expect(head).to.match(/^HTTP\/1\.1 200 /);
    const body = JSON.parse(payload) as EchoBody;
    expect(body.url).to.equal('/abs?q=1');
    expect(body.headers.host).to.equal('web.shop.cygnet');
    expect(body.headers['x-forwarded-host']).to.equal('web.shop.cygnet');
    const userinfo = await rawExchange(h.url, ['GET http://me@web.shop.cygnet/ HTTP/1.1', 'Host: web.shop.cygnet', 'Connection: close', '', ''].join('\r\n'));
    expect(userinfo).to.match(/^HTTP\/1\.1 400 /);
  });

  it('passes request bodies through, with and without a length', async () => {
    const sized = await request(`${h.url}/post`, { method: 'POST', dispatcher: agent, headers: { host: 'web.shop.cygnet' }, body: 'hello' });
    const sizedText = await sized.body.text();
    expect((JSON.parse(sizedText) as EchoBody).body, sizedText).to.equal('hello');
    const chunked = await request(`${h.url}/post`, { method: 'POST', dispatcher: agent, headers: { host: 'web.shop.cygnet' }, body: Readable.from(['a', 'b']) });
    const echoed = await chunked.body.json() as EchoBody;
    expect(echoed.body).to.equal('ab');
  });

  it('serves /health, /metrics and the routing table on the admin port', async () => {
    const health = await (await request(`${h.adminUrl}/health`)).body.json() as { status: string; watchConnected: boolean; workers: { pid: number }[] };
    expect(health).to.include({ status: 'ok', watchConnected: true });
    expect(health.workers.map((w) => w.pid)).to.deep.equal([process.pid]);
    const metrics = await (await request(`${h.adminUrl}/metrics`)).body.text();
    expect(metrics).to.match(/cygnet_proxy_responses_total\{app="\/shop\/web",code="2xx"\} \d+/);
    // The 404 for an unrouted host and the 400 for a target with userinfo.
    expect(metrics).to.include('cygnet_proxy_responses_total{app="",code="4xx"} 2');
    const routes = await (await request(`${h.adminUrl}/routes`)).body.json() as { http: { host: string; appId: string; backends: unknown[] }[] };
    expect(routes.http.find((r) => r.host === 'web.shop.cygnet')).to.deep.include({ appId: '/shop/web' });
  });
});

describe('proxy through a registry watch outage (integration)', function () {
  this.timeout(30_000);

  it('keeps routing while the watch source is down and catches up when it returns', async () => {
    const first = await startReplica({ heartbeatIntervalMs: 200 });
    const h = await startProxyHarness({ replica: first });
    const b = await Promise.all(['x0', 'x1'].map((n) => startBackend(n)));
    const agent = new Agent({ connections: 4 });
    const who = async (): Promise<string> => (await (await request(`${h.url}/`, { headers: { host: 'out.cygnet' }, dispatcher: agent })).body.json() as EchoBody).backend;
    try {
      await h.app(appOf('/out'));
      await h.up(endpointOf('/out', 0, (b[0] as TestBackend).port));
      await first.stop();
      // The framework is gone: the proxy keeps the table it had.
      for (let i = 0; i < 5; i++) expect(await who()).to.equal('x0');
      // Meanwhile the registry moves on.
      first.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpointOf('/out', 1, (b[1] as TestBackend).port) });
      const revision = first.publisher.publish({ type: 'ENDPOINT_DOWN', appId: '/out', taskId: endpointOf('/out', 0, 0).taskId }).revision;
      expect(await who()).to.equal('x0');
      const back = await startReplica({ publisher: first.publisher, port: first.port, heartbeatIntervalMs: 200 });
      await h.waitRevision(revision);
      for (let i = 0; i < 5; i++) expect(await who()).to.equal('x1');
      await back.stop();
    } finally {
      await agent.close();
      await h.close();
      await Promise.all(b.map((x) => x.close()));
    }
  });
});

/** Sends raw bytes and returns everything the proxy answers until it closes (the request says Connection: close). */
async function rawExchange(baseUrl: string, bytes: string): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const s = connect(Number(url.port), url.hostname, () => s.write(bytes));
    let text = '';
    s.on('data', (c: Buffer) => { text += c.toString(); });
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}
