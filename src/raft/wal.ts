/**
 * Segmented write-ahead log for the Raft shell: hard state, log entries,
 * truncations and snapshot markers, each a checksummed record.
 *
 * Files: `wal-<firstIndex, 20 digits>.log`, rotated at ~`segmentBytes`. A new
 * segment opens with the durable hard state and snapshot marker, so older
 * segments hold nothing but entries and can be deleted once a snapshot covers
 * them (`releaseBefore`).
 *
 * Record: u32 payload length | u32 CRC32 of (type byte + payload) | u8 type | payload.
 *
 * Invariants:
 *  - `append()` resolves only after its records are written AND fsynced.
 *    Appends are group-committed: while one fsync is in flight, later appends
 *    queue and share the next single `write` + `fsync`.
 *  - Records are written in call order; a batch whose first entry index is at
 *    or below the last index first records a truncation, replayed on recovery.
 *  - Recovery truncates a torn tail (incomplete or bad-CRC final record in the
 *    last segment, with no valid record after it) with a warning; any other bad
 *    record is `CorruptStorageError` (CYG_CORRUPT) naming file and offset.
 *  - Only the last segment has preallocated zeros past its records (recovery
 *    drops them silently): a segment is trimmed to its records and fsynced
 *    before the next one is created, and on close.
 */
import { fdatasync, fdatasyncSync, ftruncateSync, writeSync } from 'node:fs';
import { open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';
import type { Logger } from '../common/log.ts';
import { componentLogger } from '../common/log.ts';
import { CorruptStorageError } from './errors.ts';
import type { Entry, HardState } from './types.ts';

export type { Entry, HardState };

export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
  /**
   * True for a snapshot received from the leader: it replaces the whole log.
   * False for a local snapshot (compaction): entries after `index` stay.
   */
  readonly replace: boolean;
}

/** What recovery found: the latest durable hard state, snapshot marker and the entries after it. */
export interface WalState {
  readonly hardState: HardState | undefined;
  readonly snapshot: SnapshotMarker | undefined;
  readonly entries: Entry[];
}

export interface WalOptions {
  /** Rotate once the current segment reaches this size. Default 64 MiB. */
  readonly segmentBytes?: number;
  readonly log?: Logger;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** A length above this is garbage, not a record (entries are bounded far below it by the transport). */
const MAX_RECORD_BYTES = 256 * 1024 * 1024;
const HEADER_BYTES = 9;
/**
 * The segment file is extended (sparse, ftruncate) this far ahead of the records, as etcd
 * preallocates its WAL: an fdatasync after a write that grows the file must also commit the new
 * size to the journal; within the allocated size it flushes the data alone. On this machine's
 * ext4 that cut fdatasync p50 by ~35% and its p99 by more than half (1 client, 330-byte records).
 */
const PREALLOC_BYTES = 1024 * 1024;

const enum RecordType {
  HardState = 1,
  Entry = 2,
  Snapshot = 3,
  Truncate = 4,
}

interface Segment {
  readonly firstIndex: number;
  readonly name: string;
}

interface PendingWrite {
  readonly records: Buffer[];
  readonly sync: boolean;
  /** fsync on the calling thread (see `append`). */
  readonly inline: boolean;
  readonly firstEntryIndex: number | undefined;
  readonly hardState: HardState | undefined;
  readonly snapshot: SnapshotMarker | undefined;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class Wal {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly log: Logger;
  private segments: Segment[];
  private fh: FileHandle;
  private size: number;
  /** Last entry index as of everything queued (not only flushed). */
  private lastIndex: number;
  private durableHardState: HardState | undefined;
  private durableSnapshot: SnapshotMarker | undefined;
  private pending: PendingWrite[] = [];
  private flushing = false;
  private closed = false;
  private failed: unknown = undefined;
  /** Counters for tests and benchmarks: how many group writes and fsyncs were issued. */
  readonly stats = { writes: 0, syncs: 0, inlineSyncs: 0 };
  /** When the last fsync finished and how long it took (performance.now() ms): see writeGroup. */
  private lastSyncEnd = 0;
  private lastSyncMs = 0;
  /** File size including the zeroed space preallocated past `size` (see PREALLOC_BYTES). */
  private allocated: number;

  private constructor(dir: string, opts: WalOptions, segments: Segment[], fh: FileHandle, size: number, state: WalState) {
    this.dir = dir;
    this.segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.log = opts.log ?? componentLogger('raft-wal');
    this.segments = segments;
    this.fh = fh;
    this.size = size;
    this.allocated = size;
    const last = state.entries[state.entries.length - 1];
    this.lastIndex = last !== undefined ? last.index : (state.snapshot?.index ?? 0);
    this.durableHardState = state.hardState;
    this.durableSnapshot = state.snapshot;
  }

  /** Opens (creating if empty) the WAL in `dir`, replays it and returns what is durable. */
  static async open(dir: string, opts: WalOptions = {}): Promise<{ wal: Wal; state: WalState }> {
    const log = opts.log ?? componentLogger('raft-wal');
    const segments = await listSegments(dir);
    const replay = new Replayer();
    let tailSize = 0;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i] as Segment;
      const path = join(dir, seg.name);
      const buf = await readFile(path);
      const isLast = i === segments.length - 1;
      const validEnd = replaySegment(buf, path, isLast, replay);
      if (validEnd < buf.length) {
        if (!allZero(buf, validEnd)) log.warn({ file: path, offset: validEnd, dropped: buf.length - validEnd }, 'truncating torn WAL tail');
        await truncate(path, validEnd);
        await fsyncPath(path);
      }
      tailSize = validEnd;
    }
    // A last segment left empty by a crash during rotation is removed so names stay truthful.
    if (segments.length > 1 && tailSize === 0) {
      const dead = segments.pop() as Segment;
      await unlink(join(dir, dead.name));
      await fsyncPath(dir);
      tailSize = (await readFile(join(dir, (segments[segments.length - 1] as Segment).name))).length;
    }
    const state = replay.result(dir);
    let fh: FileHandle;
    if (segments.length === 0) {
      const seg = segmentFor(state.entries[0]?.index ?? 1);
      fh = await open(join(dir, seg.name), 'wx');
      await fh.sync();
      await fsyncPath(dir);
      segments.push(seg);
      tailSize = 0;
    } else {
      fh = await open(join(dir, (segments[segments.length - 1] as Segment).name), 'r+');
    }
    return { wal: new Wal(dir, opts, segments, fh, tailSize, state), state };
  }

