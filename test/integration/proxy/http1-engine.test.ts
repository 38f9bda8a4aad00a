/**
 * The proxy's own HTTP/1.1 engine end to end, on raw client sockets:
 * pipelined requests answered in order, chunked bodies both ways (decoded
 * for an HTTP/1.0 client), Expect: 100-continue, HEAD, bodies far larger
 * than a socket buffer (backpressure), a close-delimited response, and
 * smuggling shapes refused before anything reaches a backend.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { Agent, request } from 'undici';
import { appOf, endpointOf, proxyIos, startProxyHarness, type ProxyHarness } from '../../helpers/proxy-harness.ts';

const big = Buffer.alloc(3 * 1024 * 1024, 'abcdefghij');

/** A backend with the shapes of response the engine must relay. */
async function startShapes(): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('hello ');
        setTimeout(() => res.end('world'), 5);
      } else if (req.url === '/hints') {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' }, () => {
          res.writeHead(200, { 'content-length': 6 });
          res.end('hinted');
        });
      } else if (req.url === '/big') {
        res.writeHead(200, { 'content-length': big.length });
        res.end(big);
      } else if (req.url === '/sum') {
        const text = `${body.length} ${createHash('sha1').update(body).digest('hex')} ${req.headers['transfer-encoding'] ?? 'no-te'} ${req.headers.expect ?? 'no-expect'}`;
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      } else {
        const text = `${req.method ?? ''} ${req.url ?? ''}`;
        res.writeHead(200, { 'content-length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** Writes raw bytes, collects the answer until the proxy closes or `until` holds. */
function raw(port: number, payload: string | Buffer, until?: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(payload));
    let text = '';
    const timer = setTimeout(() => { s.destroy(); resolve(text); }, 5_000);
    s.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (until?.(text) === true) {
        clearTimeout(timer);
        s.destroy();
        resolve(text);
      }
    });
    s.on('end', () => { clearTimeout(timer); resolve(text); });
    s.on('error', reject);
  });
}

