/**
 * examples/batch: a small custom framework on cygnet's scheduler SDK. It runs
 * the jobs of a JSON file on the cluster — at most `concurrency` at once,
 * retrying failures with backoff, placing jobs by agent attribute — and
 * survives its own crash: restarted on the same state file it fails over with
 * its framework id, reconciles, and picks up where it was.
 *
 *   npm run batch -- --master 127.0.0.1:5050 --jobs examples/batch/example-jobs.json
 *
 * Exit status: 0 every job finished, 1 some job failed for good (or the
 * framework failed), 2 bad flags or a bad jobs file (one line naming the
 * field). SIGTERM/SIGINT stop without tearing down: start it again to resume.
 */
import { Command, CommanderError } from 'commander';
import { readFile } from 'node:fs/promises';
import { CygnetError, describeError } from '../../src/common/errors.ts';
import { componentLogger } from '../../src/common/log.ts';
import { parseBatchFile } from './jobs.ts';
import { BatchFramework } from './scheduler.ts';

interface Flags {
  readonly master: string;
  readonly jobs: string;
  readonly state?: string;
  readonly name: string;
  readonly failoverTimeout: string;
}

class UsageError extends Error {}

function parseFlags(argv: readonly string[]): Flags {
  const program = new Command('batch')
    .requiredOption('--master <host:port,...>', 'master address(es), comma-separated')
    .requiredOption('--jobs <file>', 'the batch file (JSON: { concurrency, backoff, jobs: [...] })')
    .option('--state <file>', 'state file: framework id and job progress (default: <jobs>.state.json)')
    .option('--name <name>', 'framework name', 'batch')
    .option('--failover-timeout <seconds>', 'how long the master keeps our tasks while we are away', '600')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && err.code === 'commander.helpDisplayed') process.exit(0);
    throw new UsageError(err instanceof CommanderError ? err.message.replace(/^error: /, '') : describeError(err));
  }
  return program.opts<Flags>();
}

async function main(): Promise<number> {
  const log = componentLogger('batch');
  let fw: BatchFramework;
  try {
    const flags = parseFlags(process.argv.slice(2));
    const failoverTimeoutSec = Number(flags.failoverTimeout);
    if (!Number.isFinite(failoverTimeoutSec) || failoverTimeoutSec < 0) throw new UsageError(`--failover-timeout: expected seconds >= 0, got ${JSON.stringify(flags.failoverTimeout)}`);
    const spec = parseBatchFile(await readFile(flags.jobs, 'utf8'), flags.jobs);
    fw = await BatchFramework.start({
      masters: flags.master.split(',').map((m) => m.trim()).filter((m) => m !== ''),
      spec,
      stateFile: flags.state ?? `${flags.jobs}.state.json`,
      name: flags.name,
      failoverTimeoutSec,
    });
  } catch (err) {
    const usage = err instanceof UsageError || (err instanceof CygnetError && err.code === 'CYG_VALIDATION') || (err as NodeJS.ErrnoException).code === 'ENOENT';
    process.stderr.write(`batch: ${describeError(err)}\n`);
    return usage ? 2 : 1;
  }
  const stop = (signal: string): void => {
    log.info({ signal }, 'stopping; start again with the same state file to resume');
    void fw.close().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  try {
    const outcome = await fw.outcome;
    await fw.close();
    process.stdout.write(`batch finished: ${outcome.done.length} done, ${outcome.failed.length} failed${outcome.failed.length > 0 ? ` (${outcome.failed.join(', ')})` : ''}\n`);
    return outcome.failed.length > 0 ? 1 : 0;
  } catch (err) {
    process.stderr.write(`batch: ${describeError(err)}\n`);
    await fw.close().catch(() => undefined);
    return 1;
  }
}

process.exitCode = await main();
