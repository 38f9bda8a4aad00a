/**
 * The strict check from "any parsed JSON value" to the canonical in-memory
 * shape of a message (the interfaces in mesos-types.ts / agent-types.ts):
 *
 *   snake_case field names only; unknown fields dropped (as Mesos does);
 *   null = absent; empty repeated fields dropped; enums as their names (a
 *   known number is accepted and turned into its name; an unknown name is
 *   dropped where the field may be absent, as Mesos' parser drops it, so a
 *   client on newer protos gets through); 64-bit integers as
 *   numbers (see below); bytes as padded standard base64; every `required`
 *   field present.
 *
 * 64-bit integers (int64/uint64 and kin): Mesos' JSON writes them as JSON
 * numbers, and real values exceed 2^53 (TimeInfo.nanoseconds of an epoch time
 * is ~1.8e18). Accepted: an integral JSON number within the type's range (the
 * bound itself, 2^63 resp. 2^64, is let in because that is the double
 * INT64_MAX / UINT64_MAX parse to), or a decimal numeric string checked
 * exactly against the range. The canonical value is a JS number: above 2^53
 * it is the nearest double (precision loss of up to 2^(e-52), i.e. ~256 ns on
 * an epoch time in ns). Emitted JSON writes it as a plain integer number;
 * protobuf encodes it through Long (a value at the bound saturates to the
 * maximum). Fractions, exponents in strings, hex, NaN/Infinity and anything
 * outside the range stay rejected.
 *
 * Both decoders and both encoders pass through `toCanonical`, so JSON and
 * protobuf bodies of the same message yield deep-equal objects.
 *
 * Invariants: pure (no I/O); never throws anything but ValidationError, whose
 * path names the offending field (`accept.operations[0].launch.task_infos[1]
 * .task_id.value`); recursion is bounded by MAX_MESSAGE_DEPTH.
 */

import type protobuf from 'protobufjs';
import { ValidationError } from '../common/errors.ts';

/**
 * Deepest nesting of messages accepted. Real Mesos messages nest about ten
 * deep (Call.accept.operations.launch.task_infos.executor.container.docker
 * .port_mappings); only self-recursive ones (ContainerID.parent) could go
 * further, and a hostile body must not exhaust the stack.
 */
export const MAX_MESSAGE_DEPTH = 32;

/** Longest snippet of a bad value quoted back in an error. */
const MAX_QUOTED_CHARS = 40;

type Json = Record<string, unknown>;

/** Checks `value` against `type` and returns its canonical form (a fresh object). */
export function toCanonical(type: protobuf.Type, value: unknown, path = ''): Json {
  return messageValue(type, value, path, 0);
}

/** What toCanonical needs to know about one field, computed once per field. */
interface FieldPlan {
  readonly field: protobuf.Field;
  readonly name: string;
  readonly repeated: boolean;
  readonly required: boolean;
  readonly message: protobuf.Type | undefined;
  readonly enumType: protobuf.Enum | undefined;
}

interface TypePlan {
  /** In declaration order, so output key order is stable whatever the input order. */
  readonly fields: readonly FieldPlan[];
}

const plans = new WeakMap<protobuf.Type, TypePlan>();

function planOf(type: protobuf.Type): TypePlan {
  let plan = plans.get(type);
  if (plan === undefined) {
    plan = {
      fields: type.fieldsArray.map((field) => {
        const resolved = field.resolvedType;
        const isMessage = resolved !== null && 'fieldsArray' in resolved;
        return {
          field,
          name: field.name,
          repeated: field.repeated,
          required: field.required,
          message: isMessage ? (resolved as protobuf.Type) : undefined,
          enumType: resolved !== null && !isMessage ? (resolved as protobuf.Enum) : undefined,
        };
      }),
    };
    plans.set(type, plan);
  }
  return plan;
}

const hasOwn = Object.prototype.hasOwnProperty;

function messageValue(type: protobuf.Type, value: unknown, path: string, depth: number): Json {
  if (!isPlainObject(value)) throw new ValidationError(path, `an object (${type.name})`, describeGot(value));
  if (depth >= MAX_MESSAGE_DEPTH) {
    throw new ValidationError(path, `messages nested at most ${MAX_MESSAGE_DEPTH} deep`, 'deeper nesting');
  }
  const out: Json = {};
  for (const plan of planOf(type).fields) {
    const raw = hasOwn.call(value, plan.name) ? value[plan.name] : undefined;
    if (raw === undefined || raw === null) {
      if (plan.required) throw new ValidationError(join(path, plan.name), `${expectedOf(plan.field)} (required field)`, 'nothing');
      continue;
    }
    if (plan.repeated) {
      if (!Array.isArray(raw)) throw new ValidationError(join(path, plan.name), `an array of ${expectedOf(plan.field)}`, describeGot(raw));
      if (raw.length === 0) continue;
      const items: unknown[] = [];
      for (let i = 0; i < raw.length; i++) {
        if (isUnknownEnumName(plan, raw[i])) continue;
        items.push(fieldValue(plan, raw[i], path, i, depth));
      }
      if (items.length > 0) out[plan.name] = items;
    } else {
      // A value this build does not know, in a field that may be absent, is dropped, as Mesos' JSON parser
      // drops it: a client built on newer protos still gets through (and hears of a required field's absence).
      if (!plan.required && isUnknownEnumName(plan, raw)) continue;
      out[plan.name] = fieldValue(plan, raw, path, -1, depth);
    }
  }
  return out;
}

