/**
 * The DNS server answering the real `dig` (bind9-dnsutils), over UDP and TCP:
 * A, SRV with additionals, PTR, NXDOMAIN vs NODATA with the SOA, truncation
 * with TC and the whole answer over TCP. Needs dig, so it runs in
 * `npm run test:compat` (`.ci/run` installs bind9-dnsutils); `npm test`
 * checks the same answers through a Node client.
 */
import { expect } from 'chai';
import type { RunningDns } from '../../src/dns/main.ts';
import { startDnsFixture, type DnsFixture } from '../helpers/dns-fixture.ts';
import { dig } from '../helpers/dns.ts';

describe('dns: answers as dig sees them', function () {
  this.timeout(20_000);
  let dns: RunningDns;

  let fixture: DnsFixture;

  before(async () => {
    fixture = await startDnsFixture();
    dns = fixture.dns;
  });

  after(async () => {
    await fixture?.close();
  });

  it('answers dig: A, SRV with additionals, PTR, over UDP and TCP', async () => {
    const a = await dig(dns.server.port, ['web.shop.cygnet', 'A']);
    expect([a.status, a.flags.includes('aa')]).to.deep.equal(['NOERROR', true]);
    expect(a.answer.map((l) => l.split(' ')[4]).sort()).to.deep.equal(['10.0.0.1', '10.0.0.2']);
    const srv = await dig(dns.server.port, ['_http._tcp.web.shop.cygnet', 'SRV']);
    expect(srv.answer.map((l) => l.split(' ').slice(4).join(' ')).sort()).to.deep.equal(['0 1 31000 0.web.shop.cygnet.', '0 1 31001 1.web.shop.cygnet.']);
    expect(srv.additional.filter((l) => l.includes(' A ')).sort()).to.deep.equal(['0.web.shop.cygnet. 7 IN A 10.0.0.1', '1.web.shop.cygnet. 7 IN A 10.0.0.2']);
    const ptr = await dig(dns.server.port, ['-x', '10.0.0.1']);
    expect(ptr.answer).to.deep.equal(['1.0.0.10.in-addr.arpa. 7 IN PTR 0.web.shop.cygnet.']);
    const tcp = await dig(dns.server.port, ['+tcp', '1.web.shop.cygnet', 'A']);
    expect(tcp.answer).to.deep.equal(['1.web.shop.cygnet. 7 IN A 10.0.0.2']);
  });

  it('answers NXDOMAIN for a missing name and NODATA for a missing type, both with the SOA', async () => {
    const nx = await dig(dns.server.port, ['nope.web.shop.cygnet', 'A']);
    expect([nx.status, nx.answer.length]).to.deep.equal(['NXDOMAIN', 0]);
    expect(nx.authority[0]).to.match(/^cygnet\. 7 IN SOA ns\.cygnet\. hostmaster\.cygnet\. \d+ 3600 600 86400 7$/);
    const nodata = await dig(dns.server.port, ['web.shop.cygnet', 'AAAA']);
    expect([nodata.status, nodata.answer.length]).to.deep.equal(['NOERROR', 0]);
    expect(nodata.authority[0]).to.match(/ SOA ns\.cygnet\. /);
  });

  it('truncates over UDP past 512 bytes or the EDNS size (TC) and gives everything over TCP', async () => {
    const plain = await dig(dns.server.port, ['+ignore', '+noedns', 'big.cygnet', 'A']);
    expect(plain.flags).to.include('tc');
    // 12 header + 16 question + 16 per A record: 30 fit in 512
    expect(plain.answer.length).to.equal(30);
    const edns = await dig(dns.server.port, ['+ignore', '+bufsize=700', 'big.cygnet', 'A']);
    expect(edns.flags).to.include('tc');
    expect(edns.answer.length).to.equal(Math.floor((700 - 28 - 11) / 16)); // the OPT record takes 11
    const roomy = await dig(dns.server.port, ['+ignore', '+bufsize=1232', 'big.cygnet', 'A']);
    expect([roomy.flags.includes('tc'), roomy.answer.length]).to.deep.equal([false, 60]);
    const tcp = await dig(dns.server.port, ['+tcp', '+noedns', 'big.cygnet', 'A']);
    expect([tcp.flags.includes('tc'), tcp.answer.length]).to.deep.equal([false, 60]);
  });
});
