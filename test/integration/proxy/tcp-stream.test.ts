/**
 * The proxy's byte streams (tcp-stream.ts, raw-tcp.ts) on real sockets on
 * 127.0.0.1, raw libuv handles and the net.Socket fallback alike: the
 * contract net.Socket gave the engine (fresh reads, backpressure and drain,
 * half-close, destroySoon flushing, failure codes, hand-off to net).
 */
import { expect } from 'chai';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { acceptStreams, dialStream, toNetSocket, type ProxyIo, type StreamHandler, type TcpStream } from '../../../src/proxy/tcp-stream.ts';
import { proxyIos } from '../../helpers/proxy-harness.ts';

interface Recorder extends StreamHandler {
  /** Copies of what arrived. */
  chunks: Buffer[];
  /** The chunks as delivered (an accepted stream's are the receiver's to keep). */
  raw: Buffer[];
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
    raw: [],
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
      r.raw.push(chunk);
      r.chunks.push(Buffer.from(chunk)); // a dialed stream's chunk is valid only during the call
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
  return new Promise((resolve, reject) => { dialStream(io, '127.0.0.1', port, resolve, (code) => reject(new Error(code))); });
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

    it('carries bytes both ways, an accepted stream\'s reads its own to keep, and knows the peer address', async () => {
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
      const first = atServer.raw[0] as Buffer;
      expect(server.write2(Buffer.from('po'), Buffer.from('ng'))).to.equal(true);
      await atClient.until(4);
      expect(atServer.bytes().toString()).to.equal('ping');
      expect(atClient.bytes().toString()).to.equal('pong');
      client.write('again');
      await atServer.until(9);
      expect(first.toString(), 'an accepted stream\'s earlier read is not overwritten by a later one').to.equal('ping');
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

    it('hands a connection over to net.Socket with nothing lost', async () => {
      const { peer, stream, events } = await acceptedPair();
      peer.write('before');
      await events.until(6);
      stream.pause();
      peer.write('after');
      await new Promise((r) => setTimeout(r, 20));
      const socket = toNetSocket(stream);
      let got = '';
      socket.on('data', (d: Buffer) => { got += d.toString(); });
      socket.resume(); // it starts paused, as the tunnel expects
      await until(() => got === 'after', 'the bytes sent before the hand-off to arrive on the net socket');
      let echoed = '';
      peer.on('data', (d: Buffer) => { echoed += d.toString(); });
      socket.write('from net');
      await until(() => echoed === 'from net', 'a write through the net socket');
      const closed = new Promise((r) => socket.once('close', r));
      socket.on('end', () => socket.destroy());
      peer.destroy();
      await closed;
      expect(events.bytes().toString()).to.equal('before');
    });
  });
}
