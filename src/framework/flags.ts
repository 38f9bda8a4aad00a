/**
 * Command-line flags of `cygnet framework` (commander), each with a matching
 * environment variable CYGNET_FRAMEWORK_<FLAG>. One replica:
 *   cygnet framework --http 127.0.0.1:8080 --master 127.0.0.1:5050
 * Three replicas (each with its own --id and --data-dir):
 *   cygnet framework --id 1 --peers 1=127.0.0.1:9080,2=127.0.0.1:9081,3=127.0.0.1:9082 --http 127.0.0.1:8080 …
 * A bad value is a ConfigError naming the flag.
 */
import { Command, Option } from 'commander';
import { parseCommandOptions } from '../common/parse-command.ts';
import { ConfigError } from '../common/errors.ts';
import { parseDurationMs } from '../master/flags.ts';
import type { FrameworkNodeOptions } from './framework-node.ts';

function frameworkCommand(): Command {
  const env = (flag: string): string => `CYGNET_FRAMEWORK_${flag.replace(/-/g, '_').toUpperCase()}`;
  const opt = (flags: string, desc: string, name: string, dflt?: string): Option => {
    const o = new Option(flags, desc).env(env(name));
    return dflt !== undefined ? o.default(dflt) : o;
  };
  return new Command('framework')
    .description('run one replica of the app framework (Marathon /v2 API, events, registry watch)')
    .addOption(opt('--id <n>', 'this replica\'s id (a key of --peers)', 'id', '1'))
    .addOption(opt('--peers <list>', 'Raft addresses of every replica: 1=host:port,2=host:port,... (default: 1=<http host>:<http port + 1000>)', 'peers'))
    .addOption(opt('--http <host:port>', 'REST API address', 'http', '127.0.0.1:8080'))
    .addOption(opt('--master <host:port,...>', 'master address(es)', 'master', '127.0.0.1:5050'))
    .addOption(opt('--data-dir <dir>', 'Raft log and snapshots', 'data-dir', './.cygnet/framework'))
    .addOption(opt('--framework-name <name>', 'FrameworkInfo.name', 'framework-name', 'cygnet'))
    .addOption(opt('--role <role>', 'Mesos role to run tasks under (default: *)', 'role'))
    .addOption(opt('--tick <duration>', 'Raft tick; heartbeats every tick', 'tick', '50ms'))
    .addOption(opt('--election-ticks <n>', 'election timeout in ticks, randomized up to twice that (7 × 50 ms: a new leader within ~0.4-0.8 s of a leader going silent; within a few ticks when its connections close, as on SIGKILL)', 'election-ticks', '7'))
    .addOption(opt('--snapshot-entries <n>', 'snapshot the state (and compact the log) every N applied entries', 'snapshot-entries', '10000'))
    .addOption(opt('--catch-up-entries <n>', 'log entries kept behind a snapshot for slow replicas (beyond: they get the snapshot)', 'catch-up-entries', '1000'))
    .addOption(opt('--abdicate-after <duration>', 'a leader that reaches no master for this long hands leadership to a replica that does (0: never)', 'abdicate-after', '6secs'))
    .addOption(new Option('--join', 'join a running group (no bootstrap): then POST /v1/cluster/members on the leader').env(env('join')))
    .addOption(opt('--reconcile-interval <duration>', 'explicit + implicit reconciliation with the master', 'reconcile-interval', '60secs'))
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

export function frameworkHelp(): string {
  return frameworkCommand().helpInformation();
}

function hostPort(flag: string, text: string): { host: string; port: number } {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (m === null || port > 65535) throw new ConfigError(`--${flag}: expected host:port, got '${text}'`);
  return { host: m[1] as string, port };
}

/** At least 3: with heartbeats every tick, fewer would call elections on ordinary jitter. */
function electionTicks(text: string): number {
  const n = positiveInt('election-ticks', text);
  if (n < 3) throw new ConfigError(`--election-ticks: expected at least 3 (heartbeats come every tick), got '${text}'`);
  return n;
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new ConfigError(`--${flag}: expected an integer ≥ 1, got '${text}'`);
  return n;
}

export function parsePeers(text: string): Map<number, string> {
  const peers = new Map<number, string>();
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^(\d+)=(.+)$/.exec(part);
    if (m === null || Number(m[1]) < 1) throw new ConfigError(`--peers: expected id=host:port[,id=host:port...] with ids ≥ 1, got '${part}'`);
    hostPort('peers', m[2] as string);
    if (peers.has(Number(m[1]))) throw new ConfigError(`--peers: id ${m[1]} listed twice`);
    peers.set(Number(m[1]), m[2] as string);
  }
  if (peers.size === 0) throw new ConfigError('--peers: expected at least one id=host:port');
  return peers;
}

export function parseFrameworkFlags(argv: readonly string[]): FrameworkNodeOptions {
  const f = parseCommandOptions(frameworkCommand(), argv);
  const http = hostPort('http', f.http ?? '127.0.0.1:8080');
  const id = Number(f.id);
  if (!Number.isInteger(id) || id < 1) throw new ConfigError(`--id: expected an integer ≥ 1, got '${f.id}'`);
  const peers = f.peers !== undefined ? parsePeers(f.peers) : new Map([[id, `${http.host}:${http.port === 0 ? 0 : http.port + 1000}`]]);
  if (!peers.has(id)) throw new ConfigError(`--id: ${id} is not in --peers (${[...peers.keys()].join(', ')})`);
  const masters = (f.master ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  masters.forEach((m) => hostPort('master', m));
  if (masters.length === 0) throw new ConfigError('--master: expected host:port');
  const tickMs = parseDurationMs('tick', f.tick ?? '50ms');
  if (!Number.isInteger(tickMs) || tickMs < 1) throw new ConfigError(`--tick: expected a whole number of milliseconds ≥ 1, got '${f.tick}'`);
  return {
    id,
    peers,
    apiListen: `${http.host}:${http.port}`,
    dataDir: f.dataDir ?? './.cygnet/framework',
    masters,
    ...(f.frameworkName !== undefined ? { frameworkName: f.frameworkName } : {}),
    ...(f.role !== undefined ? { role: f.role } : {}),
    tickMs,
    reconcileIntervalMs: parseDurationMs('reconcile-interval', f.reconcileInterval ?? '60secs'),
    ...(f.join !== undefined ? { join: true } : {}),
    abdicateAfterMs: parseDurationMs('abdicate-after', f.abdicateAfter ?? '6secs'),
    snapshotEntries: positiveInt('snapshot-entries', f.snapshotEntries ?? '10000'),
    electionTicks: electionTicks(f.electionTicks ?? '7'),
    catchUpEntries: positiveInt('catch-up-entries', f.catchUpEntries ?? '1000'),
  };
}
