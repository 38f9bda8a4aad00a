/**
 * Protobuf wire-format primitives for the Raft codec (`codec.ts`): varints of
 * unsigned integers up to 2^53, length-delimited fields, and skipping unknown
 * fields — the little the Raft messages need, without protobufjs' reflection,
 * which cost ~16 µs to encode and ~17 µs to decode a one-entry batch: a
 * noticeable share of a write's latency at one client and of the CPU per write
 * under load.
 *
 * Invariants: `PbReader` never reads outside [start, end) of its buffer and
 * throws `WireError` on anything malformed (truncated varint or field, bad
 * wire type); a varint above 2^53 reads as a number that is not a safe integer
 * (the codec's checks refuse it). `PbWriter` writes exactly `size` bytes when
 * given the sizes `varintSize`/`bytesFieldSize` computed.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Malformed wire bytes (the codec turns it into a BadRequestError naming the message type). */
export class WireError extends Error {}

export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x20_0000) return 3;
  if (v < 0x1000_0000) return 4;
  let n = 4;
  let x = Math.floor(v / 0x1000_0000);
  while (x > 0) {
    n++;
    x = Math.floor(x / 128);
  }
  return n;
}

/** Bytes of a varint field `field` with value v (0 when v is 0: proto3 leaves defaults out). */
export function uintFieldSize(tagSize: number, v: number): number {
  return v === 0 ? 0 : tagSize + varintSize(v);
}

/** Bytes of a length-delimited field of `len` bytes (always written, even when empty). */
export function lenFieldSize(tagSize: number, len: number): number {
  return tagSize + varintSize(len) + len;
}

export class PbWriter {
  readonly buf: Buffer;
  pos: number;

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  varint(v: number): void {
    const b = this.buf;
    let p = this.pos;
    if (v < 0x8000_0000) {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        b[p++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
    }
    b[p++] = v;
    this.pos = p;
  }

  /** A varint field, left out when 0. `tag` = field << 3 | wire type. */
  uintField(tag: number, v: number): void {
    if (v === 0) return;
    this.varint(tag);
    this.varint(v);
  }

  boolField(tag: number, v: boolean): void {
    if (!v) return;
    this.varint(tag);
    this.buf[this.pos++] = 1;
  }

  bytesField(tag: number, data: Uint8Array): void {
    this.varint(tag);
    this.varint(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** A length-delimited header for an embedded message of `len` bytes (its fields follow). */
  lenHeader(tag: number, len: number): void {
    this.varint(tag);
    this.varint(len);
  }
}

export class PbReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    const b = this.buf;
    let p = this.pos;
    let v = 0;
    let mult = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw new WireError('truncated varint');
      const byte = b[p++] as number;
      v += (byte & 0x7f) * mult;
      if (byte < 0x80) {
        this.pos = p;
        return v;
      }
      mult *= 128;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** The next tag: field number << 3 | wire type. */
  tag(): number {
    const t = this.varint();
    if (t > 0xffff_ffff || (t & 7) > 5 || t >>> 3 === 0) throw new WireError(`bad tag ${t}`);
    return t;
  }

  /** [start, end) of a length-delimited field's bytes, which the reader then skips. */
  lenDelimited(): { start: number; end: number } {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw new WireError('length-delimited field runs past the end');
    this.pos = start + len;
    return { start, end: start + len };
  }

  /** A copy of a length-delimited field's bytes (a view would pin the whole frame). */
  bytes(): Uint8Array {
    const { start, end } = this.lenDelimited();
    const out = new Uint8Array(end - start);
    out.set(this.buf.subarray(start, end));
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.lenDelimited();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw new WireError('truncated fixed-width field');
    this.pos += n;
  }
}
