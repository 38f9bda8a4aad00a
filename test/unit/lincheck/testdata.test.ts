/**
 * The checker against real recorded histories with published verdicts
 * (test/fixtures/linearizability — see its README for source and licence):
 * 103 Jepsen etcd register histories and 6 kv histories. Every verdict must
 * match; etcd_095.log has none upstream and is only parsed and checked to
 * completion. A missing testdata directory fails the suite — it is never
 * skipped.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOperationsVerbose } from '../../../src/lincheck/checker.ts';
import { parseJepsenEtcdLog, parseJepsenKvEdn } from '../../../src/lincheck/jepsen.ts';
import { kvModel, registerModel } from '../../../src/lincheck/models.ts';
import type { Model, Operation } from '../../../src/lincheck/types.ts';

const dataDir = fileURLToPath(new URL('../../fixtures/linearizability', import.meta.url));
/** Generous: the slowest history takes well under a second; 'unknown' would fail the test anyway. */
const CHECK_TIMEOUT_MS = 20_000;

interface Verdicts {
  readonly 'jepsen-etcd': Record<string, boolean>;
  readonly kv: Record<string, boolean>;
}

function loadVerdicts(): Verdicts | undefined {
  const file = path.join(dataDir, 'verdicts.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Verdicts) : undefined;
}

function expectVerdict<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], expected: boolean | undefined): void {
  const v = checkOperationsVerbose(model, ops, { timeoutMs: CHECK_TIMEOUT_MS });
  if (expected === undefined) {
    expect(v.result).to.be.oneOf(['ok', 'illegal']);
    return;
  }
  expect(v.result, v.message).to.equal(expected ? 'ok' : 'illegal');
  if (!expected) {
    // The explanation must point at a real operation of the history.
    expect(ops).to.include(v.failure?.blocked);
    expect(v.message).to.match(/^not linearizable: partition \d+/);
  }
}

describe('lincheck on recorded Jepsen histories', () => {
  const verdicts = loadVerdicts();
  if (verdicts === undefined) {
    it('finds the testdata directory', () => {
      expect.fail(
        `linearizability testdata missing: expected ${dataDir}/verdicts.json ` +
          '(test/fixtures/linearizability is part of the repository)',
      );
    });
    return;
  }

  describe('jepsen-etcd (single register)', () => {
    const dir = path.join(dataDir, 'jepsen-etcd');
    const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();

    it('has all 103 histories and 102 verdicts (23 linearizable, 79 not)', () => {
      expect(files).to.have.length(103);
      const values = Object.values(verdicts['jepsen-etcd']);
      expect(values.filter((x) => x)).to.have.length(23);
      expect(values.filter((x) => !x)).to.have.length(79);
    });

    for (const file of files) {
      const expected = verdicts['jepsen-etcd'][file];
      const label = expected === undefined ? 'no upstream verdict: parses and checks to completion' : expected ? 'linearizable' : 'not linearizable';
      it(`${file}: ${label}`, () => {
        const ops = parseJepsenEtcdLog(readFileSync(path.join(dir, file), 'utf8'));
        expectVerdict(registerModel, ops, expected);
      });
    }
  });

  describe('kv (per-key string registers)', () => {
    const dir = path.join(dataDir, 'kv');
    const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

    it('has the 6 kv histories', () => {
      expect(files).to.deep.equal(Object.keys(verdicts.kv).sort());
      expect(files).to.have.length(6);
    });

    for (const file of files) {
      const expected = verdicts.kv[file];
      it(`${file}: ${expected ? 'linearizable' : 'not linearizable'}`, () => {
        const ops = parseJepsenKvEdn(readFileSync(path.join(dir, file), 'utf8'));
        expect(ops.length).to.be.greaterThan(0);
        expectVerdict(kvModel, ops, expected);
      });
    }
  });
});
