/**
 * One pino root logger; every component takes a child with its name.
 * Level from CYGNET_LOG_LEVEL (default `info`, `silent` in tests).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const defaultLevel = process.env.CYGNET_LOG_LEVEL ?? (process.env.npm_lifecycle_event === 'test' ? 'silent' : 'info');

export const rootLogger: Logger = pino({ level: defaultLevel, base: { pid: process.pid } });

export function componentLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...bindings });
}
