/**
 * RaftNode: the I/O shell around the pure `RaftCore` — the only Raft file with
 * timers, files (through `RaftStorage`) and sockets (through `Transport`).
 *
 *   tick timer ─┐    inbound batches ─┐     propose/read/conf calls ─┐
 *               ▼                     ▼                              ▼
 *            core.tick()          core.step(m)              core.propose(...)
 *               └──────────────┬──────┴──────────────────────────────┘
 *                              ▼  schedule(): one loop at a time
 *      while core.hasReady(): rd = core.ready()
 *         1. storage.persist(snapshot, entries, hardState)   (write + fsync, group-committed)
 *         2. transport.send(rd.messages)   (a leader with unchanged term/vote sends during 1,
 *            or — a Ready with no new entries — in a microtask after 3, so the callers
 *            it resolved answer their clients first, pure commit notices up to
 *            COMMIT_NOTICE_DELAY_MS later with the next frame; Readies' messages stay in order)
 *      A leader with durable term/vote does not wait for 1 before 3 and 4 (pipelined Readies:
 *      see handleReady); its next Ready then waits for that fsync unless it has entries to apply.
 *         3. restore snapshot / apply committedEntries → resolve proposals; serve readStates
 *         4. core.advance(rd); maybe snapshot + compact
 *
 * Invariants:
 *  - Nothing is sent before what it depends on is durable; a proposal resolves
 *    only after its entry is committed AND applied, with the state machine's
 *    result. A proposal whose log slot is committed with another term's entry is
 *    rejected (`ProposalDroppedError`) — not merely overwritten in this node's
 *    log, since a copy elsewhere may still commit (Figure 8); every proposal and
 *    read has a deadline (`ProposalTimeoutError`, outcome unknown).
 *  - Applied entries reach the state machine in index order, exactly once per
 *    process lifetime (after a restart: snapshot restore, then the log suffix).
 *  - Bounded: pending proposals (`maxPendingProposals`) and reads (MAX_QUEUED_READS
 *    queued behind one ReadIndex round in flight) — beyond them callers get an error
 *    at once, not a queue.
 */
