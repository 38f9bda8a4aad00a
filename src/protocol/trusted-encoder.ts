/**
 * The trusted encoder: JSON and protobuf bodies of messages the master built
 * itself (events on its streams), without the codec's validation pass.
 *
 *   codec.ts:   object ─▶ toCanonical (check + copy) ─▶ JSON.stringify | fromObject + encode
 *   here:       object ─▶ the type's generated encoder ─▶ JSON bytes | protobuf bytes
 *
 * Invariant: for every object the validating codec accepts, the output is
 * byte-for-byte what encodeJson / encodeProtobuf produce (same field order,
 * same omissions of null/undefined and empty repeated fields, same enum
 * names and numbers, same 64-bit integer conversions, same base64
 * normalisation). test/unit/protocol/trusted-encoder.test.ts compares the two
 * on generated messages. What it does not do is reject an object that is not
 * the message: a master bug then goes out as a malformed body instead of an
 * encode error, which is the price of not checking 10k offers per cycle.
 *
 * Reuse: an object passed through sealForReuse() is deep-frozen, so it cannot
 * change, and carries a hidden (non-enumerable, symbol-keyed) slot where its
 * JSON and protobuf encodings are kept once made. offer-message.ts seals an
 * agent's url, id and attributes, a framework's id and a role's
 * allocation_info, so each is encoded once and its bytes are written again
 * for every later offer sharing it.
 * Only sealForReuse makes the slot, so an object someone may still change is
 * never served from a cache.
 *
 * Speed: each message type gets its own small encoder functions, generated
 * once from the reflected type (as protobufjs generates its own), so every
 * property read is at a fixed name and V8 keeps them monomorphic; a generic
 * walk over field plans was slower than the validating codec it replaces.
 *
 * Pure apart from the caches; no I/O.
 */

import protobuf from 'protobufjs';
import type { MessageName } from './proto-registry.ts';
import { messageType } from './proto-registry.ts';
import type { MediaType } from './media.ts';

type Json = Record<string, unknown>;

/** The generated encoders of one message type, and the caches of its deep-frozen objects. */
interface TypePlan {
  readonly type: protobuf.Type;
  /** Declaration order: the key order of the codec's JSON. */
  readonly fields: readonly protobuf.Field[];
  /** Writes the message's JSON object (`{...}`) at the end of the sink. */
  json: (o: Json, b: JsonSink) => void;
  /** Writes the message's fields (no tag, no length) at the end of the sink. */
  proto: (o: Json, w: ProtoSink) => void;
}

const plans = new Map<protobuf.Type, TypePlan>();

function planOf(type: protobuf.Type): TypePlan {
  const known = plans.get(type);
  if (known !== undefined) return known;
  const fields = type.fieldsArray;
  for (const f of fields) f.resolve();
  const p: TypePlan = {
    type,
    fields,
    // Generated on first use, so self-recursive types need no special case.
    json: (o, b) => {
      p.json = generateJson(p);
      p.json(o, b);
    },
    proto: (o, w) => {
      p.proto = generateProto(p);
      p.proto(o, w);
    },
  };
  plans.set(type, p);
  return p;
}

/** Mesos JSON of a master-built message; equal to codec.encodeJson's output. */
export function encodeTrustedJson(name: MessageName, msg: object): string {
  const b = writeJson(name, msg);
  const json = b.buf.toString('utf8', 0, b.pos);
  b.release();
  return json;
}

/** The JSON of `msg` in the shared sink, bytes [0, pos). Valid until the next call. */
function writeJson(name: MessageName, msg: object): JsonSink {
  const b = SINK;
  b.pos = 0;
  planOf(messageType(name)).json(msg as Json, b);
  return b;
}

/** Protobuf of a master-built message; equal to codec.encodeProtobuf's output. */
export function encodeTrustedProtobuf(name: MessageName, msg: object): Uint8Array {
  const w = writeProto(name, msg);
  const bytes = Uint8Array.prototype.slice.call(w.buf, 0, w.pos);
  w.release();
  return bytes;
}

/** The protobuf of `msg` in the shared sink, bytes [0, pos). Valid until the next call. */
function writeProto(name: MessageName, msg: object): ProtoSink {
  const w = PROTO_SINK;
  w.reset();
  planOf(messageType(name)).proto(msg as Json, w);
  return w;
}

/**
 * One RecordIO record (`<length>\n<body>`, as recordio.encodeRecord frames
 * it) of a master-built message, written into a single buffer: the stream
 * writes it as is.
 */
