/**
 * What a constraint's field reads on an offer and on a placed instance, as
 * the string Marathon compares: `hostname` / `@hostname` is the agent's host
 * name, `@region` / `@zone` its fault domain, anything else the agent
 * attribute of that name, formatted as Mesos prints attributes:
 *   scalar  → at most 3 decimals, half-even, no trailing zeros (`0.8`, `2`)
 *   ranges  → `[b-e,b-e]` sorted by begin
 *   set     → `{a,b}` sorted
 *   text    → as is
 * An absent field reads as `undefined` (only UNLIKE accepts that).
 *
 * Pure; no I/O.
 */

import type { Attribute, Offer } from '../../protocol/mesos-types.ts';
import type { PlacedInstance } from './types.ts';

/** Formats a number as Java's `DecimalFormat("0.###")` (HALF_EVEN) does. */
export function formatScalar(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const sign = value < 0 ? -1 : 1;
  const scaled = Math.abs(value) * 1000;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  let milli = floor;
  if (diff > 0.5 + 1e-9) milli = floor + 1;
  else if (Math.abs(diff - 0.5) <= 1e-9) milli = floor % 2 === 0 ? floor : floor + 1;
  if (milli === 0) return '0';
  const whole = Math.floor(milli / 1000);
  const frac = milli % 1000;
  const fracText = frac === 0 ? '' : '.' + String(frac).padStart(3, '0').replace(/0+$/, '');
  return `${sign < 0 ? '-' : ''}${whole}${fracText}`;
}

/** An attribute's value as Marathon's constraints compare it. */
export function attributeValueString(a: Attribute): string | undefined {
  switch (a.type) {
    case 'SCALAR':
      return a.scalar === undefined ? undefined : formatScalar(a.scalar.value);
    case 'TEXT':
      return a.text?.value;
    case 'RANGES': {
      const ranges = [...(a.ranges?.range ?? [])].sort((x, y) => x.begin - y.begin);
      return `[${ranges.map((r) => `${r.begin}-${r.end}`).join(',')}]`;
    }
    case 'SET':
      return `{${[...(a.set?.item ?? [])].sort().join(',')}}`;
  }
}

export type FieldKind = 'hostname' | 'region' | 'zone' | 'attribute';

export function fieldKind(field: string): FieldKind {
  switch (field) {
    case 'hostname':
    case '@hostname':
      return 'hostname';
    case '@region':
      return 'region';
    case '@zone':
      return 'zone';
    default:
      return 'attribute';
  }
}

function findAttribute(attributes: readonly Attribute[] | undefined, name: string): string | undefined {
  const a = attributes?.find((x) => x.name === name);
  return a === undefined ? undefined : attributeValueString(a);
}

export function offerFieldValue(offer: Offer, field: string): string | undefined {
  switch (fieldKind(field)) {
    case 'hostname':
      return offer.hostname;
    case 'region':
      return offer.domain?.fault_domain?.region.name;
    case 'zone':
      return offer.domain?.fault_domain?.zone.name;
    case 'attribute':
      return findAttribute(offer.attributes, field);
  }
}

export function placedFieldValue(p: PlacedInstance, field: string): string | undefined {
  switch (fieldKind(field)) {
    case 'hostname':
      return p.hostname;
    case 'region':
      return p.region;
    case 'zone':
      return p.zone;
    case 'attribute':
      return findAttribute(p.attributes, field);
  }
}
