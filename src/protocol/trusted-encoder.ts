/**
 * The trusted encoder: JSON and protobuf bodies of messages the master built
 * itself (events on its streams), without the codec's validation pass.
 *
 *   codec.ts:   object ─▶ toCanonical (check + copy) ─▶ JSON.stringify | fromObject + encode
 *   here:       object ─▶ one walk over the type's fields ─▶ string | protobuf bytes
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
 * agent's url, id, attributes and last-offered resources, so each is encoded
 * once and its bytes are written again for every later offer sharing it.
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
  /** The message's JSON object (`{...}`). */
  json: (o: Json) => string;
  /** The message's fields (no tag, no length) into `w`. */
  proto: (o: Json, w: protobuf.Writer) => void;
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
    json: (o) => {
      p.json = generateJson(p);
      return p.json(o);
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
  return planOf(messageType(name)).json(msg as Json);
}

/** Protobuf of a master-built message; equal to codec.encodeProtobuf's output. */
export function encodeTrustedProtobuf(name: MessageName, msg: object): Uint8Array {
  const w = protobuf.Writer.create();
  planOf(messageType(name)).proto(msg as Json, w);
  return w.finish();
}

/** Like codec.encodeBodyBytes, trusted. */
export function encodeTrustedBodyBytes(name: MessageName, media: MediaType, msg: object): Uint8Array {
  return media === 'application/json' ? Buffer.from(encodeTrustedJson(name, msg), 'utf8') : encodeTrustedProtobuf(name, msg);
}

/**
 * One RecordIO record (`<length>\n<body>`, as recordio.encodeRecord frames
 * it) of a master-built message, written into a single buffer: the stream
 * writes it as is.
 */
export function encodeTrustedRecord(name: MessageName, media: MediaType, msg: object): Buffer {
  if (media === 'application/json') {
    const json = encodeTrustedJson(name, msg);
    const length = Buffer.byteLength(json, 'utf8');
    const header = `${length}\n`;
    const out = Buffer.allocUnsafe(header.length + length);
    out.write(header, 0, 'latin1');
    out.write(json, header.length, 'utf8');
    return out;
  }
  const body = encodeTrustedProtobuf(name, msg);
  const header = `${body.byteLength}\n`;
  const out = Buffer.allocUnsafe(header.length + body.byteLength);
  out.write(header, 0, 'latin1');
  out.set(body, header.length);
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
  json: string;
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
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    for (const item of value) sealForReuse(item);
  } else {
    for (const v of Object.values(value)) sealForReuse(v);
    const slot: ReuseSlot = { jsonPlan: undefined, json: '', protoPlan: undefined, proto: undefined };
    Object.defineProperty(value, REUSE, { value: slot, enumerable: false });
  }
  return Object.freeze(value);
}

/** Fills a sealed sub-message's slot with its JSON (the generated code reads the slot itself). */
function jsonSub(plan: TypePlan, o: Json, slot: ReuseSlot): string {
  slot.json = flatten(plan.json(o));
  slot.jsonPlan = plan;
  return slot.json;
}

/**
 * The string built by `+=` is a rope (V8 cons string). A cached fragment is
 * copied into thousands of offers; left a rope, it is walked again every
 * time an offer is flattened for writing (that walk cost more than building
 * the JSON). ToNumber flattens a string in place.
 */
function flatten(s: string): string {
  void Number(s);
  return s;
}

/** Fills a sealed sub-message's slot with its protobuf body (no tag, no length). */
function protoSub(plan: TypePlan, o: Json, slot: ReuseSlot): Uint8Array {
  const own = protobuf.Writer.create();
  plan.proto(o, own);
  const bytes = own.finish();
  slot.proto = bytes;
  slot.protoPlan = plan;
  return bytes;
}

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

/** Strings longer than this go straight to JSON.stringify (the scan below only pays off on short ones). */
const MAX_SCANNED_STRING = 64;

/**
 * A JSON string literal, exactly as JSON.stringify writes it. Most strings
 * (ids, names, hostnames) need no escape: quoting them directly is several
 * times cheaper than the call. JSON.stringify escapes `"`, `\`, controls
 * below 0x20 and lone surrogates; a string with any of these, or any
 * surrogate at all, is left to it.
 */