export function encodeTrustedRecord(name: MessageName, media: MediaType, msg: object): Buffer {
  if (media === 'application/json') {
    const b = writeJson(name, msg);
    const header = `${b.pos}\n`;
    const out = Buffer.allocUnsafe(header.length + b.pos);
    out.write(header, 0, 'latin1');
    b.buf.copy(out, header.length, 0, b.pos);
    b.release();
    return out;
  }
  const w = writeProto(name, msg);
  const header = `${w.pos}\n`;
  const out = Buffer.allocUnsafe(header.length + w.pos);
  out.write(header, 0, 'latin1');
  w.buf.copy(out, header.length, 0, w.pos);
  w.release();
  return out;
}

// ---- what the generated code calls ----

function subPlan(f: protobuf.Field): TypePlan | undefined {
  const r = f.resolvedType;
  return r !== null && 'fieldsArray' in r ? planOf(r as protobuf.Type) : undefined;
}

function enumOf(f: protobuf.Field): protobuf.Enum | undefined {
  const r = f.resolvedType;
  return r !== null && !('fieldsArray' in r) ? (r as protobuf.Enum) : undefined;
}

/** The hidden slot of a sealed object: its encodings, each with the type it was encoded as. */
interface ReuseSlot {
  jsonPlan: TypePlan | undefined;
  json: Uint8Array | undefined;
  protoPlan: TypePlan | undefined;
  proto: Uint8Array | undefined;
}

const REUSE: unique symbol = Symbol('cygnet.trustedEncoding');

/**
 * Deep-freezes `value` (objects and arrays, all the way down) and gives each
 * object in it a hidden slot for its encodings, so the trusted encoder
 * encodes it once. Returns `value`. Only for values nobody needs to change.
 */
export function sealForReuse<T>(value: T): T {
  // Sealed already: everything under it is frozen too.
  if (typeof value !== 'object' || value === null || REUSE in value) return value;
  if (Array.isArray(value)) {
    for (const item of value) sealForReuse(item);
  } else {
    // Children first, even under an object frozen by someone else: a cached encoding must not see a change below it.
    for (const v of Object.values(value)) sealForReuse(v);
    // An object frozen elsewhere cannot take a slot: it is encoded each time (correct, just not cached).
    if (Object.isExtensible(value)) {
      const slot: ReuseSlot = { jsonPlan: undefined, json: undefined, protoPlan: undefined, proto: undefined };
      Object.defineProperty(value, REUSE, { value: slot, enumerable: false });
    }
  }
  return Object.freeze(value);
}

/**
 * Where JSON is written: one growing byte buffer, reused by every call (the
 * encoder is synchronous and not re-entrant), so an encode makes no garbage
 * but its result. Building strings instead made a rope node per piece, and
 * flattening those ropes and collecting them cost more than the encoding.
 */
class JsonSink {
  buf: Buffer = Buffer.allocUnsafe(INITIAL_SINK_BYTES);
  pos = 0;

  /** Room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** After use: a buffer grown past the bound is not kept (the next big event grows a new one). */
  release(): void {
    if (this.buf.length > MAX_RETAINED_SINK_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_SINK_BYTES);
    this.pos = 0;
  }

  bytes(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    // Fragments are short: a loop beats the native copy's call overhead.
    if (n < 64) for (let i = 0; i < n; i++) buf[pos++] = src[i];
    else {
      buf.set(src, pos);
      pos += n;
    }
    this.pos = pos;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** A string known to be ASCII (numbers, enum names). */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /** A JSON string literal, exactly as JSON.stringify writes it. */
  string(v: string): void {
    const n = v.length;
    if (n <= MAX_SCANNED_STRING) {
      this.ensure(n + 2);
      const buf = this.buf;
      let pos = this.pos;
      buf[pos++] = QUOTE;
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        // Plain ASCII needs no escape; anything else (", \\, controls, non-ASCII) goes the general way.
        if (c < 0x20 || c === QUOTE || c === BACKSLASH || c >= 0x80) break;
        buf[pos++] = c;
      }
      if (i === n) {
        buf[pos++] = QUOTE;
        this.pos = pos;
        return;
      }
    }
    this.utf8(JSON.stringify(v));
  }

  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** First size of the shared sink; it doubles as needed. */
const INITIAL_SINK_BYTES = 64 * 1024;
/**
 * Largest sink kept between calls: one OFFERS event of 10k offers is ~7 MB,
 * so the cycle's biggest event reuses its buffer; beyond this (a rare, bigger
 * event) the memory is given back rather than held for ever.
 */
const MAX_RETAINED_SINK_BYTES = 16 * 1024 * 1024;
/** Strings longer than this go straight to JSON.stringify (the scan only pays off on short ones). */
const MAX_SCANNED_STRING = 64;
const SINK = new JsonSink();

/** Writes a sealed sub-message's JSON and keeps a copy of its bytes in the slot. */
function jsonSub(plan: TypePlan, o: Json, slot: ReuseSlot, b: JsonSink): void {
  const start = b.pos;
  plan.json(o, b);
  slot.json = Uint8Array.prototype.slice.call(b.buf, start, b.pos);
  slot.jsonPlan = plan;
}

/** Writes a sealed sub-message (length-delimited; the tag is written already) and keeps a copy of its body in the slot. */
function protoSub(plan: TypePlan, o: Json, slot: ReuseSlot, w: ProtoSink): void {
  w.fork();
  const start = w.pos;
  plan.proto(o, w);
  slot.proto = Uint8Array.prototype.slice.call(w.buf, start, w.pos);
  slot.protoPlan = plan;
  w.ldelim();
}

/**
 * Where protobuf is written: one growing byte buffer, reused like the JSON
 * sink. It writes exactly what protobufjs' Writer writes (varints, zigzag,
 * little-endian fixed widths, protobufjs' own UTF-8 for strings), without
 * the Writer's list of one small object per write. A sub-message's length
 * is written after its body: one byte is reserved, and the body is moved
 * up in the rare case its length needs more.
 */
class ProtoSink {
  buf: Buffer = Buffer.allocUnsafe(INITIAL_SINK_BYTES);
  pos = 0;
  /** Start of each open sub-message (the reserved length byte), innermost last. */
  private readonly forks: number[] = [];

