/**
 * Where a request's time goes, read off the loopback wire: a tcpdump
 * capture of wrk ↔ balancer ↔ backends, each request followed by an id
 * header wrk's script adds (`X-Bench-Id`), so every request is matched
 * exactly to its upstream copy, its backend's answer and the answer wrk
 * gets. On `lo` a packet is stamped as its sender's write(2) hands it to
 * the device, so each leg is the time from one process's write to the next
 * process's write:
 *
 *   wrk ──t1──▶ balancer ──t2──▶ backend ──t3──▶ balancer ──t4──▶ wrk ──t5 (next request)
 *        request leg (t2−t1)  backend (t3−t2)  response leg (t4−t3)  client turnaround (t5−t4)
 *
 * wrk's own latency figure is t1…t4 plus wrk's delays on both ends (it
 * stamps a request before its write and an answer after reading and
 * parsing it), which the turnaround shows.
 */

/** One captured TCP segment that carried data. */
export interface WirePacket {
  /** Capture time, µs. */
  readonly tUs: number;
  readonly srcPort: number;
  readonly dstPort: number;
  /** The captured part of the payload (up to the snap length). */
  readonly payload: Buffer;
}

/** Link-layer header lengths of the link types tcpdump writes for `lo`. */
const linkHeader: Record<number, number> = { 0: 4, 1: 14, 113: 16, 276: 20 };

/** The data-carrying IPv4 TCP segments of a classic pcap file (either byte order, µs or ns stamps). */
export function* readPcap(file: Buffer): Generator<WirePacket> {
  if (file.length < 24) throw new Error('pcap: shorter than its global header');
  const magicLE = file.readUInt32LE(0);
  let le: boolean;
  let nanos: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) [le, nanos] = [true, magicLE === 0xa1b23c4d];
  else if (file.readUInt32BE(0) === 0xa1b2c3d4 || file.readUInt32BE(0) === 0xa1b23c4d) [le, nanos] = [false, file.readUInt32BE(0) === 0xa1b23c4d];
  else throw new Error(`pcap: unknown magic ${magicLE.toString(16)}`);
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const link = u32(20) & 0xffff;
  const l2 = linkHeader[link];
  if (l2 === undefined) throw new Error(`pcap: unsupported link type ${link}`);
  let off = 24;
  while (off + 16 <= file.length) {
    const tUs = u32(off) * 1e6 + (nanos ? Math.floor(u32(off + 4) / 1000) : u32(off + 4));
    const captured = u32(off + 8);
    const start = off + 16;
    off = start + captured;
    if (off > file.length) break; // a capture cut mid-packet
    if (link === 1 && file.readUInt16BE(start + 12) !== 0x0800) continue; // not IPv4
    const ip = start + l2;
    if (ip + 20 > off || file[ip] === undefined || (file[ip] as number) >> 4 !== 4 || file[ip + 9] !== 6) continue;
    const ihl = ((file[ip] as number) & 0x0f) * 4;
    const total = file.readUInt16BE(ip + 2);
    const tcp = ip + ihl;
    if (tcp + 20 > off) continue;
    const thl = ((file[tcp + 12] as number) >> 4) * 4;
    const payloadLength = total - ihl - thl;
    if (payloadLength <= 0) continue;
    yield { tUs, srcPort: file.readUInt16BE(tcp), dstPort: file.readUInt16BE(tcp + 2), payload: file.subarray(Math.min(tcp + thl, off), Math.min(tcp + thl + payloadLength, off)) };
  }
}

/** Per matched request, in µs. */
export interface LatencyLegs {
  /** wrk's write of the request → the balancer's write of the answer (t4−t1). */
  readonly roundTrip: number[];
  /** Both legs in the balancer (t2−t1 + t4−t3). */
  readonly inBalancer: number[];
  readonly requestLeg: number[];
  readonly backend: number[];
  readonly responseLeg: number[];
  /** The answer's write → wrk's write of its next request on that connection (t5−t4). */
  readonly clientTurnaround: number[];
  /** wrk's write of a request → its write of the next one on that connection (t5−t1): wrk's latency plus a near-constant cost of wrk's per request. */
  readonly cycle: number[];
  /** Requests seen from wrk that could not be followed to an answer (cut by the capture's ends). */
  readonly unmatched: number;
}

