/**
 * Pre-encoded answers. `compileZone` turns the zone's records into one
 * complete response message per (name, type), built once per registry
 * change; answering a query is then a copy plus a few patched bytes: the
 * id, the RD/CD/RA flags, the question as the client spelled it (DNS 0x20
 * case), the rotation of an A record set, an OPT record, and the TC cut.
 *
 * Layout of a pre-encoded answer: header (id 0, QR|AA, counts), the
 * question in lower case, the answer records (owner names compressed to
 * the question at offset 12), then authority and additional records. The
 * client's question has the same length as ours (names match
 * case-insensitively), so every compression pointer stays valid.
 * Rotation is only done for answer sets made of A records alone with
 * nothing after them, whose records all have the same 16 bytes and which
 * no later name points into.
 *
 * Truncation (RFC 2181 §9, RFC 6891 §7): when the whole message would not
 * fit the client's UDP limit, the answer keeps as many whole answer records
 * as fit, drops authority and additional, and sets TC; over TCP the limit
 * is 65535. No I/O here.
 */
import { keyOfName } from './query.ts';
import type { Query } from './query.ts';
import {
  encodeStandaloneRecord, flagAA, flagCD, flagQR, flagRA, flagRD, flagTC, headerBytes, MessageWriter, optRecordBytes, Rcode, type ResourceRecord, RRClass, RRType, writeOpt,
} from './wire.ts';
import type { Zone } from './zone.ts';

/** UDP payload size we advertise and honour at most (DNS flag day 2020: no IP fragmentation). */
export const maxUdpPayloadBytes = 1232;
/** TCP messages carry a 16-bit length. */
export const maxTcpMessageBytes = 65535;

export class PrebuiltAnswer {
  readonly bytes: Buffer;
  readonly questionEnd: number;
  /** Start offset of each answer record, then the end of the answer section. */
  readonly answerStarts: readonly number[];
  readonly rotatable: boolean;
  private next = 0;

  constructor(bytes: Buffer, questionEnd: number, answerStarts: number[], rotatable: boolean) {
    this.bytes = bytes;
    this.questionEnd = questionEnd;
    this.answerStarts = answerStarts;
    this.rotatable = rotatable;
  }

  /** The rotation for the next answer (round robin over the set). */
  takeRotation(): number {
    const n = this.answerStarts.length - 1;
    if (!this.rotatable || n < 2) return 0;
    const r = this.next;
    this.next = r + 1 >= n ? 0 : r + 1;
    return r;
  }
}

export interface CompiledName {
  /** type → answer; RRType.ANY answers every record of the name. */
  readonly byType: ReadonlyMap<number, PrebuiltAnswer>;
}

export interface CompiledZone {
  /** Wire-form key (query.ts) → the name's answers. */
  readonly byKey: ReadonlyMap<string, CompiledName>;
  readonly apexKey: string;
  /** The SOA record encoded without compression, for negative answers. */
  readonly soaRecord: Buffer;
  readonly revision: number;
  /** Apps left out of the zone, with the reason. */
  readonly skipped: readonly string[];
}

export type RecordsByName = ReadonlyMap<string, ReadonlyMap<number, readonly ResourceRecord[]>>;

/** A name that exists without records (an empty non-terminal): every type is NODATA. */
export const emptyName: CompiledName = { byType: new Map() };

/** Compiles one name's records into pre-encoded answers; `lookup` finds additional-section targets. */
export function compileName(name: string, types: ReadonlyMap<number, readonly ResourceRecord[]>, lookup: RecordsByName): CompiledName {
  if (types.size === 0) return emptyName;
  const byType = new Map<number, PrebuiltAnswer>();
  const all: ResourceRecord[] = [];
  for (const [type, records] of types) {
    byType.set(type, encodeAnswer(name, type, records, additionalsFor(lookup, records)));
    all.push(...records);
  }
  byType.set(RRType.ANY, encodeAnswer(name, RRType.ANY, all, []));
  return { byType };
}

/** Compiles a whole zone at once (the incremental path is zone-compiler.ts). */
export function compileZone(zone: Zone, revision: number): CompiledZone {
  const byKey = new Map<string, CompiledName>();
  for (const [name, types] of zone.names) byKey.set(keyOfName(name), compileName(name, types, zone.names));
  return { byKey, apexKey: keyOfName(zone.apex), soaRecord: encodeStandaloneRecord(zone.soa), revision, skipped: zone.skipped };
}

/** A records of in-zone SRV/NS targets (RFC 2782: "implementors are urged" to add them). */
function additionalsFor(names: RecordsByName, records: readonly ResourceRecord[]): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const rr of records) {
    const target = rr.data.type === RRType.SRV || rr.data.type === RRType.NS ? rr.data.target : undefined;
    if (target === undefined || seen.has(target)) continue;
    seen.add(target);
    out.push(...(names.get(target)?.get(RRType.A) ?? []));
  }
  return out;
}

function encodeAnswer(name: string, type: number, answers: readonly ResourceRecord[], additionals: readonly ResourceRecord[]): PrebuiltAnswer {
  const w = new MessageWriter();
  w.u16(0);
  w.u16(flagQR | flagAA);
  w.u16(1);
  w.u16(answers.length);
  w.u16(0);
  w.u16(additionals.length);
  w.name(name);
  w.u16(type);
  w.u16(RRClass.IN);
  const questionEnd = w.length;
  const starts: number[] = [];
  for (const rr of answers) {
    starts.push(w.length);
    w.record(rr);
  }
  starts.push(w.length);
  for (const rr of additionals) w.record(rr);
  const bytes = w.toBuffer();
  const rotatable = additionals.length === 0 && answers.every((rr) => rr.data.type === RRType.A) && starts.every((s, i) => i === 0 || s - (starts[i - 1] ?? 0) === 16);
  return new PrebuiltAnswer(bytes, questionEnd, starts, rotatable);
}

