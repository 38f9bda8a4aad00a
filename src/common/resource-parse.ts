/**
 * Parsers for resources and attributes, in Mesos' text syntax and in the JSON
 * array form, with precise errors.
 *
 *   resources:  `cpus:4;mem:2048;ports:[31000-32000];cpus(role1):2;foo:{a,b}`
 *               or `[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}, ...]`
 *   attributes: `rack:a;zone:z1;level:3;ports:[1-5];tags:{x,y}`
 *
 * Invariants: every failure is a ValidationError whose path names the offending
 * entry (`resources[3]` is the 4th `;`-separated entry or JSON element) and
 * whose `got` quotes it. Accepted values are finite, non-negative, at most
 * 2^53 - 1; ranges are integral, begin <= end, not overlapping; set items are
 * non-empty and distinct. Duplicate resources (same name and role) are merged;
 * the same name with two different types is an error. No I/O here.
 */
import type { Attribute, Range, Resource, ValueType } from '../protocol/resource-types.ts';
import { ValidationError } from './errors.ts';
import { UNRESERVED_ROLE, normalize, resourceKey, roundScalar } from './resources.ts';

/** Largest accepted value: beyond it doubles lose integer precision. */
export const MAX_RESOURCE_VALUE = Number.MAX_SAFE_INTEGER;

const NAME_RE = /^[A-Za-z0-9_.\-/]+$/;
const ROLE_RE = /^(\*|[A-Za-z0-9_.\-/]+)$/;
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function quote(s: string): string {
  return JSON.stringify(s);
}

// ---------------------------------------------------------------------------
// Value parsing shared by resources and attributes

function parseNumber(text: string, path: string, what: string): number {
  const t = text.trim();
  if (!NUMBER_RE.test(t)) throw new ValidationError(path, `${what} to be a number`, quote(text));
  const v = Number(t);
  if (!Number.isFinite(v)) throw new ValidationError(path, `${what} to be a finite number`, quote(text));
  if (v < 0) throw new ValidationError(path, `${what} to be non-negative`, quote(text));
  if (v > MAX_RESOURCE_VALUE) throw new ValidationError(path, `${what} to be at most 2^53-1`, quote(text));
  return v;
}

function parseRangeBound(text: string, path: string): number {
  const v = parseNumber(text, path, 'range bound');
  if (!Number.isInteger(v)) throw new ValidationError(path, 'range bound to be an integer', quote(text));
  return v;
}

/** `[a-b,c-d]` (a single `n` means n-n). Rejects inverted and overlapping ranges. */
export function parseRangesText(text: string, path: string): Range[] {
  const t = text.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) throw new ValidationError(path, 'ranges like [a-b,c-d]', quote(text));
  const body = t.slice(1, -1).trim();
  if (body === '') return [];
  const out: Range[] = [];
  for (const part of body.split(',')) {
    const p = part.trim();
    const dash = p.indexOf('-', 1);
    const begin = parseRangeBound(dash < 0 ? p : p.slice(0, dash), path);
    const end = dash < 0 ? begin : parseRangeBound(p.slice(dash + 1), path);
    if (begin > end) throw new ValidationError(path, 'range begin <= end', quote(p));
    out.push({ begin, end });
  }
  checkNoOverlap(out, path);
  return out;
}

function checkNoOverlap(rs: readonly Range[], path: string): void {
  const sorted = [...rs].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin <= sorted[i - 1].end) {
      const a = sorted[i - 1];
      const b = sorted[i];
      throw new ValidationError(path, 'non-overlapping ranges', `${a.begin}-${a.end} and ${b.begin}-${b.end}`);
    }
  }
}

/** `{a,b}`: items non-empty and distinct. */
export function parseSetText(text: string, path: string): string[] {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) throw new ValidationError(path, 'a set like {a,b}', quote(text));
  const body = t.slice(1, -1).trim();
  if (body === '') return [];
  const out: string[] = [];
  const seen = new Set<string>();
  for (const part of body.split(',')) {
    const item = part.trim();
    if (item === '') throw new ValidationError(path, 'non-empty set items', quote(text));
    if (seen.has(item)) throw new ValidationError(path, 'distinct set items', `duplicate ${quote(item)}`);
    seen.add(item);
    out.push(item);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Resources, text form

/**
 * Parses resources in Mesos' text syntax, or the JSON array form when the text
 * starts with `[`. Entries without a role get `defaultRole` (`*` = unreserved).
 */
export function parseResources(text: string, defaultRole: string = UNRESERVED_ROLE, path = 'resources'): Resource[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch (err) {
      throw new ValidationError(path, 'a JSON array of resources', `invalid JSON (${(err as Error).message})`);
    }
    return parseResourcesJson(json, path);
  }
  const out: Resource[] = [];
  if (t === '') return out;
  const entries = t.split(';');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i].trim();
    if (entry === '' && i === entries.length - 1 && i > 0) continue; // trailing `;`
    out.push(parseResourceEntry(entry, defaultRole, `${path}[${i}]`));
  }
  return mergeChecked(out, path);
}

