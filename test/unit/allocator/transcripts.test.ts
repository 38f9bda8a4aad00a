import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTranscriptFile } from './transcript.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

describe('allocator transcripts (testdata/*.txt; CYGNET_REWRITE=1 regenerates)', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      for (const r of runTranscriptFile(join(dir, file))) {
        expect(r.actual, `command: ${r.command}`).to.deep.equal(r.expected);
      }
    });
  }
});
