/**
 * `cygnet agent [flags]`: runs one agent in this process. Flags are parsed by
 * the agent's own `parseAgentFlags` (src/executor/flags.ts) so the rules and
 * env vars (CYGNET_AGENT_*) live in one place; this file adds only
 * `--kill-tasks-on-exit` (env CYGNET_AGENT_KILL_TASKS_ON_EXIT=1), which
 * `cygnet local` sets so Ctrl-C leaves no task behind. Without it SIGTERM
 * stops the agent and leaves tasks running for the next agent to recover,
 * like a checkpointing Mesos agent.
 */
import { agentCommand, parseAgentFlags } from '../executor/flags.ts';
import { startAgent } from '../executor/agent.ts';

export const killTasksFlag = '--kill-tasks-on-exit';
export const killTasksEnv = 'CYGNET_AGENT_KILL_TASKS_ON_EXIT';

export function agentHelp(): string {
  return `${agentCommand().name('cygnet agent').helpInformation()}\nAlso: ${killTasksFlag}  kill every task when the agent stops (env: ${killTasksEnv}=1)\n`;
}

/** Splits off the CLI-only flag; throws the agent's ConfigError for bad flags. */
export function parseAgentCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { options: ReturnType<typeof parseAgentFlags>; killTasksOnExit: boolean } {
  const rest = argv.filter((a) => a !== killTasksFlag);
  const killTasksOnExit = rest.length !== argv.length || env[killTasksEnv] === '1' || env[killTasksEnv] === 'true';
  return { options: parseAgentFlags(rest), killTasksOnExit };
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runAgent(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const { options, killTasksOnExit } = parseAgentCli(argv);
  const agent = await startAgent(options);
  out(`listening ${agent.port}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  out(`${signal}: ${killTasksOnExit ? 'killing tasks and stopping' : 'stopping (tasks keep running)'}`);
  if (killTasksOnExit) await agent.shutdown();
  else await agent.close();
  return 0;
}
