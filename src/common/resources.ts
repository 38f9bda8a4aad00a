/**
 * Arithmetic over lists of Mesos `Resource`s (the JSON shape from
 * src/protocol/resource-types.ts) plus the `ResourceVector` fast path the
 * allocator uses in its hot loop.
 *
 * Invariants:
 *  - Inputs are never mutated; every function returns fresh objects.
 *  - Scalars are fixed point with 3 decimal digits, as in Mesos: every result
 *    is rounded to 0.001, and comparisons are done on integer milli-units, so
 *    0.1 + 0.2 == 0.3 and contains()/subtract() never fail on rounding dust.
 *  - A resource's identity is (name, type, reservation, allocation role):
 *    `cpus` unreserved and `cpus(role1)` are different resources; add() merges
 *    equal identities, subtract() only takes from the same identity.
 *  - Results of add()/subtract()/normalize() hold no empty entries (scalar 0,
 *    no ranges, empty set) and ranges are sorted, disjoint and non-adjacent.
 *
 * No I/O here. Parsing of the text/JSON forms lives in resource-parse.ts.
 */
import type { Range, Resource, ValueType } from '../protocol/resource-types.ts';
import { CygnetError } from './errors.ts';

/** The role of unreserved resources. */
export const UNRESERVED_ROLE = '*';

/** Thrown by subtract() when the subtrahend is not contained; the message names what was missing. */
export class InsufficientResourcesError extends CygnetError {
  readonly missing: string;
  constructor(missing: string) {
    super('CYG_CONFLICT', `insufficient resources: ${missing} is not available`);
    this.missing = missing;
  }
}

// ---------------------------------------------------------------------------
// Fixed point scalars

const MILLI = 1000;

/** Integer milli-units of a scalar (Mesos keeps 3 decimal digits). */
export function toMilli(value: number): number {
  return Math.round(value * MILLI);
}

/** Rounds a scalar to Mesos' fixed point (0.001). */
export function roundScalar(value: number): number {
  return Math.round(value * MILLI) / MILLI;
}

// ---------------------------------------------------------------------------
// Identity, roles

/** The role a resource is reserved for, or `*` when unreserved (last refinement wins). */
export function resourceRole(r: Resource): string {
  const res = r.reservations;
  if (res !== undefined && res.length > 0) return res[res.length - 1].role ?? UNRESERVED_ROLE;
  return r.role ?? UNRESERVED_ROLE;
}

export function isUnreserved(r: Resource): boolean {
  return resourceRole(r) === UNRESERVED_ROLE;
}

/** The role the resource is allocated to (set on offered resources), if any. */
export function allocationRole(r: Resource): string | undefined {
  return r.allocation_info?.role;
}

function reservationKey(r: Resource): string {
  const res = r.reservations;
  if (res !== undefined && res.length > 0) {
    return res.map((x) => `${x.type ?? ''}/${x.role ?? ''}/${x.principal ?? ''}`).join('>');
  }
  return r.role ?? UNRESERVED_ROLE;
}

/** Identity of a resource for merging: equal keys are the same kind of resource. */
export function resourceKey(r: Resource): string {
  return `${r.name}\u0000${r.type}\u0000${reservationKey(r)}\u0000${r.allocation_info?.role ?? ''}`;
}

// ---------------------------------------------------------------------------
// Ranges

/** Sorts and merges overlapping or adjacent ranges ([1-2],[3-4] -> [1-4]). */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  if (ranges.length === 0) return [];
  const sorted = ranges.map((r) => ({ begin: r.begin, end: r.end })).sort((a, b) => a.begin - b.begin || a.end - b.end);
  const out: Range[] = [sorted[0]];
  for (let i = 1; i < sorted.length; i++) {
    const last = out[out.length - 1];
    const cur = sorted[i];
    if (cur.begin <= last.end + 1) {
      if (cur.end > last.end) last.end = cur.end;
    } else {
      out.push(cur);
    }
  }
  return out;
}

