import { expect } from 'chai';
import { appRelativeName, assignAppNames, fnv1aHex, sanitizeLabel } from '../../../src/dns/labels.ts';
import { RegistryState } from '../../../src/registry/registry-state.ts';
import type { RecordData } from '../../../src/dns/wire.ts';
import { RRType } from '../../../src/dns/wire.ts';
import { buildZone, reservedNames, srvWeights, type Zone } from '../../../src/dns/zone.ts';
import type { RegistryEndpoint, SnapshotRecord } from '../../../src/registry/types.ts';

function endpoint(appId: string, taskId: string, index: number, ip: string, ports: number[] = [31000]): RegistryEndpoint {
  return { appId, taskId, index, host: `host-${ip}`, ip, ports, version: '2026-01-01T00:00:00.000Z', healthySince: '2026-01-01T00:00:00.000Z' };
}

function snapshot(apps: SnapshotRecord['apps'], cluster: SnapshotRecord['cluster'] = {}): SnapshotRecord {
  return { type: 'SNAPSHOT', clusterId: 'c1', revision: 7, cluster, apps };
}

function zoneOf(snap: SnapshotRecord): Zone {
  const view = RegistryState.fromSnapshot(snap);
  return buildZone(view, { domain: 'cygnet', ttlSec: 5, negativeTtlSec: 3, nsAddress: '127.0.0.1' });
}

function rdata(zone: Zone, name: string, type: number): RecordData[] {
  return (zone.names.get(name)?.get(type) ?? []).map((r) => r.data);
}

describe('dns: labels (RFC 1123 and the collision rule)', () => {
  it('sanitizes to lower-case letters, digits and inner hyphens, at most 63 characters', () => {
    expect(sanitizeLabel('Web_Front')).to.equal('web-front');
    expect(sanitizeLabel('--a..b--')).to.equal('a-b');
    expect(sanitizeLabel('___')).to.equal('x');
    expect(sanitizeLabel('a'.repeat(70))).to.have.length(63);
    expect(sanitizeLabel(`${'a'.repeat(62)}_b`)).to.equal('a'.repeat(62));
    expect(appRelativeName('/shop/Web_Front')).to.equal('web-front.shop');
  });

  it('gives the first id (code-unit order) the plain name and the others a stable hash suffix', () => {
    const names = assignAppNames(['/a/web_1', '/a/web-1', '/a/other'], reservedNames);
    expect(names.get('/a/web-1')).to.equal('web-1.a');
    expect(names.get('/a/web_1')).to.equal(`web-1-${fnv1aHex('/a/web_1')}.a`);
    expect(names.get('/a/other')).to.equal('other.a');
    // the suffix depends only on the id: the same with or without the other app
    expect(assignAppNames(['/a/web_1', '/a/web-1'], reservedNames).get('/a/web_1')).to.equal(names.get('/a/web_1'));
  });

  it('never lets an app take the zone\'s own names', () => {
    const names = assignAppNames(['/leader', '/ns'], reservedNames);
    expect(names.get('/leader')).to.equal(`leader-${fnv1aHex('/leader')}`);
    expect(names.get('/ns')).to.equal(`ns-${fnv1aHex('/ns')}`);
  });
});

