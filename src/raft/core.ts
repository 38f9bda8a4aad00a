/**
 * RaftCore: the whole Raft protocol as one synchronous state machine
 * (after etcd's raft.go + rawnode.go). Inputs: tick(), step(msg), propose,
 * proposeConfChange, readIndex, transferLeadership. Output: Ready records the
 * shell handles as: persist + fsync → send → apply → advance(ready).
 *
 *                 timeout            quorum of pre-votes        quorum of votes
 *   ┌──────────┐ ───────▶ ┌──────────────┐ ─────────▶ ┌───────────┐ ───────▶ ┌────────┐
 *   │ follower │          │ preCandidate │            │ candidate │          │ leader │
 *   └──────────┘ ◀─────── └──────────────┘            └───────────┘          └────────┘
 *        ▲    higher term / leader's message / lost election        │ higher term,
 *        └──────────────────────────────────────────────────────────┘ check-quorum fails,
 *                                                                       removed from conf
 * Decisions:
 *  - Membership changes one server at a time and take effect when APPLIED (at advance(),
 *    after the app applied the entry): the conf is then always that of a committed prefix,
 *    so log truncation never has to roll a conf back, and a snapshot's conf is simply the
 *    conf at its index. Only one change may be pending (proposed, not applied); a new
 *    leader's first conf change waits until its no-op entry is applied, i.e. until it has
 *    committed an entry of its own term (the fix for the single-server change bug).
 *  - A leader counts its own log in the commit quorum only up to what is persisted
 *    (advance()), so an acknowledged write is on a durable majority.
 *  - Appends are batched: proposals mark followers dirty; AppendEntries are built when the
 *    shell asks for the next Ready.
 *  - Election timing is liveness only (no lease reads): a follower's timeout starts one tick
 *    past the lease its peers defend, and a follower told its leader's connection closed
 *    (peerConnectionLost) campaigns within a few ticks, the survivors taking turns by id.
 * Invariants (assertions name the state): at most one leader per term from this node's
 * view; committed entries are never truncated; ready()/advance() strictly alternate.
 * Pure: no I/O, no timers, no clock, no `node:` imports; randomness only from config.random.
 */
import { randomInt } from '../common/random.ts';
import { RaftAssertionError } from './assert.ts';
import { describeConf } from './describe.ts';
import { Membership } from './membership.ts';
import { SnapshotReceiver } from './snapshot-receiver.ts';
import { checkMessageShape, validateConf, validateConfig } from './validate.ts';
import { Progress } from './progress.ts';
import { computeCommittedIndex, computeVoteOutcome, hasQuorum } from './quorum.ts';
import { RaftLog } from './raft-log.ts';
import { ReadOnlyQueue } from './read-only.ts';
import type {
  AppendEntriesMessage,
  AppendEntriesResponseMessage,
  ConfChange,
  ConfState,
  Entry,
  HardState,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  InitialState,
  InstallSnapshotMessage,
  InstallSnapshotResponseMessage,
  Message,
  NodeId,
  ProgressStatus,
  ProposeResult,
  RaftConfig,
  ReadIndexResult,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SoftState,
  Status,
  StepResult,
  TransferResult,
} from './types.ts';
import { emptyConf, encodeConfChange, messageKinds } from './types.ts';

type CampaignKind = 'preVote' | 'election' | 'transfer';

const OK: StepResult = { ok: true };
/**
 * After losing the leader's connection, the surviving voters campaign in turn, this many
 * ticks apart (by id): all of them saw the same FIN at the same moment, and had they drawn
 * from a small random range, two would often pre-vote for each other, both become candidates
 * and split the vote — costing a full election timeout.
 */
export const LEADER_LOST_STAGGER_TICKS = 2;
const EMPTY = new Uint8Array(0);

function dropped(reason: string): StepResult {
  return { ok: false, reason };
}

export class RaftCore {
  readonly id: NodeId;
  private readonly cfg: RaftConfig;

  private term = 0;
  private vote: NodeId = 0;
  private role: Role = 'follower';
  private leader: NodeId = 0;
  private readonly log: RaftLog;

  private readonly membership: Membership;

  private progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /**
   * The shell saw the connection from our leader close (its process died or the link broke):
   * we no longer defend its lease against pre-votes and campaign after a short random delay
   * instead of a full election timeout. Cleared by any message from a leader.
   */
  private leaderLost = false;
  private leadTransferee: NodeId = 0;
  private pendingConfIndex = 0;
  private committedInTerm = false;
  private appendsDirty = false;

  private readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private readsBeforeCommit: { ctx: Uint8Array; from: NodeId }[] = [];

