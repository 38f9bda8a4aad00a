/**
 * Reading client queries. `parseQuery` is the hot path: a hand-written
 * reader for the shape almost every query has (a header, one question with
 * plain labels, at most an OPT record) that allocates only the result.
 * Anything else goes through `parseQuerySlow`, which first walks the whole
 * message with bounds checks (`walkMessage`) and only then reads it.
 *
 * dns2's parser is not used on client bytes: on a malformed OPT length it
 * walks until the end of the buffer bit by bit, and option data is read
 * with quadratic array concatenation, so a hostile packet could cost
 * seconds of CPU. The walker here is linear and bounded by the packet.
 *
 * Outcomes are values: a Query to answer, or what to do instead (drop
 * silently, or answer an error rcode). No I/O here.
 */
import { classicUdpBytes, flagQR, headerBytes, maxLabelBytes, maxNameBytes, opcodeMask, Rcode, RRType, skipName } from './wire.ts';

export interface Query {
  readonly packet: Buffer;
  readonly id: number;
  /** The header's flags word as received. */
  readonly flags: number;
  /** The question section as received (name, type, class), echoed in answers. */
  readonly question: Buffer;
  /** The question name in wire form, lower-cased, as a latin1 string: the zone's lookup key. */
  readonly key: string;
  readonly qtype: number;
  readonly qclass: number;
  /** The client sent an OPT record (EDNS(0)). */
  readonly edns: boolean;
  /** The client's UDP payload size (512 without EDNS, RFC 6891 §6.2.5: values below 512 count as 512). */
  readonly udpSize: number;
  readonly doBit: boolean;
  readonly ednsVersion: number;
}

export type ParseOutcome =
  | { readonly kind: 'query'; readonly query: Query }
  | { readonly kind: 'drop'; readonly reason: string }
  /** Answer with `rcode`, echoing the id (and the question if it could be read). */
  | { readonly kind: 'error'; readonly rcode: number; readonly id: number; readonly flags: number; readonly question: Buffer | undefined; readonly reason: string };

/** Hot-path parse; undefined means "not the simple shape, use parseQuerySlow". */
export function parseQuery(buf: Buffer): Query | undefined {
  const len = buf.length;
  if (len < headerBytes + 5) return undefined;
  const flags = (buf[2] << 8) | buf[3];
  if ((flags & (flagQR | opcodeMask)) !== 0) return undefined;
  // qdcount 1, ancount 0, nscount 0, arcount 0 or 1
  if (buf[4] !== 0 || buf[5] !== 1 || buf[6] !== 0 || buf[7] !== 0 || buf[8] !== 0 || buf[9] !== 0 || buf[10] !== 0 || buf[11] > 1) return undefined;
  let pos = headerBytes;
  for (;;) {
    if (pos >= len) return undefined;
    const l = buf[pos];
    if (l === 0) break;
    if (l > maxLabelBytes) return undefined;
    pos += l + 1;
    if (pos - headerBytes >= maxNameBytes) return undefined;
  }
  const nameEnd = pos + 1;
  const questionEnd = nameEnd + 4;
  if (questionEnd > len) return undefined;
  const qtype = (buf[nameEnd] << 8) | buf[nameEnd + 1];
  const qclass = (buf[nameEnd + 2] << 8) | buf[nameEnd + 3];
  let edns = false;
  let udpSize = classicUdpBytes;
  let doBit = false;
  let ednsVersion = 0;
  if (buf[11] === 1) {
    // OPT: root name (1) + type (2) + class (2) + ttl (4) + rdlen (2)
    const o = questionEnd;
    if (o + 11 > len || buf[o] !== 0 || ((buf[o + 1] << 8) | buf[o + 2]) !== RRType.OPT) return undefined;
    const rdlen = (buf[o + 9] << 8) | buf[o + 10];
    if (o + 11 + rdlen !== len) return undefined;
    edns = true;
    udpSize = Math.max(classicUdpBytes, (buf[o + 3] << 8) | buf[o + 4]);
    ednsVersion = buf[o + 6];
    doBit = (buf[o + 7] & 0x80) !== 0;
  } else if (questionEnd !== len) {
    return undefined;
  }
  return {
    packet: buf,
    id: (buf[0] << 8) | buf[1],
    flags,
    question: buf.subarray(headerBytes, questionEnd),
    key: buf.toString('latin1', headerBytes, nameEnd - 1).toLowerCase(),
    qtype,
    qclass,
    edns,
    udpSize,
    doBit,
    ednsVersion,
  };
}

/** One record found by walkMessage. */
export interface WalkedRecord {
  readonly section: 'answer' | 'authority' | 'additional';
  readonly type: number;
  /** Offset of the owner name. */
  readonly start: number;
  readonly ttlOffset: number;
  readonly rdataOffset: number;
  readonly rdataLength: number;
}