/** a minus b, both arbitrary; the result is merged. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const left = mergeRanges(a);
  const right = mergeRanges(b);
  const out: Range[] = [];
  let j = 0;
  for (const r of left) {
    let begin = r.begin;
    const end = r.end;
    while (j < right.length && right[j].end < begin) j++;
    let k = j;
    while (k < right.length && right[k].begin <= end && begin <= end) {
      const cut = right[k];
      if (cut.begin > begin) out.push({ begin, end: cut.begin - 1 });
      begin = Math.max(begin, cut.end + 1);
      k++;
    }
    if (begin <= end) out.push({ begin, end });
  }
  return out;
}

/** Intersection of two range lists. */
export function intersectRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const left = mergeRanges(a);
  const right = mergeRanges(b);
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const begin = Math.max(left[i].begin, right[j].begin);
    const end = Math.min(left[i].end, right[j].end);
    if (begin <= end) out.push({ begin, end });
    if (left[i].end < right[j].end) i++;
    else j++;
  }
  return out;
}

/** Whether every value of b lies in a. */
export function rangesContain(a: readonly Range[], b: readonly Range[]): boolean {
  return subtractRanges(b, a).length === 0;
}

/** Number of values (e.g. ports) in the ranges; they must be disjoint (merged). */
export function rangesCount(ranges: readonly Range[]): number {
  let n = 0;
  for (const r of ranges) n += r.end - r.begin + 1;
  return n;
}

export function rangesToString(ranges: readonly Range[]): string {
  return `[${ranges.map((r) => `${r.begin}-${r.end}`).join(', ')}]`;
}

// ---------------------------------------------------------------------------
// Sets

export function unionSet(a: readonly string[], b: readonly string[]): string[] {
  const seen = new Set(a);
  const out = [...a];
  for (const x of b) {
    if (!seen.has(x)) {
      seen.add(x);
      out.push(x);
    }
  }
  return out;
}

export function subtractSet(a: readonly string[], b: readonly string[]): string[] {
  const drop = new Set(b);
  return a.filter((x) => !drop.has(x));
}

export function setContains(a: readonly string[], b: readonly string[]): boolean {
  const have = new Set(a);
  return b.every((x) => have.has(x));
}

// ---------------------------------------------------------------------------
// Single resources

function cloneMeta(r: Resource): Resource {
  const out: Resource = { name: r.name, type: r.type };
  if (r.role !== undefined) out.role = r.role;
  if (r.reservations !== undefined) out.reservations = r.reservations.map((x) => ({ ...x }));
  if (r.allocation_info !== undefined) out.allocation_info = { ...r.allocation_info };
  return out;
}

/**
 * Mesos has two forms of a reservation (resources_utils.cpp
 * convertResourceFormat): `role` (before reservation refinement, what cygnet
 * keeps) and `reservations`, a stack (what a RESERVATION_REFINEMENT framework
 * sees and may send). cygnet reserves statically only, so a stack of one
 * STATIC reservation is the same as `role`.
 */
export function toRoleForm(r: Resource): Resource {
  const res = r.reservations;
  if (res === undefined) return r;
  const one = res.length === 1 ? res[0] : undefined;
  if (res.length === 0 || (one !== undefined && (one.type ?? 'STATIC') === 'STATIC' && one.principal === undefined && one.role !== undefined && r.role === undefined)) {
    const out = copyResource(r);
    delete out.reservations;
    if (one?.role !== undefined && one.role !== UNRESERVED_ROLE) out.role = one.role;
    return out;
  }
  return r;
}

/** The form a RESERVATION_REFINEMENT framework is offered: a reserved resource's role as a one-entry STATIC `reservations` stack. */
export function toRefinedForm(r: Resource): Resource {
  if (r.role === undefined || r.role === UNRESERVED_ROLE || r.reservations !== undefined) return r;
  const out = copyResource(r);
  delete out.role;
  out.reservations = [{ type: 'STATIC', role: r.role }];
  return out;
}

/** A deep copy with the value normalized (rounded scalar, merged ranges). */
export function cloneResource(r: Resource): Resource {
  const out = cloneMeta(r);
  switch (r.type) {
    case 'SCALAR':
      out.scalar = { value: roundScalar(r.scalar?.value ?? 0) };
      break;
    case 'RANGES':
      out.ranges = { range: mergeRanges(r.ranges?.range ?? []) };
      break;
    case 'SET':
      out.set = { item: unionSet([], r.set?.item ?? []) };
      break;
    default:
      break;
  }
  return out;
}

