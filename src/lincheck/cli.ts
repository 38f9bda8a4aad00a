/**
 * `tsx src/lincheck/cli.ts --format etcd|kv [--timeout MS] [--verbose]
 *  [--verdicts verdicts.json] FILE...` — checks each Jepsen history file and
 * prints one line per file: verdict, ops, partitions, milliseconds; then a
 * total. With --verdicts, each line also says whether it agrees with the
 * expected verdict for that file name (testdata/linearizability layout).
 *
 * Exit status: 0 all linearizable (or all agreeing with --verdicts), 1 some
 * history illegal (or disagreeing), 2 unknown (timeout), unreadable or
 * malformed input. The I/O shell around `checkJepsenText`; `main` takes its
 * argv and output streams so tests can drive it.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeError } from '../common/errors.ts';
import { checkJepsenText, JEPSEN_FORMATS, type JepsenFormat } from './index.ts';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

interface CliOptions {
  readonly format: JepsenFormat;
  readonly timeout?: number;
  readonly verbose?: boolean;
  readonly verdicts?: string;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer (milliseconds)');
  return n;
}

/** file basename → expected linearizable?, from any section of a verdicts.json. */
function loadVerdicts(file: string): Map<string, boolean> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const verdicts = new Map<string, boolean>();
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${file}: expected a JSON object of sections`);
  for (const section of Object.values(parsed)) {
    if (typeof section !== 'object' || section === null) continue;
    for (const [name, v] of Object.entries(section)) if (typeof v === 'boolean') verdicts.set(name, v);
  }
  return verdicts;
}

/** Runs the CLI; resolves to the exit status. */
export function main(argv: readonly string[], io: CliIo): number {
  const program = new Command('lincheck')
    .description('Check Jepsen histories for linearizability')
    .addOption(new Option('-f, --format <format>', 'history format').choices(JEPSEN_FORMATS).makeOptionMandatory())
    .option('-t, --timeout <ms>', 'give up on a history after this long', parsePositiveInt)
    .option('-v, --verbose', 'explain illegal histories')
    .option('--verdicts <file>', 'verdicts.json to compare against')
    .argument('<files...>')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  try {
    program.parse(argv, { from: 'user' });
  } catch {
    return 2; // commander already printed why
  }
  const opts = program.opts<CliOptions>();
  let verdicts: Map<string, boolean> | undefined;
  try {
    verdicts = opts.verdicts === undefined ? undefined : loadVerdicts(opts.verdicts);
  } catch (err) {
    io.err(`lincheck: cannot read verdicts: ${describeError(err)}`);
    return 2;
  }
  return checkFiles(program.args, opts, verdicts, io);
}

function checkFiles(files: readonly string[], opts: CliOptions, verdicts: Map<string, boolean> | undefined, io: CliIo): number {
  let status = 0;
  const counts = { ok: 0, illegal: 0, unknown: 0, error: 0 };
  const started = performance.now();
  for (const file of files) {
    const t0 = performance.now();
    try {
      const r = checkJepsenText(opts.format, readFileSync(file, 'utf8'), { timeoutMs: opts.timeout });
      const ms = (performance.now() - t0).toFixed(1);
      counts[r.result]++;
      let agreement = '';
      const expected = verdicts?.get(path.basename(file));
      if (verdicts !== undefined && r.result !== 'unknown') {
        const agrees = expected === undefined || (expected ? 'ok' : 'illegal') === r.result;
        agreement = expected === undefined ? ' (no expected verdict)' : agrees ? ' (agrees)' : ' (DISAGREES with expected)';
        if (!agrees) status = Math.max(status, 1);
      } else if (r.result === 'illegal') status = Math.max(status, 1);
      if (r.result === 'unknown') status = 2;
      io.out(`${file}: ${r.result}${agreement} — ${r.ops} ops, ${r.partitions} partitions, ${ms} ms`);
      if (opts.verbose && r.result === 'illegal') io.out(r.message.replace(/^/gm, '  '));
    } catch (err) {
      counts.error++;
      status = 2;
      io.err(`${file}: error: ${describeError(err)}`);
    }
  }
  const total = (performance.now() - started).toFixed(0);
  io.out(`${files.length} files: ${counts.ok} ok, ${counts.illegal} illegal, ${counts.unknown} unknown, ${counts.error} errors in ${total} ms`);
  return status;
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  process.exitCode = main(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}
