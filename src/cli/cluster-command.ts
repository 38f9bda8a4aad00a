/**
 * `cygnet cluster …`: the framework replicas' Raft membership, through the
 * `/v1/cluster` admin endpoints of any replica (writes reach the leader).
 *   cygnet cluster status
 *   cygnet cluster add <id> <raft host:port> [--voter]   (a learner unless --voter)
 *   cygnet cluster remove <id>
 * Adding a replica safely: start it with `cygnet framework --join …`, `add` it
 * (a learner catches up without voting), then `add` it again with `--voter`.
 * Errors follow `cygnet app`: API errors exit 1, usage errors 2.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { AppApiClient, ApiError, ApiUnreachableError, type Json } from './app-client.ts';
import { defaultApiUrl, parseUrl, type AppCliIo } from './app-command.ts';

function parseMemberId(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a replica id, an integer ≥ 1.');
  return Number(value);
}

function parseRaftAddress(value: string): string {
  if (!/^[^:\s]+:\d{1,5}$/.test(value) || Number(value.split(':')[1]) > 65535) throw new InvalidArgumentError('expected the replica\'s Raft address, host:port.');
  return value;
}

export function formatClusterView(v: Json): string[] {
  const list = (x: unknown) => (Array.isArray(x) ? x.join(', ') : '-');
  return [
    `replica ${String(v.id)}: ${String(v.role)}${v.actingLeader === true ? ' (acting leader)' : ''}, term ${String(v.term)}, applied ${String(v.applied)}`,
    `leader:   ${String(v.leader)}${typeof v.leaderApi === 'string' ? ` (API ${v.leaderApi})` : ''}`,
    `voters:   ${list(v.voters)}`,
    `learners: ${list(v.learners) || '-'}`,
    ...(typeof v.masterReachable === 'boolean' ? [`master:   ${v.masterReachable ? 'reachable' : 'not reachable from this replica'}`] : []),
  ];
}

export function addClusterCommand(program: Command, io: AppCliIo): void {
  const cluster = program
    .command('cluster')
    .description('framework replicas: Raft membership (see `cygnet cluster --help`)')
    .addOption(new Option('--url <url>', 'any framework replica\'s API').env('CYGNET_URL').default(defaultApiUrl).argParser(parseUrl))
    .option('--json', 'print the raw JSON answer', false);
  const run = (fn: (c: AppApiClient, json: boolean, ...rest: never[]) => Promise<void>) => async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const o = cmd.optsWithGlobals<{ url: string; json: boolean }>();
    try {
      await (fn as (c: AppApiClient, json: boolean, ...rest: unknown[]) => Promise<void>)(new AppApiClient(o.url), o.json, ...args.slice(0, -1));
      io.setExit(0);
    } catch (err) {
      if (err instanceof ApiError) err.describeLines().forEach(io.err);
      else if (err instanceof ApiUnreachableError) io.err(`error: ${err.message}`);
      else throw err;
      io.setExit(1);
    }
  };
  const print = (json: boolean, body: Json, human: () => string[]) => (json ? io.out(JSON.stringify(body, null, 2)) : human().forEach(io.out));
  cluster.command('status').description('this replica\'s view: role, term, leader, voters, learners')
    .action(run(async (c, json) => {
      const v = await c.call('GET', '/v1/cluster');
      print(json, v, () => formatClusterView(v));
    }));
  cluster.command('add').description('add a replica (a learner; --voter to make it, or promote it to, a voter)')
    .argument('<id>', 'replica id', parseMemberId).argument('<address>', 'its Raft host:port', parseRaftAddress)
    .option('--voter', 'add as (or promote to) a voter', false)
    .action(run(async (c, json, id: number, address: string, opts: { voter: boolean }) => {
      const v = await c.call('POST', '/v1/cluster/members', { id, address, role: opts.voter ? 'voter' : 'learner' });
      print(json, v, () => [`voters: ${String(v.voters)}; learners: ${String(v.learners) || '-'}`]);
    }));
  cluster.command('remove').description('remove a replica from the group').argument('<id>', 'replica id', parseMemberId)
    .action(run(async (c, json, id: number) => {
      const v = await c.call('DELETE', `/v1/cluster/members/${id}`);
      print(json, v, () => [`voters: ${String(v.voters)}; learners: ${String(v.learners) || '-'}`]);
    }));
}
