import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../../src/common/clock.ts';
import { Abdication, chooseSuccessor, type ReplicaReport } from '../../../src/framework/abdication.ts';
import { parseFrameworkFlags } from '../../../src/framework/flags.ts';
import { httpMasterCheck, MasterProbe } from '../../../src/framework/master-probe.ts';

describe('abdication: when a leader cut off from the master hands over', () => {
  it('is due once the master has been silent for afterMs, and then only every afterMs', () => {
    const a = new Abdication(6_000);
    expect(a.due(0, true, 0)).to.equal(false);
    expect(a.due(5_999, true, 5_999)).to.equal(false);
    expect(a.due(6_000, true, 6_000)).to.equal(true);
    expect(a.due(6_050, true, 6_050), 'not again at once').to.equal(false);
    expect(a.due(11_999, true, 11_999)).to.equal(false);
    expect(a.due(12_000, true, 12_000)).to.equal(true);
  });

  it('gives a new leader afterMs even when its probe had failed long before', () => {
    const a = new Abdication(6_000);
    expect(a.due(100_000, true, 60_000)).to.equal(false);
    expect(a.due(105_999, true, 65_999)).to.equal(false);
    expect(a.due(106_000, true, 66_000)).to.equal(true);
  });

  it('is never due for a follower, after the master answered, or with afterMs 0', () => {
    const a = new Abdication(6_000);
    expect(a.due(0, false, 100_000)).to.equal(false);
    expect(a.due(0, true, 0)).to.equal(false);
    expect(a.due(10_000, true, 500)).to.equal(false);
    const never = new Abdication(0);
    expect(never.due(0, true, 0)).to.equal(false);
    expect(never.due(1e9, true, 1e9)).to.equal(false);
  });

  it('counts acting afresh after a spell as follower', () => {
    const a = new Abdication(6_000);
    a.due(0, true, 0);
    a.due(1_000, false, 1_000);
    expect(a.due(10_000, true, 10_000), 'acting again since 10 s').to.equal(false);
    expect(a.due(16_000, true, 16_000)).to.equal(true);
  });

  it('takes --abdicate-after as a duration, 6 s by default, 0 for never', () => {
    expect(parseFrameworkFlags([]).abdicateAfterMs).to.equal(6_000);
    expect(parseFrameworkFlags(['--abdicate-after', '2secs']).abdicateAfterMs).to.equal(2_000);
    expect(parseFrameworkFlags(['--abdicate-after', '0']).abdicateAfterMs).to.equal(0);
    expect(() => parseFrameworkFlags(['--abdicate-after', 'soon'])).to.throw(/--abdicate-after: expected a duration/);
  });

  it('chooses a follower that reaches the master, the most caught up, then the lowest id', () => {
    const r = (id: number, role: string, applied: number, masterReachable: boolean): ReplicaReport => ({ id, role, applied, masterReachable });
    expect(chooseSuccessor(1, [r(2, 'follower', 10, false), r(3, 'follower', 9, false)]), 'none reaches it').to.equal(undefined);
    expect(chooseSuccessor(1, [r(2, 'follower', 10, false), r(3, 'follower', 9, true)])).to.equal(3);
    expect(chooseSuccessor(1, [r(2, 'follower', 10, true), r(3, 'follower', 11, true)])).to.equal(3);
    expect(chooseSuccessor(1, [r(3, 'follower', 11, true), r(2, 'follower', 11, true)])).to.equal(2);
    expect(chooseSuccessor(1, [r(1, 'leader', 11, true), r(2, 'candidate', 11, true), r(3, 'learner', 11, true)]), 'only followers other than itself').to.equal(undefined);
    expect(chooseSuccessor(1, [])).to.equal(undefined);
  });
});

describe('master probe', () => {
  it('records when a master last answered, trying the others in turn', async () => {
    const clock = new ManualClock(0);
    const up = new Set<string>(['m2']);
    const asked: string[] = [];
    const probe = new MasterProbe({ masters: ['m1', 'm2'], clock, intervalMs: 1_000, check: async (m) => { asked.push(m); return up.has(m); } });
    const settle = () => new Promise((r) => setImmediate(r));
    probe.start();
    await settle();
    expect(asked).to.deep.equal(['m1', 'm2']);
    expect(probe.lastReachedMs).to.equal(0);
    expect(probe.reachedWithin(3_000)).to.equal(true);
    asked.length = 0;
    clock.advance(1_000);
    await settle();
    expect(asked, 'the one that answered first').to.deep.equal(['m2']);
    up.clear();
    for (let i = 0; i < 4; i++) {
      clock.advance(1_000);
      await settle();
    }
    expect(probe.silentForMs()).to.equal(4_000);
    expect(probe.reachedWithin(3_000)).to.equal(false);
    probe.stop();
    asked.length = 0;
    clock.advance(5_000);
    await settle();
    expect(asked, 'nothing after stop').to.deep.equal([]);
  });

  it('counts silence from its start when no master ever answered', async () => {
    const clock = new ManualClock(1_000);
    const probe = new MasterProbe({ masters: ['m1'], clock, check: async () => false });
    probe.start();
    clock.advance(2_500);
    expect(probe.lastReachedMs).to.equal(undefined);
    expect(probe.silentForMs()).to.equal(2_500);
    probe.stop();
  });

  describe('over HTTP', () => {
    let server: Server;
    let address: string;
    let mode: 'ok' | 'error' | 'silent' = 'ok';
    before(async () => {
      server = createServer((req, res) => {
        if (mode === 'silent') return; // never answers
        res.statusCode = mode === 'ok' && req.url === '/master/health' ? 200 : 503;
        res.end('ok\n');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('is true for 200 from /master/health, false for another status, a silent master or a closed port', async () => {
      mode = 'ok';
      expect(await httpMasterCheck(address, 1_000)).to.equal(true);
      expect(await httpMasterCheck(`http://${address}/`, 1_000)).to.equal(true);
      mode = 'error';
      expect(await httpMasterCheck(address, 1_000)).to.equal(false);
      mode = 'silent';
      const t0 = Date.now();
      expect(await httpMasterCheck(address, 300)).to.equal(false);
      expect(Date.now() - t0).to.be.below(2_000);
      expect(await httpMasterCheck('127.0.0.1:1', 1_000)).to.equal(false);
    });
  });
});