/** As wrk writes it, and as HAProxy forwards it (its HTTP/1 output lower-cases field names). */
const idFields = [Buffer.from('\r\nX-Bench-Id: ', 'latin1'), Buffer.from('\r\nx-bench-id: ', 'latin1')];

/** The request's id (the `X-Bench-Id` field's value), or null. */
function requestId(payload: Buffer): string | null {
  let at = -1;
  for (const field of idFields) if ((at = payload.indexOf(field)) >= 0) break;
  if (at < 0) return null;
  const from = at + (idFields[0] as Buffer).length;
  const end = payload.indexOf(13, from);
  return end < 0 ? null : payload.toString('latin1', from, end);
}

interface Pending {
  readonly t1: number;
  t2: number;
  t3: number;
}

/** Follows each wrk request through the balancer on `balancerPort` to a backend (one of `backendPorts`) and back. */
export function attribute(packets: Iterable<WirePacket>, balancerPort: number, backendPorts: ReadonlySet<number>): LatencyLegs {
  const legs = { roundTrip: [] as number[], inBalancer: [] as number[], requestLeg: [] as number[], backend: [] as number[], responseLeg: [] as number[], clientTurnaround: [] as number[], cycle: [] as number[] };
  const byId = new Map<string, Pending>();
  /** Client port → its request in flight. */
  const atClient = new Map<number, Pending>();
  /** Upstream connection (balancer port × 65536 + backend port) → its request in flight. */
  const atBackend = new Map<number, Pending>();
  /** Client port → when its last answer was written, and its request. */
  const answered = new Map<number, { t4: number; t1: number }>();
  let seen = 0;
  for (const p of packets) {
    if (p.dstPort === balancerPort) {
      const id = requestId(p.payload);
      if (id === null) continue; // a later segment of a request
      seen++;
      const pending: Pending = { t1: p.tUs, t2: NaN, t3: NaN };
      byId.set(id, pending);
      atClient.set(p.srcPort, pending);
      const last = answered.get(p.srcPort);
      if (last !== undefined) {
        legs.clientTurnaround.push(p.tUs - last.t4);
        legs.cycle.push(p.tUs - last.t1);
      }
      answered.delete(p.srcPort);
    } else if (backendPorts.has(p.dstPort)) {
      const id = requestId(p.payload);
      const pending = id === null ? undefined : byId.get(id);
      if (id === null || pending === undefined) continue;
      byId.delete(id);
      pending.t2 = p.tUs;
      atBackend.set(p.srcPort * 65536 + p.dstPort, pending);
    } else if (backendPorts.has(p.srcPort)) {
      const key = p.dstPort * 65536 + p.srcPort;
      const pending = atBackend.get(key);
      if (pending === undefined) continue; // a later segment, or a health check's answer
      atBackend.delete(key);
      pending.t3 = p.tUs;
    } else if (p.srcPort === balancerPort) {
      const pending = atClient.get(p.dstPort);
      if (pending === undefined || Number.isNaN(pending.t3)) continue;
      atClient.delete(p.dstPort);
      const t4 = p.tUs;
      legs.roundTrip.push(t4 - pending.t1);
      legs.requestLeg.push(pending.t2 - pending.t1);
      legs.backend.push(pending.t3 - pending.t2);
      legs.responseLeg.push(t4 - pending.t3);
      legs.inBalancer.push(pending.t2 - pending.t1 + t4 - pending.t3);
      answered.set(p.dstPort, { t4, t1: pending.t1 });
    }
  }
  return { ...legs, unmatched: seen - legs.roundTrip.length };
}

/** A wrk script that numbers every request (`X-Bench-Id: <thread>-<n>`), for `attribute`. */
export const wrkIdScript = `
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
function request()
  n = n + 1
  return wrk.format(nil, nil, { ["Host"] = wrk.headers["Host"], ["X-Bench-Id"] = tid .. "-" .. n })
end
`;
