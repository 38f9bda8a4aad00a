/**
 * Raft `Message` <-> protobuf (`protos/cygnet/raft.proto`, loaded at runtime).
 *
 * Invariants:
 *  - `decodeBatch` never throws anything but `ValidationError`/`BadRequestError`
 *    with a field path (`messages[2].snapshotMeta`), whatever the bytes: a
 *    malformed peer cannot crash the node.
 *  - Round trip: decodeBatch(encodeBatch(from, ms)) deep-equals ms.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { BadRequestError, ValidationError } from '../common/errors.ts';
import type { ConfState, Entry, Message, MessageType, NodeId, SnapshotMeta } from './types.ts';

const protoPath = fileURLToPath(new URL('../../protos/cygnet/raft.proto', import.meta.url));
const root = protobuf.loadSync(protoPath);
const MessageBatchType = root.lookupType('cygnet.raft.MessageBatch');

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

export function encodeBatch(from: NodeId, messages: readonly Message[], senderMeta = ''): Uint8Array {
  return MessageBatchType.encode({ from, messages: messages.map(toWire), senderMeta }).finish();
}

export function decodeBatch(buf: Uint8Array): DecodedBatch {
  let raw: Record<string, unknown>;
  try {
    raw = MessageBatchType.toObject(MessageBatchType.decode(buf), { longs: Number, enums: Number, defaults: true, arrays: true });
  } catch (err) {
    throw new BadRequestError(`raft batch is not a valid cygnet.raft.MessageBatch: ${(err as Error).message}`);
  }
  const from = id(raw.from, 'from');
  const senderMeta = raw.senderMeta;
  if (typeof senderMeta !== 'string' || senderMeta.length > MAX_SENDER_META_BYTES) {
    throw new ValidationError('senderMeta', `a string of at most ${MAX_SENDER_META_BYTES} characters`, typeof senderMeta);
  }
  const list = raw.messages as Record<string, unknown>[];
  const messages = list.map((m, i) => fromWire(m, `messages[${i}]`));
  messages.forEach((m, i) => {
    if (m.from !== from) throw new ValidationError(`messages[${i}].from`, `the batch sender ${from}`, String(m.from));
  });
  return { from, messages, senderMeta };
}

// ---- to wire ---------------------------------------------------------------

type WireMessage = Record<string, unknown>;

function toWire(m: Message): WireMessage {
  const w: WireMessage = { type: typeCodes[m.type], from: m.from, to: m.to, term: m.term };
  switch (m.type) {
    case 'PreVote':
      return { ...w, lastLogIndex: m.lastLogIndex, lastLogTerm: m.lastLogTerm };
    case 'RequestVote':
      return { ...w, lastLogIndex: m.lastLogIndex, lastLogTerm: m.lastLogTerm, transfer: m.transfer };
    case 'PreVoteResponse':
    case 'RequestVoteResponse':
      return { ...w, reject: m.reject };
    case 'AppendEntries':
      return { ...w, prevLogIndex: m.prevLogIndex, prevLogTerm: m.prevLogTerm, commit: m.commit, entries: m.entries.map(entryToWire) };
    case 'AppendEntriesResponse':
      return { ...w, reject: m.reject, index: m.index, hintIndex: m.hintIndex, hintTerm: m.hintTerm };
    case 'InstallSnapshot':
      return { ...w, snapshotMeta: m.meta, offset: m.offset, chunk: m.chunk, done: m.done };
    case 'InstallSnapshotResponse':
      return { ...w, index: m.index, offset: m.offset, done: m.done };
    case 'Heartbeat':
      return { ...w, commit: m.commit, ctx: m.ctx };
    case 'HeartbeatResponse':
    case 'ReadIndex':
      return { ...w, ctx: m.ctx };
    case 'ReadIndexResponse':
      return { ...w, ctx: m.ctx, index: m.index };
    case 'TimeoutNow':
      return w;
  }
}

function entryToWire(e: Entry): WireMessage {
  return { term: e.term, index: e.index, type: e.type === 'conf' ? 1 : 0, data: e.data };
}

// ---- from wire -------------------------------------------------------------

function fromWire(w: Record<string, unknown>, path: string): Message {
  const type = typesByCode.get(w.type as number);
  if (type === undefined) throw new ValidationError(`${path}.type`, 'a known MessageType (1..13)', String(w.type));
  const base = { from: id(w.from, `${path}.from`), to: id(w.to, `${path}.to`), term: uint(w.term, `${path}.term`) };
  const u = (f: string) => uint(w[f], `${path}.${f}`);
  const b = (f: string) => w[f] === true;
  const bytes = (f: string) => toBytes(w[f], `${path}.${f}`);
  switch (type) {
    case 'PreVote':
      return { ...base, type, lastLogIndex: u('lastLogIndex'), lastLogTerm: u('lastLogTerm') };
    case 'RequestVote':
      return { ...base, type, lastLogIndex: u('lastLogIndex'), lastLogTerm: u('lastLogTerm'), transfer: b('transfer') };
    case 'PreVoteResponse':
    case 'RequestVoteResponse':
      return { ...base, type, reject: b('reject') };
    case 'AppendEntries': {
      const entries = (w.entries as Record<string, unknown>[]).map((e, i) => entryFromWire(e, `${path}.entries[${i}]`));
      return { ...base, type, prevLogIndex: u('prevLogIndex'), prevLogTerm: u('prevLogTerm'), commit: u('commit'), entries };
    }
    case 'AppendEntriesResponse':
      return { ...base, type, reject: b('reject'), index: u('index'), hintIndex: u('hintIndex'), hintTerm: u('hintTerm') };
    case 'InstallSnapshot':
      return { ...base, type, meta: metaFromWire(w.snapshotMeta, `${path}.snapshotMeta`), offset: u('offset'), chunk: bytes('chunk'), done: b('done') };
    case 'InstallSnapshotResponse':
      return { ...base, type, index: u('index'), offset: u('offset'), done: b('done') };
    case 'Heartbeat':
      return { ...base, type, commit: u('commit'), ctx: bytes('ctx') };
    case 'HeartbeatResponse':
    case 'ReadIndex':
      return { ...base, type, ctx: bytes('ctx') };
    case 'ReadIndexResponse':
      return { ...base, type, ctx: bytes('ctx'), index: u('index') };
    case 'TimeoutNow':
      return { ...base, type };
  }
}

function entryFromWire(w: Record<string, unknown>, path: string): Entry {
  const t = w.type;
  if (t !== 0 && t !== 1) throw new ValidationError(`${path}.type`, 'ENTRY_NORMAL or ENTRY_CONF', String(t));
  const index = uint(w.index, `${path}.index`);
  if (index === 0) throw new ValidationError(`${path}.index`, 'an index > 0', '0');
  return { term: uint(w.term, `${path}.term`), index, type: t === 1 ? 'conf' : 'normal', data: toBytes(w.data, `${path}.data`) };
}

function metaFromWire(v: unknown, path: string): SnapshotMeta {
  if (typeof v !== 'object' || v === null) throw new ValidationError(path, 'snapshot meta on InstallSnapshot', 'nothing');
  const w = v as Record<string, unknown>;
  const conf = w.conf as Record<string, unknown> | null | undefined;
  if (conf === null || conf === undefined) throw new ValidationError(`${path}.conf`, 'a ConfState', 'nothing');
  const ids = (x: unknown, p: string) => (x as unknown[]).map((n, i) => id(n, `${p}[${i}]`));
  const cs: ConfState = { voters: ids(conf.voters, `${path}.conf.voters`), learners: ids(conf.learners, `${path}.conf.learners`) };
  return { index: uint(w.index, `${path}.index`), term: uint(w.term, `${path}.term`), conf: cs };
}

function uint(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ValidationError(path, 'an unsigned integer ≤ 2^53', String(v));
  return v;
}

function id(v: unknown, path: string): NodeId {
  const n = uint(v, path);
  if (n === 0) throw new ValidationError(path, 'a node id > 0', '0');
  return n;
}

function toBytes(v: unknown, path: string): Uint8Array {
  // Copied: a view would pin the whole request body in memory for as long as the log holds the entry.
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (v === undefined || v === null) return new Uint8Array(0);
  throw new ValidationError(path, 'bytes', typeof v);
}