/** Whether a single resource carries nothing (scalar 0, no ranges, empty set). */
export function isEmptyResource(r: Resource): boolean {
  switch (r.type) {
    case 'SCALAR':
      return toMilli(r.scalar?.value ?? 0) <= 0;
    case 'RANGES':
      return (r.ranges?.range.length ?? 0) === 0;
    case 'SET':
      return (r.set?.item.length ?? 0) === 0;
    default:
      return true;
  }
}

/** a + b of the same identity, into `a` (a must be a private copy). */
function addInto(a: Resource, b: Resource): void {
  switch (a.type) {
    case 'SCALAR':
      a.scalar = { value: (toMilli(a.scalar?.value ?? 0) + toMilli(b.scalar?.value ?? 0)) / MILLI };
      break;
    case 'RANGES':
      a.ranges = { range: mergeRanges([...(a.ranges?.range ?? []), ...(b.ranges?.range ?? [])]) };
      break;
    case 'SET':
      a.set = { item: unionSet(a.set?.item ?? [], b.set?.item ?? []) };
      break;
    default:
      break;
  }
}

function containsOne(a: Resource, b: Resource): boolean {
  switch (a.type) {
    case 'SCALAR':
      return toMilli(a.scalar?.value ?? 0) >= toMilli(b.scalar?.value ?? 0);
    case 'RANGES':
      return rangesContain(a.ranges?.range ?? [], b.ranges?.range ?? []);
    case 'SET':
      return setContains(a.set?.item ?? [], b.set?.item ?? []);
    default:
      return false;
  }
}