import type { Clock, TimerHandle } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import { CygnetError, describeError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { componentLogger } from '../common/log.ts';
import type { Random } from '../common/random.ts';
import { systemRandom } from '../common/random.ts';
import { RaftAssertionError } from './assert.ts';
import { RaftCore } from './core.ts';
import { NotLeaderError, OverloadedError, ProposalDroppedError, ProposalOutcomeUnknownError, ProposalTimeoutError, ShuttingDownError, StorageFailureError } from './errors.ts';
import type { RaftStorage } from './storage.ts';
import type { InboundBatch, Transport } from './transport.ts';
import type { ConfChange, ConfState, Entry, Message, NodeId, RaftConfig, Ready, Role, Status } from './types.ts';
import { decodeConfChange, defaultRaftConfig } from './types.ts';

export interface AppliedEntry {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/** The replicated application. `apply` must be deterministic. */
export interface StateMachine<R> {
  apply(entry: AppliedEntry): R;
  snapshot(): Uint8Array;
  restore(data: Uint8Array): void;
}

export interface RaftNodeOptions<R> {
  readonly id: NodeId;
  /** Raft address (host:port) of every initial member, this node included; also the bootstrap voters. */
  readonly peers: ReadonlyMap<NodeId, string>;
  readonly storage: RaftStorage;
  readonly transport: Transport;
  readonly stateMachine: StateMachine<R>;
  /** Bootstrap membership on first start; default: every id in `peers` is a voter. */
  readonly bootstrap?: ConfState;
  /** Default 100 ms; with electionTicks 10 the election timeout is 1.1–2.1 s (after losing the leader's connection: a few ticks). */
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  /** Take a snapshot (and compact) every this many applied entries. Default 10 000. */
  readonly snapshotEntries?: number;
  /** Entries kept in memory behind a snapshot so slightly slow followers avoid a snapshot transfer. Default 1 000. */
  readonly catchUpEntries?: number;
  /** Deadline for a proposal or read. Default 5 000 ms. */
  readonly proposalTimeoutMs?: number;
  readonly maxPendingProposals?: number;
  readonly raft?: Partial<Omit<RaftConfig, 'id' | 'random'>>;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly log?: Logger;
  /**
   * Called once, with the error, if the node stops participating: persisting failed
   * (`StorageFailureError`) or a core invariant broke (`RaftAssertionError`, naming the
   * state). The node then
   * never ticks or sends again, yet its last role stays in `status()`: a process should
   * exit (and be restarted from its WAL) rather than linger as a silent member.
   */
  readonly onFatal?: (err: unknown) => void;
}

export interface ProposeOutcome<R> {
  readonly index: number;
  readonly term: number;
  readonly result: R;
}

/**
 * A read-only window on the core, for checkers (the simulator's SafetyChecker) and
 * debugging: status and log contents, no way to drive it.
 */
export type CoreView = Pick<RaftCore, 'id' | 'status' | 'persistedIndex' | 'logTerm' | 'logEntry' | 'describe'>;

/** The core's status as an operator sees it; `applied` is what the state machine has applied. */
export type NodeStatus = Pick<Status, 'id' | 'role' | 'term' | 'leader' | 'commit' | 'applied' | 'firstIndex' | 'lastIndex' | 'conf'> & {
  /** The leader's sender metadata (e.g. its client API address) when known. */
  readonly leaderMeta: string | undefined;
};

export const DEFAULT_TICK_MS = 100;
/** How long a leader holds a commit notice for the next frame (deferCommitNotices). */
export const COMMIT_NOTICE_DELAY_MS = 2;
export const DEFAULT_SNAPSHOT_ENTRIES = 10_000;
export const DEFAULT_CATCH_UP_ENTRIES = 1_000;
export const DEFAULT_PROPOSAL_TIMEOUT_MS = 5_000;
/** Proposals awaiting commit+apply: beyond this the node is overloaded and says so at once. */
export const DEFAULT_MAX_PENDING_PROPOSALS = 16_384;

interface PendingProposal<R> {
  readonly term: number;
  readonly resolve: (o: ProposeOutcome<R>) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: TimerHandle;
}

/** One pipelined persist in flight: the last entry it writes, and whether its write has settled. */
interface PipelinedPersist {
  readonly last: Entry | undefined;
  done: boolean;
}

/** Reads queued behind the ReadIndex round in flight; beyond this many, callers get CYG_OVERLOADED. */
const MAX_QUEUED_READS = 65_536;

interface ReadWaiter {
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * One ReadIndex round, serving every read queued before it was issued. A
 * class rather than an object of closures: under tsx (esbuild's keepNames)
 * each named closure costs a defineProperty when it is made.
 */
class ReadRound {
  /** Set once the leader confirmed the read index; then we wait for applied ≥ it. */
  index: number | undefined = undefined;

  constructor(
    private readonly waiters: readonly ReadWaiter[],
    readonly timer: TimerHandle,
    /** Issues the next round; called after a refused round has left `reads`. */
    private readonly next: () => void,
    /** The term it was issued in: the leadership it was addressed to. */
    readonly term: number,
  ) {}

  resolve(): void {
    for (const w of this.waiters) w.resolve();
  }

  reject(e: unknown): void {
    for (const w of this.waiters) w.reject(e);
    queueMicrotask(this.next);
  }
}

export class RaftNode<R> {
  readonly id: NodeId;
  private readonly core: RaftCore;
  private readonly storage: RaftStorage;
  private readonly transport: Transport;
  private readonly sm: StateMachine<R>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly tickMs: number;
  private readonly snapshotEntries: number;
  private readonly catchUpEntries: number;
  private readonly proposalTimeoutMs: number;
  private readonly maxPendingProposals: number;
  private readonly peerAddresses = new Map<NodeId, string>();
  private readonly peerMeta = new Map<NodeId, string>();

  private readonly proposals = new Map<number, PendingProposal<R>>();
  private readonly reads = new Map<string, ReadRound>();
  private readSeq = 0;
  /** Reads waiting for the next ReadIndex round (see issueReads). */
  private queuedReads: ReadWaiter[] = [];
  private applied: number;
  private snapshotIndex: number;
  /** The local snapshot being written, if any (takeSnapshot): at most one at a time. */
  private snapshotSaving: Promise<void> | undefined;
  private role: Role = 'follower';
  private leader: NodeId = 0;
  private tickTimer: TimerHandle | undefined;
  private running = false;
  private again = false;
  private loopDone: Promise<void> = Promise.resolve();
  private closing = false;
  private fatal: unknown = undefined;
  private readonly onFatal: ((err: unknown) => void) | undefined;
  /**
   * A leader's pipelined persists (see handleReady) in Ready order, reported to the core in
   * that order whatever order the storage settles them in (drainPersists). A queue, not a
   * chain of Promise.all: that allocated ~1.5 KB per write.
   */
  private readonly persistQueue: PipelinedPersist[] = [];
  /** Callers of persistsSettled() waiting for persistQueue to empty. */
  private persistWaiters: (() => void)[] = [];
  /** Commit notices held back to share the next frame (deferCommitNotices). */
  private deferred: Message[] = [];
  private deferTimer: TimerHandle | undefined;
  /** Term and vote as last made durable: a Ready changing either must persist before sending. */
  private persistedTerm: number;
  private persistedVote: NodeId;

  private constructor(opts: RaftNodeOptions<R>, core: RaftCore, applied: number, persisted: { term: number; vote: NodeId }) {
    this.persistedTerm = persisted.term;
    this.persistedVote = persisted.vote;
    this.id = opts.id;
    this.core = core;
    this.storage = opts.storage;
    this.transport = opts.transport;
    this.sm = opts.stateMachine;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? componentLogger('raft-node', { id: opts.id });
    this.tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
    this.snapshotEntries = opts.snapshotEntries ?? DEFAULT_SNAPSHOT_ENTRIES;
    this.catchUpEntries = opts.catchUpEntries ?? DEFAULT_CATCH_UP_ENTRIES;
    this.proposalTimeoutMs = opts.proposalTimeoutMs ?? DEFAULT_PROPOSAL_TIMEOUT_MS;
    this.maxPendingProposals = opts.maxPendingProposals ?? DEFAULT_MAX_PENDING_PROPOSALS;
    this.applied = applied;
    this.snapshotIndex = applied;
    this.onFatal = opts.onFatal;
    for (const [id, addr] of opts.peers) this.peerAddresses.set(id, addr);
  }

  /** Recovers from storage, restores the state machine, starts transport and ticking. */
  static async start<R>(opts: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    for (const [k, v] of [['tickMs', opts.tickMs], ['snapshotEntries', opts.snapshotEntries], ['proposalTimeoutMs', opts.proposalTimeoutMs]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v <= 0)) throw new CygnetError('CYG_CONFIG', `raft node ${k}: expected a positive integer, got ${v}`);
    }
    if (!opts.peers.has(opts.id)) throw new CygnetError('CYG_CONFIG', `raft node peers: expected an entry for this node's id ${opts.id}`);
    const stored = await opts.storage.load();
    const bootstrap = opts.bootstrap ?? { voters: [...opts.peers.keys()].sort((a, b) => a - b), learners: [] };
    const config: RaftConfig = {
      ...defaultRaftConfig,
      ...opts.raft,
      ...(opts.electionTicks !== undefined ? { electionTicks: opts.electionTicks } : {}),
      ...(opts.heartbeatTicks !== undefined ? { heartbeatTicks: opts.heartbeatTicks } : {}),
      id: opts.id,
      random: opts.random ?? systemRandom,
    };
    const core = new RaftCore(config, {
      hardState: stored.hardState,
      ...(stored.snapshot !== undefined ? { snapshot: stored.snapshot } : {}),
      entries: stored.entries,
      conf: bootstrap,
    });
    if (stored.snapshot !== undefined) opts.stateMachine.restore(stored.snapshot.data);
    const node = new RaftNode(opts, core, stored.snapshot?.meta.index ?? 0, stored.hardState);
    for (const [id, addr] of opts.peers) opts.transport.setPeer(id, addr);
    await opts.transport.start((b) => node.handleInbound(b), (peer) => node.handlePeerLost(peer));
    node.scheduleTick();
    node.schedule();
    node.log.info({ term: stored.hardState.term, entries: stored.entries.length, snapshot: stored.snapshot?.meta.index ?? 0 }, 'raft node started');
    return node;
  }

  /** Replicates `data`; resolves after it is committed and applied, with the state machine's result. */
  propose(data: Uint8Array): Promise<ProposeOutcome<R>> {
    const refused = this.refuse();
    if (refused !== undefined) return Promise.reject(refused);
    if (this.proposals.size >= this.maxPendingProposals) {
      return Promise.reject(new OverloadedError(`too many pending proposals (${this.maxPendingProposals})`));
    }
    const r = this.core.propose(data);
    if (!r.ok) return Promise.reject(this.notLeader(r.leader, r.reason));
    return this.track(r.index, r.term, 'proposal');
  }

  /**
   * Linearizable read barrier (ReadIndex): resolves once this node has applied
   * everything committed before the call, as confirmed by a quorum-backed leader.
   */
  read(): Promise<void> {
    const refused = this.refuse();
    if (refused !== undefined) return Promise.reject(refused);
    if (this.queuedReads.length >= MAX_QUEUED_READS) return Promise.reject(new OverloadedError('too many pending reads'));
    return new Promise<void>((resolve, reject) => {
      this.queuedReads.push({ resolve, reject });
      // Reads arriving in the same turn share one barrier; issued at the end of it.
      if (this.queuedReads.length === 1) queueMicrotask(() => this.issueReads());
    });
  }

  /**
   * Read batching (etcd's linearizableReadLoop): one ReadIndex round serves every read queued
   * before it was issued, and at most one round waits for the leader's confirmation at a time —
   * reads arriving meanwhile queue for the next round. A read never joins a round issued before
   * it arrived, so its index is still fixed after it started (linearizable). Queued reads are
   * bounded by MAX_QUEUED_READS and wait at most the confirming round's deadline plus their own.
   */
  private issueReads(): void {
    if (this.queuedReads.length === 0) return;
    for (const r of this.reads.values()) if (r.index === undefined) return;
    const waiters = this.queuedReads;
    this.queuedReads = [];
    const refused = this.refuse();
    if (refused !== undefined) {
      for (const w of waiters) w.reject(refused);
      return;
    }
    const seq = ++this.readSeq;
    const ctx = new Uint8Array(12);
    const dv = new DataView(ctx.buffer);
    dv.setUint32(0, this.id);
    dv.setFloat64(4, seq);
    const r = this.core.readIndex(ctx);
    if (!r.ok) {
      const err = r.reason === 'tooManyPendingReads' ? new OverloadedError('too many pending reads') : this.notLeader(r.leader, r.reason);
      for (const w of waiters) w.reject(err);
      return;
    }
    const key = ctxKey(ctx);
    const timer = this.clock.setTimer(this.proposalTimeoutMs, () => {
      this.reads.delete(key);
      const err = new ProposalTimeoutError('read', this.proposalTimeoutMs);
      for (const w of waiters) w.reject(err);
      this.issueReads();
    });
    this.reads.set(key, new ReadRound(waiters, timer, () => this.issueReads(), this.core.currentTerm));
    this.schedule();
  }

  addVoter(id: NodeId, address: string): Promise<ProposeOutcome<R | undefined>> {
    return this.changeConf({ type: 'addVoter', node: id, context: new TextEncoder().encode(address) });
  }

  addLearner(id: NodeId, address: string): Promise<ProposeOutcome<R | undefined>> {
    return this.changeConf({ type: 'addLearner', node: id, context: new TextEncoder().encode(address) });
  }

  removeNode(id: NodeId): Promise<ProposeOutcome<R | undefined>> {
    return this.changeConf({ type: 'removeNode', node: id });
  }

  /** Asks the leader (this node) to hand leadership to `to`; resolves when started, not finished. */
  transferLeadership(to: NodeId): void {
    const r = this.core.transferLeadership(to);
    if (!r.ok) {
      if (r.reason === 'notLeader') throw this.notLeader(r.leader, r.reason);
      throw new CygnetError('CYG_VALIDATION', r.detail);
    }
    this.schedule();
  }

  /** Whether this node is the leader now: `status().role === 'leader'` without building a status (a request's hot path asks). */
  get isLeader(): boolean {
    return this.core.isLeader;
  }

  status(): NodeStatus {
    const s = this.core.status;
    return {
      id: s.id,
      role: s.role,
      term: s.term,
      leader: s.leader,
      commit: s.commit,
      applied: this.applied,
      firstIndex: s.firstIndex,
      lastIndex: s.lastIndex,
      conf: s.conf,
      leaderMeta: s.leader === 0 ? undefined : this.metaOf(s.leader),
    };
  }

  /** The core, read-only: what the simulator's safety checks inspect after every event. */
  get view(): CoreView {
    return this.core;
  }

  /** Metadata a peer sent with its batches (e.g. its client API address). */
  metaOf(id: NodeId): string | undefined {
    return this.peerMeta.get(id);
  }

  /** Stops ticking, fails pending calls with ShuttingDownError, finishes the loop, closes transport and storage. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.tickTimer?.cancel();
    this.deferTimer?.cancel();
    this.failAll(new ShuttingDownError());
    await this.loopDone;
    await this.persistsSettled();
    await this.snapshotSaving;
    await this.transport.close();
    await this.storage.close();
    this.log.info('raft node closed');
  }

  // ---- internals -----------------------------------------------------------

  private changeConf(cc: ConfChange): Promise<ProposeOutcome<R | undefined>> {
    const refused = this.refuse();
    if (refused !== undefined) return Promise.reject(refused);
    const r = this.core.proposeConfChange(cc);
    if (!r.ok) {
      if (r.reason === 'invalid') return Promise.reject(new CygnetError('CYG_VALIDATION', r.detail));
      if (r.reason === 'confChangePending') return Promise.reject(new CygnetError('CYG_CONFLICT', 'another membership change is in progress'));
      return Promise.reject(this.notLeader(r.leader, r.reason));
    }
    if (cc.context !== undefined) this.transport.setPeer(cc.node, new TextDecoder().decode(cc.context));
    return this.track(r.index, r.term, `membership change (${cc.type} ${cc.node})`);
  }

  private track<T>(index: number, term: number, what: string): Promise<ProposeOutcome<T>> {
    // An earlier proposal of ours at this index lost its slot in our log (we now lead again,
    // on a shorter log); its entry may still commit through another node, so: unknown.
    const earlier = this.proposals.get(index);
    if (earlier !== undefined) this.settle(index, earlier, new ProposalOutcomeUnknownError(index, 'its slot was reused by a later proposal; it may still commit elsewhere'));
    return new Promise<ProposeOutcome<T>>((resolve, reject) => {
      const timer = this.clock.setTimer(this.proposalTimeoutMs, () => {
        this.proposals.delete(index);
        reject(new ProposalTimeoutError(what, this.proposalTimeoutMs));
      });
      const p = { term, resolve, reject, timer } as unknown as PendingProposal<R>;
      this.proposals.set(index, p);
      this.schedule();
    });
  }

  private refuse(): CygnetError | undefined {
    if (this.closing) return new ShuttingDownError();
    if (this.fatal !== undefined) return this.stoppedError();
    return undefined;
  }

  private notLeader(leader: NodeId, reason: string): NotLeaderError {
    const err = new NotLeaderError(leader, leader === 0 ? undefined : this.peerAddresses.get(leader), leader === 0 ? undefined : this.metaOf(leader));
    if (reason === 'transferring') this.log.debug('proposal refused: leadership transfer in progress');
    return err;
  }

  private handleInbound(batch: InboundBatch): void {
    if (this.closing || this.fatal !== undefined) return;
    if (batch.senderMeta !== '') this.peerMeta.set(batch.from, batch.senderMeta);
    for (const m of batch.messages) {
      let r: ReturnType<RaftCore['step']>;
      try {
        r = this.core.step(m);
      } catch (err) {
        // Not the sender's fault (that would be a bad frame, refused by the transport): our own state broke.
        this.stop(err, `stepping ${m.type} from ${m.from} (term ${m.term})`);
        return;
      }
      if (!r.ok) this.log.trace({ from: m.from, type: m.type, reason: r.reason }, 'message dropped by core');
    }
    this.schedule();
  }

  private handlePeerLost(peer: NodeId): void {
    if (this.closing || this.fatal !== undefined) return;
    if (peer === this.leader) this.log.info({ leader: peer }, 'connection from the leader closed; campaigning soon');
    try {
      this.core.peerConnectionLost(peer);
    } catch (err) {
      this.stop(err, `handling the loss of peer ${peer}`);
    }
  }

  private scheduleTick(): void {
    if (this.closing) return;
    this.tickTimer = this.clock.setTimer(this.tickMs, () => {
      try {
        this.core.tick();
      } catch (err) {
        this.stop(err, 'tick');
        return;
      }
      this.schedule();
      this.scheduleTick();
    });
  }

  /** Runs the Ready loop now, or once more after the running pass. */
  private schedule(): void {
    if (this.fatal !== undefined) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const next = this.runPipelined();
    if (next === undefined) {
      this.running = false;
      return;
    }
    this.loopDone = this.runLoop(next).finally(() => {
      this.running = false;
      // A schedule() between runLoop's last check and here only set `again`: honour it now,
      // or that work would wait for the next tick (forever under a ManualClock).
      if (this.again && !this.closing) this.schedule();
    });
  }

  /**
   * The Ready loop's common pass, a leader's pipelined Readies, run to the end synchronously:
   * the async loop's promises, awaits and `finally` cost ~4 KB of garbage per write on a
   * leader. Returns the first Ready that needs the async loop (persist before send), which it
   * has taken from the core but not handled, or undefined when the core has nothing more to
   * hand out now.
   */
  private runPipelined(): Ready | undefined {
    try {
      do {
        this.again = false;
        while (this.fatal === undefined && this.readyWanted() && this.core.hasReady()) {
          const rd = this.core.ready();
          if (!this.pipelines(rd)) return rd;
          this.handlePipelinedReady(rd);
          if (this.snapshotDue()) this.takeSnapshot();
        }
      } while (this.again && !this.closing && this.fatal === undefined);
    } catch (err) {
      this.stop(err, 'the Ready loop');
    }
    return undefined;
  }

  /** The async Ready loop, starting with what runPipelined handed over. */
  private async runLoop(first: Ready): Promise<void> {
    try {
      await this.handleReady(first);
      do {
        this.again = false;
        while (this.fatal === undefined && this.readyWanted() && this.core.hasReady()) await this.handleReady(this.core.ready());
      } while (this.again && !this.closing && this.fatal === undefined);
    } catch (err) {
      this.stop(err, 'the Ready loop');
    }
  }

  /**
   * Stops participating for good: a failed write means we can no longer promise durability,
   * a broken core invariant means our state cannot be trusted. Logs the real cause with its
   * stack and the core's state, fails every pending call, and tells `onFatal`.
   */
  private stop(err: unknown, during: string): void {
    if (this.fatal !== undefined) return;
    this.fatal = err;
    const s = this.core.status;
    this.log.error({ err, cause: fatalCause(err), during, role: s.role, term: s.term, leader: s.leader, commit: s.commit, lastIndex: s.lastIndex }, `raft node stopped: ${fatalCause(err)}`);
    this.tickTimer?.cancel();
    this.failAll(this.stoppedError());
    this.onFatal?.(err);
  }

  private stoppedError(): CygnetError {
    return new CygnetError('CYG_INTERNAL', `raft node stopped (${fatalCause(this.fatal)}): ${describeError(this.fatal)}`, { cause: this.fatal });
  }

  /**
   * The batching window of a leader whose persist is in flight: the next Ready waits for that
   * fsync (whose completion reschedules) unless it has committed entries to hand out — so the
   * clients waiting on them are answered at once, while new proposals, appends and heartbeats
   * keep accumulating into one Ready per fsync (or per commit advance), not one per message.
   */
  private readyWanted(): boolean {
    return this.persistQueue.length === 0 || this.core.hasCommittedToApply();
  }

  /**
   * One Ready. A leader whose term and vote are already durable pipelines it (etcd's
   * asynchronous storage writes): it starts the write + fsync, sends, applies the committed
   * entries and advances without waiting for the fsync; `core.persisted()` later lets its own
   * log count toward commit. Why that is safe:
   *  - The committed entries it applies were committed by a quorum of durable copies: the core
   *    counts the leader's own log only once persisted, so an entry acknowledged to a client is
   *    on a durable majority even if this leader dies before its own fsync returns — it then
   *    restarts with a shorter log, as a follower, and cannot win an election without the
   *    committed entries (the election restriction); a new leader has them.
   *  - Term and vote are never pipelined (a Ready changing them waits as before), so no vote or
   *    term is forgotten by a crash; followers keep persisting before they acknowledge.
   *  - Storage persists Readies in order (the WAL queues them into its groups), so a commit
   *    index recorded without fsync is never durable ahead of the entries it covers.
   *  - A local snapshot covers at most `core.persistedIndex` (takeSnapshot): it never contains
   *    entries the local WAL has not made durable, so the WAL stays a complete suffix of it.
   *  - Any other Ready (a follower's, a vote, a received snapshot) first waits for the
   *    pipelined persists: what it sends or truncates assumes the log before it is durable.
   */
  private async handleReady(rd: Ready): Promise<void> {
    const termVoteDurable = this.termVoteDurable(rd);
    const leader = this.core.isLeader;
    if (this.pipelines(rd)) {
      this.handlePipelinedReady(rd);
      if (this.snapshotDue()) this.takeSnapshot();
      return;
    }
    await this.persistsSettled();
    // A snapshot from the leader replaces the stored log: our own, older one must be on disk
    // (marker and released segments included) before it, not land after it.
    if (rd.snapshot !== undefined) await this.snapshotSaving;
    // A leader may replicate its new entries while it persists them (Raft thesis §10.2.1):
    // the core counts the leader's own log toward commit only up to what advance() says is
    // durable. Only when term and vote are unchanged — a new term/vote must be durable
    // before anyone hears of it.
    const early = rd.messages.length > 0 && leader && termVoteDurable;
    // Start the write + fsync first (the fsync runs on a pool thread), then send while it runs.
    // A leader Ready without new entries (commit notices, heartbeats) sends after applying,
    // so the clients waiting on the newly committed entries are answered first.
    const sendWithPersist = early && rd.entries.length > 0;
    const persisted = this.storage
      .persist(
        { ...(rd.snapshot !== undefined ? { snapshot: rd.snapshot } : {}), entries: rd.entries, ...(rd.hardState !== undefined ? { hardState: rd.hardState } : {}) },
        // A non-leader does nothing but wait for this persist (the loop is sequential; its
        // inbound frames can wait in the socket buffer): let storage fsync on this thread.
        { blocking: !leader },
      )
      .catch((err: unknown) => {
        throw new StorageFailureError('persisting a Ready', err);
      });
    if (sendWithPersist && !this.closing) this.send(rd.messages);
    await persisted;
    if (rd.hardState !== undefined) {
      this.persistedTerm = rd.hardState.term;
      this.persistedVote = rd.hardState.vote;
    }
    if (!early && rd.messages.length > 0 && !this.closing) this.send(rd.messages);
    if (rd.softState !== undefined) this.handleSoftState(rd.softState.role, rd.softState.leader);
    if (rd.snapshot !== undefined) {
      this.log.info({ index: rd.snapshot.meta.index, term: rd.snapshot.meta.term, bytes: rd.snapshot.data.length }, 'snapshot installed from the leader');
      this.sm.restore(rd.snapshot.data);
      this.applied = rd.snapshot.meta.index;
      this.snapshotIndex = Math.max(this.snapshotIndex, rd.snapshot.meta.index);
      for (const [index, p] of this.proposals) {
        if (index <= this.applied) this.settle(index, p, undefined);
      }
    }
    for (const e of rd.committedEntries) this.applyEntry(e);
    for (const rs of rd.readStates) {
      const p = this.reads.get(ctxKey(rs.requestCtx));
      if (p !== undefined) p.index = rs.index;
    }
    if (early && !sendWithPersist && !this.closing) {
      // After the callers' continuations (queued by the resolves above) have answered their clients.
      const msgs = rd.messages;
      queueMicrotask(() => {
        if (!this.closing) this.send(msgs);
      });
    }
    this.core.advance(rd);
    this.serveReads();
    if (this.snapshotDue()) this.takeSnapshot();
  }

  private termVoteDurable(rd: Ready): boolean {
    return rd.hardState === undefined || (rd.hardState.term === this.persistedTerm && rd.hardState.vote === this.persistedVote);
  }

  /** Whether `rd` takes the pipelined path (see handleReady). */
  private pipelines(rd: Ready): boolean {
    return this.core.isLeader && this.termVoteDurable(rd) && rd.snapshot === undefined;
  }

  private snapshotDue(): boolean {
    return this.applied - this.snapshotIndex >= this.snapshotEntries && this.snapshotSaving === undefined && !this.closing && this.fatal === undefined;
  }

  private handlePipelinedReady(rd: Ready): void {
    // Entries go out before the local write starts: followers' fsyncs, not ours, are on a
    // write's critical path (two of three make the quorum), and starting ours first put a WAL
    // write and a thread-pool wake-up ahead of the first frame. A Ready without new entries
    // (commit notices, heartbeats) goes out after applying, so the clients waiting on the newly
    // committed entries are answered first.
    if (rd.entries.length > 0 && rd.messages.length > 0 && !this.closing) this.send(rd.messages);
    const persisted = this.storage.persist(rd.hardState !== undefined ? { entries: rd.entries, hardState: rd.hardState } : { entries: rd.entries });
    const slot: PipelinedPersist = { last: rd.entries[rd.entries.length - 1], done: false };
    this.persistQueue.push(slot);
    persisted.then(
      () => {
        slot.done = true;
        this.drainPersists();
      },
      (err: unknown) => {
        slot.done = true;
        this.stop(new StorageFailureError('persisting a Ready', err), 'persisting a pipelined Ready');
        this.drainPersists();
      },
    );
    if (rd.softState !== undefined) this.handleSoftState(rd.softState.role, rd.softState.leader);
    for (const e of rd.committedEntries) this.applyEntry(e);
    for (const rs of rd.readStates) {
      const p = this.reads.get(ctxKey(rs.requestCtx));
      if (p !== undefined) p.index = rs.index;
    }
    if (rd.entries.length === 0 && rd.messages.length > 0 && !this.closing) {
      const msgs = rd.messages;
      if (msgs.every(isCommitNotice)) this.deferCommitNotices(msgs);
      else {
        queueMicrotask(() => {
          if (!this.closing) this.send(msgs);
        });
      }
    }
    this.core.advance(rd, false);
    this.serveReads();
  }

  /** Reports the settled prefix of persistQueue to the core, in Ready order. */
  private drainPersists(): void {
    let reported = false;
    while (this.persistQueue.length > 0 && (this.persistQueue[0] as PipelinedPersist).done) {
      const { last } = this.persistQueue.shift() as PipelinedPersist;
      if (this.fatal !== undefined || this.closing) continue;
      if (last !== undefined) this.core.persisted(last.index, last.term);
      reported = true;
    }
    if (this.persistQueue.length === 0 && this.persistWaiters.length > 0) {
      const waiters = this.persistWaiters;
      this.persistWaiters = [];
      for (const w of waiters) w();
    }
    if (reported) this.schedule();
  }

  /** Resolves once every pipelined persist started so far has settled (and been reported). */
  private persistsSettled(): Promise<void> {
    if (this.persistQueue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.persistWaiters.push(resolve));
  }

  /** Sends `msgs`, after any deferred commit notices (which keeps each link's order). */
  private send(msgs: readonly Message[]): void {
    if (this.deferred.length > 0) {
      msgs = [...this.deferred, ...msgs];
      this.deferred = [];
      this.deferTimer?.cancel();
      this.deferTimer = undefined;
    }
    this.transport.send(msgs);
  }

  /**
   * Holds a leader's pure commit notices (empty AppendEntries) for up to COMMIT_NOTICE_DELAY_MS
   * so they ride in the same frame as the next Ready's messages. Each notice sent alone costs a
   * socket write, a follower wake-up, Ready and WAL write, an acknowledgement and another
   * leader wake-up: at 1 client that was half of all peer traffic per write. Delaying a
   * message is always safe in Raft; only followers' apply (and follower reads) wait that long.
   */
  private deferCommitNotices(msgs: readonly Message[]): void {
    this.deferred.push(...msgs);
    this.deferTimer ??= this.clock.setTimer(COMMIT_NOTICE_DELAY_MS, () => {
      this.deferTimer = undefined;
      if (!this.closing && this.fatal === undefined) this.send([]);
    });
  }

  private applyEntry(e: Entry): void {
    if (e.index <= this.applied) return;
    let result: R | undefined;
    let failure: unknown;
    if (e.type === 'conf') {
      this.applyConf(e);
    } else if (e.data.length > 0) {
      try {
        result = this.sm.apply({ index: e.index, term: e.term, data: e.data });
      } catch (err) {
        failure = err;
        this.log.error({ index: e.index, err: describeError(err) }, 'state machine failed to apply an entry');
      }
    }
    this.applied = e.index;
    const p = this.proposals.get(e.index);
    if (p === undefined) return;
    this.proposals.delete(e.index);
    p.timer.cancel();
    if (p.term !== e.term) p.reject(new ProposalDroppedError(e.index, `the slot holds term ${e.term}'s entry, not this proposal (term ${p.term})`));
    else if (failure !== undefined) p.reject(failure);
    else p.resolve({ index: e.index, term: e.term, result: result as R });
  }

  private applyConf(e: Entry): void {
    try {
      const cc = decodeConfChange(e.data);
      if (cc.node === this.id) return;
      if (cc.type === 'removeNode') {
        this.transport.removePeer(cc.node);
        this.peerAddresses.delete(cc.node);
      } else if (cc.context !== undefined) {
        const addr = new TextDecoder().decode(cc.context);
        this.transport.setPeer(cc.node, addr);
        this.peerAddresses.set(cc.node, addr);
      }
    } catch (err) {
      this.log.error({ index: e.index, err: describeError(err) }, 'undecodable conf entry');
    }
  }

  private handleSoftState(role: Role, leader: NodeId): void {
    const leaderChanged = leader !== this.leader;
    this.role = role;
    this.leader = leader;
    if (!leaderChanged) return;
    this.log.info({ role, leader }, 'leader changed');
    // Reads not yet confirmed that were addressed to an earlier term's leadership: fail them fast (safe
    // to retry). Those of this term stay: a term has one leader, so this is only the leader becoming
    // known (a node that has just won finds its own reads waiting for its first commit, and the core
    // still answers them).
    const term = this.core.currentTerm;
    for (const [key, r] of this.reads) {
      if (r.index !== undefined || r.term === term) continue;
      this.reads.delete(key);
      r.timer.cancel();
      r.reject(this.notLeader(leader, 'notLeader'));
    }
    // Proposals whose entry left this node's log are NOT settled here: a copy on another
    // node may still be committed by a later leader (Raft paper, Figure 8). Only the entry
    // committed at their index decides (applyEntry), or a snapshot past it, or the deadline.
  }

  private settle(index: number, p: PendingProposal<R>, err: unknown): void {
    this.proposals.delete(index);
    p.timer.cancel();
    p.reject(err ?? new ProposalOutcomeUnknownError(index, 'superseded by a snapshot from the leader'));
  }

  private serveReads(): void {
    for (const [key, r] of this.reads) {
      if (r.index !== undefined && r.index <= this.applied) {
        this.reads.delete(key);
        r.timer.cancel();
        r.resolve();
      }
    }
    // The confirmed round no longer holds back the reads queued behind it.
    this.issueReads();
  }

  /**
   * Snapshots the state machine at `applied` and writes it in the background: the Ready loop
   * goes on meanwhile. Written inline, the snapshot file, its fsyncs, the WAL marker and the
   * released segments held every Ready for 5–9 ms, on every member at about the same index, so
   * every write in flight then waited for it. The log is compacted only once the snapshot is
   * durable; a snapshot from the leader waits for this one (handleReady); close waits too.
   */
  private takeSnapshot(): void {
    const index = this.applied;
    // The state machine can only snapshot what it has applied; a leader may have applied
    // entries its own fsync has not made durable yet (pipelined Readies): wait for a Ready
    // after that fsync rather than snapshot past the local WAL.
    if (index > this.core.persistedIndex) return;
    // A leader's snapshot stepped in while this Ready was being persisted may already have
    // replaced the core's log up to past `index` (it reaches us in the next Ready): it
    // supersedes ours, and `index` can no longer be snapshotted.
    if (this.core.logTerm(index) === undefined) return;
    const snap = this.core.createSnapshot(index, this.sm.snapshot());
    this.snapshotSaving = this.storage.saveSnapshot(snap).then(
      () => {
        this.snapshotSaving = undefined;
        if (this.fatal !== undefined) return;
        this.snapshotIndex = Math.max(this.snapshotIndex, index);
        const compactTo = index - this.catchUpEntries;
        // Outside the Ready loop's catch: a broken invariant here must still stop the node, not escape as an unhandled rejection.
        try {
          if (compactTo > 0) this.core.compact(compactTo);
        } catch (err) {
          this.stop(err, 'compacting the log after a snapshot');
          return;
        }
        this.log.info({ index, bytes: snap.data.length }, 'snapshot taken');
      },
      (err: unknown) => {
        this.snapshotSaving = undefined;
        this.stop(new StorageFailureError(`saving the snapshot at ${index}`, err), 'saving a snapshot');
      },
    );
  }

  private failAll(err: unknown): void {
    for (const [index, p] of this.proposals) {
      this.proposals.delete(index);
      p.timer.cancel();
      p.reject(err);
    }
    for (const [key, r] of this.reads) {
      this.reads.delete(key);
      r.timer.cancel();
      r.reject(err);
    }
    const queued = this.queuedReads;
    this.queuedReads = [];
    for (const w of queued) w.reject(err);
  }
}

/** The class of failure that stopped a node, for its log line and the errors its callers get. */
function fatalCause(err: unknown): string {
  if (err instanceof RaftAssertionError) return 'raft invariant broken';
  if (err instanceof StorageFailureError) return 'storage failure';
  return 'unexpected failure';
}

/** An AppendEntries carrying only the leader's commit index. */
function isCommitNotice(m: Message): boolean {
  return m.type === 'AppendEntries' && m.entries.length === 0;
}

function ctxKey(ctx: Uint8Array): string {
  return Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength).toString('hex');
}
