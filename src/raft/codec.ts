/**
 * Raft `Message` <-> protobuf (`protos/cygnet/raft.proto`, `cygnet.raft.MessageBatch`),
 * hand-written on the wire primitives of `pb-wire.ts`: protobufjs' reflection
 * (encode, decode, toObject) cost ~30 µs per one-entry batch round trip, on the
 * critical path of every write (leader encode, follower decode, and back).
 *
 * Invariants:
 *  - The bytes are the .proto's wire format (proto3: zero, false and empty
 *    fields left out; unknown fields skipped; packed or unpacked repeated ids
 *    accepted): any protobuf implementation reads and writes them.
 *  - `decodeBatch` never throws anything but `ValidationError`/`BadRequestError`
 *    with a field path (`messages[2].snapshotMeta`), whatever the bytes: a
 *    malformed peer cannot crash the node.
 *  - Round trip: decodeBatch(encodeBatch(from, ms)) deep-equals ms; decoded
 *    byte fields are copies, never views of the frame.
 */
import { BadRequestError, ValidationError } from '../common/errors.ts';
import { lenFieldSize, PbReader, PbWriter, uintFieldSize, varintSize, WireError, WIRE_LEN, WIRE_VARINT } from './pb-wire.ts';
import type { ConfState, Entry, Message, MessageType, NodeId, SnapshotMeta } from './types.ts';

const typeCodes: Record<MessageType, number> = {
  PreVote: 1,
  PreVoteResponse: 2,
  RequestVote: 3,
  RequestVoteResponse: 4,
  AppendEntries: 5,
  AppendEntriesResponse: 6,
  InstallSnapshot: 7,
  InstallSnapshotResponse: 8,
  Heartbeat: 9,
  HeartbeatResponse: 10,
  TimeoutNow: 11,
  ReadIndex: 12,
  ReadIndexResponse: 13,
};
const typesByCode = new Map<number, MessageType>(Object.entries(typeCodes).map(([k, v]) => [v, k as MessageType]));

export interface DecodedBatch {
  readonly from: NodeId;
  readonly messages: Message[];
  /** The sender's opaque metadata ('' when none). */
  readonly senderMeta: string;
}

/** Bound on sender metadata: it is a hint (an address), not a payload. */
export const MAX_SENDER_META_BYTES = 1024;

// Tags (field number << 3 | wire type) of raft.proto; fields 16+ take two bytes (the sizes below pass 2).
const vt = (field: number): number => (field << 3) | WIRE_VARINT;
const lt = (field: number): number => (field << 3) | WIRE_LEN;

// ---- to wire ---------------------------------------------------------------

export function encodeBatch(from: NodeId, messages: readonly Message[], senderMeta = ''): Uint8Array {
  const sizes = messages.map(messageSize);
  const metaBytes = Buffer.byteLength(senderMeta, 'utf8');
  let total = uintFieldSize(1, from) + (metaBytes > 0 ? lenFieldSize(1, metaBytes) : 0);
  for (const s of sizes) total += lenFieldSize(1, s);
  const w = new PbWriter(Buffer.allocUnsafe(total));
  w.uintField(vt(1), from);
  messages.forEach((m, i) => {
    w.lenHeader(lt(2), sizes[i] as number);
    writeMessage(w, m);
  });
  if (metaBytes > 0) {
    w.varint(lt(3));
    w.varint(metaBytes);
    w.pos += w.buf.write(senderMeta, w.pos, 'utf8');
  }
  return w.buf;
}

