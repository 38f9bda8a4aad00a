/**
 * The `cygnet` command: `cygnet master`, `cygnet agent`, `cygnet local`,
 * `cygnet framework`, `cygnet dns`, `cygnet proxy`, and `cygnet app` / `cygnet cluster`
 * to drive the framework's API.
 *
 * Owns flag parsing at the top level and the CLI's error contract: a bad
 * flag or value prints exactly one line on stderr and exits with code 2 (no
 * stack trace); `--help` works on every command. Each flag has a matching
 * environment variable (`CYGNET_<FLAG>` for the local cluster). The daemons'
 * own flags are parsed by their `parseXFlags` functions so the rules live in
 * one place.
 */
import { Command, CommanderError, Option } from 'commander';
import path from 'node:path';
import { CygnetError } from '../common/errors.ts';
import { runLocal } from './local.ts';
import { agentHelp, runAgent } from './agent-command.ts';
import { masterHelp, runMasterCli } from './master-command.ts';
import { dnsHelp, runDnsCli } from './dns-command.ts';
import { proxyHelp, runProxyCli } from './proxy-command.ts';
import { watchOwnLauncher } from './launcher-watch.ts';
import { frameworkHelp, runFrameworkCli } from './framework-command.ts';
import { addAppCommand, type AppCliIo } from './app-command.ts';
import { addClusterCommand } from './cluster-command.ts';
import { parseCount, parseNonEmpty, parsePort, parsePortOrZero, parsePositiveInt } from './flag-parsers.ts';
import { applyLogFormat, logFormatHelp, takeLogFormatFlag } from './log-format-flag.ts';
import { LOG_FORMAT_ENV, LOG_FORMATS, type LogFormat } from '../common/log.ts';

/** Exit code for a usage error (bad flag or value), as BSD sysexits EX_USAGE-lite / GNU tools. */
export const usageExitCode = 2;

/** Largest `--agents` for `cygnet local`: ports base+1..base+N must stay in range and the host sane. */
export const maxLocalAgents = 32;

/** Largest `--framework-replicas`: Raft groups beyond 7 voters only slow commits. */
export const maxFrameworkReplicas = 7;

/** Exit code set by the command that ran (main() resets it per run). */
let actionExitCode = 0;

export interface ProgramIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Ends a following command (`app events`); Ctrl-C does in the shell. */
  readonly stopSignal?: AbortSignal;
}

const processIo: ProgramIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

export function buildProgram(io: ProgramIo = processIo): Command {
  const program = new Command('cygnet')
    .description('cygnet: a two-level cluster manager (Mesos-style master and agents)')
    .showHelpAfterError(false)
    .exitOverride();

  program
    .command('local')
    .description('run a master and agents on this machine as child processes (Ctrl-C stops all)')
    .addOption(new Option('--base-port <port>', 'master port; agents use base+1..base+N').env('CYGNET_LOCAL_BASE_PORT').default(5050).argParser(parsePort))
    .addOption(new Option('--agents <n>', 'number of agents').env('CYGNET_LOCAL_AGENTS').default(3).argParser(parsePositiveInt(maxLocalAgents)))
    .addOption(new Option('--work-dir <dir>', 'root of the work dirs (master/, agent-N/)').env('CYGNET_LOCAL_WORK_DIR').default('./.cygnet/local').argParser(parseNonEmpty))
    .addOption(new Option('--ip <ip>', 'address every daemon binds to (on 127.0.0.1, agent N binds 127.0.0.N)').env('CYGNET_LOCAL_IP').default('127.0.0.1').argParser(parseNonEmpty))
    .addOption(new Option('--framework-replicas <n>', 'app framework replicas (0 = none); APIs on 8080, 8081, ...').env('CYGNET_LOCAL_FRAMEWORK_REPLICAS').default(1).argParser(parseCount(maxFrameworkReplicas)))
    .addOption(new Option('--framework-port <port>', 'API port of the first framework replica (Raft: +1000)').env('CYGNET_LOCAL_FRAMEWORK_PORT').default(8080).argParser(parsePort))
    .addOption(new Option('--dns-port <port>', 'cluster DNS port, UDP and TCP (0 = no DNS server)').env('CYGNET_LOCAL_DNS_PORT').default(8053).argParser(parsePortOrZero))
    .addOption(new Option('--proxy-port <port>', 'HTTP load balancer port (0 = no proxy)').env('CYGNET_LOCAL_PROXY_PORT').default(8000).argParser(parsePortOrZero))
    .addOption(new Option('--log-format <format>', 'json lines, or one readable line per event (default: pretty on a terminal, json when piped); passed on to the daemons').env(LOG_FORMAT_ENV).choices(LOG_FORMATS))
    .action(async (opts: { basePort: number; agents: number; workDir: string; ip: string; frameworkReplicas: number; frameworkPort: number; dnsPort: number; proxyPort: number; logFormat?: LogFormat }) => {
      applyLogFormat(opts.logFormat);
      actionExitCode = await runLocal({ basePort: opts.basePort, agents: opts.agents, workDir: path.resolve(opts.workDir), host: opts.ip, frameworkReplicas: opts.frameworkReplicas, frameworkPort: opts.frameworkPort, dnsPort: opts.dnsPort, proxyPort: opts.proxyPort });
    });

  addDaemonCommand(program, 'master', 'run the master: offers, Scheduler API, /state (see `cygnet master --help`)', masterHelp, runMasterCli);
  addDaemonCommand(program, 'agent', 'run an agent: advertise this host and run tasks (see `cygnet agent --help`)', agentHelp, runAgent);
  addDaemonCommand(program, 'framework', 'run a replica of the app framework: Marathon /v2 API (see `cygnet framework --help`)', frameworkHelp, runFrameworkCli);
  addDaemonCommand(program, 'dns', 'run the cluster DNS server, fed by the registry watch (see `cygnet dns --help`)', dnsHelp, runDnsCli);
  const appIo: AppCliIo = { ...io, setExit: (code) => { actionExitCode = code; } };
  addAppCommand(program, appIo);
  addClusterCommand(program, appIo);
  addDaemonCommand(program, 'proxy', 'run the HTTP load balancer fed by the registry watch (see `cygnet proxy --help`)', proxyHelp, runProxyCli);

  return program;
}

