/**
 * `tsx src/master/main.ts [flags]`: the master as a process. Parses flags
 * (flags.ts), starts the master, and shuts down cleanly on SIGINT/SIGTERM.
 * A bad flag prints one line on stderr and exits 2.
 */
import { CommanderError } from 'commander';
import { CygnetError, describeError } from '../common/errors.ts';
import { componentLogger } from '../common/log.ts';
import { masterHelp, parseMasterFlags } from './flags.ts';
import { startMaster, type MasterHandle } from './master.ts';

export async function runMaster(argv: readonly string[]): Promise<MasterHandle> {
  const options = parseMasterFlags(argv);
  const master = await startMaster(options);
  const log = componentLogger('master');
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'shutting down');
    void master.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return master;
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  runMaster(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof CommanderError && err.code.startsWith('commander.help')) {
      process.stdout.write(masterHelp());
      process.exit(0);
    }
    process.stderr.write(`cygnet master: ${err instanceof CygnetError ? err.message : describeError(err)}\n`);
    process.exit(2);
  });
}
