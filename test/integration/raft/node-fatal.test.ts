/**
 * How a RaftNode stops, and how it refuses: a broken core invariant reached
 * through a real HTTP peer stream is fatal through `onFatal` (not a "bad
 * frame"); the Ready loop's failure names its real cause with the stack; a
 * full proposal queue is `CYG_OVERLOADED` (503 + Retry-After in examples/kv),
 * not the 504 "outcome unknown" of a timeout.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { request } from 'undici';
import { ManualClock } from '../../../src/common/clock.ts';
import { CygnetError } from '../../../src/common/errors.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import { RaftAssertionError } from '../../../src/raft/assert.ts';
import { encodeBatch } from '../../../src/raft/codec.ts';
import { OverloadedError, StorageFailureError } from '../../../src/raft/errors.ts';
import { FileStorage } from '../../../src/raft/file-storage.ts';
import { HttpTransport, RAFT_STREAM_PATH, RAFT_STREAM_PROTOCOL } from '../../../src/raft/http-transport.ts';
import { MemoryNetwork } from '../../../src/raft/memory-transport.ts';
import { RaftNode, type StateMachine } from '../../../src/raft/node.ts';
import { encodeFrame } from '../../../src/raft/stream-frames.ts';
import type { RaftStorage } from '../../../src/raft/storage.ts';
import type { Transport } from '../../../src/raft/transport.ts';
import { buildKvApp, errorAnswer } from '../../../examples/kv/server.ts';
import { encodeCommand, KvStateMachine, type KvResult } from '../../../examples/kv/state-machine.ts';
import { freePorts, sleep, waitFor } from './helpers.ts';

const silent = pino({ level: 'silent' });
const TICK_MS = 100;
const put = (key: string) => encodeCommand({ op: 'put', key, value: new TextEncoder().encode('v') });

/** A pino logger whose JSON lines land in `lines`. */
function capturingLogger(lines: Record<string, unknown>[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

describe('RaftNode: fatal invariants, named causes, overload', function () {
  this.timeout(30_000);
  let base: string;
  const nodes: RaftNode<unknown>[] = [];
  const servers: import('node:http').Server[] = [];
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cygnet-raft-fatal-'));
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    for (const n of nodes.splice(0)) await n.close();
    await rm(base, { recursive: true, force: true });
  });

  async function singleNode<R>(opts: { transport: Transport; sm: StateMachine<R>; clock?: ManualClock; log?: pino.Logger; onFatal?: (e: unknown) => void; maxPendingProposals?: number; snapshotEntries?: number; storage?: RaftStorage }): Promise<RaftNode<R>> {
    const n = await RaftNode.start<R>({
      id: 1,
      peers: new Map([[1, 'node-1']]),
      storage: opts.storage ?? new FileStorage(join(base, 'n1'), { log: silent }),
      transport: opts.transport,
      stateMachine: opts.sm,
      tickMs: TICK_MS,
      random: new SeededRandom(1),
      log: opts.log ?? silent,
      ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
      ...(opts.onFatal !== undefined ? { onFatal: opts.onFatal } : {}),
      ...(opts.maxPendingProposals !== undefined ? { maxPendingProposals: opts.maxPendingProposals } : {}),
      ...(opts.snapshotEntries !== undefined ? { snapshotEntries: opts.snapshotEntries } : {}),
    });
    nodes.push(n as RaftNode<unknown>);
    return n;
  }

  async function leadWithManualClock(n: RaftNode<unknown>, clock: ManualClock): Promise<void> {
    for (let i = 0; i < 100 && n.status().role !== 'leader'; i++) {
      clock.advance(TICK_MS);
      await sleep(2);
    }
    expect(n.status().role).to.equal('leader');
  }

  it('a core assertion from a peer-stream frame stops the node through onFatal, naming the state', async () => {
    const [port] = (await freePorts(1)) as [number];
    const lines: Record<string, unknown>[] = [];
    const log = capturingLogger(lines);
    const fatal: unknown[] = [];
    const transport = new HttpTransport({ id: 1, listen: `127.0.0.1:${port}`, log });
    const clock = new ManualClock();
    const n = await singleNode({ transport, sm: new KvStateMachine(), log, onFatal: (e) => fatal.push(e), clock });
    await leadWithManualClock(n as RaftNode<unknown>, clock);
    const term = n.status().term;
    // A well-formed frame: a Heartbeat from "another leader" of our own term. Decoding is fine;
    // the core refuses to believe in two leaders per term.
    const frame = encodeFrame(encodeBatch(2, [{ type: 'Heartbeat', from: 2, to: 1, term, commit: 0, ctx: new Uint8Array(0) }]));
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(`GET ${RAFT_STREAM_PATH} HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: ${RAFT_STREAM_PROTOCOL}\r\n\r\n`);
      sock.write(frame);
    });
    sock.on('error', () => undefined);
    await waitFor('onFatal', () => (fatal.length > 0 ? true : undefined), 5_000);
    sock.destroy();
    expect(fatal).to.have.length(1);
    expect(fatal[0]).to.be.instanceOf(RaftAssertionError);
    expect((fatal[0] as Error).message).to.match(/two leaders in term \d+: 1 and 2 \(Heartbeat\)/);
    expect(lines.some((l) => /bad frame/.test(String(l.msg)))).to.equal(false);
    const stopped = lines.find((l) => l.msg === 'raft node stopped: raft invariant broken');
    expect(stopped, JSON.stringify(lines)).to.not.equal(undefined);
    expect(stopped?.during).to.equal(`stepping Heartbeat from 2 (term ${term})`);
    expect(stopped?.role).to.equal('leader');
    expect((stopped?.err as { stack?: string }).stack).to.match(/RaftAssertionError[^]*core\.ts/);
    let err: unknown;
    await n.propose(put('x')).catch((e: unknown) => (err = e));
    expect((err as CygnetError).message).to.match(/^raft node stopped \(raft invariant broken\): raft invariant broken: two leaders/);
  });

  it('the Ready loop names a failure that is not storage, and keeps its stack', async () => {
    const lines: Record<string, unknown>[] = [];
    const clock = new ManualClock();
    const fatal: unknown[] = [];
    const inner = new KvStateMachine();
    // snapshot() failing is a bug in the application, not a full disk.
    const sm: StateMachine<KvResult> = {
      apply: (e) => inner.apply(e),
      restore: (d) => inner.restore(d),
      snapshot: () => {
        throw new TypeError('snapshot encoder blew up');
      },
    };
    const n = await singleNode({ transport: new MemoryNetwork().transport(1), sm, clock, log: capturingLogger(lines), onFatal: (e) => fatal.push(e), snapshotEntries: 2 });
    await leadWithManualClock(n as RaftNode<unknown>, clock);
    await n.propose(put('a')).catch(() => undefined);
    await n.propose(put('b')).catch(() => undefined);
    await waitFor('onFatal', () => (fatal.length > 0 ? true : undefined), 5_000);
    expect(fatal[0]).to.be.instanceOf(TypeError);
    const stopped = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('raft node stopped'));
    expect(stopped?.msg).to.equal('raft node stopped: unexpected failure');
    expect((stopped?.err as { stack?: string }).stack).to.match(/TypeError: snapshot encoder blew up\n\s+at /);
    expect(JSON.stringify(lines)).to.not.match(/storage failure/);
  });

  it('a storage failure is named as one, with the I/O error as its cause', async () => {
    const clock = new ManualClock();
    const fatal: unknown[] = [];
    const inner = new FileStorage(join(base, 'n1'), { log: silent });
    let failing = false;
    const n = await RaftNode.start<KvResult>({
      id: 1,
      peers: new Map([[1, 'node-1']]),
      storage: {
        load: () => inner.load(),
        persist: (rd) => (failing ? Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })) : inner.persist(rd)),
        saveSnapshot: (s) => inner.saveSnapshot(s),
        close: () => inner.close(),
      },
      transport: new MemoryNetwork().transport(1),
      stateMachine: new KvStateMachine(),
      tickMs: TICK_MS,
      clock,
      random: new SeededRandom(1),
      log: silent,
      onFatal: (e) => fatal.push(e),
    });
    nodes.push(n as RaftNode<unknown>);
    await leadWithManualClock(n as RaftNode<unknown>, clock);
    failing = true;
    let err: unknown;
    await n.propose(put('x')).catch((e: unknown) => (err = e));
    expect((err as Error).message).to.match(/^raft node stopped \(storage failure\): storage failure while persisting a Ready: EIO/);
    expect(fatal[0]).to.be.instanceOf(StorageFailureError);
    expect(((fatal[0] as Error).cause as Error).message).to.equal('EIO: i/o error, write');
  });

  it('a full proposal queue is CYG_OVERLOADED: 503 with Retry-After from examples/kv, never the 504 of a timeout', async () => {
    const clock = new ManualClock();
    // Writes wait at a gate the test opens, so a proposal stays pending as long as the test needs.
    const inner = new FileStorage(join(base, 'n1'), { log: silent });
    let gate: Promise<void> = Promise.resolve();
    let open: () => void = () => undefined;
    const hold = () => (gate = new Promise<void>((r) => (open = r)));
    const storage: RaftStorage = {
      load: () => inner.load(),
      persist: async (rd) => {
        await gate;
        return inner.persist(rd);
      },
      saveSnapshot: (snap) => inner.saveSnapshot(snap),
      close: () => inner.close(),
    };
    const n = await singleNode({ transport: new MemoryNetwork().transport(1), sm: new KvStateMachine(), clock, maxPendingProposals: 1, storage });
    await leadWithManualClock(n as RaftNode<unknown>, clock);
    hold();
    const first = n.propose(put('a'));
    let err: unknown;
    await n.propose(put('b')).catch((e: unknown) => (err = e));
    open();
    await first;
    expect(err).to.be.instanceOf(OverloadedError);
    expect((err as CygnetError).code).to.equal('CYG_OVERLOADED');
    expect((err as CygnetError).httpStatus).to.equal(503);
    expect((err as CygnetError).retryAfterSeconds).to.equal(1);
    const answer = errorAnswer(n, '/kv/b', err);
    expect(answer.status).to.equal(503);
    expect(answer.retryAfter).to.equal(1);
    expect(answer.body).to.include({ code: 'CYG_OVERLOADED', applied: false });

    // Through the real HTTP edge (express path: CAS) while the queue is held full.
    const app = buildKvApp(n, new KvStateMachine());
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as import('node:net').AddressInfo;
    hold();
    const held = n.propose(put('c'));
    const res = await request(`http://127.0.0.1:${port}/kv/k/cas`, { method: 'POST', body: JSON.stringify({ from: '', to: 'x' }), headers: { 'content-type': 'application/json' } });
    const body = (await res.body.json()) as Record<string, unknown>;
    open();
    await held;
    expect(res.statusCode).to.equal(503);
    expect(res.headers['retry-after']).to.equal('1');
    expect(body.code).to.equal('CYG_OVERLOADED');
  });
});
