import { expect } from 'chai';
import { parseDnsFlags, parseResolvConf } from '../../../src/dns/flags.ts';
import { main } from '../../../src/cli/main.ts';

describe('dns: flags', () => {
  it('has the documented defaults, upstreams from resolv.conf and the private ranges allowed to recurse', () => {
    const f = parseDnsFlags([], () => '# comment\nnameserver 10.255.255.53\nnameserver fe80::1%eth0\nsearch x\n');
    expect(f.listen).to.deep.equal({ host: '127.0.0.1', port: 8053 });
    expect([f.domain, f.ttlSec, f.negativeTtlSec, f.upstreamTimeoutMs]).to.deep.equal(['cygnet', 5, 5, 1000]);
    expect(f.registry).to.deep.equal(['http://127.0.0.1:8080']);
    expect(f.upstreams).to.deep.equal([{ host: '10.255.255.53', port: 53 }, { host: 'fe80::1', port: 53 }]);
    expect(f.allowRecursion).to.include.members(['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '::1/128']);
    expect(f.admin).to.deep.equal({ host: '127.0.0.1', port: 9153 });
  });

  it('takes every flag, and never forwards to itself', () => {
    const f = parseDnsFlags(['--listen', '127.0.0.2:53', '--domain', 'Mesos.', '--registry', 'http://a:1, http://b:2', '--upstream', '1.1.1.1,127.0.0.2:53,[::1]:5353',
      '--allow-recursion', '10.0.0.0/8', '--ttl', '3', '--negative-ttl', '1', '--admin-listen', '127.0.0.1:0', '--upstream-timeout', '250'], () => '');
    expect([f.domain, f.registry, f.ttlSec, f.negativeTtlSec, f.upstreamTimeoutMs]).to.deep.equal(['mesos', ['http://a:1', 'http://b:2'], 3, 1, 250]);
    expect(f.upstreams).to.deep.equal([{ host: '1.1.1.1', port: 53 }, { host: '::1', port: 5353 }]);
    expect(parseResolvConf('nameserver not-an-ip\n')).to.deep.equal([]);
  });

  it('reads CYGNET_DNS_* environment variables', () => {
    process.env.CYGNET_DNS_DOMAIN = 'example';
    try {
      expect(parseDnsFlags([], () => '').domain).to.equal('example');
    } finally {
      delete process.env.CYGNET_DNS_DOMAIN;
    }
  });

  it('names the flag and what it expected on a bad value (one line, exit code 2 from the CLI)', async () => {
    expect(() => parseDnsFlags(['--allow-recursion', '10.0.0.0/40'], () => '')).to.throw("--allow-recursion: expected CIDRs like 10.0.0.0/8 or fd00::/8, got '10.0.0.0/40'");
    expect(() => parseDnsFlags(['--domain', 'bad_name'], () => '')).to.throw(/--domain: expected a DNS name/);
    expect(() => parseDnsFlags(['--upstream', 'dns.google'], () => '')).to.throw(/--upstream: expected IP addresses/);
    expect(() => parseDnsFlags(['--ttl', '-1'], () => '')).to.throw(/--ttl: expected whole seconds/);
    const err: string[] = [];
    expect(await main(['dns', '--listen', 'nowhere:99999'], (l) => err.push(l))).to.equal(2);
    expect(err).to.deep.equal(["cygnet: --listen: expected host:port, got 'nowhere:99999'"]);
  });
});
