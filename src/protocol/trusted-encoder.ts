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
 * Reuse: a sub-message whose object is deep-frozen (it and everything under
 * it Object.freeze'd, as offer-message.ts does for an agent's url, id and
 * attributes) cannot change, so its encoding is cached per type by object
 * identity (WeakMap, so it goes when the object does) and written again for
 * every later offer that shares it.
 *
 * Pure apart from the caches; no I/O.
 */

import protobuf from 'protobufjs';
import type { MessageName } from './proto-registry.ts';
import { messageType } from './proto-registry.ts';
import type { MediaType } from './media.ts';

type Json = Record<string, unknown>;

type ScalarKind = 'string' | 'bool' | 'number' | 'int64' | 'bytes' | 'enum';

interface FieldPlan {
  readonly name: string;
  readonly id: number;
  readonly repeated: boolean;
  readonly packed: boolean;
  /** `"name":` ready to append. */
  readonly jsonKey: string;
  readonly protoType: string;
  readonly kind: ScalarKind | 'message';
  readonly unsigned: boolean;
  readonly message: TypePlan | undefined;
  readonly enumType: protobuf.Enum | undefined;
}

interface TypePlan {
  /** Declaration order: the key order of the codec's JSON. */
  readonly fields: FieldPlan[];
  /** Field-number order: the order protobufjs writes fields in. */
  readonly byId: FieldPlan[];
  readonly jsonCache: WeakMap<object, string>;
  readonly protoCache: WeakMap<object, Uint8Array>;
}

const plans = new Map<protobuf.Type, TypePlan>();

function planOf(type: protobuf.Type): TypePlan {
  let plan = plans.get(type);
  if (plan !== undefined) return plan;
  const fields: FieldPlan[] = [];
  plan = { fields, byId: [], jsonCache: new WeakMap(), protoCache: new WeakMap() };
  // Registered before the fields are planned, so self-recursive types terminate.
  plans.set(type, plan);
  for (const field of type.fieldsArray) {
    field.resolve();
    const resolved = field.resolvedType;
    const isMessage = resolved !== null && 'fieldsArray' in resolved;
    const enumType = resolved !== null && !isMessage ? (resolved as protobuf.Enum) : undefined;
    fields.push({
      name: field.name,
      id: field.id,
      repeated: field.repeated,
      packed: field.repeated && field.packed && !isMessage && field.type !== 'string' && field.type !== 'bytes',
      jsonKey: `${JSON.stringify(field.name)}:`,
      protoType: enumType !== undefined ? 'enum' : field.type,
      kind: isMessage ? 'message' : enumType !== undefined ? 'enum' : scalarKind(field.type),
      unsigned: field.type === 'uint64' || field.type === 'fixed64',
      message: isMessage ? planOf(resolved as protobuf.Type) : undefined,
      enumType,
    });
  }
  plan.byId.push(...[...fields].sort((a, b) => a.id - b.id));
  return plan;
}

function scalarKind(protoType: string): ScalarKind {
  switch (protoType) {
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    case 'bytes':
      return 'bytes';
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return 'int64';
    default:
      return 'number';
  }
}

/** Mesos JSON of a master-built message; equal to codec.encodeJson's output. */
export function encodeTrustedJson(name: MessageName, msg: object): string {
  return jsonMessage(planOf(messageType(name)), msg as Json).json;
}

/** Protobuf of a master-built message; equal to codec.encodeProtobuf's output. */
export function encodeTrustedProtobuf(name: MessageName, msg: object): Uint8Array {
  const w = protobuf.Writer.create();
  protoMessage(planOf(messageType(name)), msg as Json, w);
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

// ---- JSON ----

/** A message's JSON and whether the object and all under it are frozen (so the JSON may be cached). */
interface Encoded<T> {
  readonly json: T;
  readonly frozen: boolean;
}

function jsonMessage(plan: TypePlan, obj: Json): Encoded<string> {
  const frozenHere = Object.isFrozen(obj);
  if (frozenHere) {
    const cached = plan.jsonCache.get(obj);
    if (cached !== undefined) return { json: cached, frozen: true };
  }
  let frozen = frozenHere;
  let out = '{';
  let first = true;
  for (const f of plan.fields) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    let part: string;
    if (f.repeated) {
      const items = v as unknown[];
      if (!Object.isFrozen(items)) frozen = false;
      if (items.length === 0) continue;
      part = '[';
      for (let i = 0; i < items.length; i++) {
        if (i > 0) part += ',';
        if (f.message !== undefined) {
          const e = jsonMessage(f.message, items[i] as Json);
          if (!e.frozen) frozen = false;
          part += e.json;
        } else {
          part += jsonScalar(f, items[i]);
        }
      }
      part += ']';
    } else if (f.message !== undefined) {
      const e = jsonMessage(f.message, v as Json);
      if (!e.frozen) frozen = false;
      part = e.json;
    } else {
      part = jsonScalar(f, v);
    }
    out += first ? f.jsonKey : `,${f.jsonKey}`;
    out += part;
    first = false;
  }
  out += '}';
  if (frozen) plan.jsonCache.set(obj, out);
  return { json: out, frozen };
}