  /**
   * Appends one Ready's snapshot marker (first), entries and hard state as a
   * single write. Resolves after fsync — or, with `sync: false` (a commit-index
   * only change, which Raft can recover and need not make durable), once written:
   * its records wait for the next synced append (or `close`) and go out in the same
   * write, in order (etcd's WAL buffers them likewise) — a write per commit advance
   * sat on a leader's path from commit to reply. With `inline` (a caller that waits
   * for nothing else: a follower) the fsync runs on the calling thread when every synced
   * append in the group asked for it, sparing a thread-pool round trip; appends queued
   * behind an fsync in flight still share the next group.
   */
  append(
    batch: { readonly hardState?: HardState; readonly entries: readonly Entry[]; readonly snapshot?: SnapshotMarker },
    opts: { readonly sync?: boolean; readonly inline?: boolean } = {},
  ): Promise<void> {
    const records: Buffer[] = [];
    if (batch.snapshot !== undefined) {
      records.push(encodeSnapshot(batch.snapshot));
      if (batch.snapshot.replace || batch.snapshot.index > this.lastIndex) this.lastIndex = batch.snapshot.index;
    }
    const first = batch.entries[0];
    if (first !== undefined && first.index <= this.lastIndex) records.push(encodeTruncate(first.index));
    for (const e of batch.entries) records.push(encodeEntry(e));
    if (batch.hardState !== undefined) records.push(encodeHardState(batch.hardState));
    const lastEntry = batch.entries[batch.entries.length - 1];
    if (lastEntry !== undefined) this.lastIndex = lastEntry.index;
    return this.enqueue(records, first?.index, batch.hardState, batch.snapshot, opts.sync ?? true, opts.inline ?? false);
  }

  /** Durably records that a snapshot at (index, term) exists; entries up to it are no longer needed. */
  markSnapshot(marker: SnapshotMarker): Promise<void> {
    return this.append({ entries: [], snapshot: marker });
  }

  /** Deletes segments whose entries are all ≤ `index` (covered by a durable snapshot). Returns how many. */
  async releaseBefore(index: number): Promise<number> {
    let n = 0;
    while (this.segments.length > 1 && (this.segments[1] as Segment).firstIndex <= index + 1) {
      const seg = this.segments.shift() as Segment;
      await unlink(join(this.dir, seg.name));
      n++;
    }
    if (n > 0) await fsyncPath(this.dir);
    return n;
  }

