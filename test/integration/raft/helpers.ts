/**
 * Helpers for Raft integration tests: free loopback ports and polling with a
 * deadline (for conditions that depend on real timers, e.g. an election).
 */
import { createServer } from 'node:net';
import type { ManualClock } from '../../../src/common/clock.ts';
import type { MemoryStorage } from '../../../src/raft/memory-storage.ts';
import type { StoredState } from '../../../src/raft/storage.ts';
import { pino } from 'pino';
import { SeededRandom } from '../../../src/common/random.ts';
import { RaftNode } from '../../../src/raft/node.ts';
import type { RaftStorage } from '../../../src/raft/storage.ts';
import type { Transport } from '../../../src/raft/transport.ts';
import { encodeCommand, KvStateMachine, type KvResult } from '../../../examples/kv/state-machine.ts';

/** Ports the OS considers free right now (bound to port 0, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<import('node:net').Server>((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve(s));
      }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Moves a ManualClock one tick at a time (letting I/O and timers run between ticks) until
 * `cond` returns a value; fails after `maxTicks`. Time then passes only as fast as the test
 * drives it, so a loaded machine cannot cause a spurious election.
 */
export async function untilTicks<T>(clock: ManualClock, tickMs: number, what: string, cond: () => T | undefined, maxTicks = 200): Promise<T> {
  for (let i = 0; i < maxTicks; i++) {
    const v = cond();
    if (v !== undefined) return v;
    clock.advance(tickMs);
    for (let k = 0; k < 5; k++) await sleep(1);
  }
  throw new Error(`not reached within ${maxTicks} ticks: ${what}`);
}

/** A kv `put` command with a text value. */
export const kvPut = (key: string, value: string): Uint8Array => encodeCommand({ op: 'put', key, value: new TextEncoder().encode(value) });

/** A stored kv value as text (undefined when absent). */
export const decodeText = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Lets in-process deliveries and Ready loops run without moving a manual clock. */
export async function settle(): Promise<void> {
  for (let k = 0; k < 20; k++) await sleep(1);
}

/** Moves a ManualClock `n` ticks, settling after each. */
export async function advanceTicks(clock: ManualClock, tickMs: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    clock.advance(tickMs);
    await settle();
  }
}

/** What a MemoryStorage holds durably, as `RaftStorage.load` returns it. */
export function storedState(memory: MemoryStorage): StoredState {
  const s = memory.initialState();
  return { hardState: s.hardState, snapshot: s.snapshot, entries: s.entries };
}

/** A kv member of a test cluster: the node and its state machine. */
export interface KvMember {
  node: RaftNode<KvResult>;
  sm: KvStateMachine;
}

/** Starts a kv node on a ManualClock with the tests' usual settings (seeded randomness, silent log, 60 s proposal timeout). */
export async function startKvNode(o: { id: number; peers: Map<number, string>; storage: RaftStorage; transport: Transport; clock: ManualClock; tickMs: number; snapshotEntries: number }): Promise<KvMember> {
  const sm = new KvStateMachine();
  const node = await RaftNode.start<KvResult>({
    id: o.id,
    peers: o.peers,
    storage: o.storage,
    transport: o.transport,
    stateMachine: sm,
    tickMs: o.tickMs,
    proposalTimeoutMs: 60_000,
    snapshotEntries: o.snapshotEntries,
    catchUpEntries: 1,
    clock: o.clock,
    random: new SeededRandom(o.id * 7919),
    log: pino({ level: 'silent' }),
  });
  return { node, sm };
}
