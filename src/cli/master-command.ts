/**
 * `cygnet master [flags]`: runs the master in this process. Flags and their
 * env vars (CYGNET_MASTER_*) are the master's own (src/master/flags.ts);
 * this file only starts it, prints where it listens, and closes it cleanly on
 * SIGINT/SIGTERM.
 */
import { masterHelp, parseMasterFlags } from '../master/flags.ts';
import { startMaster } from '../master/master.ts';

export { masterHelp };

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runMasterCli(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const options = parseMasterFlags(argv);
  const master = await startMaster(options);
  out(`listening ${master.port} (${master.url})`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  out(`${signal}: stopping`);
  await master.close();
  return 0;
}