function parseResourceEntry(entry: string, defaultRole: string, path: string): Resource {
  const colon = entry.indexOf(':');
  if (colon < 0) throw new ValidationError(path, 'name:value', quote(entry));
  const head = entry.slice(0, colon).trim();
  const valueText = entry.slice(colon + 1).trim();
  let name = head;
  let role = defaultRole;
  const paren = head.indexOf('(');
  if (paren >= 0) {
    if (!head.endsWith(')')) throw new ValidationError(path, 'name(role):value', quote(entry));
    name = head.slice(0, paren).trim();
    role = head.slice(paren + 1, -1).trim();
    if (!ROLE_RE.test(role)) throw new ValidationError(path, 'a role of letters, digits, _ . - / or *', quote(entry));
  }
  if (name === '') throw new ValidationError(path, 'a resource name', quote(entry));
  if (!NAME_RE.test(name)) throw new ValidationError(path, 'a resource name of letters, digits, _ . - /', quote(entry));
  if (valueText === '') throw new ValidationError(path, `a value for ${name}`, quote(entry));
  const r: Resource = { name, type: 'SCALAR' };
  if (valueText.startsWith('[')) {
    r.type = 'RANGES';
    r.ranges = { range: parseRangesText(valueText, path) };
  } else if (valueText.startsWith('{')) {
    r.type = 'SET';
    r.set = { item: parseSetText(valueText, path) };
  } else {
    r.scalar = { value: roundScalar(parseNumber(valueText, path, `${name}`)) };
  }
  if (role !== UNRESERVED_ROLE) r.role = role;
  return r;
}

/** Merges duplicates; the same name and role with two types is an error. */
function mergeChecked(rs: readonly Resource[], path: string): Resource[] {
  const typeByName = new Map<string, ValueType>();
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i];
    const key = `${r.name}\u0000${resourceKey(r).split('\u0000')[2]}`;
    const t = typeByName.get(key);
    if (t !== undefined && t !== r.type) {
      throw new ValidationError(`${path}[${i}]`, `${r.name} to be ${t} like its earlier entry`, r.type);
    }
    typeByName.set(key, r.type);
  }
  return normalize(rs);
}

