import { expect } from 'chai';
import dns2 from 'dns2';
import { compileZone } from '../../../src/dns/answers.ts';
import { DnsMetrics } from '../../../src/dns/metrics.ts';
import { RecursionAcl } from '../../../src/dns/recursion-acl.ts';
import { DnsResponder } from '../../../src/dns/responder.ts';
import { RegistryState } from '../../../src/registry/registry-state.ts';
import { Rcode, RRType } from '../../../src/dns/wire.ts';
import { buildZone } from '../../../src/dns/zone.ts';
import { SeededRandom, randomInt } from '../../../src/common/random.ts';
import type { RegistryEndpoint } from '../../../src/registry/types.ts';

const { Packet } = dns2;

function endpoint(taskId: string, index: number, ip: string): RegistryEndpoint {
  return { appId: '/shop/web', taskId, index, host: ip, ip, ports: [31000 + index], version: 'v1', healthySince: '2026-01-01T00:00:00Z' };
}

function responder(instances: number): DnsResponder {
  const endpoints = Array.from({ length: instances }, (_, i) => endpoint(`t${i}`, i, `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`));
  const view = RegistryState.fromSnapshot({ type: 'SNAPSHOT', clusterId: 'c', revision: 3, cluster: {}, apps: [{ id: '/shop/web', labels: {}, ports: [{ name: 'http', protocol: 'tcp', servicePort: 0, labels: {} }], endpoints }] });
  const zone = compileZone(buildZone(view, { domain: 'cygnet', ttlSec: 5, negativeTtlSec: 5 }), view.revision);
  // No forwarder: names outside the zone are REFUSED.
  return new DnsResponder(zone, new RecursionAcl(['127.0.0.0/8']), undefined, new DnsMetrics());
}

function query(name: string, type: number, opts: { edns?: number; id?: number } = {}): Buffer {
  const p = new Packet();
  p.header.id = opts.id ?? 0x1234;
  p.header.rd = 1;
  p.questions.push({ name, type, class: Packet.CLASS.IN } as dns2.Packet.Question);
  if (opts.edns !== undefined) p.additionals.push(Object.assign(Packet.Resource.EDNS([]), { class: opts.edns }));
  return p.toBuffer();
}

function ask(r: DnsResponder, msg: Buffer, transport: 'udp' | 'tcp' = 'udp'): dns2.Packet & { raw: Buffer } {
  const out = r.handle(msg, transport, '127.0.0.1');
  if (!(out instanceof Buffer)) throw new Error('expected a synchronous answer');
  return Object.assign(Packet.parse(out), { raw: out });
}

