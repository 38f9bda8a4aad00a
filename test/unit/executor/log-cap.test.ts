/**
 * The agent-side log cap (log-cap.ts) against real files: a live log is
 * rotated to `.1` and truncated while an O_APPEND writer keeps writing at the
 * new end; a finished log ends with both files within the cap.
 */
import { expect } from 'chai';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { capFinishedLog, capLiveLog } from '../../../src/executor/log-cap.ts';

describe('executor/log-cap', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cygnet-logcap-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('rotates a live log: tail to .1, truncated in place, an O_APPEND writer continues at offset 0', async () => {
    const file = path.join(dir, 'stdout');
    const fd = openSync(file, 'a');
    try {
      writeSync(fd, 'a'.repeat(10) + 'b'.repeat(10));
      expect(await capLiveLog(file, 100)).to.equal(false);
      expect(await capLiveLog(file, 8)).to.equal(true);
      expect(await readFile(`${file}.1`, 'utf8')).to.equal('bbbbbbbb');
      expect((await stat(file)).size).to.equal(0);
      writeSync(fd, 'next');
      expect(await readFile(file, 'utf8')).to.equal('next');
    } finally {
      closeSync(fd);
    }
  });

  it('caps a finished log: last cap bytes stay, the cap bytes before go to .1 (topped up from the old .1)', async () => {
    const file = path.join(dir, 'stderr');
    await writeFile(file, '0123456789abcdefghij');
    await capFinishedLog(file, 8);
    expect(await readFile(file, 'utf8')).to.equal('cdefghij');
    expect(await readFile(`${file}.1`, 'utf8')).to.equal('456789ab');

    await writeFile(`${file}.1`, 'OLDOLDOLD');
    await writeFile(file, 'xyz12345678');
    await capFinishedLog(file, 8);
    expect(await readFile(file, 'utf8')).to.equal('12345678');
    expect(await readFile(`${file}.1`, 'utf8')).to.equal('LDOLDxyz');
  });

  it('leaves small or missing files alone', async () => {
    const file = path.join(dir, 'stdout');
    await capFinishedLog(file, 8);
    expect(await capLiveLog(file, 8)).to.equal(false);
    await writeFile(file, 'short');
    await capFinishedLog(file, 8);
    expect(await readFile(file, 'utf8')).to.equal('short');
  });
});
