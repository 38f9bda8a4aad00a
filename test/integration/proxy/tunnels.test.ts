/**
 * Connections the proxy passes through whole: WebSocket upgrades (routed by
 * Host like any request, then spliced) and plain TCP by listen port
 * (CYGNET_TCP_PORT), both surviving a table swap that does not remove them.
 */
import { expect } from 'chai';
import { connect } from 'node:net';
import { WebSocket } from 'undici';
import { appOf, endpointOf, startProxyHarness, type ProxyHarness } from '../../helpers/proxy-harness.ts';
import { startBackend, type TestBackend } from '../../helpers/proxy-backends.ts';
import { freePort } from '../../helpers/net.ts';

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('message', (ev) => resolve(String(ev.data)), { once: true });
    ws.addEventListener('error', () => reject(new Error('websocket error')), { once: true });
  });
}

async function tcpExchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(payload));
    let text = '';
    s.on('data', (c: Buffer) => {
      text += c.toString();
      // The echo backend keeps connections alive: one whole response is enough.
      const [head, body] = text.split('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(head ?? '')?.[1];
      if (length !== undefined && body !== undefined && Buffer.byteLength(body) >= Number(length)) {
        s.destroy();
        resolve(text);
      }
    });
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

describe('proxy tunnels (integration)', function () {
  this.timeout(30_000);
  let h: ProxyHarness;
  let backends: TestBackend[];

  before(async () => {
    h = await startProxyHarness();
    backends = await Promise.all(['w0', 'w1'].map((n) => startBackend(n)));
  });
  after(async () => {
    await h.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('passes a WebSocket upgrade through and echoes frames, across a table swap', async () => {
    // The browser-style client sends Host: 127.0.0.1:<port>, so the app claims that host.
    await h.app(appOf('/chat', { CYGNET_VHOST: '127.0.0.1' }));
    await h.up(endpointOf('/chat', 0, (backends[0] as TestBackend).port));
    const ws = new WebSocket(`ws://127.0.0.1:${new URL(h.url).port}/socket`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('websocket did not open')), { once: true });
    });
    const first = nextMessage(ws);
    ws.send('hello');
    expect(await first).to.equal('w0:hello');
    // A new instance arrives: the open tunnel stays where it is.
    await h.up(endpointOf('/chat', 1, (backends[1] as TestBackend).port));
    const second = nextMessage(ws);
    ws.send('again');
    expect(await second).to.equal('w0:again');
    ws.close();
  });

  it('answers a WebSocket upgrade for an unknown host with 404', async () => {
    const text = await tcpExchange(Number(new URL(h.url).port), 'GET / HTTP/1.1\r\nHost: nowhere.cygnet\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n\r\n');
    expect(text).to.match(/^HTTP\/1.1 404 /);
    expect(text).to.include('CYG_PROXY_NO_ROUTE');
  });

  it('forwards plain TCP on an app\'s CYGNET_TCP_PORT and closes the listener when the app leaves', async () => {
    const listenPort = await freePort();
    await h.app(appOf('/raw', { CYGNET_TCP_PORT: String(listenPort), CYGNET_HTTP: 'false' }));
    await h.up(endpointOf('/raw', 0, (backends[1] as TestBackend).port));
    const answer = await tcpExchange(listenPort, 'GET /over-tcp HTTP/1.1\r\nHost: anything\r\nConnection: close\r\n\r\n');
    expect(answer).to.match(/^HTTP\/1.1 200 /);
    expect(answer).to.include('"backend":"w1"');
    expect(answer).to.include('"url":"/over-tcp"');
    const revision = h.replica.publisher.publish({ type: 'APP_REMOVED', appId: '/raw' }).revision;
    await h.waitRevision(revision);
    const refused = await new Promise<string>((resolve) => {
      const s = connect(listenPort, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve('connected'); });
      s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).to.equal('ECONNREFUSED');
  });
});