  /** Latest snapshot (own or received): what is sent to followers behind the compacted log. */
  private snapshot: Snapshot | undefined;
  /** A received snapshot not yet handed out in a Ready. */
  private pendingSnapshot: Snapshot | undefined;
  private readonly receiver = new SnapshotReceiver();

  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private prevSoft: SoftState = { leader: 0, role: 'follower' };
  private prevHard: HardState = { term: 0, vote: 0, commit: 0 };
  private readyOutstanding = false;

  constructor(config: RaftConfig, initial: InitialState) {
    validateConfig(config);
    validateConf(initial.conf);
    this.cfg = config;
    this.id = config.id;
    const hs = initial.hardState;
    const snap = initial.snapshot;
    const fresh = snap === undefined && initial.entries.length === 0 && hs.term === 0;
    if (fresh && initial.conf.voters.length > 0) {
      // Bootstrap: one committed conf entry per member at term 1, so late joiners learn membership.
      // Sorted, so every bootstrap member writes identical entries whatever order it was given.
      const byId = (a: NodeId, b: NodeId): number => a - b;
      const members: ConfChange[] = [
        ...[...initial.conf.voters].sort(byId).map((node): ConfChange => ({ type: 'addVoter', node })),
        ...[...initial.conf.learners].sort(byId).map((node): ConfChange => ({ type: 'addLearner', node })),
      ];
      const entries: Entry[] = members.map((cc, k) => ({ term: 1, index: k + 1, type: 'conf', data: encodeConfChange(cc) }));
      this.log = new RaftLog(0, 0, entries, entries.length);
      this.log.unstableFrom = 1;
      this.log.stableIndex = 0;
      this.term = 1;
      const conf = { voters: [...initial.conf.voters].sort(byId), learners: [...initial.conf.learners].sort(byId) };
      this.membership = new Membership(conf, entries.length, emptyConf);
    } else {
      this.log = new RaftLog(snap?.meta.index ?? 0, snap?.meta.term ?? 0, initial.entries, hs.commit);
      this.term = hs.term;
      this.vote = hs.vote;
      this.membership = new Membership(snap?.meta.conf ?? emptyConf, this.log.snapshotIndex);
      this.snapshot = snap;
      // Committed conf entries are decided; reflect them now (they are re-applied idempotently).
      this.applyConfEntries(this.log.committedToApply());
      this.prevHard = { term: this.term, vote: this.vote, commit: this.log.commit };
    }
    this.becomeFollower(this.term, 0);
  }

  // -------------------------------------------------------------------------
  // Public API

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  step(m: Message): StepResult {
    if (m.to !== this.id) return dropped(`addressed to ${m.to}, not ${this.id}`);
    if (m.from === this.id || m.from <= 0) return dropped(`bad sender ${m.from}`);
    const malformed = checkMessageShape(m);
    if (malformed !== undefined) return dropped(`malformed ${m.type} from ${m.from}: ${malformed}`);
    if (m.term > this.term) {
      if (m.type === 'PreVote' || m.type === 'RequestVote') {
        const force = m.type === 'RequestVote' && m.transfer;
        const inLease = this.cfg.checkQuorum && this.leader !== 0 && !this.leaderLost && this.electionElapsed < this.cfg.electionTicks;
        if (!force && inLease) return dropped(`${m.type} from ${m.from} ignored: leader ${this.leader} is live`);
      }
      if (m.type === 'PreVote' || (m.type === 'PreVoteResponse' && !m.reject)) {
        // A pre-vote never changes our term.
      } else {
        this.becomeFollower(m.term, messageKinds[m.type].fromLeader ? m.from : 0);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'AppendEntries' || m.type === 'Heartbeat')) {
        // Tell a stale leader about our term so it steps down (it may be cut off from the rest).
        this.send({ type: 'AppendEntriesResponse', from: this.id, to: m.from, term: this.term, reject: true, index: 0, hintIndex: 0, hintTerm: 0 });
      } else if (m.type === 'PreVote') {
        this.send({ type: 'PreVoteResponse', from: this.id, to: m.from, term: this.term, reject: true });
      }
      return dropped(`stale term ${m.term} < ${this.term}`);
    }

