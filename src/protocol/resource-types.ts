/**
 * Mesos v1 `Value`, `Resource` and `Attribute` in their JSON shape (snake_case,
 * enums as names, absent = undefined). This is the in-memory form everywhere in
 * cygnet; the protobuf codec converts to and from it at the wire.
 */

export type ValueType = 'SCALAR' | 'RANGES' | 'SET' | 'TEXT';

export interface Scalar {
  value: number;
}

export interface Range {
  begin: number;
  end: number;
}

export interface Ranges {
  range: Range[];
}

export interface ValueSet {
  item: string[];
}

export interface Text {
  value: string;
}

export interface ResourceAllocationInfo {
  role?: string;
}

export interface ResourceReservationInfo {
  type?: 'UNKNOWN' | 'STATIC' | 'DYNAMIC';
  role?: string;
  principal?: string;
}

export interface Resource {
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  /** Deprecated in Mesos but still what most v1 clients send; `*` = unreserved. */
  role?: string;
  allocation_info?: ResourceAllocationInfo;
  reservations?: ResourceReservationInfo[];
}

export interface Attribute {
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  text?: Text;
}
