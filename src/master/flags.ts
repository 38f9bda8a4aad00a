/**
 * Command-line flags of `cygnet master` (commander), each with a matching
 * environment variable CYGNET_MASTER_<FLAG> (e.g. --port / CYGNET_MASTER_PORT).
 * Durations take Mesos-style units (`500ms`, `15secs`, `1mins`; a bare number
 * is seconds). A bad value is a ConfigError naming the flag.
 */
import { Command, Option } from 'commander';
import { parseCommandOptions } from '../common/parse-command.ts';
import { ConfigError } from '../common/errors.ts';
import type { MasterOptions } from './master.ts';

const UNITS_MS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, ms: 1, s: 1000, sec: 1000, secs: 1000, m: 60_000, min: 60_000, mins: 60_000, h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, d: 86_400_000, days: 86_400_000,
};

/** "15secs" → 15000; "500ms" → 500; "2" → 2000. */
export function parseDurationMs(flag: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m?.[2].toLowerCase() ?? '';
  const factor = unit === '' ? 1000 : UNITS_MS[unit];
  if (m === null || factor === undefined) throw new ConfigError(`--${flag}: expected a duration like 500ms, 15secs or 1mins, got '${text}'`);
  return Number(m[1]) * factor;
}

function parseIntFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${flag}: expected an integer ${min}..${max}, got '${text}'`);
  return n;
}

function parseNumberFlag(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min) throw new ConfigError(`--${flag}: expected a number >= ${min}, got '${text}'`);
  return n;
}

/** "role1=2,role2=0.5" (Mesos --weights). */
export function parseWeights(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [role, w] = part.split('=');
    const n = Number(w);
    if (role === undefined || role.trim() === '' || w === undefined || !Number.isFinite(n) || n <= 0) throw new ConfigError(`--weights: expected role=weight pairs with weight > 0, got '${part}'`);
    out[role.trim()] = n;
  }
  return out;
}

/** "cpus:0.01|mem:32" (Mesos --min_allocatable_resources, the first alternative's cpus/mem). */
export function parseMinOffer(text: string): { cpus: number; memMb: number } {
  let cpus = 0;
  let memMb = 0;
  for (const part of text.split(/[|;]/).map((s) => s.trim()).filter((s) => s !== '')) {
    const [name, v] = part.split(':');
    const n = Number(v);
    if ((name !== 'cpus' && name !== 'mem') || !Number.isFinite(n) || n < 0) throw new ConfigError(`--min-allocatable-resources: expected cpus:N|mem:N, got '${part}'`);
    if (name === 'cpus') cpus = n;
    else memMb = n;
  }
  return { cpus, memMb };
}

export function masterCommand(): Command {
  const env = (flag: string): string => `CYGNET_MASTER_${flag.replace(/-/g, '_').toUpperCase()}`;
  const opt = (flags: string, desc: string, name: string, dflt?: string): Option => {
    const o = new Option(flags, desc).env(env(name));
    return dflt !== undefined ? o.default(dflt) : o;
  };
  return new Command('master')
    .description('run the cygnet master (Mesos v1 Scheduler API, agent protocol, /state, /metrics)')
    .addOption(opt('--port <port>', 'TCP port to listen on (0 = ephemeral)', 'port', '5050'))
    .addOption(opt('--ip <ip>', 'address to listen on', 'ip', '127.0.0.1'))
    .addOption(opt('--hostname <name>', 'hostname advertised to frameworks (default: --ip)', 'hostname'))
    .addOption(opt('--heartbeat-interval <duration>', 'HEARTBEAT interval on scheduler streams', 'heartbeat-interval', '15secs'))
    .addOption(opt('--agent-heartbeat-interval <duration>', 'interval agents are asked to heartbeat at', 'agent-heartbeat-interval', '5secs'))
    .addOption(opt('--agent-ping-timeout <duration>', 'silence after which an agent is unreachable', 'agent-ping-timeout', '15secs'))
    .addOption(opt('--agent-reregister-timeout <duration>', 'after start, how long reconciliation stays silent about unknown tasks (default: --agent-ping-timeout)', 'agent-reregister-timeout'))
    .addOption(opt('--allocation-interval <duration>', 'periodic allocation interval', 'allocation-interval', '1secs'))
    .addOption(opt('--offer-timeout <duration>', 'rescind offers older than this (default: never)', 'offer-timeout'))
    .addOption(opt('--default-refuse-seconds <n>', 'refusal for declined resources when no filters are given', 'default-refuse-seconds', '5'))
    .addOption(opt('--weights <role=w,...>', 'role weights for DRF', 'weights'))
    .addOption(opt('--min-allocatable-resources <cpus:N|mem:N>', 'smallest offer', 'min-allocatable-resources', 'cpus:0.01|mem:32'))
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

/**
 * Parses user arguments (e.g. process.argv.slice(2)) into MasterOptions.
 * Throws ConfigError for a bad value or unknown flag; a CommanderError with
 * code 'commander.helpDisplayed' for --help (the CLI exits 0 then).
 */
export function parseMasterFlags(argv: readonly string[]): MasterOptions {
  const f = parseCommandOptions(masterCommand(), argv);
  const dur = (name: string, v: string | undefined): number | undefined => (v === undefined ? undefined : parseDurationMs(name, v));
  const opts: MasterOptions = {
    port: parseIntFlag('port', f.port ?? '5050', 0, 65535),
    ip: f.ip ?? '127.0.0.1',
    heartbeatIntervalSec: (dur('heartbeat-interval', f.heartbeatInterval) ?? 15_000) / 1000,
    agentHeartbeatIntervalSec: (dur('agent-heartbeat-interval', f.agentHeartbeatInterval) ?? 5000) / 1000,
    agentPingTimeoutMs: dur('agent-ping-timeout', f.agentPingTimeout) ?? 15_000,
    allocationIntervalMs: dur('allocation-interval', f.allocationInterval) ?? 1000,
    defaultRefuseSeconds: parseNumberFlag('default-refuse-seconds', f.defaultRefuseSeconds ?? '5', 0),
    minOffer: parseMinOffer(f.minAllocatableResources ?? 'cpus:0.01|mem:32'),
  };
  if (f.hostname !== undefined) opts.hostname = f.hostname;
  const reregister = dur('agent-reregister-timeout', f.agentReregisterTimeout);
  if (reregister !== undefined) opts.agentReregisterTimeoutMs = reregister;
  const offerTimeout = dur('offer-timeout', f.offerTimeout);
  if (offerTimeout !== undefined) opts.offerTimeoutMs = offerTimeout;
  if (f.weights !== undefined) opts.roleWeights = parseWeights(f.weights);
  if (opts.agentPingTimeoutMs! <= opts.agentHeartbeatIntervalSec! * 1000) {
    throw new ConfigError(`--agent-ping-timeout: expected more than --agent-heartbeat-interval (${opts.agentHeartbeatIntervalSec! * 1000} ms), got '${f.agentPingTimeout ?? '15secs'}'`);
  }
  return opts;
}

/** The --help text (for the CLI's own help). */
export function masterHelp(): string {
  return masterCommand().helpInformation();
}
