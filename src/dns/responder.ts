/**
 * One query in, one answer out: the decision every transport shares.
 *
 *   parse (hot path, else careful path) ─ malformed → drop / FORMERR
 *   class not IN, opcode not QUERY       → REFUSED / NOTIMP
 *   EDNS version > 0                     → BADVERS (RFC 6891 §6.1.3)
 *   name in the zone, type present       → pre-encoded answer
 *   name in the zone, type absent        → NODATA + SOA
 *   name under the domain, not in zone   → NXDOMAIN + SOA
 *   anything else, client allowed        → cache, else forward upstream
 *   anything else, client not allowed    → REFUSED
 *
 * Zone answers are synchronous; only a forwarded cache miss returns a
 * promise. The zone is swapped whole (`setZone`), so a query never sees
 * half of a rebuild. Every answer over UDP respects the client's size limit.
 */
import { badVersExtendedRcode, type CompiledZone, maxTcpMessageBytes, maxUdpPayloadBytes, udpLimit, writeAnswer, writeError, writeNegative } from './answers.ts';
import type { Forwarder } from './forwarder.ts';
import type { DnsMetrics } from './metrics.ts';
import { parseQuery, parseQuerySlow, type Query } from './query.ts';
import type { RecursionAcl } from './recursion-acl.ts';
import { flagTC, headerBytes, optRecordBytes, Rcode, RRClass, RRType, writeOpt } from './wire.ts';

export type Transport = 'udp' | 'tcp';
export type Reply = Buffer | undefined | Promise<Buffer | undefined>;

export class DnsResponder {
  private zone: CompiledZone;
  private readonly acl: RecursionAcl;
  private readonly forwarder: Forwarder | undefined;
  readonly metrics: DnsMetrics;

  constructor(zone: CompiledZone, acl: RecursionAcl, forwarder: Forwarder | undefined, metrics: DnsMetrics) {
    this.zone = zone;
    this.acl = acl;
    this.forwarder = forwarder;
    this.metrics = metrics;
  }

  get currentZone(): CompiledZone {
    return this.zone;
  }

  setZone(zone: CompiledZone): void {
    this.zone = zone;
  }

  /** Answers one message from `clientAddress`; undefined means send nothing. */
  handle(packet: Buffer, transport: Transport, clientAddress: string): Reply {
    const m = this.metrics;
    if (transport === 'udp') m.queriesUdp++;
    else m.queriesTcp++;
    let q = parseQuery(packet);
    if (q === undefined) {
      const slow = parseQuerySlow(packet);
      if (slow.kind === 'drop') {
        m.dropped++;
        return undefined;
      }
      if (slow.kind === 'error') {
        m.countRcode(slow.rcode);
        return writeError(slow.id, slow.flags, slow.rcode, slow.question, false, false);
      }
      q = slow.query;
    }
    m.countQuery(q.qtype);
    const limit = transport === 'udp' ? udpLimit(q) : maxTcpMessageBytes;
    const recursionAllowed = this.forwarder !== undefined && this.acl.allows(clientAddress);
    if (q.edns && q.ednsVersion !== 0) return this.error(q, 0, recursionAllowed, badVersExtendedRcode);
    if (q.qtype === RRType.OPT || q.qtype === RRType.AXFR || q.qtype === 251 /* IXFR */) return this.error(q, Rcode.NOTIMP, recursionAllowed);

    const zone = this.zone;
    const name = zone.byKey.get(q.key);
    if (name !== undefined || this.inZone(q.key)) {
      if (q.qclass !== RRClass.IN && q.qclass !== RRClass.ANY) return this.error(q, Rcode.REFUSED, recursionAllowed);
      m.authoritative++;
      const answer = name?.byType.get(q.qtype);
      if (answer !== undefined) {
        m.countRcode(Rcode.NOERROR);
        return writeAnswer(answer, q, limit, recursionAllowed);
      }
      const rcode = name === undefined ? Rcode.NXDOMAIN : Rcode.NOERROR;
      m.countRcode(rcode);
      return writeNegative(zone, q, rcode, limit, recursionAllowed);
    }
    if (!recursionAllowed || this.forwarder === undefined) {
      m.refused++;
      return this.error(q, Rcode.REFUSED, false);
    }
    m.forwarded++;
    const cached = this.forwarder.fromCache(q);
    if (cached !== undefined) {
      m.cacheHits++;
      return this.finishForwarded(cached, q, limit);
    }
    m.cacheMisses++;
    return this.forwarder.forward(q, transport === 'tcp').then((b) => (b === undefined ? this.error(q, Rcode.SERVFAIL, true) : this.finishForwarded(Buffer.from(b), q, limit)));
  }

  /** Is the wire-form key at or below the zone apex (on a label boundary)? */
  private inZone(key: string): boolean {
    const apex = this.zone.apexKey;
    if (!key.endsWith(apex)) return false;
    let pos = 0;
    while (pos < key.length) {
      if (key.length - pos === apex.length) return true;
      pos += key.charCodeAt(pos) + 1;
    }
    return false;
  }

  private error(q: Query, rcode: number, recursionAllowed: boolean, extendedRcode = 0): Buffer {
    this.metrics.countRcode(rcode);
    return writeError(q.id, q.flags, rcode, q.question, q.edns, recursionAllowed, extendedRcode);
  }

  /**
   * An upstream response (our copy, without OPT) made the client's: its id,
   * its spelling of the question, our OPT if it sent one; bigger than its
   * UDP limit, it becomes an empty answer with TC so it retries over TCP.
   */
  private finishForwarded(answer: Buffer, q: Query, limit: number): Buffer {
    this.metrics.countRcode(answer[3] & 0xf);
    answer.writeUInt16BE(q.id, 0);
    q.question.copy(answer, headerBytes);
    const optLen = q.edns ? optRecordBytes : 0;
    const fits = answer.length + optLen <= limit;
    const body = fits ? answer : answer.subarray(0, headerBytes + q.question.length);
    const out = optLen === 0 && fits ? body : Buffer.alloc(body.length + optLen);
    if (out !== body) body.copy(out);
    if (!fits) {
      out.writeUInt16BE(out.readUInt16BE(2) | flagTC, 2);
      out.writeUInt32BE(0, 6);
      out.writeUInt16BE(0, 10);
    }
    if (q.edns) {
      out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
      writeOpt(out, body.length, maxUdpPayloadBytes, q.doBit);
    }
    return out;
  }
}
