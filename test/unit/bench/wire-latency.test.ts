import { expect } from 'chai';
import { attribute, readPcap, type WirePacket } from '../../../bench/lib/wire-latency.ts';

/** A pcap (µs stamps, Ethernet link, as tcpdump writes `lo`) of IPv4 TCP segments. */
function pcap(segments: readonly { tUs: number; src: number; dst: number; data: string; snap?: number }[], le = true): Buffer {
  const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); if (le) b.writeUInt32LE(v); else b.writeUInt32BE(v); return b; };
  const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v); return b; };
  const parts: Buffer[] = [u32(0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(65535), u32(1)];
  for (const s of segments) {
    const payload = Buffer.from(s.data, 'latin1');
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 32 + payload.length, 2);
    ip[9] = 6;
    const tcp = Buffer.alloc(32);
    tcp.writeUInt16BE(s.src, 0);
    tcp.writeUInt16BE(s.dst, 2);
    tcp[12] = 8 << 4;
    const whole = Buffer.concat([eth, ip, tcp, payload]);
    const captured = whole.subarray(0, s.snap ?? whole.length);
    parts.push(u32(Math.floor(s.tUs / 1e6)), u32(s.tUs % 1e6), u32(captured.length), u32(whole.length), captured);
  }
  return Buffer.concat(parts);
}

const req = (id: string, lower = false): string => `GET / HTTP/1.1\r\nHost: web\r\n${lower ? 'x-bench-id' : 'X-Bench-Id'}: ${id}\r\n\r\n`;
const res = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
const LB = 8000;
const backends = new Set([9001, 9002]);

describe('bench wire-latency', () => {
  it('reads the data-carrying segments of a pcap in either byte order', () => {
    for (const le of [true, false]) {
      const file = pcap([{ tUs: 1_000_000_250, src: 40000, dst: LB, data: req('0-1') }, { tUs: 1_000_000_300, src: LB, dst: 40000, data: '' }], le);
      const got = [...readPcap(file)];
      expect(got).to.have.length(1);
      expect(got[0]).to.include({ tUs: 1_000_000_250, srcPort: 40000, dstPort: LB });
      expect((got[0] as WirePacket).payload.toString('latin1')).to.equal(req('0-1'));
    }
  });

  it('refuses what is not a pcap', () => {
    expect(() => [...readPcap(Buffer.alloc(24))]).to.throw(/magic/);
    expect(() => [...readPcap(Buffer.alloc(3))]).to.throw(/global header/);
  });

  it('follows each request through the balancer by its id, whatever order the legs interleave in', () => {
    const file = pcap([
      { tUs: 100, src: 40001, dst: LB, data: req('0-1') },
      { tUs: 110, src: 40002, dst: LB, data: req('0-2') },
      // The balancer forwards the second request first, to another backend, lower-casing the field as HAProxy does.
      { tUs: 130, src: 50002, dst: 9002, data: req('0-2', true) },
      { tUs: 140, src: 50001, dst: 9001, data: req('0-1') },
      { tUs: 400, src: 9001, dst: 50001, data: res },
      { tUs: 500, src: 9002, dst: 50002, data: res },
      { tUs: 520, src: LB, dst: 40002, data: res },
      { tUs: 530, src: LB, dst: 40001, data: res },
      { tUs: 600, src: 40001, dst: LB, data: req('0-3') }, // the next request on 40001, never answered in the capture
    ]);
    const legs = attribute(readPcap(file), LB, backends);
    expect(legs.roundTrip).to.deep.equal([410, 430]);
    expect(legs.requestLeg).to.deep.equal([20, 40]);
    expect(legs.backend).to.deep.equal([370, 260]);
    expect(legs.responseLeg).to.deep.equal([20, 130]);
    expect(legs.inBalancer).to.deep.equal([40, 170]);
    expect(legs.clientTurnaround).to.deep.equal([70]);
    expect(legs.cycle).to.deep.equal([500]);
    expect(legs.unmatched).to.equal(1);
  });

  it('skips segments it cannot place: no id, later segments, answers nobody asked for', () => {
    const file = pcap([
      { tUs: 100, src: 40001, dst: LB, data: 'GET / HTTP/1.1\r\nHost: web\r\n\r\n' },
      { tUs: 120, src: 9001, dst: 50009, data: res },
      { tUs: 130, src: LB, dst: 40001, data: res },
      { tUs: 140, src: 40001, dst: LB, data: req('0-9'), snap: 60 }, // id cut off by the snap length
    ]);
    const legs = attribute(readPcap(file), LB, backends);
    expect(legs.roundTrip).to.deep.equal([]);
    expect(legs.unmatched).to.equal(0);
  });
});
