/**
 * fdatasync latency of small WAL appends (330-byte records, one fsync each)
 * by how the file ahead of the records is prepared, modes alternated round
 * by round: `grow` (each write extends the file), `sparse` (ftruncate 1 MiB
 * ahead: what src/raft/wal.ts does), `zero` (1 MiB of zeros written and
 * fsynced ahead, so later writes overwrite allocated blocks). `--parallel 3`
 * runs that many writers at once per mode, as 3 Raft members on one disk.
 *
 *   npx tsx bench/wal-fsync.bench.ts [--records 2000] [--rounds 2] [--parallel 1] [--dir /tmp]
 */
import { Command } from 'commander';
import { fork } from 'node:child_process';
import { closeSync, fdatasyncSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

type Mode = 'grow' | 'sparse' | 'zero';
const modes: readonly Mode[] = ['grow', 'sparse', 'zero'];
const aheadBytes = 1024 * 1024;
const record = Buffer.alloc(330, 7);

/** One writer: `records` appends with an fdatasync each; returns latency percentiles in ms. */
function runWriter(mode: Mode, records: number, dir: string): string {
  const path = join(dir, `${mode}-${process.pid}.log`);
  const fd = openSync(path, 'w+');
  const zeros = Buffer.alloc(aheadBytes);
  const lat: number[] = [];
  let allocated = 0;
  let size = 0;
  try {
    for (let i = 0; i < records; i++) {
      if (size + record.length > allocated) {
        if (mode === 'sparse') {
          allocated = size + record.length + aheadBytes;
          ftruncateSync(fd, allocated);
        } else if (mode === 'zero') {
          writeSync(fd, zeros, 0, aheadBytes, allocated);
          allocated += aheadBytes;
          fdatasyncSync(fd);
        }
      }
      const t0 = process.hrtime.bigint();
      writeSync(fd, record, 0, record.length, size);
      fdatasyncSync(fd);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      size += record.length;
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  const sorted = lat.sort((a, b) => a - b);
  const at = (p: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number).toFixed(3);
  return `p50 ${at(0.5)} p90 ${at(0.9)} p99 ${at(0.99)} max ${(sorted[sorted.length - 1] as number).toFixed(2)} ms`;
}

if (process.env.WAL_FSYNC_WRITER !== undefined) {
  const [mode, records, dir] = process.env.WAL_FSYNC_WRITER.split(',') as [Mode, string, string];
  process.send?.(runWriter(mode, Number(records), dir));
} else {
  const opts = new Command('wal-fsync.bench')
    .option('--records <n>', 'appends per writer', '2000')
    .option('--rounds <n>', 'rounds, modes alternated in each', '2')
    .option('--parallel <n>', 'writers at once per mode', '1')
    .option('--dir <path>', 'where the files go (the disk under test)', '/tmp')
    .parse(process.argv.slice(2), { from: 'user' })
    .opts<{ records: string; rounds: string; parallel: string; dir: string }>();
  const dir = mkdtempSync(join(opts.dir, 'cygnet-wal-fsync-'));
  const writer = (mode: Mode): Promise<string> => new Promise((resolve, reject) => {
    const child = fork(process.argv[1] as string, [], { env: { ...process.env, WAL_FSYNC_WRITER: `${mode},${opts.records},${dir}` }, execArgv: process.execArgv });
    child.once('message', (m) => resolve(String(m)));
    child.once('error', reject);
  });
  try {
    for (let round = 1; round <= Number(opts.rounds); round++) {
      for (const mode of modes) {
        const results = await Promise.all(Array.from({ length: Number(opts.parallel) }, () => writer(mode)));
        for (const r of results) process.stdout.write(`round ${round} ${mode.padEnd(6)} ${r}\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