/** Encoded size of `m`'s fields (what writeMessage writes). */
function messageSize(m: Message): number {
  let n = uintFieldSize(1, typeCodes[m.type]) + uintFieldSize(1, m.from) + uintFieldSize(1, m.to) + uintFieldSize(1, m.term);
  switch (m.type) {
    case 'PreVote':
    case 'RequestVote':
      n += uintFieldSize(1, m.lastLogIndex) + uintFieldSize(1, m.lastLogTerm);
      if (m.type === 'RequestVote' && m.transfer) n += 2;
      return n;
    case 'PreVoteResponse':
    case 'RequestVoteResponse':
      return n + (m.reject ? 2 : 0);
    case 'AppendEntries':
      n += uintFieldSize(1, m.prevLogIndex) + uintFieldSize(1, m.prevLogTerm) + uintFieldSize(1, m.commit);
      for (const e of m.entries) n += lenFieldSize(1, entrySize(e));
      return n;
    case 'AppendEntriesResponse':
      return n + (m.reject ? 2 : 0) + uintFieldSize(1, m.index) + uintFieldSize(1, m.hintIndex) + uintFieldSize(1, m.hintTerm);
    case 'InstallSnapshot':
      return n + lenFieldSize(2, metaSize(m.meta)) + uintFieldSize(2, m.offset) + bytesSize(2, m.chunk) + (m.done ? 3 : 0);
    case 'InstallSnapshotResponse':
      return n + uintFieldSize(1, m.index) + uintFieldSize(2, m.offset) + (m.done ? 3 : 0);
    case 'Heartbeat':
      return n + uintFieldSize(1, m.commit) + bytesSize(2, m.ctx);
    case 'HeartbeatResponse':
    case 'ReadIndex':
      return n + bytesSize(2, m.ctx);
    case 'ReadIndexResponse':
      return n + bytesSize(2, m.ctx) + uintFieldSize(1, m.index);
    case 'TimeoutNow':
      return n;
  }
}

function writeMessage(w: PbWriter, m: Message): void {
  w.uintField(vt(1), typeCodes[m.type]);
  w.uintField(vt(2), m.from);
  w.uintField(vt(3), m.to);
  w.uintField(vt(4), m.term);
  switch (m.type) {
    case 'PreVote':
    case 'RequestVote':
      w.uintField(vt(5), m.lastLogIndex);
      w.uintField(vt(6), m.lastLogTerm);
      if (m.type === 'RequestVote') w.boolField(vt(8), m.transfer);
      return;
    case 'PreVoteResponse':
    case 'RequestVoteResponse':
      w.boolField(vt(7), m.reject);
      return;
    case 'AppendEntries':
      w.uintField(vt(9), m.prevLogIndex);
      w.uintField(vt(10), m.prevLogTerm);
      for (const e of m.entries) {
        w.lenHeader(lt(11), entrySize(e));
        w.uintField(vt(1), e.term);
        w.uintField(vt(2), e.index);
        w.uintField(vt(3), e.type === 'conf' ? 1 : 0);
        if (e.data.length > 0) w.bytesField(lt(4), e.data);
      }
      w.uintField(vt(12), m.commit);
      return;
    case 'AppendEntriesResponse':
      w.boolField(vt(7), m.reject);
      w.uintField(vt(13), m.index);
      w.uintField(vt(14), m.hintIndex);
      w.uintField(vt(15), m.hintTerm);
      return;
    case 'InstallSnapshot':
      w.lenHeader(lt(16), metaSize(m.meta));
      writeMeta(w, m.meta);
      w.uintField(vt(17), m.offset);
      if (m.chunk.length > 0) w.bytesField(lt(18), m.chunk);
      w.boolField(vt(19), m.done);
      return;
    case 'InstallSnapshotResponse':
      w.uintField(vt(13), m.index);
      w.uintField(vt(17), m.offset);
      w.boolField(vt(19), m.done);
      return;
    case 'Heartbeat':
      w.uintField(vt(12), m.commit);
      if (m.ctx.length > 0) w.bytesField(lt(20), m.ctx);
      return;
    case 'HeartbeatResponse':
    case 'ReadIndex':
      if (m.ctx.length > 0) w.bytesField(lt(20), m.ctx);
      return;
    case 'ReadIndexResponse':
      w.uintField(vt(13), m.index);
      if (m.ctx.length > 0) w.bytesField(lt(20), m.ctx);
      return;
    case 'TimeoutNow':
      return;
  }
}

function bytesSize(tagBytes: number, b: Uint8Array): number {
  return b.length === 0 ? 0 : lenFieldSize(tagBytes, b.length);
}

function entrySize(e: Entry): number {
  return uintFieldSize(1, e.term) + uintFieldSize(1, e.index) + (e.type === 'conf' ? 2 : 0) + bytesSize(1, e.data);
}

