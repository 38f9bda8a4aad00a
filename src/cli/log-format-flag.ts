/**
 * `--log-format json|pretty`, accepted by every cygnet command. It only sets
 * CYGNET_LOG_FORMAT for this process (read when the first logger is built,
 * see src/common/log.ts), so the daemons' own flag parsers never see it.
 */
import { ConfigError } from '../common/errors.ts';
import { isLogFormat, LOG_FORMAT_ENV, LOG_FORMATS, type LogFormat } from '../common/log.ts';

export const logFormatHelp = `  --log-format <format>  ${LOG_FORMATS.join('|')}: JSON lines or one readable line per event (default: pretty on a terminal, json when piped; env: ${LOG_FORMAT_ENV})\n`;

/** Removes `--log-format X` / `--log-format=X` from argv; a bad or missing value is a ConfigError. */
export function takeLogFormatFlag(argv: readonly string[]): { argv: string[]; format: LogFormat | undefined } {
  const rest: string[] = [];
  let format: LogFormat | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let value: string | undefined;
    if (a === '--log-format') value = argv[++i] ?? '';
    else if (a.startsWith('--log-format=')) value = a.slice('--log-format='.length);
    else {
      rest.push(a);
      continue;
    }
    if (!isLogFormat(value)) throw new ConfigError(`--log-format: expected one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
    format = value;
  }
  return { argv: rest, format };
}

/** Applies a chosen format to this process (and, through the environment, to children it starts). */
export function applyLogFormat(format: LogFormat | undefined): void {
  if (format !== undefined) process.env[LOG_FORMAT_ENV] = format;
}
