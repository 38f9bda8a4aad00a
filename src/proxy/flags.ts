/**
 * Command-line flags of `cygnet proxy`, each with an environment variable
 * CYGNET_PROXY_<FLAG> (e.g. --listen / CYGNET_PROXY_LISTEN). Durations take
 * Mesos-style units (`500ms`, `3secs`, `1mins`; a bare number is seconds).
 * A bad value is a ConfigError naming the flag; nothing is started.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../common/errors.ts';
import { parseDurationMs } from '../master/flags.ts';
import { defaultEjectBaseMs, defaultEjectMaxMs, defaultMaxAttempts } from './failure-policy.ts';
import { defaultTimeouts } from './forwarder.ts';
import { defaultPool } from './upstream-pools.ts';
import type { ProxyOptions } from './main.ts';

/** More workers than this buys nothing on the machines we run on and multiplies sockets to every backend. */
export const maxProxyWorkers = 64;

export function proxyCommand(): Command {
  const env = (flag: string): string => `CYGNET_PROXY_${flag.replace(/-/g, '_').toUpperCase()}`;
  const opt = (flags: string, desc: string, name: string, dflt: string): Option => new Option(flags, desc).env(env(name)).default(dflt);
  return new Command('proxy')
    .description('run the HTTP load balancer: routes by Host and path to healthy instances from the registry watch')
    .addOption(opt('--listen <host:port>', 'where clients connect', 'listen', '127.0.0.1:8000'))
    .addOption(opt('--admin-listen <host:port>', 'admin port: /health, /metrics, /routes', 'admin-listen', '127.0.0.1:9090'))
    .addOption(opt('--domain <domain>', 'cluster domain: an app without a vhost label answers at <app reversed>.<domain>', 'domain', 'cygnet'))
    .addOption(opt('--registry <urls>', 'framework replicas serving the registry watch, comma-separated', 'registry', 'http://127.0.0.1:8080'))
    .addOption(opt('--workers <n>', `processes sharing the listen port (1-${maxProxyWorkers})`, 'workers', '1'))
    .addOption(opt('--connect-timeout <duration>', 'TCP connect to a backend; then the backend is ejected and another tried', 'connect-timeout', `${defaultTimeouts.connectTimeoutMs}ms`))
    .addOption(opt('--header-timeout <duration>', 'from request sent to response headers; then 504', 'header-timeout', `${defaultTimeouts.headerTimeoutMs}ms`))
    .addOption(opt('--idle-timeout <duration>', 'silence on a response body, or on an idle client connection', 'idle-timeout', `${defaultTimeouts.idleTimeoutMs}ms`))
    .addOption(opt('--pool-idle-timeout <duration>', 'idle kept-alive backend sockets are closed after this (keep it under the backends\' own)', 'pool-idle-timeout', `${defaultPool.poolIdleMs}ms`))
    .addOption(opt('--eject-time <duration>', 'first ejection of a backend that refused a connect (doubles while it keeps refusing)', 'eject-time', `${defaultEjectBaseMs}ms`))
    .addOption(opt('--eject-max <duration>', 'longest ejection', 'eject-max', `${defaultEjectMaxMs}ms`))
    .addOption(opt('--attempts <n>', 'attempts per request on connect failures, first included', 'attempts', String(defaultMaxAttempts)))
    .addOption(opt('--retry-idempotent <bool>', 'also replay idempotent bodiless requests a backend cut before answering (as nginx does)', 'retry-idempotent', 'false'))
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

/** "127.0.0.1:8000" → host and port; port 0 asks for an ephemeral one. */
export function parseListen(flag: string, text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (m === null || port > 65535) throw new ConfigError(`--${flag}: expected host:port (port 0-65535), got '${text}'`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

function parseInt(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || n < min || n > max) throw new ConfigError(`--${flag}: expected an integer ${min}..${max}, got '${text}'`);
  return n;
}

function parseBool(flag: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes') return true;
  if (t === 'false' || t === '0' || t === 'no') return false;
  throw new ConfigError(`--${flag}: expected true or false, got '${text}'`);
}

function parseUrls(text: string): string[] {
  const urls = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (urls.length === 0) throw new ConfigError(`--registry: expected one or more framework URLs separated by commas, got '${text}'`);
  for (const u of urls) {
    const full = /^https?:\/\//.test(u) ? u : `http://${u}`;
    if (!URL.canParse(full)) throw new ConfigError(`--registry: '${u}' is not a URL (expected e.g. http://127.0.0.1:8080)`);
  }
  return urls;
}

function positiveDuration(flag: string, text: string): number {
  const ms = parseDurationMs(flag, text);
  if (ms <= 0) throw new ConfigError(`--${flag}: expected a duration above 0, got '${text}'`);
  return ms;
}

/** Parses user arguments into ProxyOptions; throws ConfigError (or commander's help "error"). */
export function parseProxyFlags(argv: readonly string[]): ProxyOptions {
  const cmd = proxyCommand();
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version')) throw err;
    if (err instanceof CommanderError) throw new ConfigError(err.message.replace(/^error: /, ''));
    throw err;
  }
  const f = cmd.opts<Record<string, string>>();
  const domain = (f.domain ?? 'cygnet').trim().toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(domain)) throw new ConfigError(`--domain: expected a DNS name like 'cygnet' or 'example.com', got '${f.domain ?? ''}'`);
  const ejectBaseMs = positiveDuration('eject-time', f.ejectTime ?? '');
  const ejectMaxMs = positiveDuration('eject-max', f.ejectMax ?? '');
  if (ejectMaxMs < ejectBaseMs) throw new ConfigError(`--eject-max: expected at least --eject-time (${ejectBaseMs} ms), got '${f.ejectMax ?? ''}'`);
  return {
    listen: parseListen('listen', f.listen ?? ''),
    adminListen: parseListen('admin-listen', f.adminListen ?? ''),
    domain,
    registryUrls: parseUrls(f.registry ?? ''),
    workers: parseInt('workers', f.workers ?? '', 1, maxProxyWorkers),
    timeouts: {
      connectTimeoutMs: positiveDuration('connect-timeout', f.connectTimeout ?? ''),
      headerTimeoutMs: positiveDuration('header-timeout', f.headerTimeout ?? ''),
      idleTimeoutMs: positiveDuration('idle-timeout', f.idleTimeout ?? ''),
    },
    pool: { poolIdleMs: positiveDuration('pool-idle-timeout', f.poolIdleTimeout ?? ''), poolMaxSocketsPerBackend: defaultPool.poolMaxSocketsPerBackend },
    policy: { maxAttempts: parseInt('attempts', f.attempts ?? '', 1, 10), ejectBaseMs, ejectMaxMs, retryIdempotent: parseBool('retry-idempotent', f.retryIdempotent ?? 'false') },
  };
}

export function proxyHelp(): string {
  return proxyCommand().helpInformation();
}