function confSize(c: ConfState): number {
  const v = packedIdsSize(c.voters);
  const l = packedIdsSize(c.learners);
  return (v > 0 ? lenFieldSize(1, v) : 0) + (l > 0 ? lenFieldSize(1, l) : 0);
}

/** Bytes of the packed varints of `ids` (each ≥ 1). */
function packedIdsSize(ids: readonly number[]): number {
  let n = 0;
  for (const x of ids) n += varintSize(x);
  return n;
}

function metaSize(m: SnapshotMeta): number {
  return uintFieldSize(1, m.index) + uintFieldSize(1, m.term) + lenFieldSize(1, confSize(m.conf));
}

function writeMeta(w: PbWriter, m: SnapshotMeta): void {
  w.uintField(vt(1), m.index);
  w.uintField(vt(2), m.term);
  w.lenHeader(lt(3), confSize(m.conf));
  for (const [field, ids] of [[1, m.conf.voters], [2, m.conf.learners]] as const) {
    const n = packedIdsSize(ids);
    if (n === 0) continue;
    w.lenHeader(lt(field), n);
    for (const x of ids) w.varint(x);
  }
}

// ---- from wire -------------------------------------------------------------

export function decodeBatch(buf: Uint8Array): DecodedBatch {
  let raw: RawBatch;
  try {
    raw = readBatch(new PbReader(buf));
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    throw new BadRequestError(`raft batch is not a valid cygnet.raft.MessageBatch: ${err.message}`);
  }
  const from = id(raw.from, 'from');
  const senderMeta = raw.senderMeta;
  if (senderMeta.length > MAX_SENDER_META_BYTES) {
    throw new ValidationError('senderMeta', `a string of at most ${MAX_SENDER_META_BYTES} characters`, typeof senderMeta);
  }
  const messages: Message[] = [];
  for (let i = 0; i < raw.messages.length; i++) {
    const m = fromWire(raw.messages[i] as RawMessage, i);
    if (m.from !== from) throw new ValidationError(`messages[${i}].from`, `the batch sender ${from}`, String(m.from));
    messages.push(m);
  }
  return { from, messages, senderMeta };
}

/** A message's fields as read off the wire, absent ones at their proto3 defaults. */
interface RawMessage {
  type: number;
  from: number;
  to: number;
  term: number;
  lastLogIndex: number;
  lastLogTerm: number;
  reject: boolean;
  transfer: boolean;
  prevLogIndex: number;
  prevLogTerm: number;
  entries: RawEntry[];
  commit: number;
  index: number;
  hintIndex: number;
  hintTerm: number;
  snapshotMeta: RawMeta | undefined;
  offset: number;
  chunk: Uint8Array | undefined;
  done: boolean;
  ctx: Uint8Array | undefined;
}

interface RawEntry {
  term: number;
  index: number;
  type: number;
  data: Uint8Array | undefined;
}

interface RawMeta {
  index: number;
  term: number;
  conf: { voters: number[]; learners: number[] } | undefined;
}

interface RawBatch {
  from: number;
  messages: RawMessage[];
  senderMeta: string;
}

function readBatch(r: PbReader): RawBatch {
  const out: RawBatch = { from: 0, messages: [], senderMeta: '' };
  while (!r.done) {
    const tag = r.tag();
    if (tag === vt(1)) out.from = r.varint();
    else if (tag === lt(2)) {
      const { start, end } = r.lenDelimited();
      out.messages.push(readMessage(new PbReader(r.buf, start, end)));
    } else if (tag === lt(3)) {
      const { start, end } = r.lenDelimited();
      out.senderMeta = Buffer.from(r.buf.buffer, r.buf.byteOffset + start, end - start).toString('utf8');
    } else r.skip(tag & 7);
  }
  return out;
}