export interface WalkedMessage {
  readonly questionStart: number;
  readonly questionEnd: number;
  readonly qdcount: number;
  readonly records: readonly WalkedRecord[];
}

/**
 * Walks every section with bounds checks; undefined if any name, record or
 * count runs past the end. Linear in the packet length; records at most
 * one per 11 bytes, so the result is bounded by the packet too.
 */
export function walkMessage(buf: Buffer): WalkedMessage | undefined {
  if (buf.length < headerBytes) return undefined;
  const qd = buf.readUInt16BE(4);
  const counts = [buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)] as const;
  let pos = headerBytes;
  for (let i = 0; i < qd; i++) {
    pos = skipName(buf, pos);
    if (pos < 0 || pos + 4 > buf.length) return undefined;
    pos += 4;
  }
  const questionEnd = pos;
  const sections = ['answer', 'authority', 'additional'] as const;
  const records: WalkedRecord[] = [];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]; i++) {
      const start = pos;
      pos = skipName(buf, pos);
      if (pos < 0 || pos + 10 > buf.length) return undefined;
      const rdlen = buf.readUInt16BE(pos + 8);
      if (pos + 10 + rdlen > buf.length) return undefined;
      records.push({ section: sections[s], type: buf.readUInt16BE(pos), start, ttlOffset: pos + 4, rdataOffset: pos + 10, rdataLength: rdlen });
      pos += 10 + rdlen;
    }
  }
  return { questionStart: headerBytes, questionEnd, qdcount: qd, records };
}

/** Wire-form key (see Query.key) of a question name read by readName-style parsing. */
function wireKey(buf: Buffer, start: number): string | undefined {
  let out = '';
  let pos = start;
  for (;;) {
    const l = buf[pos];
    if (l === undefined) return undefined;
    if (l === 0) return out.toLowerCase();
    if ((l & 0xc0) === 0xc0) return undefined; // a pointer in the question: not a query we serve
    out += buf.toString('latin1', pos, pos + 1 + l);
    pos += l + 1;
  }
}

/** The careful path for every query the hot path declined. */
export function parseQuerySlow(buf: Buffer): ParseOutcome {
  if (buf.length < headerBytes) return { kind: 'drop', reason: 'shorter than a header' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if ((flags & flagQR) !== 0) return { kind: 'drop', reason: 'a response, not a query' };
  const err = (rcode: number, reason: string, question?: Buffer): ParseOutcome => ({ kind: 'error', rcode, id, flags, question, reason });
  const msg = walkMessage(buf);
  if (msg === undefined) return err(Rcode.FORMERR, 'malformed message');
  const question = msg.qdcount === 1 ? buf.subarray(msg.questionStart, msg.questionEnd) : undefined;
  if ((flags & opcodeMask) !== 0) return err(Rcode.NOTIMP, `opcode ${(flags & opcodeMask) >> 11}`, question);
  if (msg.qdcount !== 1 || question === undefined) return err(Rcode.FORMERR, `${msg.qdcount} questions`);
  if (msg.records.some((r) => r.section !== 'additional')) return err(Rcode.FORMERR, 'records in the answer or authority section of a query', question);
  const opts = msg.records.filter((r) => r.type === RRType.OPT);
  if (opts.length > 1) return err(Rcode.FORMERR, 'more than one OPT record', question);
  const key = wireKey(buf, msg.questionStart);
  if (key === undefined) return err(Rcode.FORMERR, 'compressed question name', question);
  const nameEnd = msg.questionEnd - 4;
  const opt = opts[0];
  if (opt !== undefined && buf[opt.start] !== 0) return err(Rcode.FORMERR, 'OPT record not owned by the root', question);
  return {
    kind: 'query',
    query: {
      packet: buf,
      id,
      flags,
      question,
      key,
      qtype: buf.readUInt16BE(nameEnd),
      qclass: buf.readUInt16BE(nameEnd + 2),
      edns: opt !== undefined,
      udpSize: opt === undefined ? classicUdpBytes : Math.max(classicUdpBytes, buf.readUInt16BE(opt.ttlOffset - 2)),
      doBit: opt !== undefined && (buf[opt.ttlOffset + 2] & 0x80) !== 0,
      ednsVersion: opt === undefined ? 0 : buf[opt.ttlOffset + 1],
    },
  };
}

/** Dotted name (lower-case) → the wire-form key used by the zone. */
export function keyOfName(name: string): string {
  if (name === '') return '';
  let out = '';
  for (const label of name.split('.')) out += String.fromCharCode(label.length) + label;
  return out.toLowerCase();
}

/** Wire-form key → dotted name. */
export function nameOfKey(key: string): string {
  const labels: string[] = [];
  let pos = 0;
  while (pos < key.length) {
    const l = key.charCodeAt(pos);
    labels.push(key.slice(pos + 1, pos + 1 + l));
    pos += l + 1;
  }
  return labels.join('.');
}