for (const io of proxyIos) describe(`proxy HTTP/1.1 engine on ${io} streams (integration)`, function () {
  this.timeout(30_000);
  let h: ProxyHarness;
  let shapes: Awaited<ReturnType<typeof startShapes>>;
  let closer: TcpServer;
  let port: number;
  const agent = new Agent({ connections: 4 });

  before(async () => {
    h = await startProxyHarness({ io });
    shapes = await startShapes();
    // A backend that frames its response by closing the connection (HTTP/1.0 style).
    closer = createTcpServer((s) => {
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close'));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => closer.listen(0, '127.0.0.1', r));
    await h.app(appOf('/shapes'));
    await h.up(endpointOf('/shapes', 0, shapes.port));
    await h.app(appOf('/closer'));
    await h.up(endpointOf('/closer', 0, (closer.address() as AddressInfo).port));
    port = Number(new URL(h.url).port);
  });
  after(async () => {
    await agent.close();
    await h.close();
    await new Promise<void>((r) => shapes.server.close(() => r()));
    shapes.server.closeAllConnections();
    await new Promise<void>((r) => closer.close(() => r()));
  });

  it('forwards a 103 Early Hints before the final response to HTTP/1.1 clients, not to HTTP/1.0 ones', async () => {
    const v11 = await raw(port, 'GET /hints HTTP/1.1\r\nHost: shapes.cygnet\r\nConnection: close\r\n\r\n');
    expect(v11).to.match(/^HTTP\/1\.1 103 Early Hints\r\n/);
    expect(v11.split('\r\n\r\n')[0]).to.include('</style.css>; rel=preload; as=style');
    expect(v11).to.match(/\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhinted$/);
    const v10 = await raw(port, 'GET /hints HTTP/1.0\r\nHost: shapes.cygnet\r\n\r\n');
    expect(v10).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(v10).to.not.include('103');
  });

  it('answers pipelined requests in order on one connection', async () => {
    const reqs = ['/1', '/2', '/3', '/4'].map((p) => `GET ${p} HTTP/1.1\r\nHost: shapes.cygnet\r\n\r\n`).join('');
    const text = await raw(port, `${reqs}GET /5 HTTP/1.1\r\nHost: shapes.cygnet\r\nConnection: close\r\n\r\n`);
    const bodies = text.split('HTTP/1.1 200 OK').slice(1).map((r) => r.split('\r\n\r\n')[1]);
    expect(bodies).to.deep.equal(['GET /1', 'GET /2', 'GET /3', 'GET /4', 'GET /5']);
    expect(text).to.include('Connection: close');
  });

  it('assembles heads that arrive a few bytes at a time, and refuses one that grows past the limit with 431 (414 for a request line)', async () => {
    const dribble = (payload: string, piece: number): Promise<string> => new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', async () => {
        for (let at = 0; at < payload.length && !s.destroyed; at += piece) {
          s.write(payload.slice(at, at + piece));
          await new Promise((r) => setTimeout(r, 1));
        }
      });
      let text = '';
      s.on('data', (c: Buffer) => { text += c.toString('latin1'); });
      s.on('close', () => resolve(text));
      s.on('error', reject);
    });
    const slow = await dribble('GET /slow HTTP/1.1\r\nHost: shapes.cygnet\r\nX-Pad: abcdefghij\r\n\r\nGET /next HTTP/1.1\r\nHost: shapes.cygnet\r\nConnection: close\r\n\r\n', 3);
    expect(slow.split('HTTP/1.1 200 OK').slice(1).map((r) => r.split('\r\n\r\n')[1])).to.deep.equal(['GET /slow', 'GET /next']);
    const huge = await dribble(`GET / HTTP/1.1\r\nHost: shapes.cygnet\r\n${'X-A: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n'.repeat(1000)}\r\n`, 4096);
    expect(huge).to.match(/^HTTP\/1.1 431 Request Header Fields Too Large\r\n/);
    const longUri = await dribble(`GET /${'u'.repeat(70_000)} HTTP/1.1\r\nHost: shapes.cygnet\r\n\r\n`, 4096);
    expect(longUri).to.match(/^HTTP\/1.1 414 URI Too Long\r\n/);
    expect(longUri).to.include('CYG_PROXY_URI_TOO_LONG');
  });

  it('relays a chunked response as chunked to HTTP/1.1 and decoded to HTTP/1.0', async () => {
    const res = await request(`${h.url}/chunked`, { headers: { host: 'shapes.cygnet' }, dispatcher: agent });
    expect(res.headers['transfer-encoding']).to.equal('chunked');
    expect(await res.body.text()).to.equal('hello world');
    const old = await raw(port, 'GET /chunked HTTP/1.0\r\nHost: shapes.cygnet\r\n\r\n');
    const [head, body] = old.split('\r\n\r\n') as [string, string];
    expect(head.toLowerCase()).to.not.include('transfer-encoding');
    expect(head).to.include('Connection: close');
    expect(body).to.equal('hello world');
  });

  it('forwards chunked and sized request bodies byte for byte, and answers Expect: 100-continue itself', async () => {
    const chunked = await raw(port, 'POST /sum HTTP/1.1\r\nHost: shapes.cygnet\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nX-T: 1\r\n\r\n');
    expect(chunked).to.match(/\r\n\r\n7 [0-9a-f]{40} chunked no-expect$/);
    const expected = createHash('sha1').update('abcdefg').digest('hex');
    expect(chunked).to.include(expected);
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write('POST /sum HTTP/1.1\r\nHost: shapes.cygnet\r\nContent-Length: 7\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'));
      let text = '';
      s.on('data', (c: Buffer) => {
        if (text === '' && c.toString().startsWith('HTTP/1.1 100 Continue\r\n\r\n')) s.write('abcdefg');
        text += c.toString();
      });
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    expect(answer).to.match(/^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200 OK/);
    expect(answer).to.match(new RegExp(`7 ${expected} no-te no-expect$`));
  });

  it('streams bodies much larger than socket buffers both ways', async () => {
    const down = await request(`${h.url}/big`, { headers: { host: 'shapes.cygnet' }, dispatcher: agent });
    const got = Buffer.from(await down.body.arrayBuffer());
    expect(got.length).to.equal(big.length);
    expect(got.equals(big)).to.equal(true);
    const up = await request(`${h.url}/sum`, { method: 'POST', headers: { host: 'shapes.cygnet' }, body: big, dispatcher: agent });
    expect(await up.body.text()).to.equal(`${big.length} ${createHash('sha1').update(big).digest('hex')} no-te no-expect`);
  });

  it('relays HEAD without a body and a close-delimited response until the backend closes', async () => {
    const head = await raw(port, 'HEAD /h HTTP/1.1\r\nHost: shapes.cygnet\r\n\r\nGET /after HTTP/1.1\r\nHost: shapes.cygnet\r\nConnection: close\r\n\r\n');
    expect(head).to.match(/^HTTP\/1.1 200 OK\r\n[^]*content-length: 7\r\n[^]*\r\n\r\nHTTP\/1.1 200 OK\r\n[^]*\r\n\r\nGET \/after$/i);
    const closed = await raw(port, 'GET / HTTP/1.1\r\nHost: closer.cygnet\r\n\r\n');
    expect(closed).to.match(/^HTTP\/1.1 200 OK\r\n[^]*Connection: close\r\n\r\nuntil close$/);
  });

  it('refuses smuggling shapes with 400 and closes, before anything reaches a backend', async () => {
    const before = shapes.seen.length;
    for (const attempt of [
      'POST / HTTP/1.1\r\nHost: shapes.cygnet\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: shapes.cygnet\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: shapes.cygnet\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: shapes.cygnet\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: shapes.cygnet\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: shapes.cygnet\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: shapes.cygnet\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: shapes.cygnet\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: shapes.cygnet\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: shapes.cygnet\r\n\r\n',
    ]) {
      const text = await raw(port, attempt);
      expect(text, attempt).to.match(/^HTTP\/1.1 400 Bad Request\r\n[^]*Connection: close\r\n/);
      expect(text.match(/HTTP\/1.1/g)?.length, 'one answer, then the connection is closed').to.equal(1);
    }
    // A chunked body whose framing breaks mid-way: the backend never sees a second request.
    const broken = await raw(port, 'POST /sum HTTP/1.1\r\nHost: shapes.cygnet\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\nGET /smuggled HTTP/1.1\r\nHost: shapes.cygnet\r\n\r\n');
    expect(broken).to.match(/^HTTP\/1.1 400 Bad Request\r\n/);
    expect(shapes.seen.slice(before).filter((s) => s.includes('smuggled'))).to.deep.equal([]);
  });
});

