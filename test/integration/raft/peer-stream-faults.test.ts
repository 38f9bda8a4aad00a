/**
 * The Raft peer stream under socket faults, on real loopback sockets:
 *  - a frozen peer (accepts, answers 101, then reads nothing — what SIGSTOP
 *    looks like from outside) resumed before and after SEND_TIMEOUT_MS
 *    (the drain timer runs on a ManualClock: no 5 s sleeps);
 *  - a peer restarted while frames are in flight;
 *  - a sender that ends inside a frame (half-close) or resets mid-frame: the
 *    receiver drops that socket and keeps serving;
 *  - a starved peer that answers the upgrade after CONNECT_TIMEOUT_MS;
 *  - reconnect storms on both sides.
 * Every assertion is "eventually delivered" / "eventually released": no timing bounds.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ManualClock } from '../../../src/common/clock.ts';
import { decodeBatch, encodeBatch } from '../../../src/raft/codec.ts';
import { HttpTransport, RAFT_STREAM_PATH, RAFT_STREAM_PROTOCOL } from '../../../src/raft/http-transport.ts';
import { CONNECT_TIMEOUT_MS, SEND_TIMEOUT_MS, SILENT_PEER_MS } from '../../../src/raft/peer-stream.ts';
import { encodeFrame, FrameDecoder } from '../../../src/raft/stream-frames.ts';
import type { Message } from '../../../src/raft/types.ts';
import { freePorts, sleep, waitFor } from './helpers.ts';

const silent = pino({ level: 'silent' });
const hb = (from: number, to: number, term: number): Message => ({ type: 'Heartbeat', from, to, term, commit: 0, ctx: new Uint8Array(0) });
/** An append big enough that one frame overflows the socket's userland buffer (writableNeedDrain). */
const bigAppend = (from: number, to: number, term: number): Message => ({
  type: 'AppendEntries',
  from,
  to,
  term,
  prevLogIndex: 0,
  prevLogTerm: 0,
  commit: 0,
  entries: [{ term, index: 1, type: 'normal', data: new Uint8Array(8 * 1024 * 1024) }],
});
const upgradeHead = `GET ${RAFT_STREAM_PATH} HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: ${RAFT_STREAM_PROTOCOL}\r\n\r\n`;

/**
 * A hand-rolled stream receiver whose reading can be frozen: it answers the
 * upgrade, then (unless frozen) decodes frames and records message terms.
 */
class FreezableReceiver {
  readonly terms: number[] = [];
  readonly sockets: Socket[] = [];
  upgradesAnswered = 0;
  frozen = false;
  /** Delay before answering an upgrade (a starved peer whose event loop lags). */
  upgradeDelayMs = 0;
  private server: Server | undefined;

  async start(port: number): Promise<void> {
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  }

  /** Stops reading every open socket (and new ones after their upgrade). */
  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) s.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const s of this.sockets) s.resume();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  }

  private decode(frames: FrameDecoder, chunk: Buffer): void {
    for (const f of frames.push(chunk)) this.terms.push(...decodeBatch(f).messages.map((m) => m.term));
  }

  private accept(sock: Socket): void {
    this.sockets.push(sock);
    sock.on('error', () => undefined);
    let head = Buffer.alloc(0);
    const frames = new FrameDecoder(64 * 1024 * 1024);
    let upgraded = false;
    sock.on('data', (chunk: Buffer) => {
      let rest = chunk;
      if (!upgraded) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        rest = head.subarray(end + 4);
        if (this.upgradeDelayMs > 0) {
          // Hold everything until the (late) 101, as a starved process would.
          sock.pause();
          setTimeout(() => {
            if (sock.destroyed) return;
            this.upgradesAnswered++;
            sock.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${RAFT_STREAM_PROTOCOL}\r\n\r\n`);
            sock.resume();
            this.decode(frames, rest);
          }, this.upgradeDelayMs);
          return;
        }
        this.upgradesAnswered++;
        sock.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${RAFT_STREAM_PROTOCOL}\r\n\r\n`);
        if (this.frozen) sock.pause();
      }
      this.decode(frames, rest);
    });
  }
}