describe('dns: zone builder', () => {
  const web = {
    id: '/shop/web', labels: {}, ports: [{ name: 'http', protocol: 'tcp' as const, servicePort: 0, labels: {} }, { protocol: 'udp,tcp' as const, servicePort: 0, labels: {} }],
    endpoints: [endpoint('/shop/web', 't2', 1, '10.0.0.2', [31001, 32001]), endpoint('/shop/web', 't1', 0, '10.0.0.1', [31000, 32000]), endpoint('/shop/web', 't3', 2, '10.0.0.1', [31002, 32002])],
  };

  it('has SOA and NS at the apex, with the revision as serial and the negative TTL as minimum', () => {
    const zone = zoneOf(snapshot([web]));
    expect(rdata(zone, 'cygnet', RRType.SOA)).to.deep.equal([{ type: RRType.SOA, mname: 'ns.cygnet', rname: 'hostmaster.cygnet', serial: 7, refresh: 3600, retry: 600, expire: 86_400, minimum: 3 }]);
    expect(rdata(zone, 'cygnet', RRType.NS)).to.deep.equal([{ type: RRType.NS, target: 'ns.cygnet' }]);
    expect(rdata(zone, 'ns.cygnet', RRType.A)).to.deep.equal([{ type: RRType.A, address: '127.0.0.1' }]);
  });

  it('gives an app one A per distinct instance address and one A per instance index', () => {
    const zone = zoneOf(snapshot([web]));
    expect(rdata(zone, 'web.shop.cygnet', RRType.A)).to.deep.equal([{ type: RRType.A, address: '10.0.0.1' }, { type: RRType.A, address: '10.0.0.2' }]);
    expect(rdata(zone, '1.web.shop.cygnet', RRType.A)).to.deep.equal([{ type: RRType.A, address: '10.0.0.2' }]);
    expect(rdata(zone, '2.web.shop.cygnet', RRType.A)).to.deep.equal([{ type: RRType.A, address: '10.0.0.1' }]);
  });

  it('names SRV records by port name (or _port<i>) and protocol, targeting the instance names', () => {
    const zone = zoneOf(snapshot([web]));
    expect(rdata(zone, '_http._tcp.web.shop.cygnet', RRType.SRV)).to.deep.equal([
      { type: RRType.SRV, priority: 0, weight: 1, port: 31000, target: '0.web.shop.cygnet' },
      { type: RRType.SRV, priority: 0, weight: 1, port: 31001, target: '1.web.shop.cygnet' },
      { type: RRType.SRV, priority: 0, weight: 1, port: 31002, target: '2.web.shop.cygnet' },
    ]);
    expect(rdata(zone, '_port1._udp.web.shop.cygnet', RRType.SRV).map((d) => (d.type === RRType.SRV ? d.port : 0))).to.deep.equal([32000, 32001, 32002]);
    expect(rdata(zone, '_port1._tcp.web.shop.cygnet', RRType.SRV)).to.have.length(3);
  });

  it('has PTR records for instance addresses and empty non-terminals for every ancestor', () => {
    const zone = zoneOf(snapshot([web]));
    expect(rdata(zone, '1.0.0.10.in-addr.arpa', RRType.PTR)).to.deep.equal([{ type: RRType.PTR, target: '0.web.shop.cygnet' }, { type: RRType.PTR, target: '2.web.shop.cygnet' }]);
    expect(zone.names.get('shop.cygnet')?.size).to.equal(0);
    expect(zone.names.get('_tcp.web.shop.cygnet')?.size).to.equal(0);
    expect(zone.names.has('nope.cygnet')).to.equal(false);
  });

  it('answers leader/master with A for addresses and CNAME for host names; app names win over instance names', () => {
    const zone = zoneOf(snapshot([
      { id: '/web', labels: {}, ports: [], endpoints: [endpoint('/web', 'a', 0, '10.0.0.5')] },
      { id: '/web/0', labels: {}, ports: [], endpoints: [endpoint('/web/0', 'b', 0, '10.0.0.6')] },
    ], { leader: '10.1.1.1:8080', master: 'Master-1.example.org:5050' }));
    expect(rdata(zone, 'leader.cygnet', RRType.A)).to.deep.equal([{ type: RRType.A, address: '10.1.1.1' }]);
    expect(rdata(zone, 'master.cygnet', RRType.CNAME)).to.deep.equal([{ type: RRType.CNAME, target: 'master-1.example.org' }]);
    expect(rdata(zone, '0.web.cygnet', RRType.A)).to.deep.equal([{ type: RRType.A, address: '10.0.0.6' }]);
  });

  it('applies deltas: an endpoint down leaves the answers, one up joins them, an app removed takes its names', () => {
    const view = RegistryState.fromSnapshot(snapshot([web]));
    view.apply({ type: 'ENDPOINT_DOWN', revision: 8, appId: '/shop/web', taskId: 't2' });
    view.apply({ type: 'ENDPOINT_UP', revision: 9, endpoint: endpoint('/shop/web', 't9', 3, '10.0.0.9') });
    let zone = buildZone(view, { domain: 'cygnet', ttlSec: 5, negativeTtlSec: 5 });
    expect(rdata(zone, 'web.shop.cygnet', RRType.A).map((d) => (d.type === RRType.A ? d.address : ''))).to.deep.equal(['10.0.0.1', '10.0.0.9']);
    view.apply({ type: 'APP_REMOVED', revision: 10, appId: '/shop/web' });
    zone = buildZone(view, { domain: 'cygnet', ttlSec: 5, negativeTtlSec: 5 });
    expect(zone.names.has('web.shop.cygnet')).to.equal(false);
    expect(zone.soa.data.type === RRType.SOA && zone.soa.data.serial).to.equal(10);
  });

  it('keeps every label within 63 characters and every name within 253 (long port names, long app ids, odd host names)', () => {
    const long = 'p'.repeat(80);
    const deep = `/${'b'.repeat(40)}/${Array.from({ length: 3 }, () => 'a'.repeat(55)).join('/')}`; // 215 characters with the domain
    const zone = zoneOf(snapshot([
      { id: '/shop/web', labels: {}, ports: [{ name: long, protocol: 'tcp', servicePort: 0, labels: {} }], endpoints: [endpoint('/shop/web', 't1', 0, '10.0.0.1')] },
      { id: deep, labels: {}, ports: [{ name: long, protocol: 'tcp', servicePort: 0, labels: {} }], endpoints: [endpoint(deep, 't2', 0, '10.0.0.2')] },
    ], { leader: `${'x'.repeat(64)}.example.org:8080` }));
    for (const name of zone.names.keys()) {
      expect(name.length, name).to.be.at.most(253);
      for (const label of name.split('.')) expect(label.length, name).to.be.within(1, 63);
    }
    expect(rdata(zone, `_${'p'.repeat(62)}._tcp.web.shop.cygnet`, RRType.SRV)).to.have.length(1);
    expect(zone.names.has('leader.cygnet')).to.equal(false); // a 64-character label is no host name
    expect(zone.skipped.filter((s) => s.includes('SRV name'))).to.have.length(1); // the deep app's SRV name would be 283 characters
    expect(rdata(zone, `0.${'a'.repeat(55)}.${'a'.repeat(55)}.${'a'.repeat(55)}.${'b'.repeat(40)}.cygnet`, RRType.A)).to.have.length(1);
  });

  it('weighs SRV records by the canary shares of the versions (even split within a version)', () => {
    const v = (taskId: string, version: string): RegistryEndpoint => ({ ...endpoint('/a', taskId, 0, '10.0.0.1'), version });
    const eps = [v('a1', 'v1'), v('a2', 'v1'), v('a3', 'v1'), v('b1', 'v2'), v('c1', 'v3')];
    expect([...srvWeights(eps, { v1: 9, v2: 1 })]).to.deep.equal([['a1', 3000], ['a2', 3000], ['a3', 3000], ['b1', 1000], ['c1', 0]]);
    expect([...srvWeights(eps, undefined).values()]).to.deep.equal([1, 1, 1, 1, 1]);
    expect([...srvWeights(eps, { v9: 5 }).values()]).to.deep.equal([1, 1, 1, 1, 1]); // no listed version has instances
    expect(srvWeights([v('x', 'v1'), ...Array.from({ length: 3 }, (_, i) => v(`y${i}`, 'v2'))], { v1: 1, v2: 100_000 }).get('x')).to.equal(1); // tiny share, still > 0
    const zone = zoneOf(snapshot([{ id: '/a', labels: {}, ports: [{ name: 'http', protocol: 'tcp', servicePort: 0, labels: {} }], versionWeights: { v1: 9, v2: 1 }, endpoints: eps.map((e, i) => ({ ...e, index: i })) }]));
    expect(rdata(zone, '_http._tcp.a.cygnet', RRType.SRV).map((d) => (d.type === RRType.SRV ? d.weight : -1))).to.deep.equal([3000, 3000, 3000, 1000, 0]);
  });
});
