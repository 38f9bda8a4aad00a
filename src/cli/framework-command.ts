/**
 * `cygnet framework [flags]`: runs one replica of the app framework in this
 * process (flags: src/framework/flags.ts), prints where its API is, and
 * closes it cleanly on SIGINT/SIGTERM.
 */
import { frameworkHelp, parseFrameworkFlags } from '../framework/flags.ts';
import { FrameworkNode } from '../framework/framework-node.ts';

export { frameworkHelp };

export async function runFrameworkCli(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const options = parseFrameworkFlags(argv);
  const node = await FrameworkNode.start(options);
  out(`listening ${node.apiAddress} (http://${node.apiAddress}/v2/apps)`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  out(`${signal}: stopping`);
  await node.close();
  return 0;
}
