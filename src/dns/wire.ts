/**
 * DNS wire format (RFC 1035, RFC 6891): the constants we use and a small
 * message writer with name compression, used when the zone is built (never
 * on the per-query hot path, which copies bytes this writer produced).
 *
 * Invariants: names are written lower-case as given (the zone builder
 * sanitizes them); compression pointers only point backwards at names this
 * writer wrote, below offset 0x3fff. No I/O here.
 */

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  AXFR: 252,
  ANY: 255,
} as const;

export const RRClass = { IN: 1, ANY: 255 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

export const rcodeNames: readonly string[] = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** Type names for metrics and logs; others print as TYPE<n> (RFC 3597). */
const typeNames = new Map<number, string>(Object.entries(RRType).map(([k, v]) => [v, k]));
export function typeName(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

export const headerBytes = 12;
/** RFC 1035 §4.2.1: the UDP answer limit when the client sent no OPT record. */
export const classicUdpBytes = 512;
/** OPT record we append: root name, type, class(size), ttl(flags), rdlen 0. */
export const optRecordBytes = 11;
/** Largest name on the wire (RFC 1035 §2.3.4). */
export const maxNameBytes = 255;
export const maxLabelBytes = 63;

// Header flag bits (second 16-bit word).
export const flagQR = 0x8000;
export const flagAA = 0x0400;
export const flagTC = 0x0200;
export const flagRD = 0x0100;
export const flagRA = 0x0080;
export const flagCD = 0x0010;
export const opcodeMask = 0x7800;

/** One resource record, as the zone builder describes it. */
export type RecordData =
  | { readonly type: typeof RRType.A; readonly address: string }
  | { readonly type: typeof RRType.NS; readonly target: string }
  | { readonly type: typeof RRType.CNAME; readonly target: string }
  | { readonly type: typeof RRType.PTR; readonly target: string }
  | { readonly type: typeof RRType.SRV; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }
  | {
    readonly type: typeof RRType.SOA;
    readonly mname: string;
    readonly rname: string;
    readonly serial: number;
    readonly refresh: number;
    readonly retry: number;
    readonly expire: number;
    readonly minimum: number;
  };

export interface ResourceRecord {
  /** Absolute name without the trailing dot, lower-case: `web.shop.cygnet`. */
  readonly name: string;
  readonly ttl: number;
  readonly data: RecordData;
}

/** Splits a dotted name into labels; `''` is the root. */
export function nameLabels(name: string): string[] {
  return name === '' ? [] : name.split('.');
}

/** Bytes `name` takes on the wire uncompressed. */
export function nameWireLength(name: string): number {
  let n = 1;
  for (const label of nameLabels(name)) n += label.length + 1;
  return n;
}

/** IPv4 dotted quad → 4 bytes, or undefined if it is not one. */
export function parseIPv4(text: string): [number, number, number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] as const;
  if (parts.some((p) => p > 255)) return undefined;
  return [parts[0], parts[1], parts[2], parts[3]];
}

/**
 * A growable byte writer with RFC 1035 §4.1.4 name compression. Offsets
 * are relative to the start of the message this writer builds.
 */
export class MessageWriter {
  private buf = Buffer.alloc(512);
  private len = 0;
  private readonly names = new Map<string, number>();
  private readonly compress: boolean;

  constructor(options: { compress?: boolean } = {}) {
    this.compress = options.compress ?? true;
  }

  get length(): number {
    return this.len;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  patchU16(offset: number, v: number): void {
    this.buf.writeUInt16BE(v & 0xffff, offset);
  }

  /** Writes `name`, pointing at an earlier copy of its longest known suffix. */
  name(name: string): void {
    const labels = nameLabels(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      const at = this.compress ? this.names.get(suffix) : undefined;
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.compress && this.len < 0x3fff) this.names.set(suffix, this.len);
      const label = labels[i];
      this.u8(label.length);
      this.ensure(label.length);
      this.len += this.buf.write(label, this.len, 'latin1');
    }
    this.u8(0);
  }

  /** Writes one whole resource record (owner name, type, class IN, ttl, rdata). */
  record(rr: ResourceRecord): void {
    this.name(rr.name);
    this.u16(rr.data.type);
    this.u16(RRClass.IN);
    this.u32(rr.ttl);
    const rdlenAt = this.len;
    this.u16(0);
    const start = this.len;
    this.rdata(rr.data);
    this.patchU16(rdlenAt, this.len - start);
  }

  private rdata(d: RecordData): void {
    switch (d.type) {
      case RRType.A: {
        const ip = parseIPv4(d.address);
        if (ip === undefined) throw new RangeError(`A record: not an IPv4 address: ${d.address}`);
        this.bytes(Uint8Array.from(ip));
        return;
      }
      case RRType.NS:
      case RRType.CNAME:
      case RRType.PTR:
        this.name(d.target);
        return;
      case RRType.SRV:
        this.u16(d.priority);
        this.u16(d.weight);
        this.u16(d.port);
        // RFC 2782: the SRV target must not be compressed.
        this.uncompressedName(d.target);
        return;
      case RRType.SOA:
        this.name(d.mname);
        this.name(d.rname);
        this.u32(d.serial);
        this.u32(d.refresh);
        this.u32(d.retry);
        this.u32(d.expire);
        this.u32(d.minimum);
        return;
    }
  }

  private uncompressedName(name: string): void {
    for (const label of nameLabels(name)) {
      this.u8(label.length);
      this.ensure(label.length);
      this.len += this.buf.write(label, this.len, 'latin1');
    }
    this.u8(0);
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** Encodes one record standalone (no compression), e.g. the SOA for negative answers. */
export function encodeStandaloneRecord(rr: ResourceRecord): Buffer {
  const w = new MessageWriter({ compress: false });
  w.record(rr);
  return w.toBuffer();
}

/** Writes an OPT record (RFC 6891 §6.1.2) advertising `udpPayloadBytes`, no options. */
export function writeOpt(out: Buffer, at: number, udpPayloadBytes: number, doBit: boolean): number {
  out[at] = 0; // root name
  out.writeUInt16BE(RRType.OPT, at + 1);
  out.writeUInt16BE(udpPayloadBytes, at + 3);
  out.writeUInt32BE(doBit ? 0x00008000 : 0, at + 5);
  out.writeUInt16BE(0, at + 9);
  return at + optRecordBytes;
}

/** Reads a name starting at `offset` (following pointers), lower-cased; undefined if malformed. */
export function readName(buf: Buffer, offset: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  let jumps = 0;
  let total = 1;
  for (;;) {
    if (pos >= buf.length) return undefined;
    const len = buf[pos];
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length || ++jumps > 64) return undefined;
      if (end < 0) end = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1];
      continue;
    }
    if ((len & 0xc0) !== 0) return undefined;
    total += len + 1;
    if (total > maxNameBytes || pos + 1 + len > buf.length) return undefined;
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len).toLowerCase());
    pos += 1 + len;
  }
  return { name: labels.join('.'), end };
}

/** Offset just past the name at `offset` without following pointers; -1 if malformed. */
export function skipName(buf: Buffer, offset: number): number {
  let pos = offset;
  for (;;) {
    if (pos >= buf.length) return -1;
    const len = buf[pos];
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= buf.length ? pos + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    pos += 1 + len;
  }
}
