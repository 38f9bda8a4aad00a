/**
 * The segmented WAL against real files in a temp dir: round trip, group commit,
 * torn tails at every byte of the last record, refusal of mid-log corruption,
 * conflicting-suffix overwrite, snapshot markers and segment release.
 */
import { expect } from 'chai';
import { cp, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CygnetError } from '../../../src/common/errors.ts';
import type { Entry } from '../../../src/raft/types.ts';
import { Wal } from '../../../src/raft/wal.ts';

const silent = pino({ level: 'silent' });

function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: index % 7 === 0 ? 'conf' : 'normal', data: new TextEncoder().encode(text) };
}

function describeEntries(es: readonly Entry[]): string[] {
  return es.map((e) => `${e.index}/${e.term}/${e.type}/${new TextDecoder().decode(e.data)}`);
}

async function openWal(dir: string, segmentBytes?: number) {
  return Wal.open(dir, { log: silent, ...(segmentBytes === undefined ? {} : { segmentBytes }) });
}

describe('raft WAL', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cygnet-wal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips hard state and entries across reopen', async () => {
    const { wal, state } = await openWal(dir);
    expect(state.entries).to.deep.equal([]);
    expect(state.hardState).to.equal(undefined);
    await wal.append({ hardState: { term: 1, vote: 2, commit: 0 }, entries: [entry(1, 1), entry(2, 1)] });
    await wal.append({ hardState: { term: 2, vote: 3, commit: 2 }, entries: [entry(3, 2, 'x'.repeat(5000))] });
    await wal.append({ entries: [] , hardState: { term: 2, vote: 3, commit: 3 } });
    await wal.close();
    const again = await openWal(dir);
    expect(again.state.hardState).to.deep.equal({ term: 2, vote: 3, commit: 3 });
    expect(describeEntries(again.state.entries)).to.deep.equal(['1/1/normal/e1', '2/1/normal/e2', `3/2/normal/${'x'.repeat(5000)}`]);
    await again.wal.close();
  });

  it('group-commits concurrent appends into fewer fsyncs, in call order', async () => {
    const { wal } = await openWal(dir);
    const n = 200;
    const all: Promise<void>[] = [];
    for (let i = 1; i <= n; i++) all.push(wal.append({ hardState: { term: 1, vote: 1, commit: i - 1 }, entries: [entry(i, 1)] }));
    await Promise.all(all);
    expect(wal.stats.syncs).to.be.lessThan(n);
    expect(wal.stats.syncs).to.be.greaterThan(0);
    await wal.close();
    const again = await openWal(dir);
    expect(again.state.entries.map((e) => e.index)).to.deep.equal(Array.from({ length: n }, (_, i) => i + 1));
    expect(again.state.hardState?.commit).to.equal(n - 1);
    await again.wal.close();
  });

  it('holds an unsynced commit-only record until the next synced append or close, in order', async () => {
    const { wal } = await openWal(dir);
    await wal.append({ hardState: { term: 1, vote: 1, commit: 0 }, entries: [entry(1, 1)] });
    const writes = wal.stats.writes;
    let written = false;
    const held = wal.append({ hardState: { term: 1, vote: 1, commit: 1 }, entries: [] }, { sync: false }).then(() => {
      written = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(written).to.equal(false);
    expect(wal.stats.writes).to.equal(writes);
    // The next synced append carries it, in one write, before its own records.
    await wal.append({ hardState: { term: 1, vote: 1, commit: 1 }, entries: [entry(2, 1)] });
    await held;
    expect(wal.stats.writes).to.equal(writes + 1);
    // A last unsynced record is written by close.
    void wal.append({ hardState: { term: 1, vote: 1, commit: 2 }, entries: [] }, { sync: false });
    await wal.close();
    const again = await openWal(dir);
    expect(again.state.entries.map((e) => e.index)).to.deep.equal([1, 2]);
    expect(again.state.hardState?.commit).to.equal(2);
    await again.wal.close();
  });

  it('fsyncs an inline append on the calling thread while the log is quiet, yet keeps group commit under a burst', async () => {
    const { wal } = await openWal(dir);
    // Quiet: each append waits for the previous one, with a pause longer than an fsync.
    for (let i = 1; i <= 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
      let settled = false;
      const p = wal.append({ entries: [entry(i, 1)] }, { inline: true }).then(() => {
        settled = true;
      });
      // Written and fsynced before append() returned: only the promise's own resolution is left.
      expect(wal.stats.syncs).to.equal(i);
      expect(settled).to.equal(false);
      await p;
    }
    expect(wal.stats.inlineSyncs).to.equal(5);
    // A burst of inline appends right behind one another still shares fsyncs.
    const burst = Array.from({ length: 100 }, (_, k) => wal.append({ entries: [entry(6 + k, 1)] }, { inline: true }));
    await Promise.all(burst);
    expect(wal.stats.syncs - 5).to.be.lessThan(100);
    await wal.close();
    const again = await openWal(dir);
    expect(again.state.entries.map((e) => e.index)).to.deep.equal(Array.from({ length: 105 }, (_, i) => i + 1));
    await again.wal.close();
  });

  it('truncates a torn tail at every byte offset of the last record and keeps appending', async () => {
    const { wal: first } = await openWal(dir);
    await first.append({ hardState: { term: 1, vote: 1, commit: 0 }, entries: [entry(1, 1), entry(2, 1)] });
    await first.close();
    const [segName] = await readdir(dir);
    const seg = join(dir, segName as string);
    // Closed: the file holds its records only (no preallocated space).
    const before = (await stat(seg)).size;
    const { wal } = await openWal(dir);
    await wal.append({ entries: [entry(3, 1, 'torn-record-payload')] });
    await wal.close();
    const full = (await stat(seg)).size;
    expect(full).to.be.greaterThan(before);
    const pristine = await readFile(seg);
    for (let cut = before; cut < full; cut++) {
      await writeFile(seg, pristine.subarray(0, cut));
      const { wal: w, state } = await openWal(dir);
      expect(describeEntries(state.entries), `cut at ${cut}`).to.deep.equal(['1/1/normal/e1', '2/1/normal/e2']);
      expect((await stat(seg)).size, `file truncated back at cut ${cut}`).to.equal(before);
      await w.append({ entries: [entry(3, 2, 'after')] });
      await w.close();
      const { wal: w2, state: s2 } = await openWal(dir);
      expect(describeEntries(s2.entries)).to.deep.equal(['1/1/normal/e1', '2/1/normal/e2', '3/2/normal/after']);
      await w2.close();
    }
  });

  it('after a crash, drops the preallocated zeros silently (every segment but the last trimmed) and appends after the records', async () => {
    const { wal } = await openWal(dir, 1024);
    for (let i = 1; i <= 40; i++) await wal.append({ hardState: { term: 2, vote: 1, commit: i - 1 }, entries: [entry(i, 2, 'p'.repeat(40))] });
    expect(wal.segmentNames.length).to.be.greaterThan(2);
    const last = join(dir, wal.segmentNames[wal.segmentNames.length - 1] as string);
    const open = await readFile(last);
    expect(open.length, 'the open segment is preallocated past its records').to.be.greaterThan(64 * 1024);
    // A crash: the files as they are while the WAL is open.
    const crashed = await mkdtemp(join(tmpdir(), 'cygnet-wal-crash-'));
    try {
      await cp(dir, crashed, { recursive: true });
      await wal.close();
      const warnings: unknown[] = [];
      const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
      const { wal: w, state } = await Wal.open(crashed, { log, segmentBytes: 1024 });
      expect(state.entries.map((e) => e.index)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(state.hardState).to.deep.equal({ term: 2, vote: 1, commit: 39 });
      expect(warnings, 'zeros are not a torn tail').to.deep.equal([]);
      const trimmed = (await stat(join(crashed, w.segmentNames[w.segmentNames.length - 1] as string))).size;
      expect(trimmed).to.be.lessThan(1024 + 200);
      await w.append({ entries: [entry(41, 3, 'after')] });
      await w.close();
      const { wal: w2, state: s2 } = await Wal.open(crashed, { log, segmentBytes: 1024 });
      expect(describeEntries(s2.entries).slice(-2)).to.deep.equal([`40/2/normal/${'p'.repeat(40)}`, '41/3/normal/after']);
      expect(warnings).to.deep.equal([]);
      await w2.close();
    } finally {
      await rm(crashed, { recursive: true, force: true });
    }
  });

  it('treats a bad CRC in the final record as a torn tail', async () => {
    const { wal } = await openWal(dir);
    await wal.append({ entries: [entry(1, 1), entry(2, 1)] });
    await wal.close();
    const [segName] = await readdir(dir);
    const seg = join(dir, segName as string);
    const buf = await readFile(seg);
    buf[buf.length - 1] = (buf[buf.length - 1] as number) ^ 0xff;
    await writeFile(seg, buf);
    const { wal: w, state } = await openWal(dir);
    expect(describeEntries(state.entries)).to.deep.equal(['1/1/normal/e1']);
    await w.close();
  });

  it('refuses to start on corruption in the middle, naming file and offset', async () => {
    const { wal } = await openWal(dir);
    await wal.append({ entries: [entry(1, 1, 'aaaa'), entry(2, 1, 'bbbb'), entry(3, 1, 'cccc')] });
    await wal.close();
    const [segName] = await readdir(dir);
    const seg = join(dir, segName as string);
    const buf = await readFile(seg);
    const secondRecord = buf.indexOf('bbbb');
    buf[secondRecord] = 0x41;
    await writeFile(seg, buf);
    let err: unknown;
    try {
      await openWal(dir);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CygnetError);
    expect((err as CygnetError).code).to.equal('CYG_CORRUPT');
    expect((err as Error).message).to.contain(segName as string);
    expect((err as Error).message).to.match(/offset \d+/);
  });

  it('refuses a bad record in a non-final segment', async () => {
    const { wal } = await openWal(dir, 256);
    for (let i = 1; i <= 20; i++) await wal.append({ entries: [entry(i, 1, 'y'.repeat(40))] });
    await wal.close();
    const names = (await readdir(dir)).sort();
    expect(names.length).to.be.greaterThan(2);
    const first = join(dir, names[0] as string);
    const size = (await stat(first)).size;
    await truncate(first, size - 3);
    let err: unknown;
    try {
      await openWal(dir, 256);
    } catch (e) {
      err = e;
    }
    expect((err as CygnetError).code).to.equal('CYG_CORRUPT');
    expect((err as Error).message).to.contain(names[0] as string);
  });

  it('records a truncation when a conflicting suffix is overwritten', async () => {
    const { wal } = await openWal(dir);
    await wal.append({ entries: [1, 2, 3, 4, 5].map((i) => entry(i, 1)) });
    await wal.append({ entries: [entry(3, 2, 'new3'), entry(4, 2, 'new4')] });
    await wal.close();
    const { wal: w, state } = await openWal(dir);
    expect(describeEntries(state.entries)).to.deep.equal(['1/1/normal/e1', '2/1/normal/e2', '3/2/normal/new3', '4/2/normal/new4']);
    await w.append({ entries: [entry(5, 2, 'new5')] });
    await w.close();
    const { wal: w2, state: s2 } = await openWal(dir);
    expect(s2.entries.map((e) => `${e.index}/${e.term}`)).to.deep.equal(['1/1', '2/1', '3/2', '4/2', '5/2']);
    await w2.close();
  });

  it('rotates segments, releases those covered by a snapshot, and recovers the rest', async () => {
    const { wal } = await openWal(dir, 1024);
    for (let i = 1; i <= 60; i++) await wal.append({ hardState: { term: 3, vote: 1, commit: i }, entries: [entry(i, 3, 'z'.repeat(50))] });
    const segsBefore = wal.segmentNames.length;
    expect(segsBefore).to.be.greaterThan(3);
    await wal.markSnapshot({ index: 40, term: 3, replace: false });
    const released = await wal.releaseBefore(40);
    expect(released).to.be.greaterThan(0);
    expect((await readdir(dir)).sort()).to.deep.equal([...wal.segmentNames]);
    await wal.close();
    const { wal: w, state } = await openWal(dir, 1024);
    expect(state.snapshot).to.deep.equal({ index: 40, term: 3, replace: false });
    expect(state.hardState).to.deep.equal({ term: 3, vote: 1, commit: 60 });
    expect(state.entries.map((e) => e.index)).to.deep.equal(Array.from({ length: 20 }, (_, i) => 41 + i));
    await w.close();
  });

  it('recovers after a release when the oldest surviving segment opens with an older snapshot marker', async () => {
    // Segment headers carry the snapshot marker durable at rotation time. After an earlier
    // snapshot (index 5) and rotations, a later snapshot releases the first segments: the
    // oldest survivor then opens with marker 5 followed by entries far above 6. Recovery
    // must start the log there and take the later marker, not call the gap corruption.
    const { wal } = await openWal(dir, 1024);
    for (let i = 1; i <= 5; i++) await wal.append({ hardState: { term: 2, vote: 1, commit: i }, entries: [entry(i, 2, 'z'.repeat(50))] });
    await wal.markSnapshot({ index: 5, term: 2, replace: false });
    for (let i = 6; i <= 60; i++) await wal.append({ hardState: { term: 2, vote: 1, commit: i }, entries: [entry(i, 2, 'z'.repeat(50))] });
    await wal.markSnapshot({ index: 40, term: 2, replace: false });
    expect(await wal.releaseBefore(40)).to.be.greaterThan(0);
    const oldest = wal.segmentNames[0] as string;
    expect(Number(/wal-(\d+)\.log/.exec(oldest)?.[1])).to.be.greaterThan(6);
    await wal.close();
    const { wal: w, state } = await openWal(dir, 1024);
    expect(state.snapshot).to.deep.equal({ index: 40, term: 2, replace: false });
    expect(state.hardState).to.deep.equal({ term: 2, vote: 1, commit: 60 });
    expect(state.entries.map((e) => e.index)).to.deep.equal(Array.from({ length: 20 }, (_, i) => 41 + i));
    // And it keeps working: more entries, another reopen.
    await w.append({ hardState: { term: 2, vote: 1, commit: 61 }, entries: [entry(61, 2)] });
    await w.close();
    const { wal: w2, state: s2 } = await openWal(dir, 1024);
    expect(s2.entries.map((e) => e.index).at(-1)).to.equal(61);
    await w2.close();
  });

  it('refuses a log whose oldest segment starts past its snapshot with no later marker covering the gap', async () => {
    const { wal } = await openWal(dir, 1024);
    for (let i = 1; i <= 5; i++) await wal.append({ hardState: { term: 2, vote: 1, commit: i }, entries: [entry(i, 2, 'z'.repeat(50))] });
    await wal.markSnapshot({ index: 5, term: 2, replace: false });
    for (let i = 6; i <= 60; i++) await wal.append({ hardState: { term: 2, vote: 1, commit: i }, entries: [entry(i, 2, 'z'.repeat(50))] });
    const names = [...wal.segmentNames];
    await wal.close();
    // Delete segments by hand (no snapshot covers them): entries 6.. up to the survivor are gone.
    for (const n of names.slice(0, 2)) await rm(join(dir, n));
    const err = await openWal(dir, 1024).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(CygnetError);
    expect((err as CygnetError).code).to.equal('CYG_CORRUPT');
  });

  it('drops an empty segment left by a crash during rotation and appends to the previous one', async () => {
    const { wal } = await openWal(dir);
    await wal.append({ hardState: { term: 1, vote: 1, commit: 1 }, entries: [entry(1, 1), entry(2, 1)] });
    await wal.close();
    const stray = 'wal-00000000000000000003.log';
    await writeFile(join(dir, stray), Buffer.alloc(0));
    const { wal: w, state } = await openWal(dir);
    expect(describeEntries(state.entries)).to.deep.equal(['1/1/normal/e1', '2/1/normal/e2']);
    expect(await readdir(dir)).to.not.include(stray);
    await w.append({ entries: [entry(3, 1)] });
    await w.close();
    const { wal: w2, state: s2 } = await openWal(dir);
    expect(s2.entries.map((e) => e.index)).to.deep.equal([1, 2, 3]);
    expect(s2.hardState).to.deep.equal({ term: 1, vote: 1, commit: 1 });
    await w2.close();
  });

  it('a received snapshot past the log replaces the log entirely', async () => {
    const { wal } = await openWal(dir);
    await wal.append({ entries: [entry(1, 1), entry(2, 1)] });
    await wal.markSnapshot({ index: 10, term: 4, replace: true });
    await wal.append({ entries: [entry(11, 4)] });
    await wal.close();
    const copy = `${dir}-copy`;
    await cp(dir, copy, { recursive: true });
    const { wal: w, state } = await openWal(copy);
    expect(state.snapshot).to.deep.equal({ index: 10, term: 4, replace: true });
    expect(describeEntries(state.entries)).to.deep.equal(['11/4/normal/e11']);
    await w.close();
    await rm(copy, { recursive: true, force: true });
  });
});