// ---------------------------------------------------------------------------
// Resources, JSON form

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeJson(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function jsonNumber(v: unknown, path: string, integer: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(path, 'a finite number', describeJson(v));
  if (v < 0) throw new ValidationError(path, 'a non-negative number', describeJson(v));
  if (v > MAX_RESOURCE_VALUE) throw new ValidationError(path, 'a number at most 2^53-1', describeJson(v));
  if (integer && !Number.isInteger(v)) throw new ValidationError(path, 'an integer', describeJson(v));
  return v;
}

function jsonOptionalString(v: unknown, path: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ValidationError(path, 'a string', describeJson(v));
  return v;
}

/** Validates one JSON `Resource` (Mesos v1 shape) and returns a clean copy. */
export function parseResourceJson(v: unknown, path: string): Resource {
  if (!isRecord(v)) throw new ValidationError(path, 'a resource object', describeJson(v));
  const name = v.name;
  if (typeof name !== 'string' || name === '') throw new ValidationError(`${path}.name`, 'a non-empty string', describeJson(name));
  const type = v.type;
  if (type !== 'SCALAR' && type !== 'RANGES' && type !== 'SET') {
    throw new ValidationError(`${path}.type`, 'one of SCALAR, RANGES, SET', describeJson(type));
  }
  const r: Resource = { name, type };
  if (type === 'SCALAR') {
    if (!isRecord(v.scalar)) throw new ValidationError(`${path}.scalar`, 'an object {value}', describeJson(v.scalar));
    r.scalar = { value: roundScalar(jsonNumber(v.scalar.value, `${path}.scalar.value`, false)) };
  } else if (type === 'RANGES') {
    r.ranges = { range: parseRangesJson(v.ranges, `${path}.ranges`) };
  } else {
    r.set = { item: parseSetJson(v.set, `${path}.set`) };
  }
  const role = jsonOptionalString(v.role, `${path}.role`);
  if (role !== undefined) {
    if (!ROLE_RE.test(role)) throw new ValidationError(`${path}.role`, 'a role of letters, digits, _ . - / or *', describeJson(role));
    if (role !== UNRESERVED_ROLE) r.role = role;
  }
  if (v.allocation_info !== undefined) {
    if (!isRecord(v.allocation_info)) throw new ValidationError(`${path}.allocation_info`, 'an object', describeJson(v.allocation_info));
    const ar = jsonOptionalString(v.allocation_info.role, `${path}.allocation_info.role`);
    r.allocation_info = ar === undefined ? {} : { role: ar };
  }
  if (v.reservations !== undefined) r.reservations = parseReservationsJson(v.reservations, `${path}.reservations`);
  return r;
}

function parseRangesJson(v: unknown, path: string): Range[] {
  if (!isRecord(v) || !Array.isArray(v.range)) throw new ValidationError(path, 'an object {range: [{begin, end}]}', describeJson(v));
  const out: Range[] = [];
  v.range.forEach((x: unknown, i: number) => {
    const p = `${path}.range[${i}]`;
    if (!isRecord(x)) throw new ValidationError(p, 'an object {begin, end}', describeJson(x));
    const begin = jsonNumber(x.begin, `${p}.begin`, true);
    const end = jsonNumber(x.end, `${p}.end`, true);
    if (begin > end) throw new ValidationError(p, 'begin <= end', `${begin}-${end}`);
    out.push({ begin, end });
  });
  checkNoOverlap(out, path);
  return out;
}

function parseSetJson(v: unknown, path: string): string[] {
  if (!isRecord(v) || !Array.isArray(v.item)) throw new ValidationError(path, 'an object {item: [string]}', describeJson(v));
  const seen = new Set<string>();
  v.item.forEach((x: unknown, i: number) => {
    if (typeof x !== 'string' || x === '') throw new ValidationError(`${path}.item[${i}]`, 'a non-empty string', describeJson(x));
    if (seen.has(x)) throw new ValidationError(`${path}.item[${i}]`, 'distinct set items', `duplicate ${quote(x)}`);
    seen.add(x);
  });
  return [...seen];
}

function parseReservationsJson(v: unknown, path: string): NonNullable<Resource['reservations']> {
  if (!Array.isArray(v)) throw new ValidationError(path, 'an array', describeJson(v));
  return v.map((x: unknown, i: number) => {
    const p = `${path}[${i}]`;
    if (!isRecord(x)) throw new ValidationError(p, 'an object {type, role, principal}', describeJson(x));
    const type = x.type;
    if (type !== undefined && type !== 'UNKNOWN' && type !== 'STATIC' && type !== 'DYNAMIC') {
      throw new ValidationError(`${p}.type`, 'one of STATIC, DYNAMIC', describeJson(type));
    }
    const out: NonNullable<Resource['reservations']>[number] = {};
    if (type !== undefined) out.type = type;
    const role = jsonOptionalString(x.role, `${p}.role`);
    if (role !== undefined) out.role = role;
    const principal = jsonOptionalString(x.principal, `${p}.principal`);
    if (principal !== undefined) out.principal = principal;
    return out;
  });
}

/** Validates a JSON array of resources (e.g. from a scheduler call); duplicates are merged. */
export function parseResourcesJson(v: unknown, path = 'resources'): Resource[] {
  if (!Array.isArray(v)) throw new ValidationError(path, 'an array of resources', describeJson(v));
  const rs = v.map((x: unknown, i: number) => parseResourceJson(x, `${path}[${i}]`));
  return mergeChecked(rs, path);
}

// ---------------------------------------------------------------------------
// Attributes

/**
 * `rack:a;zone:z1;level:3;ports:[1-5];tags:{x,y}`: a numeric value is a
 * SCALAR, `[..]` RANGES, `{..}` SET, anything else TEXT. Names must be unique.
 */
export function parseAttributes(text: string, path = 'attributes'): Attribute[] {
  const t = text.trim();
  const out: Attribute[] = [];
  if (t === '') return out;
  const seen = new Set<string>();
  const entries = t.split(';');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i].trim();
    if (entry === '' && i === entries.length - 1 && i > 0) continue;
    const p = `${path}[${i}]`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new ValidationError(p, 'name:value', quote(entry));
    const name = entry.slice(0, colon).trim();
    const valueText = entry.slice(colon + 1).trim();
    if (name === '' || !NAME_RE.test(name)) throw new ValidationError(p, 'an attribute name of letters, digits, _ . - /', quote(entry));
    if (valueText === '') throw new ValidationError(p, `a value for ${name}`, quote(entry));
    if (seen.has(name)) throw new ValidationError(p, 'unique attribute names', `duplicate ${quote(name)}`);
    seen.add(name);
    out.push(parseAttributeValue(name, valueText, p));
  }
  return out;
}

function parseAttributeValue(name: string, valueText: string, path: string): Attribute {
  if (valueText.startsWith('[')) return { name, type: 'RANGES', ranges: { range: parseRangesText(valueText, path) } };
  if (valueText.startsWith('{')) return { name, type: 'SET', set: { item: parseSetText(valueText, path) } };
  if (NUMBER_RE.test(valueText)) {
    const v = Number(valueText);
    if (Number.isFinite(v) && Math.abs(v) <= MAX_RESOURCE_VALUE) return { name, type: 'SCALAR', scalar: { value: roundScalar(v) } };
  }
  return { name, type: 'TEXT', text: { value: valueText } };
}

/** `rack:a;level:3;ports:[1-5]` form of attributes (inverse of parseAttributes). */
export function attributesToString(attrs: readonly Attribute[]): string {
  return attrs
    .map((a) => {
      switch (a.type) {
        case 'SCALAR':
          return `${a.name}:${roundScalar(a.scalar?.value ?? 0)}`;
        case 'RANGES':
          return `${a.name}:[${(a.ranges?.range ?? []).map((r) => `${r.begin}-${r.end}`).join(',')}]`;
        case 'SET':
          return `${a.name}:{${(a.set?.item ?? []).join(',')}}`;
        default:
          return `${a.name}:${a.text?.value ?? ''}`;
      }
    })
    .join(';');
}
