/**
 * RaftNode's Ready loop never loses a wake-up: a proposal made from a
 * continuation of an earlier proposal's promise — however many promise hops
 * later, including the hops while the loop is finishing — is processed without
 * waiting for the next tick. The clock is a ManualClock that the test never
 * moves after the election, so a lost wake-up would leave the proposal hanging.
 * And a storage failure is reported once through `onFatal` (so a process can
 * exit instead of lingering as a silent member) and refuses later calls.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import { FileStorage } from '../../../src/raft/file-storage.ts';
import { MemoryNetwork } from '../../../src/raft/memory-transport.ts';
import { RaftNode } from '../../../src/raft/node.ts';
import type { RaftStorage, ReadyToPersist } from '../../../src/raft/storage.ts';
import { CygnetError } from '../../../src/common/errors.ts';
import { encodeCommand, KvStateMachine, type KvResult } from '../../../examples/kv/state-machine.ts';
import { sleep } from './helpers.ts';

const silent = pino({ level: 'silent' });
const TICK_MS = 100;
const put = (key: string) => encodeCommand({ op: 'put', key, value: new TextEncoder().encode('v') });

describe('RaftNode Ready loop: wake-ups and storage failure', function () {
  this.timeout(60_000);
  let base: string;
  let node: RaftNode<KvResult> | undefined;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cygnet-raft-wakeup-'));
  });

  afterEach(async () => {
    await node?.close();
    node = undefined;
    await rm(base, { recursive: true, force: true });
  });

  it('processes a proposal made from any promise hop after another proposal resolved, without a tick', async () => {
    const clock = new ManualClock();
    const n = await RaftNode.start<KvResult>({
      id: 1,
      peers: new Map([[1, 'node-1']]),
      storage: new FileStorage(join(base, 'n1'), { log: silent }),
      transport: new MemoryNetwork().transport(1),
      stateMachine: new KvStateMachine(),
      tickMs: TICK_MS,
      proposalTimeoutMs: 60_000,
      clock,
      random: new SeededRandom(1),
      log: silent,
    });
    node = n;
    for (let i = 0; i < 100 && n.status().role !== 'leader'; i++) {
      clock.advance(TICK_MS);
      await sleep(2);
    }
    expect(n.status().role).to.equal('leader');
    await sleep(20);
    const stuck: number[] = [];
    for (let hops = 0; hops <= 12; hops++) {
      let chain: Promise<unknown> = n.propose(put(`first-${hops}`));
      for (let h = 0; h < hops; h++) chain = chain.then((x) => x);
      let done = false;
      const second = chain.then(() => n.propose(put(`second-${hops}`))).then(() => (done = true));
      // Real time passes, the manual clock does not: only a wake-up can commit the second proposal.
      for (let waited = 0; !done && waited < 1000; waited += 10) await sleep(10);
      if (!done) {
        stuck.push(hops);
        clock.advance(TICK_MS); // let it finish so the next round starts clean
        await second;
      }
    }
    expect(stuck, 'promise hops after which the second proposal waited for a tick').to.deep.equal([]);
  });

  it('reports a storage failure once through onFatal and refuses later proposals', async () => {
    const clock = new ManualClock();
    const inner = new FileStorage(join(base, 'n1'), { log: silent });
    let failing = false;
    const storage: RaftStorage = {
      load: () => inner.load(),
      persist: (rd: ReadyToPersist) => (failing ? Promise.reject(new Error('ENOSPC: no space left on device')) : inner.persist(rd)),
      saveSnapshot: (snap) => inner.saveSnapshot(snap),
      close: () => inner.close(),
    };
    const fatal: unknown[] = [];
    const n = await RaftNode.start<KvResult>({
      id: 1,
      peers: new Map([[1, 'node-1']]),
      storage,
      transport: new MemoryNetwork().transport(1),
      stateMachine: new KvStateMachine(),
      tickMs: TICK_MS,
      clock,
      random: new SeededRandom(1),
      log: silent,
      onFatal: (err) => fatal.push(err),
    });
    node = n;
    for (let i = 0; i < 100 && n.status().role !== 'leader'; i++) {
      clock.advance(TICK_MS);
      await sleep(2);
    }
    expect(n.status().role).to.equal('leader');
    failing = true;
    let err: unknown;
    await n.propose(put('x')).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(CygnetError);
    expect((err as CygnetError).message).to.match(/storage failure while persisting a Ready: ENOSPC/);
    expect(fatal.map((e) => ((e as Error).cause as Error).message)).to.deep.equal(['ENOSPC: no space left on device']);
    let later: unknown;
    await n.propose(put('y')).catch((e: unknown) => (later = e));
    expect((later as CygnetError).message).to.match(/stopped \(storage failure\)/);
    expect(fatal).to.have.length(1);
  });
});
