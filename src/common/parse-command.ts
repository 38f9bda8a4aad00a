/**
 * The one way a daemon parses its flags with commander: user arguments in,
 * the command's options out. A bad flag or value becomes a ConfigError (the
 * CLI prints one line and exits 2); `--help` and `--version` pass through as
 * commander's own errors (the CLI exits 0 for them).
 */
import { CommanderError, type Command } from 'commander';
import { ConfigError } from './errors.ts';

const passThrough = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

export function parseCommandOptions(cmd: Command, argv: readonly string[]): Record<string, string | undefined> {
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && passThrough.has(err.code)) throw err;
    if (err instanceof CommanderError) throw new ConfigError(err.message.replace(/^error: /, ''));
    throw err;
  }
  return cmd.opts<Record<string, string | undefined>>();
}
