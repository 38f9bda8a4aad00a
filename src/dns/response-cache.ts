/**
 * The forwarder's cache of upstream responses, keyed by (name, type,
 * class, EDNS, DO). Pure: time comes in as `nowMs`.
 *
 * What it keeps: NOERROR answers for the smallest TTL among their answer
 * and authority records; NXDOMAIN and NODATA for min(SOA TTL, SOA minimum)
 * (RFC 2308 §5), and not at all without a SOA; never SERVFAIL, truncated or
 * zero-TTL responses. Every TTL is capped at `maxTtlSec`.
 * Served copies carry the TTLs decremented by the time spent in the cache
 * (RFC 1035 §7.4). Stored responses have no OPT record (withoutOpt).
 *
 * Bounds: at most `maxEntries` responses (least recently used goes first)
 * and responses of at most `maxResponseBytes` each, so memory stays below
 * maxEntries × maxResponseBytes whatever clients ask.
 */
import type { Query, WalkedMessage } from './query.ts';
import { walkMessage } from './query.ts';
import { flagTC, Rcode, RRType } from './wire.ts';

export interface ResponseCacheOptions {
  /** Entries kept; 10k distinct external names covers a cluster's working set. */
  readonly maxEntries: number;
  /** Responses larger than this are not kept (they are rare and would dominate memory). */
  readonly maxResponseBytes: number;
  /** Upper bound on any cached TTL, so a bad upstream cannot pin a record for days. */
  readonly maxTtlSec: number;
}

export const defaultResponseCacheOptions: ResponseCacheOptions = { maxEntries: 10_000, maxResponseBytes: 4096, maxTtlSec: 3600 };

interface Entry {
  readonly bytes: Buffer;
  readonly ttlOffsets: readonly number[];
  readonly ttls: readonly number[];
  readonly storedAtMs: number;
  readonly expiresAtMs: number;
}

/** EDNS presence and size are not part of the key: stored responses carry no OPT record (see withoutOpt). */
export function cacheKey(q: Query): string {
  return `${q.key}|${q.qtype}|${q.qclass}|${q.doBit ? 'D' : '-'}`;
}

/**
 * The response without its OPT record, so the same bytes can serve clients
 * with and without EDNS (each gets our own OPT appended). Undefined when
 * the OPT is not the last record (never seen in practice; not worth
 * rebuilding the message for).
 */
export function withoutOpt(bytes: Buffer): Buffer | undefined {
  const msg = walkMessage(bytes);
  if (msg === undefined) return undefined;
  const opts = msg.records.filter((r) => r.type === RRType.OPT);
  if (opts.length === 0) return bytes;
  const last = msg.records[msg.records.length - 1];
  if (opts.length > 1 || last === undefined || last.type !== RRType.OPT || last.rdataOffset + last.rdataLength !== bytes.length) return undefined;
  const out = Buffer.from(bytes.subarray(0, last.start));
  out.writeUInt16BE(out.readUInt16BE(10) - 1, 10);
  return out;
}

/** How long a response may be cached, in seconds; 0 = not at all. */
export function cacheableTtlSec(bytes: Buffer, msg: WalkedMessage, maxTtlSec: number): number {
  const flags = bytes.readUInt16BE(2);
  const rcode = flags & 0xf;
  if ((flags & flagTC) !== 0 || (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN)) return 0;
  const answers = msg.records.filter((r) => r.section === 'answer');
  if (rcode === Rcode.NOERROR && answers.length > 0) {
    let ttl = maxTtlSec;
    for (const r of msg.records) {
      if (r.section !== 'additional' && r.type !== RRType.OPT) ttl = Math.min(ttl, bytes.readUInt32BE(r.ttlOffset));
    }
    return ttl;
  }
  const soa = msg.records.find((r) => r.section === 'authority' && r.type === RRType.SOA);
  if (soa === undefined || soa.rdataLength < 20) return 0;
  const minimum = bytes.readUInt32BE(soa.rdataOffset + soa.rdataLength - 4);
  return Math.min(maxTtlSec, bytes.readUInt32BE(soa.ttlOffset), minimum);
}

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: ResponseCacheOptions;

  constructor(opts: ResponseCacheOptions = defaultResponseCacheOptions) {
    this.opts = opts;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Stores an upstream response if it may be cached; says whether it was. */
  put(key: string, bytes: Buffer, nowMs: number): boolean {
    if (bytes.length > this.opts.maxResponseBytes) return false;
    const msg = walkMessage(bytes);
    if (msg === undefined) return false;
    const ttl = cacheableTtlSec(bytes, msg, this.opts.maxTtlSec);
    if (ttl <= 0) return false;
    const copy = Buffer.from(bytes);
    const records = msg.records.filter((r) => r.type !== RRType.OPT);
    this.entries.delete(key);
    if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, {
      bytes: copy,
      ttlOffsets: records.map((r) => r.ttlOffset),
      ttls: records.map((r) => Math.min(copy.readUInt32BE(r.ttlOffset), this.opts.maxTtlSec)),
      storedAtMs: nowMs,
      expiresAtMs: nowMs + ttl * 1000,
    });
    return true;
  }

  /** A copy of the stored response with its TTLs aged, or undefined; the caller patches id and question. */
  get(key: string, nowMs: number): Buffer | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (nowMs >= e.expiresAtMs) {
      this.entries.delete(key);
      return undefined;
    }
    // Refresh recency: a Map iterates in insertion order, so re-inserting makes it the newest.
    this.entries.delete(key);
    this.entries.set(key, e);
    const out = Buffer.from(e.bytes);
    const aged = Math.floor((nowMs - e.storedAtMs) / 1000);
    for (let i = 0; i < e.ttlOffsets.length; i++) out.writeUInt32BE(Math.max(0, (e.ttls[i] ?? 0) - aged), e.ttlOffsets[i] ?? 0);
    return out;
  }
}