  reset(): void {
    this.pos = 0;
    this.forks.length = 0;
  }

  release(): void {
    if (this.buf.length > MAX_RETAINED_SINK_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_SINK_BYTES);
    this.reset();
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  uint32(value: number): this {
    let v = value >>> 0;
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
    return this;
  }

  int32(value: number): void {
    // As protobufjs: a negative int32 is its 64-bit two's complement, 10 bytes.
    if (value < 0) this.varint64(value | 0, value < 0 ? -1 : 0);
    else this.uint32(value);
  }

  sint32(value: number): void {
    this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  bool(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  sfixed32(value: number): void {
    this.fixed32(value);
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  float(value: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(value, this.pos);
    this.pos += 4;
  }

  int64(value: protobuf.Long): void {
    this.varint64(value.low, value.high);
  }

  uint64(value: protobuf.Long): void {
    this.varint64(value.low, value.high);
  }

  sint64(value: protobuf.Long): void {
    // zigzag on 64 bits, as protobufjs' LongBits.zzEncode
    const mask = value.high >> 31;
    const hi = (((value.high << 1) | (value.low >>> 31)) ^ mask) >>> 0;
    const lo = ((value.low << 1) ^ mask) >>> 0;
    this.varint64(lo, hi);
  }

  fixed64(value: protobuf.Long): void {
    this.fixed32(value.low);
    this.fixed32(value.high);
  }

  sfixed64(value: protobuf.Long): void {
    this.fixed64(value);
  }

  /** A varint of the 64-bit value hi:lo (protobufjs' writeVarint64). */
  private varint64(low: number, high: number): void {
    let lo = low >>> 0;
    let hi = high >>> 0;
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi) {
      buf[pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      buf[pos++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  string(value: string): void {
    const n = value.length;
    let ascii = n <= MAX_SCANNED_STRING;
    for (let i = 0; ascii && i < n; i++) if (value.charCodeAt(i) >= 0x80) ascii = false;
    if (ascii) {
      this.uint32(n);
      this.ensure(n);
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = value.charCodeAt(i);
      this.pos = pos;
      return;
    }
    // protobufjs' UTF-8 (it writes lone surrogates its own way, unlike Buffer's).
    const len = protobuf.util.utf8.length(value);
    this.uint32(len);
    this.ensure(len);
    protobuf.util.utf8.write(value, this.buf, this.pos);
    this.pos += len;
  }

  /** Length and bytes: a base64 string (decoded as protobufjs does) or bytes. */
  bytes(value: string | Uint8Array): void {
    let data: Uint8Array;
    if (typeof value === 'string') {
      const decoded = new Uint8Array(protobuf.util.base64.length(value));
      protobuf.util.base64.decode(value, decoded, 0);
      data = decoded;
    } else {
      data = value;
    }
    const n = data.length;
    this.uint32(n);
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    if (n < 64) for (let i = 0; i < n; i++) buf[pos++] = data[i];
    else {
      buf.set(data, pos);
      pos += n;
    }
    this.pos = pos;
  }

  /** Opens a length-delimited sub-message. */
  fork(): this {
    this.ensure(1);
    this.forks.push(this.pos);
    this.pos++;
    return this;
  }

  /** Closes the innermost sub-message: writes its length before it. */
  ldelim(): void {
    const start = this.forks.pop() as number;
    const len = this.pos - start - 1;
    if (len < 128) {
      this.buf[start] = len;
      return;
    }
    let size = 1;
    for (let v = len >>> 7; v > 0; v >>>= 7) size++;
    this.ensure(size - 1);
    this.buf.copyWithin(start + size, start + 1, this.pos);
    const end = this.pos + size - 1;
    this.pos = start;
    this.uint32(len);
    this.pos = end;
  }
}

const PROTO_SINK = new ProtoSink();

/** As the codec: a number stays (without -0), a numeric string becomes the nearest double. */
function int64Number(v: unknown): number {
  const n = typeof v === 'string' ? Number(BigInt(v)) : (v as number);
  return n === 0 ? 0 : n;
}

/** The Long class protobufjs itself uses in fromObject (the `long` package). */
const Long = protobuf.util.Long as unknown as { fromValue(value: number, unsigned: boolean): protobuf.Long };

/**
 * 64-bit integers as the codec writes them: toCanonical makes the value a
 * double, fromObject makes a Long of it with Long.fromValue(value, unsigned),
 * which saturates at the type's range. (Never set `.unsigned` on the result:
 * saturated values are Long's shared MAX_VALUE constants.)
 */
function int64Long(v: unknown, unsigned: boolean): protobuf.Long {
  return Long.fromValue(int64Number(v), unsigned);
}

/** Bytes as toCanonical normalises them (padded standard base64). */
function base64(v: unknown): string {
  return Buffer.from(v as string, 'base64').toString('base64');
}

interface Runtime {
  readonly reuse: typeof REUSE;
  readonly subs: readonly (TypePlan | undefined)[];
  readonly enumNames: readonly (Readonly<Record<number, string>> | undefined)[];
  readonly enumValues: readonly (Readonly<Record<string, number>> | undefined)[];
  readonly jsonSub: typeof jsonSub;
  readonly utf8: (text: string) => Uint8Array;
  readonly protoSub: typeof protoSub;
  readonly int64Number: typeof int64Number;
  readonly int64Long: typeof int64Long;
  readonly base64: typeof base64;
}

function runtimeOf(plan: TypePlan): Runtime {
  return {
    reuse: REUSE,
    subs: plan.fields.map(subPlan),
    enumNames: plan.fields.map((f) => enumOf(f)?.valuesById),
    enumValues: plan.fields.map((f) => enumOf(f)?.values),
    jsonSub,
    protoSub,
    utf8: (text: string) => new Uint8Array(Buffer.from(text, 'utf8')),
    int64Number,
    int64Long,
    base64,
  };
}

const INT64_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** Wire types by proto scalar type (protobufjs' `types.basic`); enums are varints. */
const WIRE_TYPE: Readonly<Record<string, number>> = {
  double: 1,
  float: 5,
  int32: 0,
  uint32: 0,
  sint32: 0,
  fixed32: 5,
  sfixed32: 5,
  int64: 0,
  uint64: 0,
  sint64: 0,
  fixed64: 1,
  sfixed64: 1,
  bool: 0,
  string: 2,
  bytes: 2,
};

// ---- generated JSON ----

/** Statement writing one value `x` of field i (a scalar or a message) into sink b. */
function jsonValueStmt(f: protobuf.Field, i: number, x: string): string {
  if (subPlan(f) !== undefined) {
    return `if ((r = ${x}[REUSE]) === undefined) sub${i}.json(${x}, b); else if (r.jsonPlan === sub${i}) b.bytes(r.json); else rt.jsonSub(sub${i}, ${x}, r, b);`;
  }
  if (enumOf(f) !== undefined) return `b.byte(34); b.ascii(typeof ${x} === 'number' ? rt.enumNames[${i}][${x}] : ${x}); b.byte(34);`;
  if (INT64_TYPES.has(f.type)) return `b.ascii('' + rt.int64Number(${x}));`;
  switch (f.type) {
    case 'string':
      return `b.string(${x});`;
    case 'bool':
      return `b.ascii(${x} ? 'true' : 'false');`;
    case 'bytes':
      return `b.ascii(JSON.stringify(rt.base64(${x})));`;
    default:
      // Finite numbers print the same through String and JSON.stringify (-0 as 0 in both).
      return `b.ascii('' + ${x});`;
  }
}

function generateJson(plan: TypePlan): (o: Json, b: JsonSink) => void {
  const lines = ['let v;', 'let r;', 'let first = true;', 'b.byte(123);'];
  plan.fields.forEach((f, i) => {
    // The key with and without the comma before it, as constant bytes.
    const key = `if (first) { b.bytes(K${i}); first = false; } else b.bytes(C${i});`;
    lines.push(`v = o[${JSON.stringify(f.name)}];`);
    if (f.repeated) {
      lines.push(
        `if (v != null && v.length > 0) {`,
        `  ${key} b.byte(91);`,
        `  for (let k = 0; k < v.length; k++) { if (k > 0) b.byte(44); const x = v[k]; ${jsonValueStmt(f, i, 'x')} }`,
        `  b.byte(93);`,
        `}`,
      );
    } else {
      lines.push(`if (v != null) { ${key} ${jsonValueStmt(f, i, 'v')} }`);
    }
  });
  lines.push('b.byte(125);');
  const keys = plan.fields
    .map((f, i) => `const K${i} = rt.utf8(${JSON.stringify(`${JSON.stringify(f.name)}:`)});\nconst C${i} = rt.utf8(${JSON.stringify(`,${JSON.stringify(f.name)}:`)});\n`)
    .join('');
  return compile<(o: Json, b: JsonSink) => void>(plan, ['o', 'b'], lines, keys);
}

// ---- generated protobuf ----

/** Statements writing one value `x` of field i, tag included. */
function protoValueStmt(f: protobuf.Field, i: number, x: string): string {
  const sub = subPlan(f);
  if (sub !== undefined) {
    // The slot is read here, at a site that only sees this field's objects (one shape, fast), not in a shared helper.
    return `w.uint32(${((f.id << 3) | 2) >>> 0}); if ((r = ${x}[REUSE]) === undefined) { w.fork(); sub${i}.proto(${x}, w); w.ldelim(); } else if (r.protoPlan === sub${i}) w.bytes(r.proto); else rt.protoSub(sub${i}, ${x}, r, w);`;
  }
  const tag = enumOf(f) !== undefined ? (f.id << 3) >>> 0 : ((f.id << 3) | WIRE_TYPE[f.type]) >>> 0;
  return `w.uint32(${tag}); ${protoScalarStmt(f, i, x)}`;
}

/** The write of a scalar value, no tag. */
function protoScalarStmt(f: protobuf.Field, i: number, x: string): string {
  if (enumOf(f) !== undefined) return `w.int32(typeof ${x} === 'number' ? ${x} : rt.enumValues[${i}][${x}]);`;
  if (INT64_TYPES.has(f.type)) return `w.${f.type}(rt.int64Long(${x}, ${f.type === 'uint64' || f.type === 'fixed64'}));`;
  if (f.type === 'bytes') return `w.bytes(rt.base64(${x}));`;
  return `w.${f.type}(${x});`;
}

function generateProto(plan: TypePlan): (o: Json, w: ProtoSink) => void {
  const lines = ['let v;', 'let r;'];
  // protobufjs writes fields in field-number order.
  const byId = plan.fields.map((f, i) => [f, i] as const).sort((a, b) => a[0].id - b[0].id);
  for (const [f, i] of byId) {
    lines.push(`v = o[${JSON.stringify(f.name)}];`);
    if (f.repeated && f.packed && subPlan(f) === undefined && f.type !== 'string' && f.type !== 'bytes') {
      lines.push(`if (v != null && v.length > 0) { w.uint32(${((f.id << 3) | 2) >>> 0}).fork(); for (const x of v) { ${protoScalarStmt(f, i, 'x')} } w.ldelim(); }`);
    } else if (f.repeated) {
      lines.push(`if (v != null && v.length > 0) for (let k = 0; k < v.length; k++) { const x = v[k]; ${protoValueStmt(f, i, 'x')} }`);
    } else {
      lines.push(`if (v != null) { ${protoValueStmt(f, i, 'v')} }`);
    }
  }
  return compile<(o: Json, w: ProtoSink) => void>(plan, ['o', 'w'], lines);
}

/**
 * Turns generated statements into a function. Only field names, numbers and
 * types from the loaded .proto files go into the source (names are quoted
 * with JSON.stringify), never data from a message.
 */
function compile<F>(plan: TypePlan, params: readonly string[], lines: readonly string[], constants = ''): F {
  const subs = plan.fields.map((f, i) => (subPlan(f) !== undefined ? `const sub${i} = rt.subs[${i}];\n` : '')).join('');
  const source = `const REUSE = rt.reuse;\n${subs}${constants}return function encode_${plan.type.name}(${params.join(', ')}) {\n${lines.join('\n')}\n};`;
  const make = new Function('rt', source) as (rt: Runtime) => F;
  return make(runtimeOf(plan));
}
