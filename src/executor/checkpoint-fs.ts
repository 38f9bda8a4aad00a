/**
 * The file operations the checkpoint store needs, as one seam, so a test can
 * inject a disk that fails (EIO, ENOSPC, EACCES) at a chosen file. The real
 * one (`nodeCheckpointFs`) is node:fs/promises; it adds no policy.
 */
import { mkdir, open, readFile, readdir, rename, rm, unlink } from 'node:fs/promises';

export interface CheckpointFs {
  /** Creates `dir` and its parents. */
  mkdir(dir: string): Promise<void>;
  /** Creates/truncates `file` (mode 0600), writes `data` and fsyncs it. */
  writeSynced(file: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsyncs a directory, so a rename or unlink in it is durable. */
  syncDir(dir: string): Promise<void>;
  readFile(file: string): Promise<string>;
  readdir(dir: string): Promise<string[]>;
  unlink(file: string): Promise<void>;
  /** Removes `dir` recursively; absent is fine. */
  rmTree(dir: string): Promise<void>;
}

export const nodeCheckpointFs: CheckpointFs = {
  async mkdir(dir) {
    await mkdir(dir, { recursive: true });
  },
  async writeSynced(file, data) {
    const fh = await open(file, 'w', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from, to) => rename(from, to),
  async syncDir(dir) {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  readFile: (file) => readFile(file, 'utf8'),
  readdir: (dir) => readdir(dir),
  unlink: (file) => unlink(file),
  rmTree: (dir) => rm(dir, { recursive: true, force: true }),
};

/** True for "no such file": the one read failure that means "nothing was written there". */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
