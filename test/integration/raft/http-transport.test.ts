/**
 * HttpTransport on real loopback sockets: delivery with sender metadata, the
 * receiver's validation (path, method, media type, malformed protobuf, a
 * message addressed to another node — each a 4xx with a reason, never a
 * crash), the peer stream (a refused upgrade, a bad frame dropping only that
 * stream, a sender reconnecting after the peer restarts), and a dead peer
 * costing only failed sends with a bounded queue.
 */

/** Raw client for the stream upgrade: sends `head` then `frames`, resolves with what the server wrote before closing. */
function rawStream(port: number, head: string, frames: Buffer[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(head);
      for (const f of frames) sock.write(f);
    });
    let got = '';
    sock.setEncoding('latin1').on('data', (d: string) => (got += d));
    sock.on('error', reject);
    sock.on('close', () => resolve(got));
  });
}
const upgradeHead = (path: string, proto: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: ${proto}\r\n\r\n`;
import { expect } from 'chai';
import { pino } from 'pino';
import { connect } from 'node:net';
import { request } from 'undici';
import { encodeBatch } from '../../../src/raft/codec.ts';
import { HttpTransport, MAX_QUEUED_MESSAGES_PER_PEER, PROTOBUF_MEDIA_TYPE, RAFT_MESSAGES_PATH, RAFT_STREAM_PATH, RAFT_STREAM_PROTOCOL } from '../../../src/raft/http-transport.ts';
import { encodeFrame } from '../../../src/raft/stream-frames.ts';
import type { InboundBatch } from '../../../src/raft/transport.ts';
import type { Message } from '../../../src/raft/types.ts';
import { freePorts, waitFor } from './helpers.ts';

const silent = pino({ level: 'silent' });
const hb = (from: number, to: number, term: number): Message => ({ type: 'Heartbeat', from, to, term, commit: 0, ctx: new Uint8Array(0) });

describe('raft HTTP transport', function () {
  this.timeout(30_000);
  const transports: HttpTransport[] = [];
  afterEach(async () => {
    for (const t of transports.splice(0)) await t.close();
  });

  it('delivers batches in order with the sender metadata', async () => {
    const [p1, p2] = await freePorts(2);
    const peers = new Map([[1, `127.0.0.1:${p1}`], [2, `127.0.0.1:${p2}`]]);
    const a = new HttpTransport({ id: 1, listen: `127.0.0.1:${p1}`, peers, senderMeta: 'http=a', log: silent });
    const b = new HttpTransport({ id: 2, listen: `127.0.0.1:${p2}`, peers, log: silent });
    transports.push(a, b);
    const got: InboundBatch[] = [];
    await a.start(() => undefined);
    await b.start((batch) => got.push(batch));
    for (let i = 1; i <= 50; i++) a.send([hb(1, 2, i)]);
    await waitFor('50 messages', () => (got.flatMap((g) => g.messages).length === 50 ? true : undefined));
    expect(got.flatMap((g) => g.messages.map((m) => m.term))).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(got.every((g) => g.from === 1 && g.senderMeta === 'http=a')).to.equal(true);
  });

  it('cuts batches by size so large entries still fit the receiver body limit', async () => {
    const [p1, p2] = await freePorts(2);
    const peers = new Map([[1, `127.0.0.1:${p1}`], [2, `127.0.0.1:${p2}`]]);
    const a = new HttpTransport({ id: 1, listen: `127.0.0.1:${p1}`, peers, log: silent });
    const b = new HttpTransport({ id: 2, listen: `127.0.0.1:${p2}`, peers, log: silent });
    transports.push(a, b);
    let received = 0;
    await a.start(() => undefined);
    await b.start((batch) => (received += batch.messages.length));
    const mib = new Uint8Array(1024 * 1024);
    const n = 80; // 80 MiB queued at once: more than MAX_BODY_BYTES if sent as one request
    for (let i = 1; i <= n; i++) {
      a.send([{ type: 'AppendEntries', from: 1, to: 2, term: 1, prevLogIndex: i - 1, prevLogTerm: 1, commit: 0, entries: [{ term: 1, index: i, type: 'normal', data: mib }] }]);
    }
    await waitFor('all large messages', () => (received === n ? true : undefined), 20_000);
    expect(a.peerStats()[2]?.failed).to.equal(0);
  });

  it('answers malformed requests with a 4xx and a reason', async () => {
    const [p] = await freePorts(1);
    const t = new HttpTransport({ id: 2, listen: `127.0.0.1:${p}`, log: silent });
    transports.push(t);
    const got: InboundBatch[] = [];
    await t.start((batch) => got.push(batch));
    const url = `http://127.0.0.1:${p}${RAFT_MESSAGES_PATH}`;
    const post = async (body: Uint8Array | string, contentType = PROTOBUF_MEDIA_TYPE) => {
      const res = await request(url, { method: 'POST', body, headers: { 'content-type': contentType } });
      return { status: res.statusCode, text: await res.body.text() };
    };
    expect((await post('x', 'application/json')).status).to.equal(415);
    const garbage = await post(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(garbage.status).to.equal(400);
    expect(garbage.text).to.match(/MessageBatch/);
    const misaddressed = await post(encodeBatch(1, [hb(1, 3, 1)]));
    expect(misaddressed.status).to.equal(400);
    expect(misaddressed.text).to.match(/messages\[0\]\.to: expected this node 2, got 3/);
    const wrongPath = await request(`http://127.0.0.1:${p}/nope`, { method: 'POST', body: 'x' });
    expect(wrongPath.statusCode).to.equal(404);
    await wrongPath.body.dump();
    const wrongMethod = await request(url);
    expect(wrongMethod.statusCode).to.equal(405);
    await wrongMethod.body.dump();
    expect(got).to.deep.equal([]);
    const ok = await post(encodeBatch(1, [hb(1, 2, 7)]));
    expect(ok.status).to.equal(204);
    expect(got.map((g) => g.messages[0]?.term)).to.deep.equal([7]);
  });

  it('refuses a bad stream upgrade, drops a stream on a bad frame and keeps serving', async () => {
    const [p] = await freePorts(1);
    const t = new HttpTransport({ id: 2, listen: `127.0.0.1:${p}`, log: silent });
    transports.push(t);
    const got: InboundBatch[] = [];
    await t.start((batch) => got.push(batch));
    expect(await rawStream(p as number, upgradeHead('/nope', RAFT_STREAM_PROTOCOL), [])).to.match(/^HTTP\/1.1 404/);
    expect(await rawStream(p as number, upgradeHead(RAFT_STREAM_PATH, 'websocket'), [])).to.match(/^HTTP\/1.1 400[^]*expected Upgrade: cygnet-raft-stream\/1/);
    // A good frame is delivered; the misaddressed one after it closes the stream (and nothing after it is read).
    const good = encodeFrame(encodeBatch(1, [hb(1, 2, 4)]));
    const misaddressed = encodeFrame(encodeBatch(1, [hb(1, 3, 5)]));
    const reply = await rawStream(p as number, upgradeHead(RAFT_STREAM_PATH, RAFT_STREAM_PROTOCOL), [good, misaddressed, encodeFrame(encodeBatch(1, [hb(1, 2, 6)]))]);
    expect(reply).to.match(/^HTTP\/1.1 101/);
    expect(got.map((g) => g.messages[0]?.term)).to.deep.equal([4]);
    const garbage = Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff]);
    await rawStream(p as number, upgradeHead(RAFT_STREAM_PATH, RAFT_STREAM_PROTOCOL), [garbage]);
    const res = await request(`http://127.0.0.1:${p}${RAFT_MESSAGES_PATH}`, { method: 'POST', body: encodeBatch(1, [hb(1, 2, 7)]), headers: { 'content-type': PROTOBUF_MEDIA_TYPE } });
    expect(res.statusCode).to.equal(204);
    await res.body.dump();
    expect(got.map((g) => g.messages[0]?.term)).to.deep.equal([4, 7]);
  });

  it('a sender reconnects after the peer restarts', async () => {
    const [p1, p2] = await freePorts(2);
    const peers = new Map([[1, `127.0.0.1:${p1}`], [2, `127.0.0.1:${p2}`]]);
    const a = new HttpTransport({ id: 1, listen: `127.0.0.1:${p1}`, peers, log: silent });
    transports.push(a);
    await a.start(() => undefined);
    const terms: number[] = [];
    const b1 = new HttpTransport({ id: 2, listen: `127.0.0.1:${p2}`, peers, log: silent });
    await b1.start((batch) => terms.push(...batch.messages.map((m) => m.term)));
    a.send([hb(1, 2, 1)]);
    await waitFor('first message', () => (terms.includes(1) ? true : undefined));
    await b1.close();
    const b2 = new HttpTransport({ id: 2, listen: `127.0.0.1:${p2}`, peers, log: silent });
    transports.push(b2);
    await b2.start((batch) => terms.push(...batch.messages.map((m) => m.term)));
    // Messages sent into the dead stream may be lost (Raft re-sends); later ones must arrive.
    for (let i = 2; !terms.includes(i - 1) || i < 5; i++) {
      a.send([hb(1, 2, i)]);
      await new Promise((r) => setTimeout(r, 20));
      if (i > 500) throw new Error(`no delivery after restart: ${terms.join(',')}`);
    }
    expect(terms.filter((t) => t > 1).length).to.be.greaterThan(0);
  });

  it('reports a peer lost when its last inbound stream closes, naming it by its frames', async () => {
    const [p1, p2] = await freePorts(2);
    const peers = new Map([[1, `127.0.0.1:${p1}`], [2, `127.0.0.1:${p2}`]]);
    const b = new HttpTransport({ id: 2, listen: `127.0.0.1:${p2}`, peers, log: silent });
    transports.push(b);
    const lost: number[] = [];
    let got = 0;
    await b.start((batch) => (got += batch.messages.length), (peer) => lost.push(peer));
    // A stream that never sent a frame names nobody: closing it reports nothing.
    await new Promise<void>((resolve, reject) => {
      const sock = connect(p2, '127.0.0.1', () => sock.write(upgradeHead(RAFT_STREAM_PATH, RAFT_STREAM_PROTOCOL)));
      sock.once('data', () => sock.destroy());
      sock.on('error', reject);
      sock.on('close', () => resolve());
    });
    await waitFor('the silent stream gone', () => (b.inboundStreams === 0 ? true : undefined));
    const a = new HttpTransport({ id: 1, listen: `127.0.0.1:${p1}`, peers, log: silent });
    await a.start(() => undefined);
    a.send([hb(1, 2, 1)]);
    await waitFor('a delivered heartbeat', () => (got === 1 ? true : undefined));
    expect(lost).to.deep.equal([]);
    await a.close(); // as a SIGKILL would: the kernel closes its sockets
    await waitFor('peer 1 reported lost', () => (lost.length > 0 ? true : undefined));
    expect(lost).to.deep.equal([1]);
  });

  it('a dead peer costs only failed sends, with a bounded queue', async () => {
    const [p1, dead] = await freePorts(2);
    const t = new HttpTransport({ id: 1, listen: `127.0.0.1:${p1}`, peers: new Map([[2, `127.0.0.1:${dead}`]]), log: silent });
    transports.push(t);
    await t.start(() => undefined);
    const burst = MAX_QUEUED_MESSAGES_PER_PEER + 1000;
    for (let i = 0; i < burst; i++) t.send([hb(1, 2, i)]);
    await waitFor('a failed send', () => ((t.peerStats()[2]?.failed ?? 0) > 0 ? true : undefined));
    const s = t.peerStats()[2] as { sent: number; failed: number; dropped: number; queued: number };
    expect(s.sent).to.equal(0);
    expect(s.queued).to.be.at.most(MAX_QUEUED_MESSAGES_PER_PEER);
    expect(s.dropped + s.queued + s.failed).to.be.at.least(burst - 4 * 512);
    // Messages to an unknown peer are dropped, not thrown.
    expect(() => t.send([hb(1, 9, 1)])).to.not.throw();
  });
});