    if (m.type === 'PreVote' || m.type === 'RequestVote') {
      this.handleVoteRequest(m.type, m.from, m.term, m.lastLogIndex, m.lastLogTerm);
      return OK;
    }
    switch (this.role) {
      case 'leader':
        return this.stepLeader(m);
      case 'preCandidate':
      case 'candidate':
        return this.stepCandidate(m);
      case 'follower':
        return this.stepFollower(m);
    }
  }

  propose(data: Uint8Array): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'notLeader', leader: this.leader };
    if (this.leadTransferee !== 0) return { ok: false, reason: 'transferring', leader: this.id };
    const e = this.appendEntry('normal', data);
    return { ok: true, index: e.index, term: e.term };
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'notLeader', leader: this.leader };
    if (this.leadTransferee !== 0) return { ok: false, reason: 'transferring', leader: this.id };
    if (this.pendingConfIndex > this.log.applied) return { ok: false, reason: 'confChangePending', leader: this.id };
    const invalid = (detail: string): ProposeResult => ({ ok: false, reason: 'invalid', leader: this.id, detail });
    if (!Number.isInteger(cc.node) || cc.node <= 0) return invalid(`confChange.node: expected an integer > 0, got ${cc.node}`);
    const isVoter = this.conf.voters.includes(cc.node);
    const isLearner = this.conf.learners.includes(cc.node);
    if (cc.type === 'addVoter' && isVoter) return invalid(`node ${cc.node} is already a voter`);
    if (cc.type === 'addLearner' && (isVoter || isLearner)) return invalid(`node ${cc.node} is already a ${isVoter ? 'voter' : 'learner'}`);
    if (cc.type === 'removeNode') {
      if (!isVoter && !isLearner) return invalid(`node ${cc.node} is not a member`);
      if (isVoter && this.conf.voters.length === 1) return invalid('cannot remove the last voter');
    }
    const e = this.appendEntry('conf', encodeConfChange(cc));
    this.pendingConfIndex = e.index;
    return { ok: true, index: e.index, term: e.term };
  }

  readIndex(ctx: Uint8Array): ReadIndexResult {
    if (this.role === 'leader') {
      if (!this.handleReadIndex(ctx, this.id)) return { ok: false, reason: 'tooManyPendingReads', leader: this.id };
      return { ok: true };
    }
    if (this.role === 'follower' && this.leader !== 0) {
      this.send({ type: 'ReadIndex', from: this.id, to: this.leader, term: this.term, ctx });
      return { ok: true };
    }
    return { ok: false, reason: 'notLeader', leader: this.leader };
  }

  transferLeadership(to: NodeId): TransferResult {
    if (this.role !== 'leader') return { ok: false, reason: 'notLeader', leader: this.leader };
    if (to === this.id) return { ok: true };
    if (!this.conf.voters.includes(to)) return { ok: false, reason: 'invalid', leader: this.id, detail: `node ${to} is not a voter` };
    if (this.leadTransferee === to) return { ok: true };
    this.leadTransferee = to;
    this.electionElapsed = 0; // the transfer is abandoned after one election timeout
    const pr = this.progress.get(to);
    if (pr !== undefined && pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to);
    return { ok: true };
  }

  /**
   * The shell lost its connection from `peer`. If that is our leader, its process has most
   * likely died (SIGKILL closes its sockets at once): rather than wait out a whole election
   * timeout, campaign (pre-vote first) after 1 + LEADER_LOST_STAGGER_TICKS × (our rank among
   * the other voters) ticks, and stop defending
   * the leader's lease so the other followers, which lost it too, grant our pre-vote.
   * Purely a liveness hint: elections stay as safe as ever (terms, votes and the log
   * restriction decide), and if the leader is in fact alive the peers still in its lease
   * refuse our pre-vote, so a spurious hint disrupts nothing; its next message clears it.
   */
  peerConnectionLost(peer: NodeId): void {
    if (this.role !== 'follower' || this.leader === 0 || this.leader !== peer || !this.promotable()) return;
    this.leaderLost = true;
    const rank = this.conf.voters.filter((v) => v !== peer && v < this.id).length;
    const soon = this.electionElapsed + 1 + LEADER_LOST_STAGGER_TICKS * rank;
    if (soon < this.randomizedElectionTimeout) this.randomizedElectionTimeout = soon;
  }

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    this.flushAppends();
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.pendingSnapshot !== undefined ||
      this.log.unstableFrom <= this.log.lastIndex() ||
      this.log.commit > this.log.applied ||
      this.softChanged() ||
      this.hardChanged()
    );
  }

  ready(): Ready {
    if (this.readyOutstanding) throw new RaftAssertionError('ready() called before advance() of the previous Ready');
    this.flushAppends();
    const soft = this.softState();
    const hard = this.hardState();
    const rd: Ready = {
      ...(this.softChanged() ? { softState: soft } : {}),
      ...(this.hardChanged() ? { hardState: hard } : {}),
      ...(this.pendingSnapshot !== undefined ? { snapshot: this.pendingSnapshot } : {}),
      entries: this.log.unstableEntries(),
      committedEntries: this.log.committedToApply(),
      messages: this.msgs,
      readStates: this.readStates,
    };
    this.log.unstableFrom = this.log.lastIndex() + 1;
    this.pendingSnapshot = undefined;
    this.msgs = [];
    this.readStates = [];
    this.prevSoft = soft;
    this.prevHard = hard;
    this.readyOutstanding = true;
    return rd;
  }

  /**
   * The shell sent and applied `rd`, and persisted it — or, with `entriesPersisted` false (a
   * leader's pipelined Ready), started persisting it: then `persisted()` reports each fsync.
   */
  advance(rd: Ready, entriesPersisted = true): void {
    if (!this.readyOutstanding) throw new RaftAssertionError('advance() without an outstanding Ready');
    this.readyOutstanding = false;
    if (rd.entries.length > 0 && entriesPersisted) {
      const last = rd.entries[rd.entries.length - 1];
      this.markStable(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      const lastApplied = rd.committedEntries[rd.committedEntries.length - 1].index;
      if (lastApplied > this.log.applied) this.log.applied = lastApplied;
      this.applyConfEntries(rd.committedEntries);
    }
    if (this.role === 'leader') {
      const self = this.progress.get(this.id);
      if (self !== undefined) self.maybeUpdate(this.log.stableIndex);
      if (this.maybeCommit()) this.appendsDirty = true;
    }
  }

  /**
   * The shell's storage made the entries up to (index, term) durable, after advance(rd, false).
   * Ignored if the log no longer holds that entry (truncated by a new leader meanwhile: what
   * replaced it is persisted by a later Ready). A leader counts itself toward commit from here.
   */
  persisted(index: number, term: number): void {
    this.markStable(index, term);
    if (this.role === 'leader') {
      this.progress.get(this.id)?.maybeUpdate(this.log.stableIndex);
      if (this.maybeCommit()) this.appendsDirty = true;
    }
  }

  /** Last index known durable in this node's storage: what a local snapshot may cover. */
  get persistedIndex(): number {
    return this.log.stableIndex;
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  /** The current term, without building a `status` (whose leader progress map a read round need not pay for). */
  get currentTerm(): number {
    return this.term;
  }

  /** Committed entries not yet handed out for applying. */
  hasCommittedToApply(): boolean {
    return this.log.commit > this.log.applied;
  }

  /** The app's snapshot of its state at `index` (<= applied); kept for followers that are far behind. */
  createSnapshot(index: number, data: Uint8Array): Snapshot {
    if (index > this.log.applied) throw new RaftAssertionError(`createSnapshot(${index}) beyond applied ${this.log.applied}`);
    const term = this.log.term(index);
    if (term === undefined) throw new RaftAssertionError(`createSnapshot(${index}): index compacted (snapshot at ${this.log.snapshotIndex})`);
    const snap: Snapshot = { meta: { index, term, conf: this.membership.at(index) }, data };
    if (this.snapshot === undefined || index >= this.snapshot.meta.index) this.snapshot = snap;
    return snap;
  }

  /** Drops log entries <= index; requires a snapshot at or after index (createSnapshot first). */
  compact(index: number): void {
    const snapIndex = this.snapshot?.meta.index ?? 0;
    if (index > snapIndex) throw new RaftAssertionError(`compact(${index}) beyond latest snapshot ${snapIndex}`);
    this.log.compact(index);
    this.membership.prune(index);
  }

  get status(): Status {
    let progress: Map<NodeId, ProgressStatus> | undefined;
    if (this.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of this.progress) progress.set(id, pr.status());
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      role: this.role,
      leader: this.leader,
      commit: this.log.commit,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      conf: this.conf,
      isLearner: this.conf.learners.includes(this.id),
      leadTransferee: this.leadTransferee,
      ...(progress ? { progress } : {}),
    };
  }

  /** Term of the entry at index (undefined when compacted or beyond the end). For checkers and the shell. */
  logTerm(index: number): number | undefined {
    return this.log.term(index);
  }

  /** Entry at index if still in memory (after the snapshot). */
  logEntry(index: number): Entry | undefined {
    return this.log.entry(index);
  }

  describe(): string {
    const l = this.conf.learners.includes(this.id) ? ' learner' : '';
    return `${this.id} ${this.role}${l} term=${this.term} vote=${this.vote} leader=${this.leader} log=${this.log.firstIndex()}..${this.log.lastIndex()} commit=${this.log.commit} applied=${this.log.applied} ${describeConf(this.conf)}`;
  }

  // -------------------------------------------------------------------------
  // Roles

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = 0;
    }
    this.leader = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizeElectionTimeout();
    this.leaderLost = false;
    this.leadTransferee = 0;
    this.votes.clear();
    this.progress.clear();
    this.readOnly.clear();
    this.readsBeforeCommit = [];
    this.committedInTerm = false;
    this.appendsDirty = false;
  }

  private becomeFollower(term: number, leader: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    if (this.role === 'leader') throw new RaftAssertionError('invalid transition [leader -> preCandidate]');
    // Neither term nor vote changes: a pre-vote is harmless if it fails.
    this.votes.clear();
    this.leader = 0;
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    if (this.role === 'leader') throw new RaftAssertionError('invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    if (this.role === 'follower') throw new RaftAssertionError('invalid transition [follower -> leader]');
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    const next = this.log.lastIndex() + 1;
    for (const v of this.conf.voters) this.progress.set(v, new Progress(next, false, this.cfg.maxInflightMsgs));
    for (const l of this.conf.learners) this.progress.set(l, new Progress(next, true, this.cfg.maxInflightMsgs));
    const self = this.progress.get(this.id);
    if (self === undefined) throw new RaftAssertionError(`leader ${this.id} not in ${describeConf(this.conf)}`);
    self.match = this.log.stableIndex;
    self.becomeReplicate();
    // The no-op of this term: committing it commits everything before (Figure 8), and until it
    // is applied no conf change may be proposed.
    const noop = this.appendEntry('normal', EMPTY);
    this.pendingConfIndex = noop.index;
  }

  private promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  /**
   * In [electionTicks + 1, 2 × electionTicks + 1) ticks: one tick past the lease that peers
   * defend against pre-votes (electionElapsed < electionTicks). With etcd's [E, 2E) a
   * follower drawing E campaigns while a peer that heard the same last heartbeat, its tick
   * timer a fraction of a tick behind, still counts E - 1 and refuses the pre-vote — costing
   * the fail-over a second timeout (the 1.3 s outliers measured with 50 ms ticks).
   */
  private randomizeElectionTimeout(): void {
    this.randomizedElectionTimeout = randomInt(this.cfg.random, this.cfg.electionTicks + 1, 2 * this.cfg.electionTicks + 1);
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      // A shortened (leader-lost) timeout is one-shot: if this pre-vote fails, retry at the usual pace.
      if (this.leaderLost) this.randomizeElectionTimeout();
      this.campaign(this.cfg.preVote ? 'preVote' : 'election');
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.checkQuorumActive()) {
        this.becomeFollower(this.term, 0);
        return;
      }
      if (this.leadTransferee !== 0) this.leadTransferee = 0; // transfer timed out
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastCtx() ?? EMPTY);
    }
  }

  /** Check-quorum: did a majority of voters talk to us since the last check? Resets the marks. */
  private checkQuorumActive(): boolean {
    const active = hasQuorum(this.conf.voters, (v) => v === this.id || this.progress.get(v)?.recentActive === true);
    for (const [id, pr] of this.progress) pr.recentActive = id === this.id;
    return active;
  }

  private campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    let voteTerm: number;
    if (kind === 'preVote') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    this.votes.set(this.id, true);
    if (this.countVotes()) return;
    for (const v of this.conf.voters) {
      if (v === this.id) continue;
      const lastLogIndex = this.log.lastIndex();
      const lastLogTerm = this.log.lastTerm();
      if (kind === 'preVote') this.send({ type: 'PreVote', from: this.id, to: v, term: voteTerm, lastLogIndex, lastLogTerm });
      else this.send({ type: 'RequestVote', from: this.id, to: v, term: voteTerm, lastLogIndex, lastLogTerm, transfer: kind === 'transfer' });
    }
  }

  /** Acts on the election outcome so far; returns true when decided. */
  private countVotes(): boolean {
    const outcome = computeVoteOutcome(this.conf.voters, this.votes);
    if (outcome === 'won') {
      if (this.role === 'preCandidate') this.campaign('election');
      else this.becomeLeader();
      return true;
    }
    if (outcome === 'lost') {
      this.becomeFollower(this.term, 0);
      return true;
    }
    return false;
  }

  private handleVoteRequest(type: 'PreVote' | 'RequestVote', from: NodeId, term: number, lastIndex: number, lastTerm: number): void {
    const canVote = this.vote === from || (this.vote === 0 && this.leader === 0) || (type === 'PreVote' && term > this.term);
    const respType = type === 'PreVote' ? 'PreVoteResponse' : 'RequestVoteResponse';
    if (canVote && this.log.isUpToDate(lastIndex, lastTerm)) {
      this.send({ type: respType, from: this.id, to: from, term, reject: false });
      if (type === 'RequestVote') {
        this.electionElapsed = 0;
        this.vote = from;
      }
    } else {
      this.send({ type: respType, from: this.id, to: from, term: this.term, reject: true });
    }
  }

  // -------------------------------------------------------------------------
  // Per-role message handling

  private stepLeader(m: Message): StepResult {
    switch (m.type) {
      case 'AppendEntriesResponse':
        return this.handleAppendResponse(m);
      case 'HeartbeatResponse':
        return this.handleHeartbeatResponse(m);
      case 'InstallSnapshotResponse':
        return this.handleSnapshotResponse(m);
      case 'ReadIndex':
        if (!this.progress.has(m.from)) return dropped(`ReadIndex from non-member ${m.from}`);
        return this.handleReadIndex(m.ctx, m.from) ? OK : dropped('too many pending reads');
      case 'AppendEntries':
      case 'Heartbeat':
      case 'InstallSnapshot':
      case 'ReadIndexResponse':
      case 'TimeoutNow':
        throw new RaftAssertionError(`two leaders in term ${this.term}: ${this.id} and ${m.from} (${m.type})`);
      default:
        return dropped(`${m.type} ignored by leader`);
    }
  }

  private stepCandidate(m: Message): StepResult {
    switch (m.type) {
      case 'AppendEntries':
      case 'Heartbeat':
      case 'InstallSnapshot':
        this.becomeFollower(this.term, m.from);
        return this.stepFollower(m);
      case 'PreVoteResponse':
        if (this.role !== 'preCandidate') return dropped('PreVoteResponse while not preCandidate');
        this.votes.set(m.from, !m.reject);
        this.countVotes();
        return OK;
      case 'RequestVoteResponse':
        if (this.role !== 'candidate') return dropped('RequestVoteResponse while not candidate');
        this.votes.set(m.from, !m.reject);
        this.countVotes();
        return OK;
      default:
        return dropped(`${m.type} ignored by ${this.role}`);
    }
  }

  private stepFollower(m: Message): StepResult {
    switch (m.type) {
      case 'AppendEntries':
        this.heardFromLeader(m.from);
        this.handleAppendEntries(m);
        return OK;
      case 'Heartbeat':
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return OK;
      case 'InstallSnapshot':
        this.heardFromLeader(m.from);
        this.handleSnapshotChunk(m);
        return OK;
      case 'TimeoutNow':
        if (!this.promotable()) return dropped('TimeoutNow to a non-voter');
        this.campaign('transfer');
        return OK;
      case 'ReadIndexResponse':
        this.readStates.push({ index: m.index, requestCtx: m.ctx });
        return OK;
      default:
        return dropped(`${m.type} ignored by follower`);
    }
  }

  private markStable(index: number, term: number): void {
    if (index > this.log.stableIndex && this.log.term(index) === term) this.log.stableIndex = index;
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    this.leader = from;
    if (this.leaderLost) {
      this.leaderLost = false;
      this.randomizeElectionTimeout();
    }
  }

  // -------------------------------------------------------------------------
  // Follower side of replication

  /** A method, not a closure per message: under tsx every named closure costs a defineProperty when it is made. */
  private replyAppend(m: AppendEntriesMessage, reject: boolean, index: number, hintIndex = 0, hintTerm = 0): void {
    this.send({ type: 'AppendEntriesResponse', from: this.id, to: m.from, term: this.term, reject, index, hintIndex, hintTerm });
  }

  private handleAppendEntries(m: AppendEntriesMessage): void {
    if (m.prevLogIndex < this.log.commit) {
      this.replyAppend(m, false, this.log.commit);
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.entries);
    if (lastNew === undefined) {
      const { hintIndex, hintTerm } = this.log.conflictHint(m.prevLogIndex);
      this.replyAppend(m, true, m.prevLogIndex, hintIndex, hintTerm);
      return;
    }
    this.log.commitTo(Math.min(m.commit, lastNew));
    this.replyAppend(m, false, lastNew);
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'HeartbeatResponse', from: this.id, to: m.from, term: this.term, ctx: m.ctx });
  }

  private handleSnapshotChunk(m: InstallSnapshotMessage): void {
    const reply = (offset: number, done: boolean): void =>
      this.send({ type: 'InstallSnapshotResponse', from: this.id, to: m.from, term: this.term, index: m.meta.index, offset, done });
    const meta = m.meta;
    if (meta.index <= this.log.commit) {
      this.receiver.clear();
      reply(0, true);
      return;
    }
    const outcome = this.receiver.accept(m);
    if (outcome.kind === 'want') {
      reply(outcome.offset, false);
      return;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already have the log up to the snapshot: just fast-forward the commit.
      this.log.commitTo(meta.index);
      reply(outcome.data.length, true);
      return;
    }
    const snap: Snapshot = { meta, data: outcome.data };
    this.log.restore(snap);
    this.snapshot = snap;
    this.pendingSnapshot = snap;
    this.membership.restore(meta.conf, meta.index);
    reply(outcome.data.length, true);
  }

  // -------------------------------------------------------------------------
  // Leader side of replication

  private appendEntry(type: 'normal' | 'conf', data: Uint8Array): Entry {
    const e: Entry = { term: this.term, index: this.log.lastIndex() + 1, type, data };
    this.log.append(e);
    this.appendsDirty = true;
    return e;
  }

  private flushAppends(): void {
    if (!this.appendsDirty) return;
    this.appendsDirty = false;
    if (this.role !== 'leader') return;
    for (const id of this.progress.keys()) {
      if (id === this.id) continue;
      // New entries: fill the follower's window; otherwise one (empty) append carries the commit.
      if ((this.progress.get(id)?.next ?? 0) <= this.log.lastIndex()) this.sendAppendsWhileOpen(id);
      else this.sendAppend(id);
    }
  }

  /** Sends the next batch to `to` if its window allows; returns whether it sent. */
  private sendAppend(to: NodeId): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) {
      if (this.snapshot === undefined) throw new RaftAssertionError(`follower ${to} needs index ${pr.next} but the log has no snapshot`);
      pr.becomeSnapshot(this.snapshot.meta.index);
      this.sendSnapshotChunk(to, pr);
      return true;
    }
    const entries = pr.next > this.log.lastIndex() ? [] : this.log.slice(pr.next, this.log.lastIndex() + 1, this.cfg.maxEntriesPerMsg, this.cfg.maxBytesPerMsg);
    this.send({ type: 'AppendEntries', from: this.id, to, term: this.term, prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries, commit: this.log.commit });
    pr.sentEntries(prevIndex + entries.length, entries.length);
    return true;
  }

  /** Keeps sending while the follower's window is open and it lacks entries. */
  private sendAppendsWhileOpen(to: NodeId): void {
    const pr = this.progress.get(to);
    if (pr === undefined) return;
    // Bounded by maxInflightMsgs (replicate) or a single message (probe).
    while (pr.next <= this.log.lastIndex() && this.sendAppend(to)) {
      if (pr.state !== 'replicate') break;
    }
  }

  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const snap = this.snapshot;
    if (snap === undefined) throw new RaftAssertionError(`snapshot state for ${to} without a snapshot`);
    if (pr.pendingSnapshot !== snap.meta.index) pr.becomeSnapshot(snap.meta.index);
    const offset = pr.snapshotOffset;
    const chunk = snap.data.subarray(offset, offset + this.cfg.snapshotChunkBytes);
    const done = offset + chunk.length >= snap.data.length;
    this.send({ type: 'InstallSnapshot', from: this.id, to, term: this.term, meta: snap.meta, offset, chunk, done });
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'TimeoutNow', from: this.id, to, term: this.term });
  }

  private handleAppendResponse(m: AppendEntriesResponseMessage): StepResult {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return dropped(`AppendEntriesResponse from non-member ${m.from}`);
    pr.recentActive = true;
    if (m.reject) {
      let candidateNext: number;
      if (m.hintTerm === 0) candidateNext = m.hintIndex;
      else {
        const j = this.log.lastIndexWithTermAtMost(m.hintTerm, m.index);
        candidateNext = this.log.term(j) === m.hintTerm ? j + 1 : Math.min(j + 1, m.hintIndex);
      }
      if (pr.maybeDecrTo(m.index, Math.max(1, candidateNext))) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return OK;
    }
    const wasPaused = pr.isPaused();
    if (pr.maybeUpdate(m.index)) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
      if (this.maybeCommit()) this.appendsDirty = true;
      else if (wasPaused) this.sendAppend(m.from);
      this.sendAppendsWhileOpen(m.from);
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
    }
    return OK;
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage): StepResult {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return dropped(`HeartbeatResponse from non-member ${m.from}`);
    pr.recentActive = true;
    pr.probeSent = false;
    // A full window may be full of lost messages: let one more through per heartbeat.
    if (pr.state === 'replicate' && pr.isPaused()) pr.inflight.shift();
    if (pr.state === 'snapshot') this.sendSnapshotChunk(m.from, pr); // resend: a chunk may be lost
    else if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.ctx.length === 0) return OK;
    const acks = this.readOnly.recvAck(m.from, m.ctx);
    if (acks === undefined || !hasQuorum(this.conf.voters, (v) => acks.has(v))) return OK;
    for (const read of this.readOnly.advance(m.ctx)) this.releaseRead(read.ctx, read.index, read.from);
    return OK;
  }

  private handleSnapshotResponse(m: InstallSnapshotResponseMessage): StepResult {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return dropped(`InstallSnapshotResponse from non-member ${m.from}`);
    pr.recentActive = true;
    if (pr.state !== 'snapshot' || m.index !== pr.pendingSnapshot) return dropped(`stale InstallSnapshotResponse for ${m.index}`);
    if (m.done) {
      pr.maybeUpdate(m.index);
      pr.becomeProbe();
      this.sendAppend(m.from);
      return OK;
    }
    pr.snapshotOffset = m.offset;
    this.sendSnapshotChunk(m.from, pr);
    return OK;
  }

  /** One closure for maybeCommit, not one per call (it runs on every acknowledgement). */
  private readonly matchOf = (v: NodeId): number => this.progress.get(v)?.match ?? 0;

  /** Advances the commit index to what a majority of voters has persisted (only own-term entries). */
  private maybeCommit(): boolean {
    const idx = computeCommittedIndex(this.conf.voters, this.matchOf);
    if (idx <= this.log.commit || this.log.term(idx) !== this.term) return false;
    this.log.commitTo(idx);
    if (!this.committedInTerm) {
      this.committedInTerm = true;
      const waiting = this.readsBeforeCommit;
      this.readsBeforeCommit = [];
      for (const r of waiting) this.handleReadIndex(r.ctx, r.from);
    }
    return true;
  }

  private bcastHeartbeat(ctx: Uint8Array): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      this.send({ type: 'Heartbeat', from: this.id, to: id, term: this.term, commit: Math.min(pr.match, this.log.commit), ctx });
    }
  }

  // -------------------------------------------------------------------------
  // ReadIndex (thesis §6.4)

  /** Queues or answers a read; false when the pending-read bound is reached. */
  private handleReadIndex(ctx: Uint8Array, from: NodeId): boolean {
    if (this.readOnly.size + this.readsBeforeCommit.length >= this.cfg.maxPendingReads) return false;
    if (!this.committedInTerm) {
      // Our commit index may lag the true one until an entry of our term commits.
      this.readsBeforeCommit.push({ ctx, from });
      return true;
    }
    if (this.conf.voters.length === 1) {
      this.releaseRead(ctx, this.log.commit, from);
      return true;
    }
    this.readOnly.add(ctx, this.log.commit, from, this.id);
    this.bcastHeartbeat(ctx);
    return true;
  }

  private releaseRead(ctx: Uint8Array, index: number, from: NodeId): void {
    if (from === this.id) this.readStates.push({ index, requestCtx: ctx });
    else this.send({ type: 'ReadIndexResponse', from: this.id, to: from, term: this.term, ctx, index });
  }

  // -------------------------------------------------------------------------
  // Membership

  private applyConfEntries(entries: readonly Entry[]): void {
    this.membership.apply(entries, (cc) => this.onConfApplied(cc));
  }

  private onConfApplied(cc: ConfChange): void {
    if (this.role !== 'leader') return;
    if (cc.type === 'removeNode') {
      this.progress.delete(cc.node);
      if (this.leadTransferee === cc.node) this.leadTransferee = 0;
      if (cc.node === this.id) {
        this.becomeFollower(this.term, 0);
        return;
      }
    } else {
      const learner = !this.conf.voters.includes(cc.node);
      const pr = this.progress.get(cc.node);
      if (pr === undefined) this.progress.set(cc.node, new Progress(this.log.lastIndex() + 1, learner, this.cfg.maxInflightMsgs));
      else pr.learner = learner;
    }
    if (this.maybeCommit()) this.appendsDirty = true;
    else if (cc.type !== 'removeNode') this.sendAppend(cc.node);
  }

  private get conf(): ConfState {
    return this.membership.conf;
  }

  // -------------------------------------------------------------------------
  // Ready bookkeeping

  private send(m: Message): void {
    this.msgs.push(m);
  }

  private softState(): SoftState {
    return { leader: this.leader, role: this.role };
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.commit };
  }

  private softChanged(): boolean {
    return this.prevSoft.leader !== this.leader || this.prevSoft.role !== this.role;
  }

  private hardChanged(): boolean {
    const h = this.prevHard;
    return h.term !== this.term || h.vote !== this.vote || h.commit !== this.log.commit;
  }
}