function jsonScalar(f: FieldPlan, v: unknown): string {
  switch (f.kind) {
    case 'string':
      return JSON.stringify(v);
    case 'bool':
      return v === true ? 'true' : 'false';
    case 'number':
      return JSON.stringify(v);
    case 'int64':
      return JSON.stringify(int64Number(v));
    case 'enum':
      return JSON.stringify(enumName(f, v));
    case 'bytes':
      return JSON.stringify(Buffer.from(v as string, 'base64').toString('base64'));
    case 'message':
      throw new Error(`unreachable: message field ${f.name} as a scalar`);
  }
}

/** As the codec: a number stays (without -0), a numeric string becomes the nearest double. */
function int64Number(v: unknown): number {
  const n = typeof v === 'string' ? Number(BigInt(v)) : (v as number);
  return n === 0 ? 0 : n;
}

function enumName(f: FieldPlan, v: unknown): string {
  return typeof v === 'number' ? (f.enumType?.valuesById[v] ?? String(v)) : (v as string);
}

// ---- protobuf ----

/** Wire types by proto scalar type (protobufjs' `types.basic`). */
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
  enum: 0,
  string: 2,
  bytes: 2,
};

/** Writes a message's fields (no tag, no length); returns whether the object is deep-frozen. */
function protoMessage(plan: TypePlan, obj: Json, w: protobuf.Writer): boolean {
  let frozen = Object.isFrozen(obj);
  for (const f of plan.byId) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      const items = v as unknown[];
      if (!Object.isFrozen(items)) frozen = false;
      if (items.length === 0) continue;
      if (f.packed) {
        w.uint32(((f.id << 3) | 2) >>> 0).fork();
        for (const item of items) protoScalar(f, item, w);
        w.ldelim();
        continue;
      }
      for (const item of items) {
        if (f.message !== undefined) {
          if (!protoSubMessage(f, item as Json, w)) frozen = false;
        } else {
          w.uint32(((f.id << 3) | WIRE_TYPE[f.protoType]) >>> 0);
          protoScalar(f, item, w);
        }
      }
    } else if (f.message !== undefined) {
      if (!protoSubMessage(f, v as Json, w)) frozen = false;
    } else {
      w.uint32(((f.id << 3) | WIRE_TYPE[f.protoType]) >>> 0);
      protoScalar(f, v, w);
    }
  }
  return frozen;
}

/** Tag, length and body of a sub-message; a deep-frozen one is encoded once and its bytes reused. */
function protoSubMessage(f: FieldPlan, obj: Json, w: protobuf.Writer): boolean {
  const plan = f.message as TypePlan;
  w.uint32(((f.id << 3) | 2) >>> 0);
  if (Object.isFrozen(obj)) {
    let bytes = plan.protoCache.get(obj);
    if (bytes !== undefined) {
      w.bytes(bytes);
      return true;
    }
    const own = protobuf.Writer.create();
    const frozen = protoMessage(plan, obj, own);
    bytes = own.finish();
    if (frozen) plan.protoCache.set(obj, bytes);
    w.bytes(bytes);
    return frozen;
  }
  w.fork();
  protoMessage(plan, obj, w);
  w.ldelim();
  return false;
}

const Long = protobuf.util.Long;

function protoScalar(f: FieldPlan, v: unknown, w: protobuf.Writer): void {
  switch (f.protoType) {
    case 'string':
      w.string(v as string);
      return;
    case 'bool':
      w.bool(v as boolean);
      return;
    case 'double':
      w.double(v as number);
      return;
    case 'float':
      w.float(v as number);
      return;
    case 'int32':
      w.int32(v as number);
      return;
    case 'uint32':
      w.uint32(v as number);
      return;
    case 'sint32':
      w.sint32(v as number);
      return;
    case 'fixed32':
      w.fixed32(v as number);
      return;
    case 'sfixed32':
      w.sfixed32(v as number);
      return;
    case 'enum':
      w.int32(typeof v === 'number' ? v : (f.enumType as protobuf.Enum).values[v as string]);
      return;
    case 'bytes':
      // Normalised as toCanonical does, then decoded by protobufjs' own base64 decoder, as fromObject does.
      w.bytes(Buffer.from(v as string, 'base64').toString('base64'));
      return;
    default:
      protoInt64(f, v, w);
  }
}

/**
 * 64-bit integers as the codec writes them: toCanonical makes the value a
 * double, fromObject makes a Long of it with Long.fromValue(value, unsigned),
 * which saturates at the type's range. (Never set `.unsigned` on the result:
 * saturated values are Long's shared MAX_VALUE constants.)
 */
function protoInt64(f: FieldPlan, v: unknown, w: protobuf.Writer): void {
  const value = Long.fromValue(int64Number(v), f.unsigned);
  switch (f.protoType) {
    case 'int64':
      w.int64(value);
      return;
    case 'uint64':
      w.uint64(value);
      return;
    case 'sint64':
      w.sint64(value);
      return;
    case 'fixed64':
      w.fixed64(value);
      return;
    case 'sfixed64':
      w.sfixed64(value);
      return;
  }
}