function jsonString(v: string): string {
  if (v.length > MAX_SCANNED_STRING) return JSON.stringify(v);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(v);
  }
  return `"${v}"`;
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
  readonly jsonString: typeof jsonString;
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
    jsonString,
    protoSub,
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

/** JSON expression of one value `x` of field i (a scalar or a message). */
function jsonValueExpr(f: protobuf.Field, i: number, x: string): string {
  if (subPlan(f) !== undefined) return `((r = ${x}[REUSE]) === undefined ? sub${i}.json(${x}) : r.jsonPlan === sub${i} ? r.json : rt.jsonSub(sub${i}, ${x}, r))`;
  if (enumOf(f) !== undefined) return `'"' + (typeof ${x} === 'number' ? rt.enumNames[${i}][${x}] : ${x}) + '"'`;
  if (INT64_TYPES.has(f.type)) return `('' + rt.int64Number(${x}))`;
  switch (f.type) {
    case 'string':
      return `rt.jsonString(${x})`;
    case 'bool':
      return `(${x} ? 'true' : 'false')`;
    case 'bytes':
      return `JSON.stringify(rt.base64(${x}))`;
    default:
      // Finite numbers print the same through String and JSON.stringify (-0 as 0 in both).
      return `('' + ${x})`;
  }
}

function generateJson(plan: TypePlan): (o: Json) => string {
  const lines = ['let s = "{";', 'let v;', 'let r;'];
  plan.fields.forEach((f, i) => {
    // The key with and without the comma before it, as constants: nothing is written yet while s is just "{".
    const key = `(s.length === 1 ? ${JSON.stringify(`${JSON.stringify(f.name)}:`)} : ${JSON.stringify(`,${JSON.stringify(f.name)}:`)})`;
    lines.push(`v = o[${JSON.stringify(f.name)}];`);
    if (f.repeated) {
      lines.push(
        `if (v != null && v.length > 0) {`,
        `  s += ${key};`,
        `  s += '[' + ${jsonValueExpr(f, i, 'v[0]')};`,
        `  for (let k = 1; k < v.length; k++) s += ',' + ${jsonValueExpr(f, i, 'v[k]')};`,
        `  s += ']';`,
        `}`,
      );
    } else {
      lines.push(`if (v != null) s = s + ${key} + ${jsonValueExpr(f, i, 'v')};`);
    }
  });
  lines.push(`return s + '}';`);
  return compile<(o: Json) => string>(plan, ['o'], lines);
}

// ---- generated protobuf ----

/** Statements writing one value `x` of field i, tag included. */
function protoValueStmt(f: protobuf.Field, i: number, x: string): string {
  const sub = subPlan(f);
  if (sub !== undefined) {
    // The slot is read here, at a site that only sees this field's objects (one shape, fast), not in a shared helper.
    return `w.uint32(${((f.id << 3) | 2) >>> 0}); if ((r = ${x}[REUSE]) === undefined) { w.fork(); sub${i}.proto(${x}, w); w.ldelim(); } else w.bytes(r.protoPlan === sub${i} ? r.proto : rt.protoSub(sub${i}, ${x}, r));`;
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

function generateProto(plan: TypePlan): (o: Json, w: protobuf.Writer) => void {
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
  return compile<(o: Json, w: protobuf.Writer) => void>(plan, ['o', 'w'], lines);
}

/**
 * Turns generated statements into a function. Only field names, numbers and
 * types from the loaded .proto files go into the source (names are quoted
 * with JSON.stringify), never data from a message.
 */
function compile<F>(plan: TypePlan, params: readonly string[], lines: readonly string[]): F {
  const subs = plan.fields.map((f, i) => (subPlan(f) !== undefined ? `const sub${i} = rt.subs[${i}];\n` : '')).join('');
  const source = `const REUSE = rt.reuse;\n${subs}return function encode_${plan.type.name}(${params.join(', ')}) {\n${lines.join('\n')}\n};`;
  const make = new Function('rt', source) as (rt: Runtime) => F;
  return make(runtimeOf(plan));
}