type DaemonRunner = (argv: readonly string[], out: (line: string) => void) => Promise<number>;

/**
 * A daemon's flags are parsed by the daemon's own parser (one source of
 * truth), so commander passes everything after the command name through.
 */
function addDaemonCommand(program: Command, name: string, description: string, help: () => string, run: DaemonRunner): void {
  program
    .command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[flags...]')
    .action(async (_flags: string[], _opts: unknown, cmd: Command) => {
      const { argv, format } = takeLogFormatFlag(cmd.args);
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(`${help()}${logFormatHelp}`);
        return;
      }
      applyLogFormat(format);
      const stopWatching = watchOwnLauncher();
      try {
        actionExitCode = await run(argv, (line) => process.stdout.write(`${line}\n`));
      } finally {
        stopWatching();
      }
    });
}

/** Runs the CLI; returns instead of exiting so it can be tested in-process. */
export async function main(argv: readonly string[], stderr: (line: string) => void = processIo.err, io: Partial<ProgramIo> = {}): Promise<number> {
  const program = buildProgram({ out: io.out ?? processIo.out, err: stderr, ...(io.stopSignal !== undefined ? { stopSignal: io.stopSignal } : {}) });
  actionExitCode = 0;
  let lastError = '';
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: (str) => { lastError = str.trim().split('\n')[0] ?? ''; } });
    cmd.commands.forEach(configure);
  };
  configure(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return actionExitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      if (err.code === 'commander.executeSubCommandAsync') return 0;
      stderr(`cygnet: ${(lastError || err.message).replace(/^error: /, '')}`);
      return usageExitCode;
    }
    if (err instanceof CygnetError && (err.code === 'CYG_CONFIG' || err.code === 'CYG_VALIDATION' || err.code === 'CYG_BAD_REQUEST')) {
      stderr(`cygnet: ${err.message}`);
      return usageExitCode;
    }
    stderr(`cygnet: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** Commands that print and end (or follow a stream) for a person or a script, as opposed to the daemons. */
const clientCommands = new Set(['app', 'cluster', 'help', '--help', '-h', '--version', '-V']);

/**
 * `cygnet app list | head -1`: once the reader has gone, the next write to
 * stdout fails with EPIPE, emitted as an error event nothing listens to,
 * and node prints a stack trace. A client command ends quietly instead, as
 * coreutils do on SIGPIPE. Daemons are left alone: they log to stdout, and
 * losing the reader of their logs is not a reason to stop serving.
 */
export function endQuietlyOnClosedPipe(argv: readonly string[]): void {
  if (!clientCommands.has(argv[0] ?? 'help')) return;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

const isEntryPoint = process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isEntryPoint) {
  endQuietlyOnClosedPipe(process.argv.slice(2));
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    process.stderr.write(`cygnet: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
