/**
 * A deliberately small, independent protobuf wire-format reader for tests:
 * it knows nothing of our .proto files, so reading our encoder's output with
 * it checks field numbers and wire types against numbers written by hand.
 */

export interface WireField {
  field: number;
  wireType: number;
  /** varint value (as bigint), or the raw bytes of a length-delimited / fixed field. */
  value: bigint | Uint8Array;
}

export function readWire(buf: Uint8Array): WireField[] {
  const out: WireField[] = [];
  let off = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (off >= buf.length) throw new Error('truncated varint');
      const b = buf[off++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (off < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (wireType === 0) out.push({ field, wireType, value: varint() });
    else if (wireType === 2) {
      const len = Number(varint());
      out.push({ field, wireType, value: buf.subarray(off, off + len) });
      off += len;
    } else if (wireType === 1) {
      out.push({ field, wireType, value: buf.subarray(off, off + 8) });
      off += 8;
    } else if (wireType === 5) {
      out.push({ field, wireType, value: buf.subarray(off, off + 4) });
      off += 4;
    } else throw new Error(`unsupported wire type ${wireType}`);
  }
  return out;
}

/** The single field with this number (fails the test if absent or repeated). */
export function one(fields: WireField[], field: number): WireField {
  const hits = fields.filter((f) => f.field === field);
  if (hits.length !== 1) throw new Error(`expected exactly one field ${field}, found ${hits.length} (fields: ${fields.map((f) => f.field).join(',')})`);
  return hits[0];
}

/** Nested message bytes of a length-delimited field. */
export function sub(fields: WireField[], field: number): WireField[] {
  const f = one(fields, field);
  if (f.wireType !== 2 || !(f.value instanceof Uint8Array)) throw new Error(`field ${field} is not length-delimited`);
  return readWire(f.value);
}

export function text(fields: WireField[], field: number): string {
  const f = one(fields, field);
  if (!(f.value instanceof Uint8Array)) throw new Error(`field ${field} is not length-delimited`);
  return Buffer.from(f.value).toString('utf8');
}

export function varintOf(fields: WireField[], field: number): number {
  const f = one(fields, field);
  if (f.wireType !== 0 || typeof f.value !== 'bigint') throw new Error(`field ${field} is not a varint`);
  return Number(f.value);
}

/** Hand-encodes fields: [fieldNumber, varint number] or [fieldNumber, bytes/string (length-delimited)]. */
export function writeWire(fields: ReadonlyArray<readonly [number, number | string | Uint8Array]>): Buffer {
  const parts: Buffer[] = [];
  const varint = (n: number): Buffer => {
    const bytes: number[] = [];
    let v = BigInt(n);
    if (v < 0n) v += 1n << 64n;
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      bytes.push(b);
    } while (v > 0n);
    return Buffer.from(bytes);
  };
  for (const [field, value] of fields) {
    if (typeof value === 'number') {
      parts.push(varint(field << 3), varint(value));
    } else {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
      parts.push(varint((field << 3) | 2), varint(bytes.length), bytes);
    }
  }
  return Buffer.concat(parts);
}
