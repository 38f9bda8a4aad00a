/**
 * One pino root logger; every component takes a child with its name.
 * Level from CYGNET_LOG_LEVEL (default `info`; mocha sets `silent`, see test/helpers/quiet-logs.ts).
 *
 * Format: JSON lines (for machines) or one readable line per event (for
 * people, via pino-pretty, synchronous and in-process: no worker thread).
 * CYGNET_LOG_FORMAT=json|pretty decides; unset, it is `pretty` when stdout is
 * a terminal and `json` when it is piped. The CLI's `--log-format` sets the
 * variable, and `cygnet local` hands its own choice (and whether to colour)
 * to its children, whose stdout is a pipe to it (`logEnvForChildren`).
 *
 * The root logger is built on first use, so a flag parsed at start-up (before
 * any component logs) still decides its format.
 */
import type { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_FORMAT_ENV = 'CYGNET_LOG_FORMAT';
/** `1`/`0`: colour pretty output even though stdout is a pipe (a parent on a terminal prints it). */
export const LOG_COLOR_ENV = 'CYGNET_LOG_COLOR';

export function isLogFormat(v: unknown): v is LogFormat {
  return typeof v === 'string' && (LOG_FORMATS as readonly string[]).includes(v);
}

type Env = Readonly<Record<string, string | undefined>>;

/** The format this process logs in: CYGNET_LOG_FORMAT if valid, else pretty on a terminal, JSON when piped. */
export function resolveLogFormat(env: Env = process.env, stdoutIsTty: boolean = process.stdout.isTTY === true): LogFormat {
  const v = env[LOG_FORMAT_ENV];
  if (isLogFormat(v)) return v;
  return stdoutIsTty ? 'pretty' : 'json';
}

function resolveColor(env: Env, stdoutIsTty: boolean): boolean {
  const v = env[LOG_COLOR_ENV];
  if (v === '1') return true;
  if (v === '0') return false;
  return stdoutIsTty;
}

/** What a parent whose children's output it prints must pass them: its format and colour, decided by its own stdout. */
export function logEnvForChildren(env: Env = process.env, stdoutIsTty: boolean = process.stdout.isTTY === true): Record<string, string> {
  const format = resolveLogFormat(env, stdoutIsTty);
  return { [LOG_FORMAT_ENV]: format, [LOG_COLOR_ENV]: format === 'pretty' && resolveColor(env, stdoutIsTty) ? '1' : '0' };
}

/**
 * A root logger in `format`. Pretty: `HH:MM:ss.l LEVEL [component] message {other fields}`,
 * one line per event (an error's stack follows on its own lines).
 */
export function createRootLogger(opts: { level: string; format: LogFormat; color: boolean }, destination?: Writable): Logger {
  const base = { level: opts.level, base: { pid: process.pid } };
  if (opts.format === 'json') return destination === undefined ? pino(base) : pino(base, destination);
  const pretty = pinoPretty({
    sync: true,
    singleLine: true,
    colorize: opts.color,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,component',
    messageFormat: '{if component}[{component}] {end}{msg}',
    ...(destination !== undefined ? { destination } : {}),
  });
  return pino(base, pretty);
}

const defaultLevel = process.env.CYGNET_LOG_LEVEL ?? 'info';

let root: Logger | undefined;

export function rootLogger(): Logger {
  root ??= createRootLogger({
    level: defaultLevel,
    format: resolveLogFormat(),
    color: resolveColor(process.env, process.stdout.isTTY === true),
  });
  return root;
}

export function componentLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings });
}
