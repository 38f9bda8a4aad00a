/**
 * The DNS server fed by a real registry watch (publisher + watch server on
 * port 0), queried with Node's own resolver and a Node DNS client over UDP
 * and TCP (the same answers through dig: test/compat/dns-dig.test.ts).
 */
import { expect } from 'chai';
import { Resolver } from 'node:dns/promises';
import { startDns, type RunningDns } from '../../../src/dns/main.ts';
import { parseDnsFlags } from '../../../src/dns/flags.ts';
import { startReplica, waitFor, type Replica } from '../../helpers/registry-harness.ts';
import { endpoint } from '../../helpers/registry-fixtures.ts';
import { startDnsFixture } from '../../helpers/dns-fixture.ts';
import { query } from '../../helpers/dns.ts';
import { Rcode, RRType } from '../../../src/dns/wire.ts';

describe('dns: resolution from the registry watch', function () {
  this.timeout(20_000);
  let replica: Replica;
  let dns: RunningDns;
  let resolver: Resolver;

  before(async () => {
    const fixture = await startDnsFixture();
    replica = fixture.replica;
    dns = fixture.dns;
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dns.server.port}`]);
  });

  after(async () => {
    // Tests below restart the replica (same port): stop the one running now, not the fixture's first.
    await dns?.close();
    await replica?.stop();
  });

  it('resolves an app, its SRV records and an instance address backwards with Node\'s resolver', async () => {
    expect((await resolver.resolve4('web.shop.cygnet')).sort()).to.deep.equal(['10.0.0.1', '10.0.0.2']);
    expect((await resolver.resolve4('web.shop.cygnet', { ttl: true }))[0]?.ttl).to.equal(7);
    const srv = await resolver.resolveSrv('_http._tcp.web.shop.cygnet');
    expect(srv.map((s) => [s.name, s.port]).sort()).to.deep.equal([['0.web.shop.cygnet', 31000], ['1.web.shop.cygnet', 31001]]);
    expect(await resolver.reverse('10.0.0.2')).to.deep.equal(['1.web.shop.cygnet']);
    expect(await resolver.resolve4('leader.cygnet')).to.deep.equal(['127.0.0.1']);
    const soa = await resolver.resolveSoa('cygnet');
    expect([soa.nsname, soa.serial]).to.deep.equal(['ns.cygnet', replica.publisher.revision]);
    const err = await resolver.resolve4('nope.shop.cygnet').then(() => undefined, (e: NodeJS.ErrnoException) => e.code);
    expect(err).to.equal('ENOTFOUND');
  });

  it('answers A, SRV with additionals and PTR, over UDP and TCP (Node client, same checks as dig in test:compat)', async () => {
    const a = await query(dns.server.port, 'web.shop.cygnet', RRType.A);
    expect([a.rcode, a.flags.aa]).to.deep.equal([Rcode.NOERROR, true]);
    expect(a.answer.map((r) => r.address).sort()).to.deep.equal(['10.0.0.1', '10.0.0.2']);
    const srv = await query(dns.server.port, '_http._tcp.web.shop.cygnet', RRType.SRV);
    expect(srv.answer.map((r) => `${String(r.priority)} ${String(r.weight)} ${String(r.port)} ${String(r.target)}`).sort()).to.deep.equal(['0 1 31000 0.web.shop.cygnet', '0 1 31001 1.web.shop.cygnet']);
    expect(srv.additional.map((r) => `${String(r.name)} ${String(r.ttl)} ${String(r.address)}`).sort()).to.deep.equal(['0.web.shop.cygnet 7 10.0.0.1', '1.web.shop.cygnet 7 10.0.0.2']);
    const ptr = await query(dns.server.port, '1.0.0.10.in-addr.arpa', RRType.PTR);
    expect(ptr.answer.map((r) => r.domain)).to.deep.equal(['0.web.shop.cygnet']);
    const tcp = await query(dns.server.port, '1.web.shop.cygnet', RRType.A, { tcp: true });
    expect(tcp.answer.map((r) => r.address)).to.deep.equal(['10.0.0.2']);
  });

  it('answers NXDOMAIN for a missing name and NODATA for a missing type, both with the SOA', async () => {
    const nx = await query(dns.server.port, 'nope.web.shop.cygnet', RRType.A);
    expect([nx.rcode, nx.answer.length]).to.deep.equal([Rcode.NXDOMAIN, 0]);
    const soa = nx.authority[0] ?? {};
    expect([soa.name, soa.ttl, soa.primary, soa.admin, soa.refresh, soa.retry, soa.expiration, soa.minimum]).to.deep.equal(['cygnet', 7, 'ns.cygnet', 'hostmaster.cygnet', 3600, 600, 86400, 7]);
    const nodata = await query(dns.server.port, 'web.shop.cygnet', RRType.AAAA);
    expect([nodata.rcode, nodata.answer.length, nodata.authority[0]?.primary]).to.deep.equal([Rcode.NOERROR, 0, 'ns.cygnet']);
    const viaNode = await resolver.resolve6('web.shop.cygnet').then(() => undefined, (e: NodeJS.ErrnoException) => e.code);
    expect(viaNode).to.equal('ENODATA');
  });

  it('truncates over UDP past 512 bytes or the EDNS size (TC) and gives everything over TCP', async () => {
    const plain = await query(dns.server.port, 'big.cygnet', RRType.A);
    // 12 header + 16 question + 16 per A record: 30 fit in 512
    expect([plain.flags.tc, plain.answer.length]).to.deep.equal([true, 30]);
    const edns = await query(dns.server.port, 'big.cygnet', RRType.A, { bufsize: 700 });
    expect([edns.flags.tc, edns.answer.length]).to.deep.equal([true, Math.floor((700 - 28 - 11) / 16)]); // the OPT record takes 11
    const roomy = await query(dns.server.port, 'big.cygnet', RRType.A, { bufsize: 1232 });
    expect([roomy.flags.tc, roomy.answer.length]).to.deep.equal([false, 60]);
    const tcp = await query(dns.server.port, 'big.cygnet', RRType.A, { tcp: true });
    expect([tcp.flags.tc, tcp.answer.length]).to.deep.equal([false, 60]);
    // Node's resolver (c-ares) sees TC and asks again over TCP: it gets all 60.
    expect(await resolver.resolve4('big.cygnet')).to.have.length(60);
  });

  it('follows health: an instance that goes down leaves the answers, one that comes up joins', async () => {
    replica.publisher.publish({ type: 'ENDPOINT_DOWN', appId: '/shop/web', taskId: 'web.1' });
    await waitFor(() => dns.server.revision === replica.publisher.revision, 'the ENDPOINT_DOWN');
    expect(await resolver.resolve4('web.shop.cygnet')).to.deep.equal(['10.0.0.2']);
    replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', 'web.3', { index: 2, ip: '10.0.0.3', ports: [31002] }) });
    await waitFor(() => dns.server.revision === replica.publisher.revision, 'the ENDPOINT_UP');
    expect((await resolver.resolve4('web.shop.cygnet')).sort()).to.deep.equal(['10.0.0.2', '10.0.0.3']);
    expect((await resolver.resolveSrv('_http._tcp.web.shop.cygnet')).map((s) => s.port).sort()).to.deep.equal([31001, 31002]);
  });

  it('keeps answering while the framework is gone and catches up when it returns', async () => {
    const port = replica.port;
    const publisher = replica.publisher;
    await replica.stop();
    await waitFor(() => !dns.watch.connected, 'the watch to notice the framework is gone');
    expect((await resolver.resolve4('web.shop.cygnet')).sort()).to.deep.equal(['10.0.0.2', '10.0.0.3']);
    publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', 'web.4', { index: 3, ip: '10.0.0.4', ports: [31003] }) });
    replica = await startReplica({ publisher, port, heartbeatIntervalMs: 200 });
    await waitFor(() => dns.server.revision === publisher.revision, 'the DNS to resume from its revision', 10_000);
    expect((await resolver.resolve4('web.shop.cygnet')).sort()).to.deep.equal(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
  });

  it('fails over to another framework replica and resumes there', async () => {
    const second = await startReplica({ publisher: replica.publisher, heartbeatIntervalMs: 200 });
    const flags = parseDnsFlags(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--registry', `${replica.url},${second.url}`, '--upstream', ''], () => '');
    const both = await startDns(flags, { heartbeatIntervalMs: 200, backoff: { minMs: 20, maxMs: 200 } });
    try {
      await waitFor(() => both.server.revision === replica.publisher.revision, 'the zone from the first replica');
      const publisher = replica.publisher;
      const port = replica.port;
      await replica.stop();
      publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', 'web.5', { index: 4, ip: '10.0.0.5', ports: [31004] }) });
      await waitFor(() => both.server.revision === publisher.revision, 'the zone from the second replica', 10_000);
      const r = new Resolver({ timeout: 2000, tries: 1 });
      r.setServers([`127.0.0.1:${both.server.port}`]);
      expect(await r.resolve4('4.web.shop.cygnet')).to.deep.equal(['10.0.0.5']);
      replica = await startReplica({ publisher, port, heartbeatIntervalMs: 200 });
    } finally {
      await both.close();
      await second.stop();
    }
  });

  it('serves /health (503 until the first snapshot) and Prometheus /metrics on the admin port', async () => {
    const orphan = await startDns(parseDnsFlags(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--registry', 'http://127.0.0.1:1', '--upstream', ''], () => ''));
    try {
      const waiting = await fetch(`http://127.0.0.1:${orphan.server.adminPort}/health`);
      expect([waiting.status, ((await waiting.json()) as { status: string }).status]).to.deep.equal([503, 'waiting for the registry']);
    } finally {
      await orphan.close();
    }
    await waitFor(() => dns.watch.connected && dns.server.revision === replica.publisher.revision, 'the watch to be back after the failover test');
    const base = `http://127.0.0.1:${dns.server.adminPort}`;
    const health = await (await fetch(`${base}/health`)).json() as { status: string; revision: number; watchConnected: boolean };
    expect([health.status, health.revision, health.watchConnected]).to.deep.equal(['ok', replica.publisher.revision, true]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).to.match(/^cygnet_dns_queries_total\{type="A"\} [1-9]\d*$/m);
    expect(metrics).to.match(/^cygnet_dns_responses_total\{rcode="NXDOMAIN"\} [1-9]\d*$/m);
    expect(metrics).to.match(new RegExp(`^cygnet_dns_watch_revision ${replica.publisher.revision}$`, 'm'));
    expect(metrics).to.match(/^cygnet_dns_watch_lag_seconds \d+(\.\d+)?$/m);
  });
});
