/**
 * The size cap of a task's `stdout` / `stderr` (the supervisor opens them
 * O_APPEND straight on the sandbox files, so the agent enforces the cap).
 *
 *  - While the task runs, `capLiveLog` is called every LOG_CHECK_INTERVAL_MS:
 *    when the file exceeds the cap, its last `cap` bytes are copied to
 *    `<name>.1` (tmp + rename, replacing the older one) and the file is
 *    truncated to 0 in place. The writer has O_APPEND, so its next write lands
 *    at the new end (offset 0). Bytes written between the copy and the
 *    truncation are lost, and between two checks the file can grow past the
 *    cap by whatever the task writes in LOG_CHECK_INTERVAL_MS.
 *  - Once the task has exited (no writer left), `capFinishedLog` leaves the
 *    last `cap` bytes in the file and the `cap` bytes before them in `.1`
 *    (topped up from the older `.1`), so both are <= cap at the end, as before.
 *  - While the agent is down nothing caps the files: they grow unbounded
 *    until an agent re-attaches (its first check trims them).
 *
 * Errors (file gone, disk full) are swallowed: the cap is best effort and
 * must never fail or block the task.
 */
import { open, rename, stat, truncate, type FileHandle } from 'node:fs/promises';

/** How often a running task's logs are checked against the cap. */
export const LOG_CHECK_INTERVAL_MS = 1000;

/** The streams the supervisor writes, relative to the sandbox. */
export const LOG_FILES = ['stdout', 'stderr'] as const;

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function readRange(fh: FileHandle, start: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, length - off, start + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return buf.subarray(0, off);
}

/** The last `length` bytes of `file` (empty if there is no such file). */
async function tailOf(file: string, length: number): Promise<Buffer> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = (await fh.stat()).size;
    return await readRange(fh, Math.max(0, size - length), Math.min(size, length));
  } finally {
    await fh.close();
  }
}

/** Replaces `file` with `data` (tmp + rename). */
async function replaceWith(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.cap-tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/** Caps a log that a running task appends to; true if it was rotated. */
export async function capLiveLog(file: string, capBytes: number): Promise<boolean> {
  const cap = Math.max(1, capBytes);
  try {
    const size = await sizeOf(file);
    if (size <= cap) return false;
    const fh = await open(file, 'r');
    let tail: Buffer;
    try {
      tail = await readRange(fh, size - cap, cap);
    } finally {
      await fh.close();
    }
    await replaceWith(`${file}.1`, tail);
    await truncate(file, 0);
    return true;
  } catch {
    return false;
  }
}

/** Caps a log nobody writes to any more: file = last cap bytes, `.1` = the cap bytes before. */
export async function capFinishedLog(file: string, capBytes: number): Promise<void> {
  const cap = Math.max(1, capBytes);
  try {
    const size = await sizeOf(file);
    if (size <= cap) return;
    const fh = await open(file, 'r');
    let older: Buffer;
    let newest: Buffer;
    try {
      const olderStart = Math.max(0, size - 2 * cap);
      older = await readRange(fh, olderStart, size - cap - olderStart);
      newest = await readRange(fh, size - cap, cap);
    } finally {
      await fh.close();
    }
    if (older.length < cap) older = Buffer.concat([await tailOf(`${file}.1`, cap - older.length), older]);
    await replaceWith(`${file}.1`, older);
    await replaceWith(file, newest);
  } catch {
    // Best effort: a log that cannot be trimmed is left as it is.
  }
}
