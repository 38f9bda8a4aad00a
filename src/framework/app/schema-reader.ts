/**
 * Schema-level reading of untrusted JSON, the way Marathon's RAML-generated
 * Play JSON readers do it: each reader checks one value's type and bounds and,
 * on failure, records Play's error key (`error.expected.jsnumber`,
 * `error.min`, `error.pattern`, `error.unknown.enum.literal`, ...) at a
 * Marathon-style path (`/fetch(0)/uri`), then answers `INVALID` so the caller
 * keeps going and every violation is reported, not just the first.
 *
 * Invariants: readers never throw on bad input and never recurse into data
 * they were not asked to read (unknown fields are not visited, so deep nesting
 * costs nothing); `null` is "absent", as Play's `validateOpt` treats it; map
 * keys such as `__proto__` stay plain own properties; `-0` reads as `0`.
 * No I/O here.
 */
import { Violations } from './app-errors.ts';

export const INVALID: unique symbol = Symbol('invalid');
export type Read<T> = T | typeof INVALID;
export type JsonObject = { readonly [key: string]: unknown };

export const INT32_MAX = 2_147_483_647;
export const INT32_MIN = -2_147_483_648;

export interface StringRules {
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Must match the whole string, as Play's `pattern` does. */
  readonly pattern?: RegExp;
  /** A pattern written as code (for patterns whose regex would backtrack badly); failing it is `error.pattern`. */
  readonly matches?: (s: string) => boolean;
}

export interface NumberRules {
  readonly min?: number;
  readonly max?: number;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value of an own field, with `null` read as absent. */
export function field(obj: JsonObject, key: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  const v = obj[key];
  return v === null ? undefined : v;
}

export function hasField(obj: JsonObject, key: string): boolean {
  return field(obj, key) !== undefined;
}

export function childPath(path: string, key: string): string {
  return `${path}/${key}`;
}

export function indexPath(path: string, index: number): string {
  return `${path}(${index})`;
}

const anchored = new WeakMap<RegExp, RegExp>();

/** Whole-string match, as Java's `matches()` (which Play's `pattern` uses): every alternative may match the whole. */
function fullMatch(re: RegExp, s: string): boolean {
  let whole = anchored.get(re);
  if (whole === undefined) {
    whole = new RegExp(`^(?:${re.source})$`, re.flags.replace(/[gy]/g, ''));
    anchored.set(re, whole);
  }
  return whole.test(s);
}

/** Reads values, recording Play's error keys into `violations`. */
export class SchemaReader {
  readonly violations: Violations;

  constructor(violations = new Violations()) {
    this.violations = violations;
  }

  private fail(path: string, key: string): typeof INVALID {
    this.violations.add(path, key);
    return INVALID;
  }

  string(v: unknown, path: string, rules: StringRules = {}): Read<string> {
    if (typeof v !== 'string') return this.fail(path, 'error.expected.jsstring');
    let ok = true;
    if (rules.minLength !== undefined && v.length < rules.minLength) ok = this.flag(path, 'error.minLength');
    if (rules.maxLength !== undefined && v.length > rules.maxLength) ok = this.flag(path, 'error.maxLength');
    if (rules.pattern !== undefined && !fullMatch(rules.pattern, v)) ok = this.flag(path, 'error.pattern');
    if (rules.matches !== undefined && !rules.matches(v)) ok = this.flag(path, 'error.pattern');
    return ok ? v : INVALID;
  }

  /** A JSON number read into a Scala `Int` (32 bits) or `Long` (64 bits, limited to 2^53 here). */
  integer(v: unknown, path: string, rules: NumberRules & { readonly bits?: 32 | 64 } = {}): Read<number> {
    if (typeof v !== 'number') return this.fail(path, 'error.expected.jsnumber');
    const bits = rules.bits ?? 32;
    const inRange = bits === 32 ? v >= INT32_MIN && v <= INT32_MAX : Number.isSafeInteger(v);
    if (!Number.isInteger(v) || !inRange) return this.fail(path, bits === 32 ? 'error.expected.int' : 'error.expected.long');
    return this.bounds(v === 0 ? 0 : v, path, rules);
  }

  /** A JSON number read into a Scala `Double`; NaN and ±Infinity are not JSON numbers. */
  double(v: unknown, path: string, rules: NumberRules = {}): Read<number> {
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(path, 'error.expected.jsnumber');
    return this.bounds(v === 0 ? 0 : v, path, rules);
  }

  boolean(v: unknown, path: string): Read<boolean> {
    if (typeof v !== 'boolean') return this.fail(path, 'error.expected.jsboolean');
    return v;
  }

  /** Marathon's generated enum readers match case-insensitively and answer the canonical spelling. */
  enumLiteral<T extends string>(v: unknown, path: string, values: readonly T[]): Read<T> {
    if (typeof v === 'string') {
      const lower = v.toLowerCase();
      const hit = values.find((x) => x.toLowerCase() === lower);
      if (hit !== undefined) return hit;
    }
    return this.fail(path, 'error.unknown.enum.literal');
  }

  object(v: unknown, path: string): Read<JsonObject> {
    if (!isJsonObject(v)) return this.fail(path, 'error.expected.jsobject');
    return v;
  }

  /** An array whose items are each read by `item`; one bad item does not hide the others. */
  array<T>(
    v: unknown,
    path: string,
    item: (x: unknown, itemPath: string) => Read<T>,
    rules: { readonly minItems?: number; readonly maxItems?: number } = {},
  ): Read<T[]> {
    if (!Array.isArray(v)) return this.fail(path, 'error.expected.jsarray');
    const arr: readonly unknown[] = v;
    let ok = true;
    if (rules.minItems !== undefined && arr.length < rules.minItems) ok = this.flag(path, 'error.minLength');
    if (rules.maxItems !== undefined && arr.length > rules.maxItems) ok = this.flag(path, 'error.maxLength');
    const out: T[] = [];
    arr.forEach((x, i) => {
      const r = item(x, indexPath(path, i));
      if (r === INVALID) ok = false;
      else out.push(r);
    });
    return ok ? out : INVALID;
  }

  /** A JSON object of string values (labels, env); keys are kept as own properties. */
  stringMap(v: unknown, path: string): Read<Record<string, string>> {
    if (!isJsonObject(v)) return this.fail(path, 'error.expected.jsobject');
    let ok = true;
    const entries: [string, string][] = [];
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string') entries.push([k, x]);
      else ok = this.flag(childPath(path, k), 'error.expected.jsstring');
    }
    return ok ? Object.fromEntries(entries) : INVALID;
  }

  private bounds(v: number, path: string, rules: NumberRules): Read<number> {
    let ok = true;
    if (rules.min !== undefined && v < rules.min) ok = this.flag(path, 'error.min');
    if (rules.max !== undefined && v > rules.max) ok = this.flag(path, 'error.max');
    return ok ? v : INVALID;
  }

  private flag(path: string, key: string): false {
    this.violations.add(path, key);
    return false;
  }
}

/** Reads `obj[key]` with `read` if present; `undefined` when absent or null. */
export function optional<T>(
  obj: JsonObject,
  key: string,
  path: string,
  read: (v: unknown, p: string) => Read<T>,
): Read<T> | undefined {
  const v = field(obj, key);
  return v === undefined ? undefined : read(v, childPath(path, key));
}