function readMessage(r: PbReader): RawMessage {
  const m: RawMessage = {
    type: 0, from: 0, to: 0, term: 0, lastLogIndex: 0, lastLogTerm: 0, reject: false, transfer: false, prevLogIndex: 0, prevLogTerm: 0,
    entries: [], commit: 0, index: 0, hintIndex: 0, hintTerm: 0, snapshotMeta: undefined, offset: 0, chunk: undefined, done: false, ctx: undefined,
  };
  while (!r.done) {
    const tag = r.tag();
    const wire = tag & 7;
    const field = tag >>> 3;
    if (wire === WIRE_VARINT) {
      const v = r.varint();
      switch (field) {
        case 1: m.type = v; continue;
        case 2: m.from = v; continue;
        case 3: m.to = v; continue;
        case 4: m.term = v; continue;
        case 5: m.lastLogIndex = v; continue;
        case 6: m.lastLogTerm = v; continue;
        case 7: m.reject = v !== 0; continue;
        case 8: m.transfer = v !== 0; continue;
        case 9: m.prevLogIndex = v; continue;
        case 10: m.prevLogTerm = v; continue;
        case 12: m.commit = v; continue;
        case 13: m.index = v; continue;
        case 14: m.hintIndex = v; continue;
        case 15: m.hintTerm = v; continue;
        case 17: m.offset = v; continue;
        case 19: m.done = v !== 0; continue;
        default: continue; // unknown field (or a length-delimited one sent as a varint): ignored
      }
    }
    if (wire === WIRE_LEN) {
      if (field === 11) {
        const { start, end } = r.lenDelimited();
        m.entries.push(readEntry(new PbReader(r.buf, start, end)));
        continue;
      }
      if (field === 16) {
        const { start, end } = r.lenDelimited();
        m.snapshotMeta = readMeta(new PbReader(r.buf, start, end));
        continue;
      }
      if (field === 18) {
        m.chunk = r.bytes();
        continue;
      }
      if (field === 20) {
        m.ctx = r.bytes();
        continue;
      }
    }
    r.skip(wire);
  }
  return m;
}

function readEntry(r: PbReader): RawEntry {
  const e: RawEntry = { term: 0, index: 0, type: 0, data: undefined };
  while (!r.done) {
    const tag = r.tag();
    if (tag === vt(1)) e.term = r.varint();
    else if (tag === vt(2)) e.index = r.varint();
    else if (tag === vt(3)) e.type = r.varint();
    else if (tag === lt(4)) e.data = r.bytes();
    else r.skip(tag & 7);
  }
  return e;
}

function readMeta(r: PbReader): RawMeta {
  const m: RawMeta = { index: 0, term: 0, conf: undefined };
  while (!r.done) {
    const tag = r.tag();
    if (tag === vt(1)) m.index = r.varint();
    else if (tag === vt(2)) m.term = r.varint();
    else if (tag === lt(3)) {
      const { start, end } = r.lenDelimited();
      m.conf = readConf(new PbReader(r.buf, start, end));
    } else r.skip(tag & 7);
  }
  return m;
}

function readConf(r: PbReader): { voters: number[]; learners: number[] } {
  const c = { voters: [] as number[], learners: [] as number[] };
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    const list = field === 1 ? c.voters : field === 2 ? c.learners : undefined;
    if (list !== undefined && (tag & 7) === WIRE_VARINT) list.push(r.varint());
    else if (list !== undefined && (tag & 7) === WIRE_LEN) {
      // packed (proto3's default for repeated scalars)
      const { start, end } = r.lenDelimited();
      const p = new PbReader(r.buf, start, end);
      while (!p.done) list.push(p.varint());
    } else r.skip(tag & 7);
  }
  return c;
}

/**
 * `at` is the message's position in the batch: field paths for errors are built only when a
 * check fails — built eagerly they were ~6 strings per message, on every acknowledgement.
 */