/** The UDP size limit for a client: 512 without EDNS, else its size capped at ours. */
export function udpLimit(q: Query): number {
  return q.edns ? Math.min(q.udpSize, maxUdpPayloadBytes) : 512;
}

function responseFlags(q: Query, base: number, recursionAvailable: boolean): number {
  return base | (q.flags & (flagRD | flagCD)) | (recursionAvailable ? flagRA : 0);
}

/** Builds the response to `q` from a pre-encoded answer. `limit`: the transport's size limit. */
export function writeAnswer(p: PrebuiltAnswer, q: Query, limit: number, recursionAvailable: boolean): Buffer {
  const src = p.bytes;
  const optLen = q.edns ? optRecordBytes : 0;
  const qEnd = p.questionEnd;
  const starts = p.answerStarts;
  const n = starts.length - 1;
  const aStart = starts[0] ?? qEnd;
  const aEnd = starts[n] ?? qEnd;
  const rot = p.takeRotation();
  let out: Buffer;
  let end: number;
  let flags = responseFlags(q, flagQR | flagAA, recursionAvailable);
  if (src.length + optLen <= limit) {
    out = Buffer.allocUnsafe(src.length + optLen);
    src.copy(out, 0, 0, aStart);
    if (rot === 0) {
      src.copy(out, aStart, aStart, src.length);
    } else {
      const cut = starts[rot] ?? aStart;
      src.copy(out, aStart, cut, aEnd);
      src.copy(out, aStart + (aEnd - cut), aStart, cut);
      src.copy(out, aEnd, aEnd, src.length);
    }
    end = src.length;
    if (q.edns) out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  } else {
    // Keep whole answer records, in rotated order, while they fit.
    const room = limit - qEnd - optLen;
    out = Buffer.allocUnsafe(Math.max(qEnd + optLen, Math.min(limit, src.length + optLen)));
    src.copy(out, 0, 0, qEnd);
    let used = 0;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const j = (rot + i) % n;
      const s = starts[j] ?? 0;
      const size = (starts[j + 1] ?? s) - s;
      if (used + size > room) break;
      src.copy(out, qEnd + used, s, s + size);
      used += size;
      kept++;
    }
    end = qEnd + used;
    // RFC 2181 §9: TC only when a required answer record was left out, not for dropped extras.
    if (kept < n) flags |= flagTC;
    out.writeUInt16BE(kept, 6);
    out.writeUInt16BE(0, 8);
    out.writeUInt16BE(q.edns ? 1 : 0, 10);
  }
  out.writeUInt16BE(q.id, 0);
  out.writeUInt16BE(flags, 2);
  q.question.copy(out, headerBytes);
  if (q.edns) writeOpt(out, end, maxUdpPayloadBytes, q.doBit);
  return end + optLen === out.length ? out : out.subarray(0, end + optLen);
}

/** NXDOMAIN or NODATA (NOERROR, no answers), with the zone's SOA in the authority section. */
export function writeNegative(zone: CompiledZone, q: Query, rcode: number, limit: number, recursionAvailable: boolean): Buffer {
  const optLen = q.edns ? optRecordBytes : 0;
  const qEnd = headerBytes + q.question.length;
  const withSoa = qEnd + zone.soaRecord.length + optLen <= limit;
  const soaLen = withSoa ? zone.soaRecord.length : 0;
  const out = Buffer.allocUnsafe(qEnd + soaLen + optLen);
  out.writeUInt16BE(q.id, 0);
  out.writeUInt16BE(responseFlags(q, flagQR | flagAA | rcode, recursionAvailable) | (withSoa ? 0 : flagTC), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(withSoa ? 1 : 0, 8);
  out.writeUInt16BE(q.edns ? 1 : 0, 10);
  q.question.copy(out, headerBytes);
  if (withSoa) zone.soaRecord.copy(out, qEnd);
  if (q.edns) writeOpt(out, qEnd + soaLen, maxUdpPayloadBytes, q.doBit);
  return out;
}

/**
 * An error answer (FORMERR, SERVFAIL, NOTIMP, REFUSED, BADVERS) for a
 * request we could read at least the header of. `extendedRcode` is the
 * OPT's upper 8 bits (BADVERS = 16 → 1).
 */
export function writeError(id: number, requestFlags: number, rcode: number, question: Buffer | undefined, edns: boolean, recursionAvailable: boolean, extendedRcode = 0): Buffer {
  const qLen = question?.length ?? 0;
  const optLen = edns ? optRecordBytes : 0;
  const out = Buffer.allocUnsafe(headerBytes + qLen + optLen);
  out.writeUInt16BE(id, 0);
  const opcode = requestFlags & 0x7800;
  out.writeUInt16BE(flagQR | opcode | (requestFlags & (flagRD | flagCD)) | (recursionAvailable ? flagRA : 0) | (rcode & 0xf), 2);
  out.writeUInt16BE(question === undefined ? 0 : 1, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(edns ? 1 : 0, 10);
  question?.copy(out, headerBytes);
  if (edns) {
    writeOpt(out, headerBytes + qLen, maxUdpPayloadBytes, false);
    out[headerBytes + qLen + 5] = extendedRcode;
  }
  return out;
}

export const badVersExtendedRcode = 1; // BADVERS (16) >> 4

export { Rcode };