describe('raft peer stream under socket faults', function () {
  this.timeout(60_000);
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function sender(peerPort: number, clock?: ManualClock): Promise<HttpTransport> {
    const [own] = await freePorts(1);
    const t = new HttpTransport({ id: 1, listen: `127.0.0.1:${own}`, peers: new Map([[2, `127.0.0.1:${peerPort}`]]), log: silent, ...(clock !== undefined ? { clock } : {}) });
    cleanups.push(() => t.close());
    await t.start(() => undefined);
    return t;
  }

  /** Starts `rx` on a free port (closed after the test) and a sender to it, on `clock` when given. */
  async function receiverAndSender(rx: FreezableReceiver, clock?: ManualClock): Promise<{ rx: FreezableReceiver; tx: HttpTransport }> {
    const [port] = await freePorts(1);
    cleanups.push(() => rx.close());
    await rx.start(port);
    return { rx, tx: await sender(port, clock) };
  }

  async function receiver(port: number, terms: number[]): Promise<HttpTransport> {
    const t = new HttpTransport({ id: 2, listen: `127.0.0.1:${port}`, log: silent });
    cleanups.push(() => t.close());
    await t.start((b) => terms.push(...b.messages.map((m) => m.term)));
    return t;
  }

  /** Sends heartbeats with increasing terms from `from` until one arrives; returns the term that did. */
  async function sendUntilDelivered(t: HttpTransport, terms: readonly number[], from: number): Promise<number> {
    for (let term = from; term < from + 2000; term++) {
      t.send([hb(1, 2, term)]);
      for (let i = 0; i < 4; i++) {
        await sleep(5);
        const got = terms.find((x) => x >= from);
        if (got !== undefined) return got;
      }
    }
    throw new Error(`nothing from term ${from} on arrived; got ${terms.slice(-10).join(',')}`);
  }

  it('a peer frozen briefly gets everything, in order, on the same connection once it reads again', async () => {
    const clock = new ManualClock();
    const { rx, tx } = await receiverAndSender(new FreezableReceiver(), clock);
    rx.freeze();
    tx.send([bigAppend(1, 2, 1)]);
    tx.send([hb(1, 2, 2)]);
    tx.send([hb(1, 2, 3)]);
    await waitFor('the stream to be open and written to', () => ((tx.peerStats()[2]?.sent ?? 0) > 0 ? true : undefined));
    expect(rx.terms).to.deep.equal([]);
    clock.advance(SEND_TIMEOUT_MS - 1);
    rx.thaw();
    await waitFor('all three messages', () => (rx.terms.length === 3 ? true : undefined));
    expect(rx.terms).to.deep.equal([1, 2, 3]);
    expect(rx.sockets.length).to.equal(1);
  });

  it('a peer frozen past SEND_TIMEOUT_MS loses the connection; the sender reconnects and delivers once it reads', async () => {
    const clock = new ManualClock();
    const { rx, tx } = await receiverAndSender(new FreezableReceiver(), clock);
    rx.freeze();
    tx.send([bigAppend(1, 2, 1)]);
    await waitFor('the stream to be open and written to', () => ((tx.peerStats()[2]?.sent ?? 0) > 0 ? true : undefined));
    clock.advance(SEND_TIMEOUT_MS);
    rx.thaw();
    const got = await sendUntilDelivered(tx, rx.terms, 10);
    expect(got).to.be.at.least(10);
    expect(rx.sockets.length).to.be.at.least(2);
  });

  it(`replaces a connection written to steadily for SILENT_PEER_MS (${SILENT_PEER_MS} ms) while the peer says nothing back`, async () => {
    // The receiver reads every frame but never sends to us: what a partitioned link looks like
    // from the sender (the kernel takes the writes; nothing comes back).
    const clock = new ManualClock();
    const { rx, tx } = await receiverAndSender(new FreezableReceiver(), clock);
    const tick = async (term: number): Promise<void> => {
      tx.send([hb(1, 2, term)]);
      await waitFor(`heartbeat ${term} read`, () => (rx.terms.includes(term) ? true : undefined));
    };
    for (let term = 1; term <= SILENT_PEER_MS / 500; term++) {
      await tick(term);
      clock.advance(500);
    }
    expect(rx.sockets, 'one connection while under SILENT_PEER_MS').to.have.lengthOf(1);
    tx.send([hb(1, 2, 100)]); // past SILENT_PEER_MS of steady writing: written, then the connection dropped
    await waitFor('the silent connection closed', () => (rx.sockets[0]?.closed === true ? true : undefined));
    await tick(101);
    expect(rx.sockets, 'a new connection carries what follows').to.have.lengthOf(2);
  });

  it('keeps the connection to a peer that answers, however long we write to it', async () => {
    const clock = new ManualClock();
    const [rxPort] = await freePorts(1);
    const rx = new FreezableReceiver();
    cleanups.push(() => rx.close());
    await rx.start(rxPort as number);
    const tx = await sender(rxPort as number, clock);
    // Peer 2 answers on its own stream to us, as a Raft peer answers every message.
    const answers = connect(Number(tx.address.split(':')[1]), '127.0.0.1');
    cleanups.push(async () => { answers.destroy(); });
    await new Promise<void>((r) => answers.once('connect', () => r()));
    answers.write(upgradeHead);
    for (let term = 1; term <= (3 * SILENT_PEER_MS) / 500; term++) {
      tx.send([hb(1, 2, term)]);
      answers.write(encodeFrame(encodeBatch(2, [hb(2, 1, term)], '')));
      await waitFor(`heartbeat ${term} read`, () => (rx.terms.includes(term) ? true : undefined));
      await sleep(5); // let our answer arrive before the next send looks for it
      clock.advance(500);
    }
    expect(rx.sockets).to.have.lengthOf(1);
  });

  it(`reaches a starved peer that answers the upgrade later than CONNECT_TIMEOUT_MS (${CONNECT_TIMEOUT_MS} ms)`, async () => {
    const starved = new FreezableReceiver();
    starved.upgradeDelayMs = CONNECT_TIMEOUT_MS + 500;
    const { rx, tx } = await receiverAndSender(starved);
    // Raft keeps sending (heartbeats); a fixed 1 s deadline would abandon every attempt.
    let term = 1;
    await waitFor('a message through the slow upgrade', () => {
      tx.send([hb(1, 2, term++)]);
      return rx.terms.length > 0 ? true : undefined;
    }, 20_000, 50);
    expect(rx.terms[0]).to.be.at.least(1);
    expect(rx.upgradesAnswered).to.be.at.least(1);
  });

  it('a peer restarted while frames are in flight gets later messages', async () => {
    const [port] = await freePorts(1);
    const terms1: number[] = [];
    const b1 = await receiver(port, terms1);
    const tx = await sender(port);
    for (let i = 1; i <= 4; i++) tx.send([bigAppend(1, 2, i)]);
    await waitFor('some frames in flight', () => (terms1.length > 0 ? true : undefined));
    await b1.close();
    const terms2: number[] = [];
    await receiver(port, terms2);
    expect(await sendUntilDelivered(tx, terms2, 100)).to.be.at.least(100);
  });

  it('drops an inbound stream whose sender half-closes inside a frame, and keeps serving', async () => {
    const [port] = await freePorts(1);
    const terms: number[] = [];
    const rx = await receiver(port, terms);
    const frame = encodeFrame(encodeBatch(1, [hb(1, 2, 5)]));
    const closed = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.write(upgradeHead);
        sock.write(frame.subarray(0, frame.length - 3));
        sock.end(); // FIN: no more bytes, but the socket stays half-open unless the receiver drops it
      });
      sock.on('data', () => undefined);
      sock.on('error', () => undefined);
      sock.on('close', () => resolve(true));
    });
    expect(closed).to.equal(true);
    await waitFor('the receiver to release the socket', () => (rx.inboundStreams === 0 ? true : undefined));
    expect(terms).to.deep.equal([]);
    const tx = await sender(port);
    expect(await sendUntilDelivered(tx, terms, 1)).to.be.at.least(1);
  });

  it('drops an inbound stream reset mid-frame, and keeps serving', async () => {
    const [port] = await freePorts(1);
    const terms: number[] = [];
    const rx = await receiver(port, terms);
    const frame = encodeFrame(encodeBatch(1, [hb(1, 2, 5)]));
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(upgradeHead);
      sock.write(frame.subarray(0, 6));
    });
    sock.on('error', () => undefined);
    sock.on('data', () => undefined);
    await waitFor('the stream to be open', () => (rx.inboundStreams === 1 ? true : undefined));
    sock.resetAndDestroy();
    await waitFor('the receiver to release the socket', () => (rx.inboundStreams === 0 ? true : undefined));
    const tx = await sender(port);
    expect(await sendUntilDelivered(tx, terms, 1)).to.be.at.least(1);
  });

  it('survives a reconnect storm: 3 rounds of 40 streams opened and ended at once', async () => {
    const [port] = await freePorts(1);
    const terms: number[] = [];
    const rx = await receiver(port, terms);
    const frame = encodeFrame(encodeBatch(1, [hb(1, 2, 7)]));
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          new Promise<void>((resolve) => {
            const sock = connect(port, '127.0.0.1', () => {
              sock.write(upgradeHead);
              // Half of them leave a partial frame behind.
              sock.write(i % 2 === 0 ? frame : frame.subarray(0, 5));
              sock.end();
            });
            sock.on('data', () => undefined);
            sock.on('error', () => resolve());
            sock.on('close', () => resolve());
          }),
        ),
      );
    }
    await waitFor('every storm socket released', () => (rx.inboundStreams === 0 ? true : undefined));
    expect(terms.filter((t) => t === 7).length).to.equal(60);
    const tx = await sender(port);
    expect(await sendUntilDelivered(tx, terms, 100)).to.be.at.least(100);
  });

  it('a sender keeps up with a peer restarted five times in a row', async () => {
    const [port] = await freePorts(1);
    const tx = await sender(port);
    for (let r = 0; r < 5; r++) {
      const terms: number[] = [];
      const t = new HttpTransport({ id: 2, listen: `127.0.0.1:${port}`, log: silent });
      await t.start((b) => terms.push(...b.messages.map((m) => m.term)));
      try {
        expect(await sendUntilDelivered(tx, terms, 1000 * (r + 1))).to.be.at.least(1000 * (r + 1));
      } finally {
        await t.close();
      }
    }
  });
});