  /** Waits for queued writes, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Unsynced records still held (see append) are written now.
    if (!this.flushing && this.pending.length > 0) void this.flushLoop();
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    // Leave the file at its records' length (a crash instead leaves zeros, which replay drops).
    if (this.failed === undefined) await this.trim().catch(() => undefined);
    await this.fh.close();
  }

  /** Cuts the preallocated zeros off the current segment (not fsynced). */
  private async trim(): Promise<void> {
    if (this.allocated === this.size) return;
    await this.fh.truncate(this.size);
    this.allocated = this.size;
  }

  get segmentNames(): readonly string[] {
    return this.segments.map((s) => s.name);
  }

  private enqueue(records: Buffer[], firstEntryIndex: number | undefined, hardState: HardState | undefined, snapshot: SnapshotMarker | undefined, sync: boolean, inline: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error('WAL is closed'));
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ records, sync, inline, firstEntryIndex, hardState, snapshot, resolve, reject });
      if (!this.flushing && sync) void this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    try {
      // Unsynced records alone wait for a synced append (or close): see append.
      while (this.pending.some((p) => p.sync) || (this.closed && this.pending.length > 0)) {
        const group = this.pending;
        this.pending = [];
        try {
          await this.writeGroup(group);
          for (const p of group) p.resolve();
        } catch (err) {
          // A failed write/fsync leaves the file in an unknown state: fail everything from now on.
          this.failed = err;
          for (const p of group) p.reject(err);
          for (const p of this.pending) p.reject(err);
          this.pending = [];
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async writeGroup(group: PendingWrite[]): Promise<void> {
    if (this.size >= this.segmentBytes) {
      const firstEntry = group.find((p) => p.firstEntryIndex !== undefined)?.firstEntryIndex;
      await this.rotate(firstEntry ?? this.lastIndex + 1);
    }
    const bufs: Buffer[] = [];
    for (const p of group) for (const r of p.records) bufs.push(r);
    const data = bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs);
    // A synchronous write into the page cache costs microseconds; an async one costs a
    // thread-pool round trip (milliseconds on a loaded machine) before the fsync can start.
    if (this.size + data.length > this.allocated) {
      // The new size becomes durable with the fsync below (fdatasync flushes a size change).
      this.allocated = this.size + data.length + PREALLOC_BYTES;
      ftruncateSync(this.fh.fd, this.allocated);
    }
    writeFullySync(this.fh, data, this.size);
    this.stats.writes++;
    if (group.some((p) => p.sync)) {
      const start = performance.now();
      // Inline only while the log is quiet (idle longer than an fsync takes): under load, appends
      // arrive during every fsync, and blocking would stall their decoding and batching behind it.
      if (group.every((p) => !p.sync || p.inline) && start - this.lastSyncEnd > this.lastSyncMs) {
        fdatasyncSync(this.fh.fd);
        this.stats.inlineSyncs++;
      } else await datasync(this.fh.fd);
      this.lastSyncEnd = performance.now();
      this.lastSyncMs = this.lastSyncEnd - start;
      this.stats.syncs++;
    }
    this.size += data.length;
    for (const p of group) {
      if (p.hardState !== undefined) this.durableHardState = p.hardState;
      if (p.snapshot !== undefined) this.durableSnapshot = p.snapshot;
    }
  }

  private async rotate(firstIndex: number): Promise<void> {
    // Only the last segment may end in preallocated zeros (replay rejects a bad record in any other).
    await this.trim();
    await this.fh.sync();
    const seg = segmentFor(firstIndex);
    const fh = await open(join(this.dir, seg.name), 'wx');
    const header: Buffer[] = [];
    if (this.durableSnapshot !== undefined) header.push(encodeSnapshot(this.durableSnapshot));
    if (this.durableHardState !== undefined) header.push(encodeHardState(this.durableHardState));
    const data = Buffer.concat(header);
    if (data.length > 0) await writeFully(fh, data, 0);
    await fh.sync();
    await fsyncPath(this.dir);
    await this.fh.close();
    this.fh = fh;
    this.size = data.length;
    this.allocated = data.length;
    this.segments.push(seg);
    this.log.info({ segment: seg.name }, 'WAL segment rotated');
  }
}

// ---- replay ---------------------------------------------------------------

/** Applies records in order to rebuild the durable state. */
class Replayer {
  private hardState: HardState | undefined;
  private snapshot: SnapshotMarker | undefined;
  private entries: Entry[] = [];
  private sawEntry = false;
  /** Set when the log starts past the snapshot seen so far: a later marker must reach this index. */
  private gapBefore: number | undefined;

  /** Index of the entry before `entries[0]` (0 or the snapshot index). */
  private get offset(): number {
    const first = this.entries[0];
    return first !== undefined ? first.index - 1 : (this.snapshot?.index ?? 0);
  }

  private get lastIndex(): number {
    return this.offset + this.entries.length;
  }

  entry(e: Entry, where: () => CorruptStorageError): void {
    // The oldest surviving segment may start mid-log (earlier ones were released
    // after a snapshot whose marker follows): the first entry sets the offset.
    // That segment's header may carry an older marker (the one durable when it
    // was opened), so the first entry may also jump past the header's snapshot;
    // a later marker must then cover the gap, or the log is corrupt (`result`).
    const first = !this.sawEntry;
    this.sawEntry = true;
    if (first && e.index > this.lastIndex + 1) {
      this.gapBefore = e.index - 1;
      this.entries = [e];
      return;
    }
    if (e.index > this.lastIndex + 1) throw where();
    if (e.index <= this.offset) {
      // Below a snapshot: an entry re-sent across the snapshot; keep the snapshot's view.
      if (this.entries.length === 0 && this.snapshot !== undefined && e.index <= this.snapshot.index) return;
    }
    this.truncateFrom(e.index);
    this.entries.push(e);
  }

  truncateFrom(index: number): void {
    const keep = Math.max(0, index - 1 - this.offset);
    if (keep < this.entries.length) this.entries.length = keep;
  }

  snapshotMarker(m: SnapshotMarker): void {
    if (this.gapBefore !== undefined && (m.replace || m.index >= this.gapBefore)) this.gapBefore = undefined;
    const at = this.entries[m.index - 1 - this.offset];
    if (m.replace) {
      this.entries = [];
    } else if (m.index <= this.offset) {
      // Entries already start after the snapshot (older segments were released): keep them.
    } else if (at !== undefined && at.term === m.term) {
      this.entries = this.entries.slice(m.index - this.offset);
    } else {
      this.entries = [];
    }
    this.snapshot = m;
  }

  hard(h: HardState): void {
    this.hardState = h;
  }

  /** Throws when the oldest entries start past every snapshot marker (entries between them are missing). */
  result(dir: string): WalState {
    if (this.gapBefore !== undefined) {
      const from = (this.snapshot?.index ?? 0) + 1;
      throw new CorruptStorageError(dir, 0, `the WAL's oldest entry is ${this.gapBefore + 1} but its snapshot covers only up to ${from - 1}: entries ${from}..${this.gapBefore} are missing`);
    }
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries };
  }
}

