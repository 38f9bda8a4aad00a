/**
 * The protobuf codec for Raft messages: every variant round-trips, and
 * malformed batches are refused with a field path instead of crashing.
 */
import { expect } from 'chai';
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import { CygnetError } from '../../../src/common/errors.ts';
import { decodeBatch, encodeBatch } from '../../../src/raft/codec.ts';
import type { Entry, Message } from '../../../src/raft/types.ts';

const b = (s: string) => new TextEncoder().encode(s);

const samples: Message[] = [
  { type: 'PreVote', from: 1, to: 2, term: 5, lastLogIndex: 10, lastLogTerm: 4 },
  { type: 'PreVoteResponse', from: 1, to: 2, term: 5, reject: true },
  { type: 'RequestVote', from: 1, to: 3, term: 6, lastLogIndex: 2 ** 40, lastLogTerm: 6, transfer: true },
  { type: 'RequestVoteResponse', from: 1, to: 3, term: 6, reject: false },
  {
    type: 'AppendEntries', from: 1, to: 2, term: 7, prevLogIndex: 9, prevLogTerm: 6, commit: 8,
    entries: [
      { term: 7, index: 10, type: 'normal', data: b('put a=1') },
      { term: 7, index: 11, type: 'conf', data: new Uint8Array([1, 0, 0, 0, 4]) },
      { term: 7, index: 12, type: 'normal', data: new Uint8Array(0) },
    ],
  },
  { type: 'AppendEntriesResponse', from: 1, to: 2, term: 7, reject: true, index: 9, hintIndex: 5, hintTerm: 3 },
  { type: 'InstallSnapshot', from: 1, to: 2, term: 7, meta: { index: 100, term: 6, conf: { voters: [1, 2, 3], learners: [4] } }, offset: 4096, chunk: b('chunk'), done: false },
  { type: 'InstallSnapshotResponse', from: 1, to: 2, term: 7, index: 100, offset: 4101, done: true },
  { type: 'Heartbeat', from: 1, to: 2, term: 7, commit: 12, ctx: b('read-1') },
  { type: 'HeartbeatResponse', from: 1, to: 2, term: 7, ctx: new Uint8Array(0) },
  { type: 'TimeoutNow', from: 1, to: 2, term: 7 },
  { type: 'ReadIndex', from: 1, to: 2, term: 7, ctx: b('r') },
  { type: 'ReadIndexResponse', from: 1, to: 2, term: 7, ctx: b('r'), index: 42 },
];

function expectError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'should have thrown').to.be.instanceOf(CygnetError);
  expect((err as Error).message).to.match(pattern);
}

describe('raft codec', () => {
  it('round-trips every message variant', () => {
    const decoded = decodeBatch(encodeBatch(1, samples, 'http=127.0.0.1:8001'));
    expect(decoded.from).to.equal(1);
    expect(decoded.senderMeta).to.equal('http=127.0.0.1:8001');
    expect(decodeBatch(encodeBatch(2, [])).senderMeta).to.equal('');
    expect(decoded.messages).to.deep.equal(samples);
  });

  it('speaks the .proto wire format: protobufjs reads what it writes and the reverse', () => {
    const root = protobuf.loadSync(fileURLToPath(new URL('../../../protos/cygnet/raft.proto', import.meta.url)));
    const T = root.lookupType('cygnet.raft.MessageBatch');
    const ours = encodeBatch(1, samples, 'http=127.0.0.1:8001');
    const theirs = T.toObject(T.decode(ours), { longs: Number, enums: Number, defaults: true, arrays: true }) as { from: number; senderMeta: string; messages: Record<string, unknown>[] };
    expect(theirs.from).to.equal(1);
    expect(theirs.senderMeta).to.equal('http=127.0.0.1:8001');
    expect(theirs.messages.map((m) => m.term)).to.deep.equal(samples.map((m) => m.term));
    expect((theirs.messages[4]?.entries as { index: number }[]).map((e) => e.index)).to.deep.equal([10, 11, 12]);
    expect(theirs.messages[6]?.snapshotMeta).to.deep.include({ index: 100, term: 6 });
    // protobufjs writes fields ours leaves out (zeros) and packs differently: we still decode the same messages.
    const wire = (m: Message): Record<string, unknown> => {
      const { type, ...rest } = m as Message & { meta?: unknown };
      const codes = ['PreVote', 'PreVoteResponse', 'RequestVote', 'RequestVoteResponse', 'AppendEntries', 'AppendEntriesResponse', 'InstallSnapshot', 'InstallSnapshotResponse', 'Heartbeat', 'HeartbeatResponse', 'TimeoutNow', 'ReadIndex', 'ReadIndexResponse'];
      const o: Record<string, unknown> = { ...rest, type: codes.indexOf(type) + 1 };
      if ('meta' in o) {
        o.snapshotMeta = o.meta;
        delete o.meta;
      }
      if (Array.isArray(o.entries)) o.entries = (o.entries as Entry[]).map((e) => ({ ...e, type: e.type === 'conf' ? 1 : 0 }));
      return o;
    };
    const fromThem = T.encode(T.fromObject({ from: 1, senderMeta: 'm', messages: samples.map(wire) })).finish();
    expect(decodeBatch(fromThem).messages).to.deep.equal(samples);
  });

  it('refuses random and truncated bytes with a CygnetError, never anything else', () => {
    const good = encodeBatch(1, samples, 'meta');
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(good.subarray(0, rand(good.length + 1)));
      for (let k = rand(4); k > 0; k--) if (bytes.length > 0) bytes[rand(bytes.length)] = rand(256);
      try {
        decodeBatch(bytes);
      } catch (err) {
        expect(err).to.be.instanceOf(CygnetError);
        refused++;
      }
    }
    expect(refused).to.be.greaterThan(100);
  });

  it('refuses garbage bytes with a clear error', () => {
    expectError(() => decodeBatch(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])), /MessageBatch/);
  });

  it('refuses an unknown message type, a zero node id, and a sender mismatch with field paths', () => {
    const root = protobuf.loadSync(fileURLToPath(new URL('../../../protos/cygnet/raft.proto', import.meta.url)));
    const T = root.lookupType('cygnet.raft.MessageBatch');
    const enc = (o: object) => T.encode(o).finish();
    expectError(() => decodeBatch(enc({ from: 1, messages: [{ type: 0, from: 1, to: 2 }] })), /messages\[0\]\.type/);
    expectError(() => decodeBatch(enc({ from: 1, messages: [{ type: 9, from: 1, to: 0 }] })), /messages\[0\]\.to: expected a node id > 0/);
    expectError(() => decodeBatch(enc({ from: 1, messages: [{ type: 9, from: 1, to: 2 }, { type: 9, from: 3, to: 2 }] })), /messages\[1\]\.from/);
    expectError(() => decodeBatch(enc({ from: 1, messages: [{ type: 7, from: 1, to: 2 }] })), /messages\[0\]\.snapshotMeta/);
    expectError(() => decodeBatch(enc({ from: 0, messages: [] })), /^from/);
  });
});