describe('dns: responder (pre-encoded answers)', () => {
  it('answers A with the id, the client\'s spelling of the name, AA, and rotates the set', () => {
    const r = responder(3);
    const first = ask(r, query('WeB.Shop.CYGNET', RRType.A, { id: 4242 }));
    expect(first.header.id).to.equal(4242);
    expect(first.header.aa).to.equal(1);
    expect(first.header.rd).to.equal(1);
    expect(first.questions[0]?.name).to.equal('WeB.Shop.CYGNET');
    const seen = [first, ask(r, query('web.shop.cygnet', RRType.A)), ask(r, query('web.shop.cygnet', RRType.A))].map((p) => p.answers.map((a) => a.address).join(','));
    expect(seen).to.deep.equal(['10.0.0.1,10.0.0.2,10.0.0.3', '10.0.0.2,10.0.0.3,10.0.0.1', '10.0.0.3,10.0.0.1,10.0.0.2']);
    expect(first.answers[0]?.name).to.equal('WeB.Shop.CYGNET'); // owner compressed to the question
  });

  it('answers SRV with the targets\' A records in the additional section', () => {
    const p = ask(responder(2), query('_http._tcp.web.shop.cygnet', RRType.SRV));
    expect(p.answers.map((a) => [a.port, a.target])).to.deep.equal([[31000, '0.web.shop.cygnet'], [31001, '1.web.shop.cygnet']]);
    expect(p.additionals.map((a) => [a.name, a.address])).to.deep.equal([['0.web.shop.cygnet', '10.0.0.1'], ['1.web.shop.cygnet', '10.0.0.2']]);
  });

  it('tells NXDOMAIN from NODATA, both with the SOA in the authority section', () => {
    const r = responder(1);
    const nx = ask(r, query('nope.shop.cygnet', RRType.A));
    expect([nx.header.rcode, nx.answers.length, nx.authorities[0]?.type]).to.deep.equal([Rcode.NXDOMAIN, 0, RRType.SOA]);
    const nodata = ask(r, query('web.shop.cygnet', RRType.AAAA));
    expect([nodata.header.rcode, nodata.answers.length, nodata.authorities[0]?.type]).to.deep.equal([Rcode.NOERROR, 0, RRType.SOA]);
    const ent = ask(r, query('shop.cygnet', RRType.A));
    expect([ent.header.rcode, ent.authorities[0]?.primary]).to.deep.equal([Rcode.NOERROR, 'ns.cygnet']);
  });

  it('echoes an OPT record when the client sent one and truncates past its size (TC), not over TCP', () => {
    const r = responder(100); // 100 A records: 12 + 21 + 100*16 bytes
    const small = ask(r, query('web.shop.cygnet', RRType.A));
    expect(small.header.tc).to.equal(1);
    expect(small.raw.length).to.be.at.most(512);
    expect(small.answers.length).to.equal(Math.floor((512 - 33) / 16));
    const edns = ask(r, query('web.shop.cygnet', RRType.A, { edns: 1000 }));
    expect(edns.header.tc).to.equal(1);
    expect(edns.raw.length).to.be.at.most(1000);
    expect(edns.additionals.map((a) => [a.type, a.class])).to.deep.equal([[RRType.OPT, 1232]]);
    const big = ask(r, query('web.shop.cygnet', RRType.A, { edns: 4096 }));
    expect(big.header.tc).to.equal(1); // we never send more than 1232 over UDP
    const tcp = ask(r, query('web.shop.cygnet', RRType.A), 'tcp');
    expect([tcp.header.tc, tcp.answers.length]).to.deep.equal([0, 100]);
  });

  it('refuses names outside the zone without a forwarder, and answers errors for odd queries', () => {
    const r = responder(1);
    expect(ask(r, query('example.com', RRType.A)).header.rcode).to.equal(Rcode.REFUSED);
    const notimp = Buffer.from(query('web.shop.cygnet', RRType.A));
    notimp[2] |= 0x10; // opcode 2 (STATUS)
    expect(ask(r, notimp).header.rcode).to.equal(Rcode.NOTIMP);
    const twoQuestions = Buffer.from(query('web.shop.cygnet', RRType.A));
    twoQuestions[5] = 2;
    expect(ask(r, twoQuestions).header.rcode).to.equal(Rcode.FORMERR);
    const badvers = query('web.shop.cygnet', RRType.A, { edns: 1232 });
    badvers[badvers.length - 5] = 1; // OPT version 1
    const reply = r.handle(badvers, 'udp', '127.0.0.1') as Buffer;
    expect(reply[reply.length - 6]).to.equal(1); // extended rcode 1 + header 0 = BADVERS (16)
    const response = Buffer.from(query('web.shop.cygnet', RRType.A));
    response[2] |= 0x80; // a response is never answered
    expect(r.handle(response, 'udp', '127.0.0.1')).to.equal(undefined);
  });

  it('survives random and mutated packets (fuzz): never throws, answers within the limit or drops', () => {
    const r = responder(20);
    const rng = new SeededRandom(20261206);
    const seeds = [query('web.shop.cygnet', RRType.A), query('_http._tcp.web.shop.cygnet', RRType.SRV, { edns: 4096 }), query('x.cygnet', RRType.TXT), query('example.org', RRType.A)];
    for (let i = 0; i < 20_000; i++) {
      let pkt: Buffer;
      if (i % 4 === 0) {
        pkt = Buffer.alloc(randomInt(rng, 0, 600));
        for (let j = 0; j < pkt.length; j++) pkt[j] = randomInt(rng, 0, 256);
      } else {
        pkt = Buffer.from(seeds[i % seeds.length] ?? Buffer.alloc(0));
        const flips = randomInt(rng, 1, 6);
        for (let f = 0; f < flips; f++) pkt[randomInt(rng, 0, pkt.length)] = randomInt(rng, 0, 256);
        if (rng.next() < 0.2) pkt = pkt.subarray(0, randomInt(rng, 0, pkt.length));
      }
      const out = r.handle(pkt, i % 2 === 0 ? 'udp' : 'tcp', '127.0.0.1');
      expect(out instanceof Promise).to.equal(false);
      if (out instanceof Buffer && i % 2 === 0) expect(out.length, `packet ${pkt.toString('hex')}`).to.be.at.most(1232);
    }
  });
});
