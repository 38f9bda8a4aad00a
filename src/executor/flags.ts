/**
 * Command-line flags of the agent (commander), shared by src/executor/main.ts
 * and the CLI. Each flag can also come from an environment variable
 * (CYGNET_AGENT_<FLAG>). Validation happens here, once: a bad value is a
 * ConfigError naming the flag.
 */
import { Command, Option } from 'commander';
import { ConfigError } from '../common/errors.ts';
import type { AgentOptions } from './agent.ts';
import { DEFAULT_MAX_CONCURRENT_LAUNCHES, MAX_CONCURRENT_LAUNCHES_LIMIT } from './launch-gate.ts';

function intFlag(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ConfigError(`--${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return Number(v);
  };
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('Run a cygnet agent: advertises this host and runs tasks for the master')
    .addOption(new Option('--master <host:port>', 'master address').env('CYGNET_AGENT_MASTER').default('127.0.0.1:5050'))
    .addOption(new Option('--port <n>', 'HTTP port (0 = ephemeral)').env('CYGNET_AGENT_PORT').argParser(intFlag('port', 0, 65535)).default(5051))
    .addOption(new Option('--ip <addr>', 'address to bind and advertise').env('CYGNET_AGENT_IP').default('127.0.0.1'))
    .addOption(new Option('--advertise-ip <addr>', 'address to advertise to the master when it differs from --ip (e.g. --ip 0.0.0.0)').env('CYGNET_AGENT_ADVERTISE_IP'))
    .addOption(new Option('--hostname <name>', 'hostname to advertise (default: --advertise-ip, else --ip)').env('CYGNET_AGENT_HOSTNAME'))
    .addOption(new Option('--work-dir <dir>', 'sandboxes and checkpoints').env('CYGNET_AGENT_WORK_DIR').makeOptionMandatory())
    .addOption(new Option('--resources <text>', 'resources, Mesos syntax, e.g. "cpus:4;mem:2048;ports:[31000-32000]"').env('CYGNET_AGENT_RESOURCES'))
    .addOption(new Option('--attributes <text>', 'attributes, e.g. "rack:a;zone:z1"').env('CYGNET_AGENT_ATTRIBUTES'))
    .addOption(new Option('--heartbeat-interval-ms <n>', 'HEARTBEAT call interval unless the master sets one').env('CYGNET_AGENT_HEARTBEAT_INTERVAL_MS').argParser(intFlag('heartbeat-interval-ms', 10, 3_600_000)).default(5000))
    .addOption(new Option('--status-retry-initial-ms <n>', 'first status update retry delay').env('CYGNET_AGENT_STATUS_RETRY_INITIAL_MS').argParser(intFlag('status-retry-initial-ms', 10, 3_600_000)).default(10_000))
    .addOption(new Option('--log-cap-bytes <n>', 'cap per stdout/stderr file of a task').env('CYGNET_AGENT_LOG_CAP_BYTES').argParser(intFlag('log-cap-bytes', 1024, 2 ** 40)).default(10 * 1024 * 1024))
    .addOption(new Option('--max-concurrent-launches <n>', `task supervisor starts at once; later launches queue (default ${DEFAULT_MAX_CONCURRENT_LAUNCHES})`).env('CYGNET_AGENT_MAX_CONCURRENT_LAUNCHES').argParser(intFlag('max-concurrent-launches', 1, MAX_CONCURRENT_LAUNCHES_LIMIT)))
    .addOption(new Option('--media <type>', 'wire format to the master').env('CYGNET_AGENT_MEDIA').choices(['protobuf', 'json']).default('protobuf'))
    .addOption(new Option('--discard-unreadable-checkpoints', 'start even if a checkpoint cannot be read (EACCES, EIO, corrupt): log and drop it, forgetting its task (default: refuse to start)').env('CYGNET_AGENT_DISCARD_UNREADABLE_CHECKPOINTS'))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

/** Parses agent flags (argv without node and script, e.g. process.argv.slice(2)). */
export function parseAgentFlags(argv: readonly string[]): AgentOptions {
  const cmd = agentCommand();
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError((err as Error).message.replace(/^error: /, ''));
  }
  const o = cmd.opts<{
    master: string; port: number; ip: string; advertiseIp?: string; hostname?: string; workDir: string; resources?: string; attributes?: string;
    heartbeatIntervalMs: number; statusRetryInitialMs: number; logCapBytes: number; media: 'protobuf' | 'json'; maxConcurrentLaunches?: number;
    discardUnreadableCheckpoints?: boolean;
  }>();
  if (!/^[^:\s]+:\d{1,5}$/.test(o.master)) throw new ConfigError(`--master: expected host:port, got ${JSON.stringify(o.master)}`);
  const opts: AgentOptions = {
    master: o.master,
    port: o.port,
    ip: o.ip,
    workDir: o.workDir,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    statusRetryInitialMs: o.statusRetryInitialMs,
    logCapBytes: o.logCapBytes,
    media: o.media === 'json' ? 'application/json' : 'application/x-protobuf',
  };
  if (o.hostname !== undefined) opts.hostname = o.hostname;
  if (o.advertiseIp !== undefined) opts.advertiseIp = o.advertiseIp;
  if (o.resources !== undefined) opts.resources = o.resources;
  if (o.attributes !== undefined) opts.attributes = o.attributes;
  if (o.maxConcurrentLaunches !== undefined) opts.maxConcurrentLaunches = o.maxConcurrentLaunches;
  if (o.discardUnreadableCheckpoints === true) opts.discardUnreadableCheckpoints = true;
  return opts;
}
