/** Agent flag parsing (shared with the CLI) and the reconnect backoff. */
import { expect } from 'chai';
import { ConfigError } from '../../../src/common/errors.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import { parseAgentFlags } from '../../../src/executor/flags.ts';
import { computeReconnectDelayMs } from '../../../src/executor/master-link.ts';

describe('executor/flags', () => {
  it('parses every flag', () => {
    const o = parseAgentFlags(['--master', '10.0.0.1:5050', '--port', '0', '--work-dir', '/tmp/w', '--resources', 'cpus:4', '--attributes', 'rack:a',
      '--hostname', 'h1', '--heartbeat-interval-ms', '250', '--status-retry-initial-ms', '200', '--media', 'json', '--log-cap-bytes', '4096', '--max-concurrent-launches', '3']);
    expect(o).to.deep.equal({
      master: '10.0.0.1:5050', port: 0, ip: '127.0.0.1', workDir: '/tmp/w', heartbeatIntervalMs: 250, statusRetryInitialMs: 200,
      logCapBytes: 4096, media: 'application/json', hostname: 'h1', resources: 'cpus:4', attributes: 'rack:a', maxConcurrentLaunches: 3,
    });
  });

  it('names the flag in errors', () => {
    expect(() => parseAgentFlags(['--work-dir', '/w', '--port', 'http'])).to.throw(ConfigError, /--port: expected an integer/);
    expect(() => parseAgentFlags(['--work-dir', '/w', '--master', 'nohost'])).to.throw(ConfigError, /--master: expected host:port/);
    expect(() => parseAgentFlags(['--port', '1'])).to.throw(ConfigError, /work-dir/);
    expect(() => parseAgentFlags(['--work-dir', '/w', '--media', 'xml'])).to.throw(ConfigError, /xml/);
    expect(() => parseAgentFlags(['--work-dir', '/w', '--max-concurrent-launches', '0'])).to.throw(ConfigError, /--max-concurrent-launches: expected an integer in \[1, 1024\]/);
  });
});

describe('executor/master-link reconnect backoff', () => {
  it('grows exponentially, is capped, and is jittered within [d/2, d]', () => {
    const rng = new SeededRandom(7);
    const delays = Array.from({ length: 10 }, (_, i) => computeReconnectDelayMs(i, 500, 30_000, rng));
    delays.forEach((d, i) => {
      const full = Math.min(30_000, 500 * 2 ** i);
      expect(d).to.be.within(full / 2, full);
    });
    expect(delays.at(-1)).to.be.within(15_000, 30_000);
  });
});