/** Replays one segment's records; returns the offset of the end of the last valid record. */
function replaySegment(buf: Buffer, path: string, isLast: boolean, replay: Replayer): number {
  let off = 0;
  while (off < buf.length) {
    const rec = readRecord(buf, off);
    if (rec === undefined) {
      if (!isLast) throw new CorruptStorageError(path, off, 'bad or incomplete record in a non-final WAL segment');
      // Preallocated space never written (see PREALLOC_BYTES): the clean end of the log.
      if (allZero(buf, off)) return off;
      const later = findValidRecordAfter(buf, off + 1);
      if (later !== undefined) {
        throw new CorruptStorageError(path, off, `bad record followed by a valid record at offset ${later}: not a torn tail`);
      }
      return off;
    }
    const bad = (detail: string) => () => new CorruptStorageError(path, off, detail);
    applyRecord(rec.type, rec.payload, replay, bad);
    off = rec.end;
  }
  return off;
}

function applyRecord(type: number, p: Buffer, replay: Replayer, bad: (d: string) => () => CorruptStorageError): void {
  switch (type) {
    case RecordType.HardState:
      if (p.length !== 24) throw bad('hard state record has wrong length')();
      replay.hard({ term: readU64(p, 0), vote: readU64(p, 8), commit: readU64(p, 16) });
      return;
    case RecordType.Entry: {
      if (p.length < 17) throw bad('entry record too short')();
      const index = readU64(p, 8);
      const e: Entry = { term: readU64(p, 0), index, type: p[16] === 1 ? 'conf' : 'normal', data: new Uint8Array(p.subarray(17)) };
      replay.entry(e, bad(`entry ${index} leaves a gap in the log`));
      return;
    }
    case RecordType.Snapshot:
      if (p.length !== 17) throw bad('snapshot marker has wrong length')();
      replay.snapshotMarker({ index: readU64(p, 0), term: readU64(p, 8), replace: p[16] === 1 });
      return;
    case RecordType.Truncate:
      if (p.length !== 8) throw bad('truncate record has wrong length')();
      replay.truncateFrom(readU64(p, 0));
      return;
    default:
      throw bad(`unknown record type ${type}`)();
  }
}