/** a - b of the same identity, into `a` (a must be a private copy; b contained in a). */
function subtractInto(a: Resource, b: Resource): void {
  switch (a.type) {
    case 'SCALAR':
      a.scalar = { value: Math.max(0, toMilli(a.scalar?.value ?? 0) - toMilli(b.scalar?.value ?? 0)) / MILLI };
      break;
    case 'RANGES':
      a.ranges = { range: subtractRanges(a.ranges?.range ?? [], b.ranges?.range ?? []) };
      break;
    case 'SET':
      a.set = { item: subtractSet(a.set?.item ?? [], b.set?.item ?? []) };
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------
// Lists

/** Merges entries of equal identity and drops empty ones; order of first appearance is kept. */
export function normalize(rs: readonly Resource[]): Resource[] {
  const byKey = new Map<string, Resource>();
  for (const r of rs) {
    const key = resourceKey(r);
    const have = byKey.get(key);
    if (have === undefined) byKey.set(key, cloneResource(r));
    else addInto(have, r);
  }
  const out: Resource[] = [];
  for (const r of byKey.values()) if (!isEmptyResource(r)) out.push(r);
  return out;
}

export function add(a: readonly Resource[], b: readonly Resource[]): Resource[] {
  return normalize([...a, ...b]);
}

/** Lists up to this long are compared by linear scans without normalizing (the allocator's hot path). */
const SMALL_LIST = 16;

function hasDuplicateIdentity(rs: readonly Resource[]): boolean {
  for (let i = 1; i < rs.length; i++) for (let j = 0; j < i; j++) if (sameMeta(rs[i], rs[j])) return true;
  return false;
}

/** Whether every resource of b is available in a (same identity, enough quantity). */
export function contains(a: readonly Resource[], b: readonly Resource[]): boolean {
  if (b.length === 0) return true;
  if (a.length <= SMALL_LIST && b.length <= SMALL_LIST && !hasDuplicateIdentity(a) && !hasDuplicateIdentity(b)) {
    for (const r of b) {
      if (isEmptyResource(r)) continue;
      const h = a.find((x) => sameMeta(x, r));
      if (h === undefined || !containsOne(h, r)) return false;
    }
    return true;
  }
  const have = new Map<string, Resource>();
  for (const r of normalize(a)) have.set(resourceKey(r), r);
  for (const r of normalize(b)) {
    const h = have.get(resourceKey(r));
    if (h === undefined || !containsOne(h, r)) return false;
  }
  return true;
}

/** a - b, or undefined when b is not contained in a. */
export function trySubtract(a: readonly Resource[], b: readonly Resource[]): Resource[] | undefined {
  const have = new Map<string, Resource>();
  for (const r of normalize(a)) have.set(resourceKey(r), r);
  for (const r of normalize(b)) {
    const h = have.get(resourceKey(r));
    if (h === undefined || !containsOne(h, r)) return undefined;
    subtractInto(h, r);
  }
  const out: Resource[] = [];
  for (const r of have.values()) if (!isEmptyResource(r)) out.push(r);
  return out;
}

/** a - b; throws InsufficientResourcesError naming the first missing resource. */
export function subtract(a: readonly Resource[], b: readonly Resource[]): Resource[] {
  const out = trySubtract(a, b);
  if (out !== undefined) return out;
  const have = new Map<string, Resource>();
  for (const r of normalize(a)) have.set(resourceKey(r), r);
  for (const r of normalize(b)) {
    const h = have.get(resourceKey(r));
    if (h === undefined || !containsOne(h, r)) throw new InsufficientResourcesError(resourceToString(r));
  }
  throw new InsufficientResourcesError(resourcesToString(b));
}

/** a - b where b may exceed a: takes only what a has (scalars floor at 0). */
export function subtractSaturating(a: readonly Resource[], b: readonly Resource[]): Resource[] {
  const have = new Map<string, Resource>();
  for (const r of normalize(a)) have.set(resourceKey(r), r);
  for (const r of normalize(b)) {
    const h = have.get(resourceKey(r));
    if (h !== undefined) subtractInto(h, r);
  }
  const out: Resource[] = [];
  for (const r of have.values()) if (!isEmptyResource(r)) out.push(r);
  return out;
}

export function isEmpty(rs: readonly Resource[]): boolean {
  return rs.every(isEmptyResource);
}

export function equals(a: readonly Resource[], b: readonly Resource[]): boolean {
  return contains(a, b) && contains(b, a);
}

/** Sum of the scalar `name` over every role (0 when absent). */
export function scalar(rs: readonly Resource[], name: string): number {
  let milli = 0;
  for (const r of rs) if (r.name === name && r.type === 'SCALAR') milli += toMilli(r.scalar?.value ?? 0);
  return milli / MILLI;
}

/** Union of the ranges `name` over every role (merged). */
export function ranges(rs: readonly Resource[], name: string): Range[] {
  const all: Range[] = [];
  for (const r of rs) if (r.name === name && r.type === 'RANGES') all.push(...(r.ranges?.range ?? []));
  return mergeRanges(all);
}

/** Union of the set `name` over every role. */
export function setItems(rs: readonly Resource[], name: string): string[] {
  let out: string[] = [];
  for (const r of rs) if (r.name === name && r.type === 'SET') out = unionSet(out, r.set?.item ?? []);
  return out;
}

/** Resources reserved for exactly `role` (`*` gives the unreserved ones). */
export function filterByRole(rs: readonly Resource[], role: string): Resource[] {
  return rs.filter((r) => resourceRole(r) === role);
}

export function unreserved(rs: readonly Resource[]): Resource[] {
  return filterByRole(rs, UNRESERVED_ROLE);
}

export function reserved(rs: readonly Resource[]): Resource[] {
  return rs.filter((r) => !isUnreserved(r));
}

/** What a framework in `role` may be offered: unreserved plus reserved for that role. */
export function allocatableTo(rs: readonly Resource[], role: string): Resource[] {
  return rs.filter((r) => {
    const rr = resourceRole(r);
    return rr === UNRESERVED_ROLE || rr === role;
  });
}

/** The distinct reservation roles present (excluding `*`). */
export function reservedRoles(rs: readonly Resource[]): string[] {
  const out = new Set<string>();
  for (const r of rs) {
    const role = resourceRole(r);
    if (role !== UNRESERVED_ROLE) out.add(role);
  }
  return [...out];
}

/**
 * Mesos' flatten(): the same quantities with every reservation dropped (or all
 * statically reserved for `role` when given) and allocation info removed.
 */
export function flatten(rs: readonly Resource[], role: string = UNRESERVED_ROLE): Resource[] {
  return normalize(
    rs.map((r) => {
      const c = cloneResource(r);
      delete c.reservations;
      delete c.allocation_info;
      if (role === UNRESERVED_ROLE) delete c.role;
      else c.role = role;
      return c;
    }),
  );
}

/** A deep copy, value kept as given (no rounding or merging); cheap. */
export function copyResource(r: Resource): Resource {
  const out = cloneMeta(r);
  if (r.scalar !== undefined) out.scalar = { value: r.scalar.value };
  if (r.ranges !== undefined) out.ranges = { range: r.ranges.range.map((x) => ({ begin: x.begin, end: x.end })) };
  if (r.set !== undefined) out.set = { item: r.set.item.slice() };
  return out;
}

/** Marks every resource as allocated to `role` (what an offer carries); entries are copied as given. */
export function allocateTo(rs: readonly Resource[], role: string): Resource[] {
  return rs.map((r) => {
    if (r.role === undefined && r.reservations === undefined && r.type === 'SCALAR' && r.scalar !== undefined) {
      // Hot path of every offer: one object literal, one shape.
      return { name: r.name, type: r.type, scalar: { value: r.scalar.value }, allocation_info: { role } };
    }
    const c = copyResource(r);
    c.allocation_info = { role };
    return c;
  });
}

/** Drops allocation info and normalizes (what the allocator's free pool holds). */
export function unallocate(rs: readonly Resource[]): Resource[] {
  return normalize(stripAllocation(rs));
}

/** Drops allocation info, entries copied as given (no merging). */
export function stripAllocation(rs: readonly Resource[]): Resource[] {
  return rs.map((r) => {
    const c = copyResource(r);
    delete c.allocation_info;
    return c;
  });
}

function sameMeta(a: Resource, b: Resource): boolean {
  return a.name === b.name && a.type === b.type && a.allocation_info?.role === b.allocation_info?.role && sameReservation(a, b);
}

function sameValue(a: Resource, b: Resource): boolean {
  switch (a.type) {
    case 'SCALAR':
      return toMilli(a.scalar?.value ?? 0) === toMilli(b.scalar?.value ?? 0);
    case 'RANGES': {
      const x = a.ranges?.range ?? [];
      const y = b.ranges?.range ?? [];
      return x.length === y.length && x.every((r, i) => r.begin === y[i].begin && r.end === y[i].end);
    }
    case 'SET': {
      const x = a.set?.item ?? [];
      const y = b.set?.item ?? [];
      return x.length === y.length && x.every((v, i) => v === y[i]);
    }
    default:
      return true;
  }
}

/** Like identical(), but ignoring allocation_info (an offer against the holding it came from). */
export function identicalIgnoringAllocation(a: readonly Resource[], b: readonly Resource[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.name !== y.name || x.type !== y.type || !sameReservation(x, y) || !sameValue(x, y)) return false;
  }
  return true;
}

function sameReservation(a: Resource, b: Resource): boolean {
  if (a.reservations === undefined && b.reservations === undefined) return (a.role ?? UNRESERVED_ROLE) === (b.role ?? UNRESERVED_ROLE);
  return reservationKey(a) === reservationKey(b);
}

/**
 * Entry-by-entry equality in order (a cheap check; equal lists in a different
 * order or split differently are `equals()` but not `identical()`).
 */
export function identical(a: readonly Resource[], b: readonly Resource[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameMeta(a[i], b[i]) || !sameValue(a[i], b[i])) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Text form (Mesos syntax)

function formatScalar(v: number): string {
  return String(roundScalar(v));
}

function valueToString(r: Resource): string {
  switch (r.type) {
    case 'SCALAR':
      return formatScalar(r.scalar?.value ?? 0);
    case 'RANGES':
      return rangesToString(r.ranges?.range ?? []);
    case 'SET':
      return `{${(r.set?.item ?? []).join(', ')}}`;
    default:
      return '';
  }
}

/** `cpus:4`, `cpus(role1):2`, `ports:[31000-32000]`, `foo:{a, b}`; allocation shown as `{ALLOC:role}`. */
export function resourceToString(r: Resource): string {
  const role = resourceRole(r);
  const roleText = role === UNRESERVED_ROLE ? '' : `(${role})`;
  const alloc = r.allocation_info?.role !== undefined ? `{ALLOC:${r.allocation_info.role}}` : '';
  return `${r.name}${roleText}${alloc}:${valueToString(r)}`;
}

/** Mesos' text form: entries joined with `; ` (empty list prints as `{}`). */
export function resourcesToString(rs: readonly Resource[]): string {
  if (rs.length === 0) return '{}';
  return rs.map(resourceToString).join('; ');
}

// ---------------------------------------------------------------------------
// ResourceVector: the allocator's fast path

/** The quantities the allocator reasons about, as plain numbers (scalars rounded to 0.001). */
export interface ResourceVector {
  cpus: number;
  memMb: number;
  diskMb: number;
  gpus: number;
  /** Number of ports (values in the `ports` ranges). */
  ports: number;
}

export function zeroVector(): ResourceVector {
  return { cpus: 0, memMb: 0, diskMb: 0, gpus: 0, ports: 0 };
}

/** Adds one resource's quantities into v (mutates v). */
export function addResourceToVector(v: ResourceVector, r: Resource): void {
  if (r.type === 'SCALAR') {
    const x = r.scalar?.value ?? 0;
    switch (r.name) {
      case 'cpus':
        v.cpus = roundScalar(v.cpus + x);
        break;
      case 'mem':
        v.memMb = roundScalar(v.memMb + x);
        break;
      case 'disk':
        v.diskMb = roundScalar(v.diskMb + x);
        break;
      case 'gpus':
        v.gpus = roundScalar(v.gpus + x);
        break;
      default:
        break;
    }
  } else if (r.type === 'RANGES' && r.name === 'ports') {
    const rr = r.ranges?.range ?? [];
    v.ports += rangesCount(rr.length <= 1 ? rr : mergeRanges(rr));
  }
}

/** The vector of a list, optionally only of the resources `include` accepts. */
export function toVector(rs: readonly Resource[], include?: (r: Resource) => boolean): ResourceVector {
  const v = zeroVector();
  for (const r of rs) if (include === undefined || include(r)) addResourceToVector(v, r);
  return v;
}

/** a += b (mutates a). */
export function addVectorInto(a: ResourceVector, b: ResourceVector): void {
  a.cpus = roundScalar(a.cpus + b.cpus);
  a.memMb = roundScalar(a.memMb + b.memMb);
  a.diskMb = roundScalar(a.diskMb + b.diskMb);
  a.gpus = roundScalar(a.gpus + b.gpus);
  a.ports += b.ports;
}

/** a -= b, flooring at 0 (mutates a). */
export function subtractVectorInto(a: ResourceVector, b: ResourceVector): void {
  a.cpus = Math.max(0, roundScalar(a.cpus - b.cpus));
  a.memMb = Math.max(0, roundScalar(a.memMb - b.memMb));
  a.diskMb = Math.max(0, roundScalar(a.diskMb - b.diskMb));
  a.gpus = Math.max(0, roundScalar(a.gpus - b.gpus));
  a.ports = Math.max(0, a.ports - b.ports);
}

export function vectorContains(a: ResourceVector, b: ResourceVector): boolean {
  return a.cpus >= b.cpus && a.memMb >= b.memMb && a.diskMb >= b.diskMb && a.gpus >= b.gpus && a.ports >= b.ports;
}

export function vectorToString(v: ResourceVector): string {
  return `cpus:${v.cpus} mem:${v.memMb} disk:${v.diskMb} gpus:${v.gpus} ports:${v.ports}`;
}

/** Builds one scalar resource (unreserved unless role given). */
export function scalarResource(name: string, value: number, role?: string): Resource {
  const r: Resource = { name, type: 'SCALAR', scalar: { value: roundScalar(value) } };
  if (role !== undefined && role !== UNRESERVED_ROLE) r.role = role;
  return r;
}

/** Builds one ranges resource (unreserved unless role given). */
export function rangesResource(name: string, rs: readonly Range[], role?: string): Resource {
  const r: Resource = { name, type: 'RANGES', ranges: { range: mergeRanges(rs) } };
  if (role !== undefined && role !== UNRESERVED_ROLE) r.role = role;
  return r;
}

/** Builds one set resource (unreserved unless role given). */
export function setResource(name: string, items: readonly string[], role?: string): Resource {
  const r: Resource = { name, type: 'SET', set: { item: unionSet([], items) } };
  if (role !== undefined && role !== UNRESERVED_ROLE) r.role = role;
  return r;
}

export type { Range, Resource, ValueType };