for (const io of proxyIos) describe(`proxy HTTP/1.1 engine timeouts on ${io} streams (integration)`, function () {
  this.timeout(30_000);
  let h: ProxyHarness;
  let stall: TcpServer;

  before(async () => {
    h = await startProxyHarness({ io, timeouts: { idleTimeoutMs: 300, headerTimeoutMs: 5_000 } });
    // A backend that starts a response and then goes silent.
    stall = createTcpServer((s) => {
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
    await h.app(appOf('/stall'));
    await h.up(endpointOf('/stall', 0, (stall.address() as AddressInfo).port));
  });
  after(async () => {
    await h.close();
    stall.close();
  });

  it('cuts a response whose body goes silent for the idle timeout, and closes an idle client connection', async () => {
    const port = Number(new URL(h.url).port);
    const t0 = Date.now();
    const cut = await raw(port, 'GET / HTTP/1.1\r\nHost: stall.cygnet\r\n\r\n');
    expect(cut).to.match(/^HTTP\/1.1 200 OK\r\n[^]*\r\n\r\npartial$/);
    expect(Date.now() - t0).to.be.within(250, 4_000);
    const idle = await new Promise<number>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => { t1 = Date.now(); });
      let t1 = Date.now();
      s.on('close', () => resolve(Date.now() - t1));
      s.on('error', reject);
    });
    expect(idle).to.be.within(250, 4_000);
  });
});

