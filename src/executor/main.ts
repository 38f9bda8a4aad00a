/**
 * `tsx src/executor/main.ts --master 127.0.0.1:5050 --port 5051 --work-dir DIR ...`
 * Runs one agent. SIGTERM/SIGINT stop the agent but leave its tasks running
 * (they are checkpointed and recovered by the next agent on the same work
 * dir), like a Mesos agent with checkpointing. Prints `listening <port>` on
 * stdout once the HTTP server is up (tests and the CLI wait for it).
 */
import { describeError } from '../common/errors.ts';
import { startAgent } from './agent.ts';
import { parseAgentFlags } from './flags.ts';

async function main(): Promise<void> {
  let options;
  try {
    options = parseAgentFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`cygnet agent: ${describeError(err)}\n`);
    process.exit(2);
  }
  const agent = await startAgent(options);
  process.stdout.write(`listening ${agent.port}\n`);
  const stop = () => {
    void agent.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`cygnet agent: ${describeError(err)}\n`);
  process.exit(1);
});