/** Paths are built only when an error needs one (or a nested message is entered). */
function join(path: string, name: string, index = -1): string {
  const base = path === '' ? name : `${path}.${name}`;
  return index < 0 ? base : `${base}[${index}]`;
}

function fieldValue(plan: FieldPlan, value: unknown, parentPath: string, index: number, depth: number): unknown {
  if (plan.message !== undefined) return messageValue(plan.message, value, join(parentPath, plan.name, index), depth + 1);
  // Fast paths for the common well-typed cases; everything else goes through the checks below.
  switch (plan.field.type) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'double':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      break;
    case 'bool':
      if (typeof value === 'boolean') return value;
      break;
  }
  if (plan.enumType !== undefined) return enumValue(plan.enumType, value, join(parentPath, plan.name, index));
  return scalarValue(plan.field.type, value, join(parentPath, plan.name, index));
}

/** An enum field given a name that is not one of its values (a newer proto's value, say). */
function isUnknownEnumName(plan: FieldPlan, value: unknown): boolean {
  return plan.enumType !== undefined && typeof value === 'string' && !Object.prototype.hasOwnProperty.call(plan.enumType.values, value);
}

function enumValue(e: protobuf.Enum, value: unknown, path: string): string {
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(e.values, value)) return value;
  if (typeof value === 'number' && Number.isInteger(value)) {
    const name = e.valuesById[value];
    if (name !== undefined) return name;
  }
  throw new ValidationError(path, `one of ${Object.keys(e.values).join(', ')}`, describeGot(value));
}

const INT32_RANGE: readonly [number, number] = [-2147483648, 2147483647];
const UINT32_RANGE: readonly [number, number] = [0, 4294967295];

/** A 64-bit integer type's exact bounds and how its bounds are shown in errors. */
interface Int64Range {
  readonly lo: bigint;
  readonly hi: bigint;
  readonly expected: string;
}
const INT64_RANGE: Int64Range = { lo: -(2n ** 63n), hi: 2n ** 63n - 1n, expected: 'an int64 integer in [-2^63, 2^63-1] (number or numeric string)' };
const UINT64_RANGE: Int64Range = { lo: 0n, hi: 2n ** 64n - 1n, expected: 'a uint64 integer in [0, 2^64-1] (number or numeric string)' };

function scalarValue(protoType: string, value: unknown, path: string): unknown {
  switch (protoType) {
    case 'string':
      if (typeof value !== 'string') throw new ValidationError(path, 'a string', describeGot(value));
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw new ValidationError(path, 'a boolean', describeGot(value));
      return value;
    case 'double':
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(path, 'a number', describeGot(value));
      return value;
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return integerValue(value, path, INT32_RANGE);
    case 'uint32':
    case 'fixed32':
      return integerValue(value, path, UINT32_RANGE);
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return int64Value(value, path, INT64_RANGE);
    case 'uint64':
    case 'fixed64':
      return int64Value(value, path, UINT64_RANGE);
    case 'bytes':
      return bytesValue(value, path);
    default:
      throw new ValidationError(path, `a supported field type (not ${protoType})`);
  }
}

const NUMERIC_STRING = /^-?[0-9]{1,20}$/;

function integerValue(value: unknown, path: string, range: readonly [number, number]): number {
  const [lo, hi] = range;
  const expected = `an integer in [${lo}, ${hi}]`;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) throw new ValidationError(path, expected, describeGot(value));
  return value === 0 ? 0 : value; // no -0
}

/** A 64-bit integer (see the header): exact range check for strings, the nearest double as the value. */
function int64Value(value: unknown, path: string, range: Int64Range): number {
  if (typeof value === 'number') {
    // The double nearest hi is hi + 1 (2^63 / 2^64): let it in, it is what INT64_MAX / UINT64_MAX parse to.
    if (Number.isInteger(value) && value >= Number(range.lo) && value <= Number(range.hi)) return value === 0 ? 0 : value;
  } else if (typeof value === 'string' && NUMERIC_STRING.test(value)) {
    const exact = BigInt(value);
    if (exact >= range.lo && exact <= range.hi) return Number(exact);
  }
  throw new ValidationError(path, range.expected, describeGot(value));
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

function bytesValue(value: unknown, path: string): string {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new ValidationError(path, 'base64-encoded bytes', describeGot(value));
  // Re-encode so stray trailing bits and missing padding cannot make two
  // spellings of the same bytes compare unequal.
  return Buffer.from(value, 'base64').toString('base64');
}

function expectedOf(field: protobuf.Field): string {
  const resolved = field.resolvedType;
  if (resolved !== null && 'fieldsArray' in resolved) return `an object (${resolved.name})`;
  if (resolved !== null) return `an enum value (${resolved.name})`;
  return `a ${field.type}`;
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** One short phrase for a value that was not what was expected: `number 5`, `string "x"`, `an array`. */
export function describeGot(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS)}…` : value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'undefined':
      return 'nothing';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}
