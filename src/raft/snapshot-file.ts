/**
 * Snapshot files: one Raft snapshot (meta + state-machine bytes) per file,
 * written atomically and checksummed.
 *
 * File: `snapshot-<term>-<index>.snap` (both 20-digit zero-padded) containing
 *   "CYGSNAP1" | u32 meta length | meta JSON | data | u32 CRC32 of all before it.
 *
 * Invariants:
 *  - `save` writes `<name>.tmp`, fsyncs it, renames it into place and fsyncs
 *    the directory; only then are older snapshots deleted. A crash at any point
 *    leaves either the old or the new snapshot complete.
 *  - `loadLatest` ignores (and removes) leftover `.tmp` files; a renamed file
 *    with a bad checksum is disk damage: `CorruptStorageError`.
 */
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptStorageError } from './errors.ts';
import type { Snapshot, SnapshotMeta } from './types.ts';
import { fsyncPath } from './wal.ts';

const MAGIC = Buffer.from('CYGSNAP1', 'ascii');
const NAME_RE = /^snapshot-(\d{20})-(\d{20})\.snap$/;

export interface SnapshotFileInfo {
  readonly name: string;
  readonly term: number;
  readonly index: number;
}

export class SnapshotStore {
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Atomically writes `snap`; removes older snapshot files afterwards. Returns the file name. */
  async save(snap: Snapshot): Promise<string> {
    const name = snapshotName(snap.meta.term, snap.meta.index);
    const tmp = join(this.dir, `${name}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      const body = encodeSnapshot(snap);
      let done = 0;
      while (done < body.length) done += (await fh.write(body, done, body.length - done, done)).bytesWritten;
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, name));
    await fsyncPath(this.dir);
    for (const old of await this.list()) {
      if (old.name !== name && old.index <= snap.meta.index) await unlink(join(this.dir, old.name));
    }
    await fsyncPath(this.dir);
    return name;
  }

  /** The newest complete snapshot, or undefined when there is none. */
  async loadLatest(): Promise<Snapshot | undefined> {
    for (const name of await readdir(this.dir)) {
      if (name.startsWith('snapshot-') && name.endsWith('.snap.tmp')) await unlink(join(this.dir, name));
    }
    const files = await this.list();
    const newest = files[files.length - 1];
    if (newest === undefined) return undefined;
    const path = join(this.dir, newest.name);
    return decodeSnapshot(await readFile(path), path);
  }

  /** Snapshot files in the directory, oldest first. */
  async list(): Promise<SnapshotFileInfo[]> {
    const out: SnapshotFileInfo[] = [];
    for (const name of await readdir(this.dir)) {
      const m = NAME_RE.exec(name);
      if (m !== null) out.push({ name, term: Number(m[1]), index: Number(m[2]) });
    }
    return out.sort((a, b) => a.index - b.index || a.term - b.term);
  }
}

export function snapshotName(term: number, index: number): string {
  return `snapshot-${String(term).padStart(20, '0')}-${String(index).padStart(20, '0')}.snap`;
}

export function encodeSnapshot(snap: Snapshot): Buffer {
  const meta = Buffer.from(JSON.stringify(snap.meta), 'utf8');
  const out = Buffer.allocUnsafe(MAGIC.length + 4 + meta.length + snap.data.length + 4);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(meta.length, MAGIC.length);
  meta.copy(out, MAGIC.length + 4);
  out.set(snap.data, MAGIC.length + 4 + meta.length);
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

export function decodeSnapshot(buf: Buffer, path: string): Snapshot {
  if (buf.length < MAGIC.length + 8 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CorruptStorageError(path, 0, 'not a cygnet snapshot file (bad magic or too short)');
  }
  if (crc32(buf.subarray(0, buf.length - 4)) !== buf.readUInt32LE(buf.length - 4)) {
    throw new CorruptStorageError(path, buf.length - 4, 'snapshot checksum mismatch');
  }
  const metaLen = buf.readUInt32LE(MAGIC.length);
  const metaEnd = MAGIC.length + 4 + metaLen;
  if (metaEnd > buf.length - 4) throw new CorruptStorageError(path, MAGIC.length, 'snapshot meta length out of range');
  let meta: SnapshotMeta;
  try {
    meta = parseMeta(JSON.parse(buf.subarray(MAGIC.length + 4, metaEnd).toString('utf8')));
  } catch (err) {
    throw new CorruptStorageError(path, MAGIC.length + 4, `bad snapshot meta: ${(err as Error).message}`);
  }
  return { meta, data: new Uint8Array(buf.subarray(metaEnd, buf.length - 4)) };
}

function parseMeta(v: unknown): SnapshotMeta {
  if (typeof v !== 'object' || v === null) throw new Error('meta is not an object');
  const o = v as Record<string, unknown>;
  const conf = o.conf as Record<string, unknown> | undefined;
  const ids = (x: unknown, what: string): number[] => {
    if (!Array.isArray(x) || !x.every((n) => Number.isSafeInteger(n) && (n as number) > 0)) throw new Error(`${what} is not a list of node ids`);
    return x as number[];
  };
  if (!Number.isSafeInteger(o.index) || !Number.isSafeInteger(o.term)) throw new Error('index/term are not integers');
  if (typeof conf !== 'object' || conf === null) throw new Error('conf missing');
  return { index: o.index as number, term: o.term as number, conf: { voters: ids(conf.voters, 'conf.voters'), learners: ids(conf.learners, 'conf.learners') } };
}
