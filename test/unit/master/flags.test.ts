/**
 * parseMasterFlags: defaults, Mesos-style durations, env vars, and one clear
 * ConfigError naming the flag for bad values.
 */
import { expect } from 'chai';
import { ConfigError } from '../../../src/common/errors.ts';
import { parseDurationMs, parseMasterFlags } from '../../../src/master/flags.ts';
import { resolveMasterOptions } from '../../../src/master/master.ts';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('master flags', () => {
  it('defaults are Mesos-like', () => {
    const o = parseMasterFlags([]);
    expect(o).to.deep.include({ port: 5050, ip: '127.0.0.1', heartbeatIntervalSec: 15, agentPingTimeoutMs: 15_000, allocationIntervalMs: 1000, defaultRefuseSeconds: 5 });
    expect(o.offerTimeoutMs).to.equal(undefined);
    expect(o.minOffer).to.deep.equal({ cpus: 0.01, memMb: 32 });
  });

  it('parses durations, weights and the offer timeout', () => {
    const o = parseMasterFlags(['--port', '0', '--agent-ping-timeout', '500ms', '--agent-heartbeat-interval', '100ms', '--heartbeat-interval', '2secs', '--offer-timeout', '1mins', '--weights', 'a=2,b=0.5']);
    expect(o).to.deep.include({ port: 0, agentPingTimeoutMs: 500, heartbeatIntervalSec: 2, offerTimeoutMs: 60_000 });
    expect(o.roleWeights).to.deep.equal({ a: 2, b: 0.5 });
    expect(parseDurationMs('x', '3')).to.equal(3000);
  });

  it('reads CYGNET_MASTER_* environment variables', () => {
    process.env.CYGNET_MASTER_PORT = '6060';
    try {
      expect(parseMasterFlags([]).port).to.equal(6060);
      expect(parseMasterFlags(['--port', '7070']).port).to.equal(7070);
    } finally {
      delete process.env.CYGNET_MASTER_PORT;
    }
  });

  it('bad values are one-line ConfigErrors naming the flag', () => {
    expect(configError(() => parseMasterFlags(['--port', '70000']))).to.equal("--port: expected an integer 0..65535, got '70000'");
    expect(configError(() => parseMasterFlags(['--agent-ping-timeout', 'soon']))).to.equal("--agent-ping-timeout: expected a duration like 500ms, 15secs or 1mins, got 'soon'");
    expect(configError(() => parseMasterFlags(['--weights', 'a=-1']))).to.contain('--weights');
    // Agents heartbeat every 5 s by default: a 3 s timeout would declare idle agents lost.
    expect(configError(() => parseMasterFlags(['--agent-ping-timeout', '3secs']))).to.equal("--agent-ping-timeout: expected more than --agent-heartbeat-interval (5000 ms), got '3secs'");
    expect(configError(() => resolveMasterOptions({ port: 1, ip: '127.0.0.1', agentPingTimeoutMs: 500, agentHeartbeatIntervalSec: 0.5 }))).to.contain('agentPingTimeoutMs: expected more than the agent heartbeat interval (500 ms)');
    expect(configError(() => parseMasterFlags(['--nope']))).to.contain("unknown option '--nope'");
    expect(configError(() => resolveMasterOptions({ port: 1, ip: '' }))).to.contain('ip:');
  });
});
