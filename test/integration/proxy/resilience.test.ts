/**
 * The proxy when backends fail and clients misbehave: a backend killed in
 * the middle of a run, one that refuses connections, one that never
 * answers, clients that abort (no upstream socket may stay open), and raw
 * malformed requests (nothing may crash).
 */
import { expect } from 'chai';
import { connect, createServer, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import { SeededRandom, randomInt } from '../../../src/common/random.ts';
import { appOf, endpointOf, proxyIos, startProxyHarness, type ProxyHarness } from '../../helpers/proxy-harness.ts';
import { startBackend, startChildBackend, type EchoBody } from '../../helpers/proxy-backends.ts';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function metric(h: ProxyHarness, series: string): Promise<number> {
  const text = await (await request(`${h.adminUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

async function waitUntil(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const io of proxyIos) describe(`proxy resilience on ${io} streams (integration)`, function () {
  this.timeout(60_000);
  let h: ProxyHarness;
  const agent = new Agent({ connections: 32, keepAliveTimeout: 2_000 });

  before(async () => {
    h = await startProxyHarness({ io, timeouts: { headerTimeoutMs: 300 } });
  });
  after(async () => {
    await agent.close();
    await h.close();
  });

  it('costs no failed request beyond those in flight when a backend is killed mid-run', async () => {
    const kids = await Promise.all(['k0', 'k1', 'k2'].map((n) => startChildBackend(n)));
    try {
      await h.app(appOf('/kill'));
      for (let i = 0; i < 3; i++) await h.up(endpointOf('/kill', i, (kids[i] as { port: number }).port));
      const concurrency = 16;
      let ok = 0;
      const failures: string[] = [];
      let stop = false;
      const clients = Array.from({ length: concurrency }, async () => {
        while (!stop) {
          try {
            const res = await request(`${h.url}/`, { headers: { host: 'kill.cygnet' }, dispatcher: agent });
            const text = await res.body.text();
            if (res.statusCode === 200) ok++;
            else failures.push(`${res.statusCode} ${text}`);
          } catch (err) {
            failures.push(String(err));
          }
        }
      });
      await new Promise((r) => setTimeout(r, 400));
      const killed = kids[1] as { port: number; kill(): Promise<void> };
      await killed.kill();
      const okAtKill = ok;
      await new Promise((r) => setTimeout(r, 600));
      stop = true;
      await Promise.all(clients);
      expect(ok - okAtKill, 'requests served after the kill').to.be.greaterThan(50);
      // Each failure is a request the killed backend had taken and cut before answering; the rest were refused and retried.
      expect(failures.length, failures.join('\n')).to.be.at.most(concurrency);
      for (const f of failures) expect(f).to.match(new RegExp(`^502 .*127\\.0\\.0\\.1:${killed.port} closed the connection before answering`));
    } finally {
      await Promise.all(kids.map((k) => k.kill()));
    }
  });

  it('ejects a backend that refuses connections and retries the request on another instance', async () => {
    const live = await startBackend('live');
    try {
      await h.app(appOf('/refuse'));
      await h.up(endpointOf('/refuse', 0, await closedPort()));
      await h.up(endpointOf('/refuse', 1, live.port));
      const before = await metric(h, 'cygnet_proxy_ejections_total');
      for (let i = 0; i < 10; i++) {
        const res = await request(`${h.url}/`, { method: 'POST', body: `n${i}`, headers: { host: 'refuse.cygnet' }, dispatcher: agent });
        expect(res.statusCode).to.equal(200);
        expect((await res.body.json() as EchoBody).body).to.equal(`n${i}`);
      }
      // One refusal ejects it; the other nine requests never try it.
      expect(await metric(h, 'cygnet_proxy_ejections_total') - before).to.equal(1);
      const routes = await (await request(`${h.adminUrl}/routes`)).body.json() as { http: { appId: string; backends: { ejectedUntil: string | null }[] }[] };
      expect(routes.http.find((r) => r.appId === '/refuse')?.backends[0]?.ejectedUntil).to.be.a('string');
    } finally {
      await live.close();
    }
  });

  it('answers 502 when every instance refuses, 504 when a backend sends no headers in time', async () => {
    await h.app(appOf('/dead'));
    await h.up(endpointOf('/dead', 0, await closedPort()));
    const dead = await request(`${h.url}/`, { headers: { host: 'dead.cygnet' }, dispatcher: agent });
    expect(dead.statusCode).to.equal(502);
    expect((await dead.body.json() as { code: string }).code).to.equal('CYG_PROXY_BAD_GATEWAY');
    const slow = await startBackend('slow');
    try {
      await h.app(appOf('/slow'));
      await h.up(endpointOf('/slow', 0, slow.port));
      const res = await request(`${h.url}/hold`, { headers: { host: 'slow.cygnet' }, dispatcher: agent });
      expect(res.statusCode).to.equal(504);
      expect((await res.body.json() as { message: string }).message).to.match(/sent no response headers within 300 ms/);
      await waitUntil(() => slow.openConnections() === 0, 'the timed-out upstream socket to close');
    } finally {
      await slow.close();
    }
  });

  it('leaves no upstream socket open after 1,000 aborted requests', async () => {
    const holder = await startBackend('holder');
    try {
      await h.app(appOf('/abort'));
      await h.up(endpointOf('/abort', 0, holder.port));
      const port = Number(new URL(h.url).port);
      for (let batch = 0; batch < 10; batch++) {
        const target = holder.seen.count + 100;
        const sockets: Socket[] = [];
        for (let i = 0; i < 100; i++) {
          const s = connect(port, '127.0.0.1', () => s.write('GET /hold HTTP/1.1\r\nHost: abort.cygnet\r\n\r\n'));
          s.on('error', () => undefined);
          sockets.push(s);
        }
        // Abort only once every request reached the backend: each one holds an upstream socket.
        await waitUntil(() => holder.seen.count >= target, `batch ${batch} to reach the backend`);
        for (const s of sockets) s.destroy();
      }
      expect(holder.seen.count).to.be.at.least(1000);
      await waitUntil(() => holder.openConnections() === 0, 'the backend to see every upstream socket closed');
      await waitUntil(async () => await metric(h, 'cygnet_proxy_upstream_sockets_sum') === 0 || holder.openConnections() === 0, 'the pool to hold no socket to it');
      expect(holder.openConnections()).to.equal(0);
      expect(await metric(h, 'cygnet_proxy_client_aborts_total')).to.be.at.least(1000);
    } finally {
      await holder.close();
    }
  });

  it('survives a fuzz of malformed requests on raw sockets and keeps serving', async () => {
    const echo = await startBackend('fuzz');
    try {
      await h.app(appOf('/fuzz'));
      await h.up(endpointOf('/fuzz', 0, echo.port));
      const fixed = [
        'GARBAGE\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: fuzz.cygnet\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: fuzz.cygnet\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nnot hex\r\n',
        'POST / HTTP/1.1\r\nHost: fuzz.cygnet\r\nContent-Length: 100\r\n\r\nshort',
        'POST / HTTP/1.1\r\nHost: fuzz.cygnet\r\nContent-Length: -1\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: fuzz.cygnet\r\nX: \u0000\u0001\r\n\r\n',
        'GET / HTTP/9.9\r\nHost: fuzz.cygnet\r\n\r\n',
        'GET /\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: \r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a b c\r\n\r\n',
        `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: fuzz.cygnet\r\n\r\n`,
        `GET / HTTP/1.1\r\nHost: fuzz.cygnet\r\n${'X-A: b\r\n'.repeat(5000)}\r\n`,
        'GET / HTTP/1.1\r\nHost: fuzz.cygnet\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nxx',
        'GET / HTTP/1.1\r\nHost: nowhere\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
        'CONNECT fuzz.cygnet:443 HTTP/1.1\r\nHost: fuzz.cygnet\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: fuzz.cygnet\r\n\r\nGET / HTTP/1.1\r\nHost: fuzz.cygnet\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: fuzz.cygnet',
        '\r\n\r\n\r\n',
      ];
      const rng = new SeededRandom(20261206);
      const random = Array.from({ length: 200 }, (_, i) => {
        const base = fixed[i % fixed.length] as string;
        const bytes = Buffer.from(base);
        for (let k = 0; k < 1 + randomInt(rng, 0, 8); k++) bytes[randomInt(rng, 0, bytes.length)] = randomInt(rng, 0, 256);
        return bytes;
      });
      const port = Number(new URL(h.url).port);
      const send = (payload: string | Buffer): Promise<void> => new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.write(payload));
        s.on('data', () => undefined);
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        setTimeout(() => { s.destroy(); resolve(); }, 300);
      });
      for (let i = 0; i < fixed.length; i += 6) await Promise.all(fixed.slice(i, i + 6).map(send));
      for (let i = 0; i < random.length; i += 25) await Promise.all(random.slice(i, i + 25).map(send));
      const res = await request(`${h.url}/after`, { headers: { host: 'fuzz.cygnet' }, dispatcher: agent });
      expect(res.statusCode).to.equal(200);
      expect((await res.body.json() as EchoBody).url).to.equal('/after');
    } finally {
      await echo.close();
    }
  });
});
