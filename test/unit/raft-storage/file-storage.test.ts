/**
 * FileStorage and snapshot files against a real temp dir: snapshots are atomic
 * and checksummed, compaction deletes covered WAL segments, a received
 * snapshot replaces the log, and a restart recovers exactly what was persisted.
 */
import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CygnetError } from '../../../src/common/errors.ts';
import { FileStorage } from '../../../src/raft/file-storage.ts';
import { SnapshotStore, snapshotName } from '../../../src/raft/snapshot-file.ts';
import type { Entry, Snapshot } from '../../../src/raft/types.ts';

const silent = pino({ level: 'silent' });
const enc = (s: string) => new TextEncoder().encode(s);

function entry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: enc(`v${index}`) };
}

function snap(index: number, term: number, data: string): Snapshot {
  return { meta: { index, term, conf: { voters: [1, 2, 3], learners: [4] } }, data: enc(data) };
}

describe('raft file storage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cygnet-fs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts empty, then recovers exactly what was persisted', async () => {
    const s = new FileStorage(dir, { log: silent });
    const empty = await s.load();
    expect(empty).to.deep.equal({ hardState: { term: 0, vote: 0, commit: 0 }, snapshot: undefined, entries: [] });
    await s.persist({ entries: [entry(1, 1), entry(2, 1)], hardState: { term: 1, vote: 1, commit: 1 } });
    await s.persist({ entries: [entry(3, 2)], hardState: { term: 2, vote: 2, commit: 3 } });
    await s.close();
    const again = new FileStorage(dir, { log: silent });
    const st = await again.load();
    expect(st.hardState).to.deep.equal({ term: 2, vote: 2, commit: 3 });
    expect(st.entries.map((e) => `${e.index}/${e.term}`)).to.deep.equal(['1/1', '2/1', '3/2']);
    await again.close();
  });

  it('fsyncs entries, term and vote changes, but not a commit-index-only change', async () => {
    const s = new FileStorage(dir, { log: silent });
    await s.load();
    await s.persist({ entries: [entry(1, 1)], hardState: { term: 1, vote: 1, commit: 0 } });
    const synced = s.walStats.syncs;
    await s.persist({ entries: [], hardState: { term: 1, vote: 1, commit: 1 } });
    expect(s.walStats.syncs, 'commit-only change').to.equal(synced);
    await s.persist({ entries: [], hardState: { term: 2, vote: 0, commit: 1 } });
    expect(s.walStats.syncs, 'term change').to.equal(synced + 1);
    await s.close();
    const again = new FileStorage(dir, { log: silent });
    expect((await again.load()).hardState).to.deep.equal({ term: 2, vote: 0, commit: 1 });
    await again.close();
  });

  it('a local snapshot compacts the log and old WAL segments; restart restores both', async () => {
    const s = new FileStorage(dir, { log: silent, segmentBytes: 512 });
    await s.load();
    for (let i = 1; i <= 50; i++) await s.persist({ entries: [entry(i, 1)], hardState: { term: 1, vote: 1, commit: i } });
    const walsBefore = (await readdir(dir)).filter((n) => n.startsWith('wal-')).length;
    await s.saveSnapshot(snap(30, 1, 'state@30'));
    await s.saveSnapshot(snap(45, 1, 'state@45'));
    const files = await readdir(dir);
    expect(files.filter((n) => n.startsWith('snapshot-'))).to.deep.equal([snapshotName(1, 45)]);
    expect(files.filter((n) => n.startsWith('wal-')).length).to.be.lessThan(walsBefore);
    await s.close();
    const again = new FileStorage(dir, { log: silent, segmentBytes: 512 });
    const st = await again.load();
    expect(st.snapshot?.meta).to.deep.equal({ index: 45, term: 1, conf: { voters: [1, 2, 3], learners: [4] } });
    expect(new TextDecoder().decode(st.snapshot?.data)).to.equal('state@45');
    expect(st.entries.map((e) => e.index)).to.deep.equal([46, 47, 48, 49, 50]);
    expect(st.hardState.commit).to.equal(50);
    await again.close();
  });

  it('restarts after snapshots taken between rotations (a surviving segment opens with an older marker)', async () => {
    // What a long-running member does: snapshot, keep writing through rotations, snapshot
    // again (releasing segments), restart. Each restart must recover; before the WAL fix
    // the second restart refused to start ("entry N leaves a gap in the log").
    let s = new FileStorage(dir, { log: silent, segmentBytes: 512 });
    await s.load();
    let index = 0;
    for (let round = 1; round <= 4; round++) {
      for (let i = 0; i < 40; i++) {
        index++;
        await s.persist({ entries: [entry(index, 1)], hardState: { term: 1, vote: 1, commit: index } });
      }
      await s.saveSnapshot(snap(index - 5, 1, `state@${index - 5}`));
      await s.close();
      s = new FileStorage(dir, { log: silent, segmentBytes: 512 });
      const st = await s.load();
      expect(st.snapshot?.meta.index, `round ${round}`).to.equal(index - 5);
      expect(st.entries.map((e) => e.index), `round ${round}`).to.deep.equal([index - 4, index - 3, index - 2, index - 1, index]);
      expect(st.hardState.commit).to.equal(index);
    }
    await s.close();
  });

  it('a received snapshot replaces the whole log', async () => {
    const s = new FileStorage(dir, { log: silent });
    await s.load();
    await s.persist({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)], hardState: { term: 1, vote: 0, commit: 1 } });
    await s.persist({ snapshot: snap(100, 5, 'leader-state'), entries: [], hardState: { term: 5, vote: 0, commit: 100 } });
    await s.persist({ entries: [entry(101, 5)] });
    await s.close();
    const again = new FileStorage(dir, { log: silent });
    const st = await again.load();
    expect(st.snapshot?.meta.index).to.equal(100);
    expect(st.entries.map((e) => `${e.index}/${e.term}`)).to.deep.equal(['101/5']);
    expect(st.hardState).to.deep.equal({ term: 5, vote: 0, commit: 100 });
    await again.close();
  });

  it('ignores a leftover .tmp snapshot and refuses a damaged snapshot file', async () => {
    const store = new SnapshotStore(dir);
    await store.save(snap(7, 2, 'seven'));
    await writeFile(join(dir, `${snapshotName(3, 9)}.tmp`), 'half-written');
    const loaded = await store.loadLatest();
    expect(loaded?.meta.index).to.equal(7);
    expect(await readdir(dir)).to.deep.equal([snapshotName(2, 7)]);
    const path = join(dir, snapshotName(2, 7));
    const buf = await readFile(path);
    buf[20] = (buf[20] as number) ^ 1;
    await writeFile(path, buf);
    let err: unknown;
    try {
      await store.loadLatest();
    } catch (e) {
      err = e;
    }
    expect((err as CygnetError).code).to.equal('CYG_CORRUPT');
    expect((err as Error).message).to.contain(snapshotName(2, 7));
  });
});
