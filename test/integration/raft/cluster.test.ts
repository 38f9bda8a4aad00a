/**
 * Three RaftNodes in one process over the real HTTP transport on 127.0.0.1
 * with real file storage: elect a leader, replicate writes, kill and restart
 * followers and the leader (with snapshots in between), and check that every
 * acknowledged write is intact on every node afterwards.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FileStorage } from '../../../src/raft/file-storage.ts';
import { HttpTransport } from '../../../src/raft/http-transport.ts';
import { RaftNode } from '../../../src/raft/node.ts';
import { encodeCommand, KvStateMachine, type KvResult } from '../../../examples/kv/state-machine.ts';
import { freePorts, waitFor } from './helpers.ts';

const silent = pino({ level: 'silent' });
const enc = (s: string) => new TextEncoder().encode(s);

interface Member {
  node: RaftNode<KvResult>;
  sm: KvStateMachine;
}

describe('raft cluster over HTTP with file storage', function () {
  this.timeout(60_000);
  let base: string;
  let peers: Map<number, string>;
  const members = new Map<number, Member>();

  async function startMember(id: number): Promise<Member> {
    const sm = new KvStateMachine();
    const node = await RaftNode.start<KvResult>({
      id,
      peers,
      storage: new FileStorage(join(base, `n${id}`), { log: silent }),
      transport: new HttpTransport({ id, listen: peers.get(id) as string, senderMeta: `meta-${id}`, log: silent }),
      stateMachine: sm,
      tickMs: 30,
      snapshotEntries: 25,
      catchUpEntries: 5,
      log: silent,
    });
    const m = { node, sm };
    members.set(id, m);
    return m;
  }

  async function stopMember(id: number): Promise<void> {
    await members.get(id)?.node.close();
    members.delete(id);
  }

  function leader(): Member | undefined {
    for (const m of members.values()) if (m.node.status().role === 'leader') return m;
    return undefined;
  }

  /** Proposes through whoever is leader, retrying across elections. */
  async function put(key: string, value: string): Promise<void> {
    await waitFor(`put ${key}`, async () => {
      const l = leader();
      if (l === undefined) return undefined;
      try {
        const out = await l.node.propose(encodeCommand({ op: 'put', key, value: enc(value) }));
        expect(out.result).to.deep.equal({ op: 'put' });
        return true;
      } catch {
        return undefined;
      }
    });
  }

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'cygnet-raft-cluster-'));
    const ports = await freePorts(3);
    peers = new Map(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`]));
  });

  after(async () => {
    for (const id of [...members.keys()]) await stopMember(id);
    await rm(base, { recursive: true, force: true });
  });

  it('elects a leader, replicates, survives follower and leader restarts', async () => {
    for (const id of [1, 2, 3]) await startMember(id);
    const l1 = await waitFor('a leader', () => leader());
    const follower = [...members.values()].find((m) => m !== l1) as Member;

    // Followers learn the leader's metadata from its traffic (what kv uses for redirects).
    await waitFor('follower knows the leader', () => {
      const st = follower.node.status();
      return st.leader !== 0 && st.leaderMeta === `meta-${st.leader}` ? true : undefined;
    });

    for (let i = 0; i < 40; i++) await put(`k${i}`, `v${i}`);
    // Linearizable read on a follower: after read() it has applied every acknowledged write.
    await follower.node.read();
    expect(follower.sm.get('k39')?.toString()).to.equal('v39');

    // Kill (close) a follower, keep writing, restart it: it catches up from the leader.
    const fid = follower.node.id;
    await stopMember(fid);
    for (let i = 40; i < 80; i++) await put(`k${i}`, `v${i}`);
    const back = await startMember(fid);
    await waitFor('restarted follower catches up', () => (back.sm.get('k79')?.toString() === 'v79' ? true : undefined));

    // Kill the leader: another is elected, writes continue; the old leader rejoins.
    const lid = (leader() as Member).node.id;
    await stopMember(lid);
    const l2 = await waitFor('a new leader', () => leader());
    expect(l2.node.id).to.not.equal(lid);
    for (let i = 80; i < 120; i++) await put(`k${i}`, `v${i}`);
    const old = await startMember(lid);
    await waitFor('old leader catches up', () => (old.sm.get('k119')?.toString() === 'v119' ? true : undefined));

    // Every acknowledged write is on every node.
    for (const m of members.values()) {
      await m.node.read();
      for (let i = 0; i < 120; i++) expect(m.sm.get(`k${i}`)?.toString(), `node ${m.node.id} k${i}`).to.equal(`v${i}`);
    }
    // A cas goes through the state machine and reports its result.
    const cur = leader() as Member;
    const swapped = await cur.node.propose(encodeCommand({ op: 'cas', key: 'k0', from: enc('v0'), to: enc('w0') }));
    expect(swapped.result).to.deep.equal({ op: 'cas', swapped: true });
    const notSwapped = await cur.node.propose(encodeCommand({ op: 'cas', key: 'k0', from: enc('v0'), to: enc('z0') }));
    expect(notSwapped.result).to.deep.equal({ op: 'cas', swapped: false });
  });

  it('a node restarted from its own disk alone recovers snapshot + log exactly', async () => {
    // Let every member learn the final commit index before stopping them all.
    await waitFor('all members applied everything', () => {
      const st = [...members.values()].map((m) => m.node.status());
      const commit = Math.max(...st.map((x) => x.commit));
      return st.every((x) => x.applied === commit) ? true : undefined;
    });
    for (const id of [...members.keys()]) await stopMember(id);
    // Only node 1 comes back: no quorum, so everything it has must come from its own disk.
    const m = await startMember(1);
    // Restored from its latest snapshot before anything else happens...
    expect(m.sm.size).to.be.greaterThan(0);
    expect(m.node.status().applied).to.be.greaterThan(0);
    // ...then the committed log suffix is re-applied from its own WAL.
    await waitFor('local replay', () => (m.sm.get('k119')?.toString() === 'v119' ? true : undefined), 5000);
    for (let i = 1; i < 120; i++) expect(m.sm.get(`k${i}`)?.toString(), `k${i}`).to.equal(`v${i}`);
    expect(m.sm.get('k0')?.toString()).to.equal('w0');
  });
});
