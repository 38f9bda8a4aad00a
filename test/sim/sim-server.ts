/**
 * One simulated server: the production `RaftNode` (src/raft/node.ts) with its
 * KV state machine, over a `SimStorage` (fsync after a seeded latency, power
 * loss drops unsynced writes), a `SimTransport` on the faulty `SimNetwork` and
 * a drifting `SimClock`. Only the disk outlives a crash: `crash()` kills the
 * incarnation's clock, transport and storage (their timers, messages and
 * pending fsyncs die with it) and `restart()` starts a fresh `RaftNode` from
 * what was durable, as a restarted process would.
 */
import { pino } from 'pino';
import { SeededRandom } from '../../src/common/random.ts';
import type { Random } from '../../src/common/random.ts';
import type { KvOutput } from '../../src/lincheck/models.ts';
import { RaftNode } from '../../src/raft/node.ts';
import type { AppliedEntry, CoreView, StateMachine } from '../../src/raft/node.ts';
import type { ConfState, Message, NodeId, RaftConfig } from '../../src/raft/types.ts';
import type { EventQueue } from './event-queue.ts';
import { KvMachine, decodeCommand } from './kv-machine.ts';
import { SimClock } from './sim-clock.ts';
import type { SimNetwork } from './sim-network.ts';
import { SimDisk } from './sim-storage.ts';
import type { SimStorage, StorageFactory } from './sim-storage.ts';
import { SimTransport } from './sim-transport.ts';

export interface ServerHooks {
  onApply(server: SimServer, entry: AppliedEntry): void;
  /** The running node replaced its state with a snapshot from the leader. */
  onSnapshotInstalled(server: SimServer): void;
  powerLossBeforeFsync(server: SimServer): boolean;
  slowFsync(server: SimServer): boolean;
  onPowerLoss(server: SimServer): void;
  onFailure(message: string): void;
}

export interface ServerOptions {
  readonly raft: Partial<Omit<RaftConfig, 'id' | 'random'>>;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Snapshot every this many applied entries, ±50 % per incarnation. */
  readonly snapshotEvery: number;
  readonly catchUpEntries: number;
  readonly proposalTimeoutMs: number;
  readonly maxDiskLatencyMs: number;
  readonly storage: StorageFactory;
}

/** The simulator prints its own trace; the node's logs would only slow it down. */
const silent = pino({ level: 'silent' });

interface Incarnation {
  readonly clock: SimClock;
  readonly storage: SimStorage;
  readonly transport: SimTransport;
}

export class SimServer {
  readonly disk: SimDisk;
  /** The running node; undefined while down or still starting. */
  node: RaftNode<KvOutput> | undefined;
  kv = new KvMachine();
  /** The process is alive (it may still be starting). */
  up = false;
  /** Removed from the cluster and stopped for good. */
  stopped = false;
  restarts = 0;
  private incarnation: Incarnation | undefined;
  private readonly drift: number;

  constructor(
    readonly id: NodeId,
    private readonly bootstrap: ConfState,
    private readonly opts: ServerOptions,
    private readonly queue: EventQueue,
    private readonly rng: Random,
    private readonly net: SimNetwork,
    private readonly hooks: ServerHooks,
  ) {
    this.disk = new SimDisk(bootstrap);
    this.drift = (rng.next() - 0.5) * 0.1; // ±5 %
  }

  get view(): CoreView | undefined {
    return this.node?.view;
  }

  get appliedIndex(): number {
    return this.node?.status().applied ?? 0;
  }

  receive(m: Message): void {
    this.incarnation?.transport.receive(m);
  }

  /** The connection from a crashed peer closed (its kernel sent FIN). */
  peerLost(peer: NodeId): void {
    this.incarnation?.transport.peerLost(peer);
  }

  start(): void {
    if (this.up || this.stopped) return;
    this.up = true;
    const inc: Incarnation = {
      clock: new SimClock(this.queue, this.drift),
      storage: this.opts.storage(this.disk, this.queue, this.rng, this.opts.maxDiskLatencyMs, {
        powerLossBeforeFsync: () => this.hooks.powerLossBeforeFsync(this),
        slowFsync: () => this.hooks.slowFsync(this),
        onPowerLoss: () => {
          this.crash();
          this.hooks.onPowerLoss(this);
        },
      }),
      transport: new SimTransport(this.id, this.net),
    };
    this.incarnation = inc;
    this.kv = new KvMachine();
    let started = false;
    const sm: StateMachine<KvOutput> = {
      apply: (e) => {
        const out = this.kv.apply(decodeCommand(e.data).input);
        if (this.incarnation === inc) this.hooks.onApply(this, e);
        return out;
      },
      snapshot: () => this.kv.snapshot(),
      restore: (data) => {
        this.kv = KvMachine.restore(data);
        if (started && this.incarnation === inc) this.hooks.onSnapshotInstalled(this);
      },
    };
    const peers = new Map<NodeId, string>([[this.id, `sim-${this.id}`]]);
    for (const v of this.bootstrap.voters) peers.set(v, `sim-${v}`);
    const snapshotEntries = Math.max(1, Math.round(this.opts.snapshotEvery * (0.5 + this.rng.next())));
    RaftNode.start<KvOutput>({
      id: this.id,
      peers,
      bootstrap: this.bootstrap,
      storage: inc.storage,
      transport: inc.transport,
      stateMachine: sm,
      tickMs: this.opts.tickMs,
      electionTicks: this.opts.electionTicks,
      heartbeatTicks: this.opts.heartbeatTicks,
      snapshotEntries,
      catchUpEntries: this.opts.catchUpEntries,
      proposalTimeoutMs: this.opts.proposalTimeoutMs,
      raft: this.opts.raft,
      clock: inc.clock,
      random: new SeededRandom(Math.floor(this.rng.next() * 2 ** 31) + this.id),
      log: silent,
      onFatal: (err) => this.hooks.onFailure(`node ${this.id} stopped: ${err instanceof Error ? err.message : String(err)}`),
    }).then(
      (node) => {
        started = true;
        if (this.incarnation === inc) this.node = node;
      },
      (err: unknown) => this.hooks.onFailure(`node ${this.id} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
    );
  }

  /** Power loss: the process and its unsynced writes are gone. */
  crash(): void {
    if (!this.up) return;
    this.up = false;
    this.node = undefined;
    const inc = this.incarnation;
    this.incarnation = undefined;
    inc?.clock.kill();
    inc?.transport.kill();
    inc?.storage.kill();
    this.disk.crash();
  }

  restart(): void {
    if (this.up || this.stopped) return;
    this.restarts++;
    this.start();
  }

  stop(): void {
    this.crash();
    this.stopped = true;
  }

  describe(): string {
    const state = this.stopped ? '[stopped] ' : !this.up ? '[down] ' : '';
    return `${state}${this.view?.describe() ?? `node ${this.id}`} kv=${this.kv.describe()}`;
  }
}
