/**
 * The proxy's byte streams (tcp-stream.ts, raw-tcp.ts) on real sockets on
 * 127.0.0.1, raw libuv handles and the net.Socket fallback alike: the
 * contract the engine relies on (backpressure and drain, half-close,
 * destroySoon flushing, failure codes) and the splice tunnels run on.
 */
import { expect } from 'chai';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { splice } from '../../../src/proxy/dial.ts';
import { acceptStreams, dialStream, type ProxyIo, type StreamHandler, type TcpStream } from '../../../src/proxy/tcp-stream.ts';
import { proxyIos } from '../../helpers/proxy-harness.ts';

interface Recorder extends StreamHandler {
  /** Copies of what arrived. */
  chunks: Buffer[];
  ended: boolean;
  drains: number;
  closed: Promise<string | undefined>;
  bytes(): Buffer;
  until(n: number): Promise<void>;
}

function recorder(): Recorder {
  let closeWith: (code: string | undefined) => void = () => undefined;
  const waiters: (() => void)[] = [];
  const r: Recorder = {
    chunks: [],
    ended: false,
    drains: 0,
    closed: new Promise((resolve) => { closeWith = resolve; }),
    bytes: () => Buffer.concat(r.chunks),
    until: (n) => new Promise((resolve) => {
      const check = (): void => {
        if (r.bytes().length >= n) resolve();
        else waiters.push(check);
      };
      check();
    }),
    onData(chunk) {
      r.chunks.push(Buffer.from(chunk)); // a chunk is valid only during the call
      for (const w of waiters.splice(0)) w();
    },
    onEnd() { r.ended = true; },
    onDrain() { r.drains++; },
    onClose(code) { closeWith(code); },
  };
  return r;
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

/** A listening server whose accepted connections arrive as TcpStreams. */
async function listenStreams(io: ProxyIo): Promise<{ server: Server; port: number; next(): Promise<TcpStream> }> {
  const server = createServer({ allowHalfOpen: true });
  const queue: TcpStream[] = [];
  const waiting: ((s: TcpStream) => void)[] = [];
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  acceptStreams(server, io, (s) => {
    const w = waiting.shift();
    if (w !== undefined) w(s);
    else queue.push(s);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    next: () => new Promise((resolve) => {
      const s = queue.shift();
      if (s !== undefined) resolve(s);
      else waiting.push(resolve);
    }),
  };
}

function dial(io: ProxyIo, port: number): Promise<TcpStream> {
  return new Promise((resolve, reject) => { dialStream(io, '127.0.0.1', port, 5_000, resolve, (code) => reject(new Error(code ?? 'timed out'))); });
}

function netClient(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
  });
}

