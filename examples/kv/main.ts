/**
 * examples/kv: a replicated key-value store on cygnet's Raft.
 *
 *   npm run kv -- --id 1 --peers 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003 \
 *                 --http 127.0.0.1:8001 --data DIR
 *
 * Raft traffic goes to this node's address in --peers; clients use --http.
 * Each node sends its --http address along with its Raft traffic, so
 * followers can redirect clients to the leader (no second map to keep in sync).
 * A bad flag prints one line and exits 2. SIGTERM/SIGINT close cleanly (a
 * leader first hands leadership to a peer).
 */
import { Command, CommanderError } from 'commander';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CygnetError, describeError } from '../../src/common/errors.ts';
import { componentLogger } from '../../src/common/log.ts';
import { FileStorage } from '../../src/raft/file-storage.ts';
import { HttpTransport, splitHostPort } from '../../src/raft/http-transport.ts';
import { DEFAULT_SNAPSHOT_ENTRIES, RaftNode } from '../../src/raft/node.ts';
import { withFastPaths } from './fast-path.ts';
import { buildKvApp } from './server.ts';
import { KvStateMachine, type KvResult } from './state-machine.ts';

/** Default tick for the example: 50 ms × electionTicks 10 = 0.55–1.05 s election timeout when a leader goes silent; a SIGKILLed leader is detected by its closed connections and replaced within a few ticks. */
export const KV_DEFAULT_TICK_MS = 50;

export interface KvArgs {
  readonly id: number;
  readonly peers: Map<number, string>;
  readonly http: string;
  readonly data: string;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly snapshotEntries: number;
}

class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): KvArgs {
  const program = new Command('kv')
    .description('replicated key-value store on cygnet raft')
    .requiredOption('--id <n>', 'this node id (a key of --peers)')
    .requiredOption('--peers <list>', 'raft addresses: 1=host:port,2=host:port,...')
    .requiredOption('--http <host:port>', 'client API address')
    .requiredOption('--data <dir>', 'data directory (WAL + snapshots)')
    .option('--tick-ms <n>', 'raft tick', String(KV_DEFAULT_TICK_MS))
    .option('--election-ticks <n>', 'election timeout in ticks (randomized up to 2x)', '10')
    .option('--snapshot-entries <n>', 'snapshot every N applied entries', String(DEFAULT_SNAPSHOT_ENTRIES))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: (s) => process.stdout.write(s) });
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')) process.exit(0);
    throw new UsageError(err instanceof CommanderError ? err.message.replace(/^error: /, '') : describeError(err));
  }
  const o = program.opts<Record<string, string>>();
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const peers = new Map<number, string>();
  for (const part of String(o.peers).split(',')) {
    const m = /^(\d+)=(.+)$/.exec(part.trim());
    if (m === null) throw new UsageError(`--peers: expected id=host:port[,id=host:port...], got ${JSON.stringify(part)}`);
    const id = int('peers', m[1], 1);
    checkAddr('peers', m[2] as string);
    if (peers.has(id)) throw new UsageError(`--peers: id ${id} listed twice`);
    peers.set(id, m[2] as string);
  }
  const id = int('id', o.id, 1);
  if (!peers.has(id)) throw new UsageError(`--id: ${id} is not in --peers (${[...peers.keys()].join(', ')})`);
  checkAddr('http', String(o.http));
  return {
    id,
    peers,
    http: String(o.http),
    data: String(o.data),
    tickMs: int('tick-ms', o.tickMs, 1),
    electionTicks: int('election-ticks', o.electionTicks, 2),
    snapshotEntries: int('snapshot-entries', o.snapshotEntries, 1),
  };
}

function checkAddr(flag: string, addr: string): void {
  try {
    splitHostPort(addr);
  } catch {
    throw new UsageError(`--${flag}: expected host:port, got ${JSON.stringify(addr)}`);
  }
}

export async function runKv(args: KvArgs): Promise<{ close(): Promise<void> }> {
  const log = componentLogger('kv', { id: args.id });
  const sm = new KvStateMachine();
  const node = await RaftNode.start<KvResult>({
    id: args.id,
    peers: args.peers,
    storage: new FileStorage(args.data),
    transport: new HttpTransport({ id: args.id, listen: args.peers.get(args.id) as string, peers: args.peers, senderMeta: args.http }),
    stateMachine: sm,
    tickMs: args.tickMs,
    electionTicks: args.electionTicks,
    snapshotEntries: args.snapshotEntries,
    // A member whose WAL failed, or whose core broke an invariant, can no longer vote or
    // replicate; lingering would hide that (and keep a stale role in /status). Exit so it is
    // restarted and recovers from its WAL.
    onFatal: (err) => {
      log.fatal({ err }, 'raft node stopped; exiting');
      process.stderr.write(`kv: raft node stopped: ${describeError(err)}\n`);
      process.exit(1);
    },
  });
  const server = createServer(withFastPaths(node, sm, buildKvApp(node, sm)));
  server.keepAliveTimeout = 60_000;
  const { host, port } = splitHostPort(args.http);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  log.info({ http: args.http, raft: args.peers.get(args.id) }, 'kv node serving');
  return {
    async close() {
      await handOffLeadership(node, args.tickMs * args.electionTicks);
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await node.close();
    },
  };
}

/**
 * On a clean shutdown a leader hands leadership to a peer first (TimeoutNow), so
 * clients see a few ms of redirects instead of an election timeout. Best effort:
 * gives up after one election timeout.
 */
async function handOffLeadership(node: RaftNode<KvResult>, electionTimeoutMs: number): Promise<void> {
  const s = node.status();
  const to = s.conf.voters.find((v) => v !== s.id);
  if (s.role !== 'leader' || to === undefined) return;
  try {
    node.transferLeadership(to);
  } catch {
    return;
  }
  const deadline = Date.now() + electionTimeoutMs;
  while (node.status().role === 'leader' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

async function main(): Promise<void> {
  let args: KvArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`kv: ${describeError(err)}\n`);
    process.exit(2);
  }
  try {
    const kv = await runKv(args);
    const stop = () => {
      void kv.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (err) {
    process.stderr.write(`kv: ${describeError(err)}${err instanceof CygnetError ? ` (${err.code})` : ''}\n`);
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) void main();
