/**
 * The proxy's listening socket gets more descriptors (listen-fanout.ts), so
 * a busy proxy accepts a burst of connections at more than one per pass of
 * its event loop. Checked here: the descriptors exist in this process (the
 * same socket inode under 1 + defaultAcceptDescriptors fds), a burst of
 * connections opened at once is served, and closing the server releases
 * every descriptor (the port can be bound again at once). How much faster
 * bursts are accepted is a benchmark's to say (`npm run bench:proxy --
 * --parts 6`).
 */
import { expect } from 'chai';
import { readdirSync, readlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { pino } from 'pino';
import { defaultAcceptDescriptors } from '../../../src/proxy/listen-fanout.ts';
import { ProxyServer } from '../../../src/proxy/proxy-server.ts';
import { rawTcpAvailable } from '../../../src/proxy/tcp-stream.ts';
import { startBackend, type TestBackend } from '../../helpers/proxy-backends.ts';
import { appOf, endpointOf } from '../../helpers/proxy-harness.ts';

const silent = pino({ level: 'silent' });

/** How many of this process's descriptors refer to the same socket as `fd`. */
function descriptorsOfSocket(fd: number): number {
  const target = readlinkSync(`/proc/self/fd/${fd}`);
  let n = 0;
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) === target) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** One request on its own connection; resolves with the status line. */
function oneRequest(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: web.cygnet\r\nConnection: close\r\n\r\n'));
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
    socket.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('proxy: more descriptors of the listening socket', () => {
  let backend: TestBackend | undefined;
  let proxy: ProxyServer | undefined;

  afterEach(async () => {
    await proxy?.close();
    await backend?.close();
    proxy = undefined;
    backend = undefined;
  });

  it('listens on 1 + defaultAcceptDescriptors descriptors of one socket, serves a burst, and releases them all on close', async () => {
    backend = await startBackend('b0');
    const p = new ProxyServer({ host: '127.0.0.1', port: 0, domain: 'cygnet', log: silent });
    proxy = p;
    const port = await p.listen();
    p.applyRegistry([{ ...appOf('/web'), endpoints: [endpointOf('/web', 0, backend.port)] }], 1);
    const fd = (p.http as unknown as { _handle: { fd: number } })._handle.fd;
    const expected = rawTcpAvailable ? 1 + defaultAcceptDescriptors : 1;
    expect(p.listenDescriptors).to.equal(expected);
    expect(descriptorsOfSocket(fd)).to.equal(expected);

    const answers = await Promise.all(Array.from({ length: 300 }, () => oneRequest(port)));
    expect(answers.filter((line) => line === 'HTTP/1.1 200 OK')).to.have.length(300);

    await p.close();
    proxy = undefined;
    // No descriptor of the old socket is left listening: the port binds again at once.
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });

  it('can be turned off, and the net.Socket fallback has only its own descriptor', async () => {
    for (const options of [{ acceptDescriptors: 0 }, { io: 'net' as const }]) {
      const p = new ProxyServer({ host: '127.0.0.1', port: 0, domain: 'cygnet', log: silent, ...options });
      proxy = p;
      await p.listen();
      const fd = (p.http as unknown as { _handle: { fd: number } })._handle.fd;
      expect(p.listenDescriptors).to.equal(1);
      expect(descriptorsOfSocket(fd)).to.equal(1);
      await p.close();
      proxy = undefined;
    }
  });
});
