/**
 * HttpTransport on real loopback sockets: delivery with sender metadata, the
 * receiver's validation (path, method, media type, malformed protobuf, a
 * message addressed to another node — each a 4xx with a reason, never a
 * crash), and a dead peer costing only failed sends with a bounded queue.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { request } from 'undici';
import { encodeBatch } from '../../../src/raft/codec.ts';
import { HttpTransport, MAX_QUEUED_MESSAGES_PER_PEER, PROTOBUF_MEDIA_TYPE, RAFT_MESSAGES_PATH } from '../../../src/raft/http-transport.ts';
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