function fromWire(w: RawMessage, at: number): Message {
  const type = typesByCode.get(w.type);
  if (type === undefined) throw new ValidationError(`messages[${at}].type`, 'a known MessageType (1..13)', String(w.type));
  const from = idField(w.from, at, 'from');
  const to = idField(w.to, at, 'to');
  const term = field(w.term, at, 'term');
  switch (type) {
    case 'PreVote':
      return { type, from, to, term, lastLogIndex: field(w.lastLogIndex, at, 'lastLogIndex'), lastLogTerm: field(w.lastLogTerm, at, 'lastLogTerm') };
    case 'RequestVote':
      return { type, from, to, term, lastLogIndex: field(w.lastLogIndex, at, 'lastLogIndex'), lastLogTerm: field(w.lastLogTerm, at, 'lastLogTerm'), transfer: w.transfer };
    case 'PreVoteResponse':
    case 'RequestVoteResponse':
      return { type, from, to, term, reject: w.reject };
    case 'AppendEntries': {
      const entries: Entry[] = [];
      for (let i = 0; i < w.entries.length; i++) entries.push(entryFromWire(w.entries[i] as RawEntry, at, i));
      return { type, from, to, term, prevLogIndex: field(w.prevLogIndex, at, 'prevLogIndex'), prevLogTerm: field(w.prevLogTerm, at, 'prevLogTerm'), commit: field(w.commit, at, 'commit'), entries };
    }
    case 'AppendEntriesResponse':
      return { type, from, to, term, reject: w.reject, index: field(w.index, at, 'index'), hintIndex: field(w.hintIndex, at, 'hintIndex'), hintTerm: field(w.hintTerm, at, 'hintTerm') };
    case 'InstallSnapshot':
      return { type, from, to, term, meta: metaFromWire(w.snapshotMeta, `messages[${at}].snapshotMeta`), offset: field(w.offset, at, 'offset'), chunk: w.chunk ?? new Uint8Array(0), done: w.done };
    case 'InstallSnapshotResponse':
      return { type, from, to, term, index: field(w.index, at, 'index'), offset: field(w.offset, at, 'offset'), done: w.done };
    case 'Heartbeat':
      return { type, from, to, term, commit: field(w.commit, at, 'commit'), ctx: w.ctx ?? new Uint8Array(0) };
    case 'HeartbeatResponse':
    case 'ReadIndex':
      return { type, from, to, term, ctx: w.ctx ?? new Uint8Array(0) };
    case 'ReadIndexResponse':
      return { type, from, to, term, ctx: w.ctx ?? new Uint8Array(0), index: field(w.index, at, 'index') };
    case 'TimeoutNow':
      return { type, from, to, term };
  }
}

function entryFromWire(w: RawEntry, at: number, i: number): Entry {
  const t = w.type;
  if (t !== 0 && t !== 1) throw new ValidationError(`messages[${at}].entries[${i}].type`, 'ENTRY_NORMAL or ENTRY_CONF', String(t));
  const index = w.index;
  if (!isUint(index)) uint(index, `messages[${at}].entries[${i}].index`);
  if (index === 0) throw new ValidationError(`messages[${at}].entries[${i}].index`, 'an index > 0', '0');
  if (!isUint(w.term)) uint(w.term, `messages[${at}].entries[${i}].term`);
  return { term: w.term, index, type: t === 1 ? 'conf' : 'normal', data: w.data ?? EMPTY };
}

function metaFromWire(w: RawMeta | undefined, path: string): SnapshotMeta {
  if (w === undefined) throw new ValidationError(path, 'snapshot meta on InstallSnapshot', 'nothing');
  if (w.conf === undefined) throw new ValidationError(`${path}.conf`, 'a ConfState', 'nothing');
  const ids = (xs: number[], p: string) => xs.map((n, i) => id(n, `${p}[${i}]`));
  const cs: ConfState = { voters: ids(w.conf.voters, `${path}.conf.voters`), learners: ids(w.conf.learners, `${path}.conf.learners`) };
  return { index: uint(w.index, `${path}.index`), term: uint(w.term, `${path}.term`), conf: cs };
}

const EMPTY = new Uint8Array(0);

function isUint(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/** `uint` for field `name` of message `at`, its path built only to report a failure. */
function field(v: number, at: number, name: string): number {
  return isUint(v) ? v : uint(v, `messages[${at}].${name}`);
}

function idField(v: number, at: number, name: string): NodeId {
  return isUint(v) && v !== 0 ? v : id(v, `messages[${at}].${name}`);
}

function uint(v: number, path: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new ValidationError(path, 'an unsigned integer ≤ 2^53', String(v));
  return v;
}

function id(v: number, path: string): NodeId {
  const n = uint(v, path);
  if (n === 0) throw new ValidationError(path, 'a node id > 0', '0');
  return n;
}
