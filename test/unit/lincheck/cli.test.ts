/**
 * The lincheck CLI driven in-process through `main(argv, io)`: one line per
 * file, a total, exit status 0/1/2, verdict comparison, and clear errors for
 * bad arguments and malformed files.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/lincheck/cli.ts';
import { checkJepsenText } from '../../../src/lincheck/index.ts';

function run(argv: string[]): { status: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const status = main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, out, err };
}

const w = (p: number, type: string, v: number) => `INFO  jepsen.util - ${p}\t:${type}\t:write\t${v}`;
const rd = (p: number, type: string, v: string) => `INFO  jepsen.util - ${p}\t:${type}\t:read\t${v}`;

describe('lincheck CLI', () => {
  let dir: string;
  let okFile: string;
  let staleFile: string;
  let badFile: string;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lincheck-cli-'));
    okFile = path.join(dir, 'ok.log');
    staleFile = path.join(dir, 'stale.log');
    badFile = path.join(dir, 'bad.log');
    writeFileSync(okFile, [w(0, 'invoke', 1), w(0, 'ok', 1), rd(1, 'invoke', 'nil'), rd(1, 'ok', '1')].join('\n'));
    writeFileSync(staleFile, [w(0, 'invoke', 1), w(0, 'ok', 1), rd(1, 'invoke', 'nil'), rd(1, 'ok', 'nil')].join('\n'));
    writeFileSync(badFile, 'not a jepsen line\n');
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a verdict line per file and a total; exit 0 when all are linearizable', () => {
    const r = run(['--format', 'etcd', okFile]);
    expect(r.status).to.equal(0);
    expect(r.out[0]).to.match(/ok\.log: ok — 2 ops, 1 partitions, [\d.]+ ms$/);
    expect(r.out[1]).to.match(/^1 files: 1 ok, 0 illegal, 0 unknown, 0 errors in \d+ ms$/);
  });

  it('exits 1 on an illegal history and explains it with --verbose', () => {
    const r = run(['-f', 'etcd', '--verbose', okFile, staleFile]);
    expect(r.status).to.equal(1);
    expect(r.out[1]).to.contain('stale.log: illegal');
    expect(r.out[2]).to.contain('no order admits read() -> nil [client 1, 2..3]');
  });

  it('compares with --verdicts by file name', () => {
    const verdicts = path.join(dir, 'verdicts.json');
    writeFileSync(verdicts, JSON.stringify({ mine: { 'stale.log': false, 'ok.log': false } }));
    const r = run(['-f', 'etcd', '--verdicts', verdicts, staleFile, okFile]);
    expect(r.out[0]).to.contain('illegal (agrees)');
    expect(r.out[1]).to.contain('ok (DISAGREES with expected)');
    expect(r.status).to.equal(1);
  });

  it('exits 2 with the line number on a malformed file, and on bad arguments', () => {
    const r = run(['-f', 'etcd', badFile]);
    expect(r.status).to.equal(2);
    expect(r.err[0]).to.contain('bad.log: error: line 1: expected');
    const noFormat = run([okFile]);
    expect(noFormat.status).to.equal(2);
    expect(noFormat.err.join('\n')).to.contain("required option '-f, --format <format>' not specified");
    const wrongFormat = run(['-f', 'yaml', okFile]);
    expect(wrongFormat.status).to.equal(2);
    expect(wrongFormat.err.join('\n')).to.contain('Allowed choices are etcd, kv');
  });

  it('checkJepsenText checks kv text with per-key partitions', () => {
    const text = [
      '{:process 0, :type :invoke, :f :append, :key "a", :value "x"}',
      '{:process 0, :type :ok, :f :append, :key "a", :value "x"}',
      '{:process 1, :type :invoke, :f :get, :key "b", :value nil}',
      '{:process 1, :type :ok, :f :get, :key "b", :value "x"}',
    ].join('\n');
    const r = checkJepsenText('kv', text);
    expect(r).to.include({ result: 'illegal', ops: 2, partitions: 2 });
  });
});