for (const io of proxyIos) {
  describe(`proxy byte streams on ${io} (integration)`, function () {
    this.timeout(20_000);
    const servers: Server[] = [];
    afterEach(() => { for (const s of servers.splice(0)) s.close(); });

    /** A net client connected to a listener of this io, the accepted stream recording its events; `pausePeer`: the client reads nothing yet. */
    async function acceptedPair(pausePeer = false): Promise<{ peer: Socket; stream: TcpStream; events: Recorder }> {
      const l = await listenStreams(io);
      servers.push(l.server);
      const peer = await netClient(l.port);
      if (pausePeer) peer.pause();
      const stream = await l.next();
      const events = recorder();
      stream.attach(events);
      return { peer, stream, events };
    }

    it('carries bytes both ways and knows the peer address', async () => {
      const l = await listenStreams(io);
      servers.push(l.server);
      const client = await dial(io, l.port);
      const server = await l.next();
      const atClient = recorder();
      const atServer = recorder();
      client.attach(atClient);
      server.attach(atServer);
      expect(server.remoteAddress).to.equal('127.0.0.1');
      expect(client.write('ping')).to.equal(true);
      await atServer.until(4);
      expect(server.write2(Buffer.from('po'), Buffer.from('ng'))).to.equal(true);
      await atClient.until(4);
      expect(atServer.bytes().toString()).to.equal('ping');
      expect(atClient.bytes().toString()).to.equal('pong');
      client.write('again');
      await atServer.until(9);
      expect(atServer.bytes().toString()).to.equal('pingagain');
      client.destroy();
      await until(() => atServer.ended, 'the server side to see the FIN');
      server.destroy();
      expect(await atServer.closed).to.equal(undefined);
      expect(await atClient.closed).to.equal(undefined);
    });

    it('says stop past the high-water mark, drains once the peer reads, and loses nothing', async () => {
      const { peer, stream, events } = await acceptedPair(true);
      const chunk = Buffer.alloc(64 * 1024);
      let sent = 0;
      let accepted = true;
      for (let i = 0; accepted && i < 4_096; i++) {
        chunk.fill(i % 251);
        accepted = stream.write(Buffer.from(chunk));
        sent += chunk.length;
      }
      expect(accepted, 'write says stop while the peer reads nothing').to.equal(false);
      let received = 0;
      let corrupt = false;
      peer.on('data', (d: Buffer) => {
        for (let i = 0; i < d.length; i += 4_096) if (d[i] !== Math.floor((received + i) / chunk.length) % 251) corrupt = true;
        received += d.length;
      });
      peer.resume();
      await until(() => events.drains === 1, 'drain');
      await until(() => received === sent, 'every byte');
      expect(corrupt).to.equal(false);
      peer.destroy();
      await until(() => events.ended, 'the FIN');
      stream.destroy();
      await events.closed;
    });

    it('half-closes after queued writes and keeps reading; hears the peer half-close', async () => {
      const { peer, stream, events } = await acceptedPair();
      let fromStream = '';
      let peerEnded = false;
      peer.on('data', (d: Buffer) => { fromStream += d.toString(); });
      peer.on('end', () => { peerEnded = true; });
      stream.write('last words');
      stream.end();
      expect(stream.writable).to.equal(false);
      expect(stream.write('too late')).to.equal(false);
      await until(() => peerEnded, 'the peer to see our FIN');
      expect(fromStream).to.equal('last words');
      peer.end('reply after our FIN');
      await until(() => events.ended, 'our side to see the peer FIN');
      expect(events.bytes().toString()).to.equal('reply after our FIN');
      stream.destroy();
      expect(await events.closed).to.equal(undefined);
    });

    it('destroySoon flushes what is queued before it closes', async () => {
      const { peer, stream, events } = await acceptedPair(true);
      const big = Buffer.alloc(4 * 1024 * 1024, 7);
      stream.write(big);
      stream.destroySoon();
      let received = 0;
      peer.on('data', (d: Buffer) => { received += d.length; });
      const peerClosed = new Promise((r) => peer.once('end', r));
      peer.resume();
      await peerClosed;
      expect(received).to.equal(big.length);
      await events.closed;
      peer.destroy();
    });

    it('reports a refused connect and a reset peer by their codes', async () => {
      const l = await listenStreams(io);
      const port = l.port;
      await new Promise<void>((r) => l.server.close(() => r()));
      const refused = await dial(io, port).then(() => 'connected', (err: Error) => err.message);
      expect(refused).to.equal('ECONNREFUSED');

      const { peer, stream, events } = await acceptedPair();
      peer.resetAndDestroy();
      expect(await events.closed).to.equal('ECONNRESET');
      expect(stream.destroyed).to.equal(true);
    });

    it('pauses and resumes reading', async () => {
      const { peer, stream, events } = await acceptedPair();
      stream.pause();
      peer.write('held');
      await new Promise((r) => setTimeout(r, 50));
      expect(events.chunks).to.have.length(0);
      expect(stream.paused).to.equal(true);
      stream.resume();
      await events.until(4);
      expect(events.bytes().toString()).to.equal('held');
      peer.destroy();
      await until(() => events.ended, 'the FIN');
      stream.destroy();
      await events.closed;
    });

    it('splices two streams: bytes both ways, half-closes passed on, both closed at the end', async () => {
      const farSide: Socket[] = [];
      const far = createServer({ allowHalfOpen: true }, (sock) => farSide.push(sock));
      await new Promise<void>((r) => far.listen(0, '127.0.0.1', r));
      servers.push(far);
      const { peer, stream } = await acceptedPair();
      const dialed = await dial(io, (far.address() as AddressInfo).port);
      await until(() => farSide.length === 1, 'the far side to accept');
      const farSock = farSide[0] as Socket;
      let closed = false;
      splice(stream, dialed, () => { closed = true; });
      let atFar = '';
      let atPeer = '';
      let farEnded = false;
      let peerEnded = false;
      farSock.on('data', (d: Buffer) => { atFar += d.toString(); });
      farSock.on('end', () => { farEnded = true; });
      peer.on('data', (d: Buffer) => { atPeer += d.toString(); });
      peer.on('end', () => { peerEnded = true; });
      const big = 'x'.repeat(3 * 1024 * 1024);
      peer.write(big);
      await until(() => atFar.length === big.length, 'a body larger than socket buffers to cross');
      farSock.write('world');
      await until(() => atPeer === 'world', 'the answer to come back');
      peer.end();
      await until(() => farEnded, 'the peer half-close to reach the far side');
      farSock.write('after FIN');
      await until(() => atPeer === 'worldafter FIN', 'bytes after a half-close');
      farSock.end();
      await until(() => peerEnded && closed, 'both ends closed');
      expect(atFar).to.equal(big);
    });
  });
}
