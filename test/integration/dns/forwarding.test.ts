/**
 * Names outside the zone: forwarded to fake upstreams started here, cached,
 * failed over, SERVFAIL when every upstream is dead, REFUSED for clients
 * outside the allow-list; and a fuzz on the real sockets.
 */
import { expect } from 'chai';
import { Resolver } from 'node:dns/promises';
import { parseDnsFlags } from '../../../src/dns/flags.ts';
import { startDns, type RunningDns } from '../../../src/dns/main.ts';
import { SeededRandom, randomInt } from '../../../src/common/random.ts';
import { Rcode, RRType } from '../../../src/dns/wire.ts';
import { startReplica, waitFor, type Replica } from '../../helpers/registry-harness.ts';
import { app, endpoint } from '../../helpers/registry-fixtures.ts';
import { buildQuery, Packet, query, startFakeUpstream, tcpRaw, udpExchange, type FakeUpstream } from '../../helpers/dns.ts';

describe('dns: forwarding, cache, failover and recursion control', function () {
  this.timeout(20_000);
  let replica: Replica;
  const running: RunningDns[] = [];
  const upstreams: FakeUpstream[] = [];

  async function dnsWith(args: string[]): Promise<RunningDns> {
    const flags = parseDnsFlags(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--registry', replica.url, ...args], () => '');
    const dns = await startDns(flags, { heartbeatIntervalMs: 200 });
    running.push(dns);
    await waitFor(() => dns.server.revision === replica.publisher.revision, 'the zone');
    return dns;
  }

  function resolverFor(dns: RunningDns): Resolver {
    const r = new Resolver({ timeout: 3000, tries: 1 });
    r.setServers([`127.0.0.1:${dns.server.port}`]);
    return r;
  }

  before(async () => {
    replica = await startReplica({ heartbeatIntervalMs: 200 });
    replica.publisher.publish({ type: 'APP_UPDATED', app: app('/web') });
    replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/web', 'w1', { ip: '10.0.0.1' }) });
  });

  after(async () => {
    for (const d of running) await d.close();
    for (const u of upstreams) await u.close();
    await replica?.stop();
  });

  it('forwards a name outside the zone and answers the second query from the cache, TTL aged', async () => {
    const up = await startFakeUpstream({ 'ext.example.org': '192.0.2.1' });
    upstreams.push(up);
    const dns = await dnsWith(['--upstream', `127.0.0.1:${up.port}`]);
    const resolver = resolverFor(dns);
    expect(await resolver.resolve4('ext.example.org', { ttl: true })).to.deep.equal([{ address: '192.0.2.1', ttl: 60 }]);
    expect(up.asked).to.deep.equal(['ext.example.org/1']);
    const again = await query(dns.server.port, 'EXT.example.org', RRType.A);
    expect(again.answer).to.have.length(1);
    expect([again.answer[0]?.name, again.answer[0]?.address]).to.deep.equal(['EXT.example.org', '192.0.2.1']);
    expect(again.answer[0]?.ttl).to.be.oneOf([59, 60]);
    expect(up.asked).to.deep.equal(['ext.example.org/1']);
    // negative answers are cached too (for the SOA's minimum)
    expect((await query(dns.server.port, 'missing.example.org', RRType.A)).rcode).to.equal(Rcode.NXDOMAIN);
    expect((await query(dns.server.port, 'missing.example.org', RRType.A)).rcode).to.equal(Rcode.NXDOMAIN);
    expect(up.asked.filter((q) => q.startsWith('missing'))).to.have.length(1);
    // and the cluster zone is still ours
    expect(await resolver.resolve4('web.cygnet')).to.deep.equal(['10.0.0.1']);
    const metrics = await (await fetch(`http://127.0.0.1:${dns.server.adminPort}/metrics`)).text();
    expect(metrics).to.match(/^cygnet_dns_cache_hits_total 2$/m);
    expect(metrics).to.match(/^cygnet_dns_upstream_latency_seconds_count 2$/m);
  });

  it('fails over to the next upstream after the timeout, and answers SERVFAIL when all are dead', async () => {
    const dead1 = await startFakeUpstream({}, { silent: true });
    const dead2 = await startFakeUpstream({}, { silent: true });
    const live = await startFakeUpstream({ 'ok.example.org': '192.0.2.7' });
    upstreams.push(dead1, dead2, live);
    const failover = await dnsWith(['--upstream', `127.0.0.1:${dead1.port},127.0.0.1:${live.port}`, '--upstream-timeout', '200']);
    expect(await resolverFor(failover).resolve4('ok.example.org')).to.deep.equal(['192.0.2.7']);
    expect(dead1.asked).to.deep.equal(['ok.example.org/1']);

    const allDead = await dnsWith(['--upstream', `127.0.0.1:${dead1.port},127.0.0.1:${dead2.port}`, '--upstream-timeout', '200']);
    const started = Date.now();
    const reply = await udpExchange(allDead.server.port, buildQuery('gone.example.org', RRType.A), 3000);
    const elapsed = Date.now() - started;
    expect(reply, 'an answer').to.not.equal(undefined);
    expect(Packet.parse(reply ?? Buffer.alloc(0)).header.rcode).to.equal(Rcode.SERVFAIL);
    expect(elapsed).to.be.within(350, 1500); // two upstreams × 200 ms, plus slack on a busy machine
  });

  it('refuses recursion to clients outside the allow-list but still answers for the zone', async () => {
    const up = await startFakeUpstream({ 'ext.example.org': '192.0.2.1' });
    upstreams.push(up);
    const dns = await dnsWith(['--upstream', `127.0.0.1:${up.port}`, '--allow-recursion', '10.0.0.0/8,fd00::/8']);
    const refused = await query(dns.server.port, 'ext.example.org', RRType.A);
    expect([refused.rcode, refused.flags.ra]).to.deep.equal([Rcode.REFUSED, false]);
    expect(up.asked).to.deep.equal([]);
    const zone = await query(dns.server.port, 'web.cygnet', RRType.A);
    expect([zone.rcode, zone.answer.length, zone.flags.ra]).to.deep.equal([Rcode.NOERROR, 1, false]);
  });

  it('survives random and mutated packets on its UDP and TCP ports, and still answers afterwards', async () => {
    const up = await startFakeUpstream({ 'ext.example.org': '192.0.2.1' });
    upstreams.push(up);
    const dns = await dnsWith(['--upstream', `127.0.0.1:${up.port}`]);
    const rng = new SeededRandom(7);
    const seeds = [buildQuery('web.cygnet', RRType.A), buildQuery('ext.example.org', RRType.A), buildQuery('x.cygnet', RRType.SRV)];
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 600; i++) {
      let pkt: Buffer;
      if (i % 3 === 0) {
        pkt = Buffer.alloc(randomInt(rng, 0, 300));
        for (let j = 0; j < pkt.length; j++) pkt[j] = randomInt(rng, 0, 256);
      } else {
        pkt = Buffer.from(seeds[i % seeds.length] ?? Buffer.alloc(0));
        for (let f = 0; f < 3; f++) pkt[randomInt(rng, 0, pkt.length)] = randomInt(rng, 0, 256);
      }
      sends.push(udpExchange(dns.server.port, pkt, 200));
    }
    await Promise.all(sends);
    // TCP: a length prefix promising more than is sent, then garbage frames
    const junk = Buffer.alloc(2000);
    for (let j = 0; j < junk.length; j++) junk[j] = randomInt(rng, 0, 256);
    await tcpRaw(dns.server.port, Buffer.concat([Buffer.from([0xff, 0xff]), junk]));
    await tcpRaw(dns.server.port, Buffer.concat([Buffer.from([0x00, 0x05]), junk.subarray(0, 5), Buffer.from([0x00, 0x00])]));
    for (const tcp of [false, true]) {
      const a = await query(dns.server.port, 'web.cygnet', RRType.A, { tcp });
      expect(a.answer.map((r) => `${String(r.name)} ${String(r.ttl)} ${String(r.address)}`)).to.deep.equal(['web.cygnet 5 10.0.0.1']);
    }
  });
});