interface RawRecord {
  readonly type: number;
  readonly payload: Buffer;
  readonly end: number;
}

/** The record at `off`, or undefined when incomplete, of an unknown type, or its CRC does not match. */
function readRecord(buf: Buffer, off: number): RawRecord | undefined {
  if (off + HEADER_BYTES > buf.length) return undefined;
  const len = buf.readUInt32LE(off);
  const type = buf[off + 8] as number;
  if (len > MAX_RECORD_BYTES || type < RecordType.HardState || type > RecordType.Truncate) return undefined;
  const end = off + HEADER_BYTES + len;
  if (end > buf.length) return undefined;
  if (crc32(buf.subarray(off + 8, end)) !== buf.readUInt32LE(off + 4)) return undefined;
  return { type, payload: buf.subarray(off + HEADER_BYTES, end), end };
}

function allZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

function findValidRecordAfter(buf: Buffer, from: number): number | undefined {
  for (let off = from; off + HEADER_BYTES <= buf.length; off++) {
    if (readRecord(buf, off) !== undefined) return off;
  }
  return undefined;
}

// ---- encoding ---------------------------------------------------------------

function record(type: RecordType, payloadLen: number, fill: (b: Buffer, at: number) => void): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES + payloadLen);
  b.writeUInt32LE(payloadLen, 0);
  b[8] = type;
  fill(b, HEADER_BYTES);
  b.writeUInt32LE(crc32(b.subarray(8)), 4);
  return b;
}

function encodeHardState(h: HardState): Buffer {
  return record(RecordType.HardState, 24, (b, at) => {
    writeU64(b, at, h.term);
    writeU64(b, at + 8, h.vote);
    writeU64(b, at + 16, h.commit);
  });
}

function encodeEntry(e: Entry): Buffer {
  return record(RecordType.Entry, 17 + e.data.length, (b, at) => {
    writeU64(b, at, e.term);
    writeU64(b, at + 8, e.index);
    b[at + 16] = e.type === 'conf' ? 1 : 0;
    b.set(e.data, at + 17);
  });
}

function encodeSnapshot(m: SnapshotMarker): Buffer {
  return record(RecordType.Snapshot, 17, (b, at) => {
    writeU64(b, at, m.index);
    writeU64(b, at + 8, m.term);
    b[at + 16] = m.replace ? 1 : 0;
  });
}

function encodeTruncate(index: number): Buffer {
  return record(RecordType.Truncate, 8, (b, at) => writeU64(b, at, index));
}

export function writeU64(b: Buffer, at: number, n: number): void {
  b.writeUInt32LE(n % 0x1_0000_0000, at);
  b.writeUInt32LE(Math.floor(n / 0x1_0000_0000), at + 4);
}

export function readU64(b: Buffer, at: number): number {
  return b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 0x1_0000_0000;
}

// ---- files ---------------------------------------------------------------

const SEGMENT_RE = /^wal-(\d{20})\.log$/;

function segmentFor(firstIndex: number): Segment {
  return { firstIndex, name: `wal-${String(firstIndex).padStart(20, '0')}.log` };
}

async function listSegments(dir: string): Promise<Segment[]> {
  const names = await readdir(dir);
  const segs: Segment[] = [];
  for (const name of names) {
    const m = SEGMENT_RE.exec(name);
    if (m !== null) segs.push({ firstIndex: Number(m[1]), name });
  }
  return segs.sort((a, b) => a.firstIndex - b.firstIndex);
}

/**
 * fdatasync on the thread pool through the callback API: FileHandle.datasync() allocated
 * ~1.5 KB per call (its request tracking), once per write on a leader.
 */
function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err === null ? resolve() : reject(err))));
}

async function writeFully(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

function writeFullySync(fh: FileHandle, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fh.fd, data, done, data.length - done, position + done);
}

/** fsyncs a file or directory by path (directories: makes creates/renames/unlinks durable). */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
