import { expect } from 'chai';
import { main } from '../../../src/cli/main.ts';
import { parseListen, parseProxyFlags } from '../../../src/proxy/flags.ts';

describe('cygnet proxy flags', () => {
  it('has the documented defaults', () => {
    const o = parseProxyFlags([]);
    expect(o.listen).to.deep.equal({ host: '127.0.0.1', port: 8000 });
    expect(o.adminListen).to.deep.equal({ host: '127.0.0.1', port: 9090 });
    expect(o.domain).to.equal('cygnet');
    expect(o.registryUrls).to.deep.equal(['http://127.0.0.1:8080']);
    expect(o.workers).to.equal(1);
    expect(o.timeouts).to.deep.equal({ connectTimeoutMs: 3000, headerTimeoutMs: 60000, idleTimeoutMs: 60000 });
    expect(o.policy).to.deep.include({ maxAttempts: 3, retryIdempotent: false });
  });

  it('reads flags and durations with units', () => {
    const o = parseProxyFlags(['--listen', '0.0.0.0:80', '--registry', 'a:8080, http://b:8081', '--workers', '2', '--connect-timeout', '500ms', '--header-timeout', '5secs', '--domain', 'Example.COM.', '--retry-idempotent', 'true']);
    expect(o.listen).to.deep.equal({ host: '0.0.0.0', port: 80 });
    expect(o.registryUrls).to.deep.equal(['a:8080', 'http://b:8081']);
    expect(o.workers).to.equal(2);
    expect(o.timeouts.connectTimeoutMs).to.equal(500);
    expect(o.timeouts.headerTimeoutMs).to.equal(5000);
    expect(o.domain).to.equal('example.com');
    expect(o.policy.retryIdempotent).to.equal(true);
    expect(parseListen('listen', '[::1]:0')).to.deep.equal({ host: '::1', port: 0 });
  });

  it('rejects bad values naming the flag', () => {
    const bad: [string[], RegExp][] = [
      [['--listen', '8000'], /^--listen: expected host:port/],
      [['--workers', '0'], /^--workers: expected an integer 1\.\.64/],
      [['--connect-timeout', 'soon'], /^--connect-timeout: expected a duration/],
      [['--connect-timeout', '0'], /^--connect-timeout: expected a duration above 0/],
      [['--registry', ' , '], /^--registry: expected one or more framework URLs/],
      [['--domain', 'bad domain'], /^--domain: expected a DNS name/],
      [['--eject-time', '10s', '--eject-max', '1s'], /^--eject-max: expected at least --eject-time/],
      [['--retry-idempotent', 'maybe'], /^--retry-idempotent: expected true or false/],
      [['--nope'], /unknown option '--nope'/],
    ];
    for (const [argv, message] of bad) expect(() => parseProxyFlags(argv), argv.join(' ')).to.throw(message);
  });

  it('`cygnet proxy` turns a bad flag into one line on stderr and exit code 2', async () => {
    const err: string[] = [];
    expect(await main(['proxy', '--workers', 'many'], (l) => err.push(l))).to.equal(2);
    expect(err).to.deep.equal(["cygnet: --workers: expected an integer 1..64, got 'many'"]);
  });
});
