/**
 * The Raft vocabulary shared by the pure core (`core.ts`), its I/O shell
 * (`node.ts`, `wal.ts`, transports) and the simulator: entries, persistent
 * state, snapshots, configuration, the one message union, and `Ready`.
 *
 * Invariants the types carry (checked by the core, relied on by the shell):
 *  - NodeId > 0; 0 means "none" (no vote, no known leader).
 *  - Entry indexes are contiguous and start at 1; term is non-decreasing along the log.
 *  - A `Ready` must be handled in this order: persist (snapshot, entries, hardState) and
 *    fsync → send messages → apply committedEntries → `advance(ready)`.
 *
 * Pure data only: no I/O, no `node:` imports.
 */
import type { Random } from '../common/random.ts';
import { ValidationError } from '../common/errors.ts';

export type NodeId = number;

export type EntryType = 'normal' | 'conf';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** 'normal': application command (empty for the leader's no-op); 'conf': `encodeConfChange(cc)`. */
  readonly data: Uint8Array;
}

export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  /** Membership as of `index`. */
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly node: NodeId;
  /** Opaque to Raft, e.g. the new node's address. */
  readonly context?: Uint8Array;
}

// ---------------------------------------------------------------------------
// Messages: one discriminated union on `type`; every variant has from, to, term.

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** Sent with term = candidate's term + 1; the receiver's term does not change. */
export interface PreVoteMessage extends MessageBase {
  readonly type: 'PreVote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}
export interface PreVoteResponseMessage extends MessageBase {
  readonly type: 'PreVoteResponse';
  readonly reject: boolean;
}
export interface RequestVoteMessage extends MessageBase {
  readonly type: 'RequestVote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** True when campaigning because of TimeoutNow: receivers ignore leader stickiness. */
  readonly transfer: boolean;
}
export interface RequestVoteResponseMessage extends MessageBase {
  readonly type: 'RequestVoteResponse';
  readonly reject: boolean;
}
export interface AppendEntriesMessage extends MessageBase {
  readonly type: 'AppendEntries';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}
export interface AppendEntriesResponseMessage extends MessageBase {
  readonly type: 'AppendEntriesResponse';
  readonly reject: boolean;
  /** Success: the follower's log matches the leader's up to `index`. Reject: the rejected prevLogIndex. */
  readonly index: number;
  /** Reject hint: first index of `hintTerm` in the follower's log, or follower lastIndex + 1 when hintTerm = 0. */
  readonly hintIndex: number;
  readonly hintTerm: number;
}
export interface InstallSnapshotMessage extends MessageBase {
  readonly type: 'InstallSnapshot';
  readonly meta: SnapshotMeta;
  /** Byte offset of `chunk` in the snapshot data. */
  readonly offset: number;
  readonly chunk: Uint8Array;
  /** True on the last chunk. */
  readonly done: boolean;
}
export interface InstallSnapshotResponseMessage extends MessageBase {
  readonly type: 'InstallSnapshotResponse';
  /** Snapshot index this answers. */
  readonly index: number;
  /** Bytes received so far (the next offset wanted). */
  readonly offset: number;
  /** True once the whole snapshot is installed (or superseded by the follower's commit). */
  readonly done: boolean;
}
export interface HeartbeatMessage extends MessageBase {
  readonly type: 'Heartbeat';
  /** min(follower match, leader commit). */
  readonly commit: number;
  /** ReadIndex context being confirmed (empty when none). */
  readonly ctx: Uint8Array;
}
export interface HeartbeatResponseMessage extends MessageBase {
  readonly type: 'HeartbeatResponse';
  readonly ctx: Uint8Array;
}
/** Leadership transfer: the receiver campaigns at once, ignoring stickiness and pre-vote. */
export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'TimeoutNow';
}
/** A follower forwards a ReadIndex request to its leader. */
export interface ReadIndexMessage extends MessageBase {
  readonly type: 'ReadIndex';
  readonly ctx: Uint8Array;
}
export interface ReadIndexResponseMessage extends MessageBase {
  readonly type: 'ReadIndexResponse';
  readonly ctx: Uint8Array;
  readonly index: number;
}

export type Message =
  | PreVoteMessage
  | PreVoteResponseMessage
  | RequestVoteMessage
  | RequestVoteResponseMessage
  | AppendEntriesMessage
  | AppendEntriesResponseMessage
  | InstallSnapshotMessage
  | InstallSnapshotResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

/** Which kinds are responses, and which come only from a leader of `term` (classification table). */
export const messageKinds: Readonly<Record<MessageType, { readonly response: boolean; readonly fromLeader: boolean }>> = {
  PreVote: { response: false, fromLeader: false },
  PreVoteResponse: { response: true, fromLeader: false },
  RequestVote: { response: false, fromLeader: false },
  RequestVoteResponse: { response: true, fromLeader: false },
  AppendEntries: { response: false, fromLeader: true },
  AppendEntriesResponse: { response: true, fromLeader: false },
  InstallSnapshot: { response: false, fromLeader: true },
  InstallSnapshotResponse: { response: true, fromLeader: false },
  Heartbeat: { response: false, fromLeader: true },
  HeartbeatResponse: { response: true, fromLeader: false },
  TimeoutNow: { response: false, fromLeader: true },
  ReadIndex: { response: false, fromLeader: false },
  ReadIndexResponse: { response: true, fromLeader: true },
};

// ---------------------------------------------------------------------------
// Outputs of the core.

export interface ReadState {
  /** Reading is linearizable once the local applied index >= index. */
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

/** A learner is a 'follower' whose id is in conf.learners (see Status.isLearner). */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

export interface Ready {
  /** Present when leader or role changed since the last Ready. */
  readonly softState?: SoftState;
  /** Persist (fsync) before sending messages; present only when changed. */
  readonly hardState?: HardState;
  /**
   * Append to stable storage BEFORE sending messages. If entries[0].index <= the stored last
   * index, first truncate the stored log from entries[0].index (a conflicting suffix).
   */
  readonly entries: readonly Entry[];
  /**
   * Received from the leader: persist atomically (it replaces the whole stored log: drop all
   * stored entries, then append `entries`), then restore the state machine from it.
   */
  readonly snapshot?: Snapshot;
  /** Apply in order, after persisting. Conf entries need no application action. */
  readonly committedEntries: readonly Entry[];
  /** Send after persisting. */
  readonly messages: readonly Message[];
  /** ReadIndex results: the read for requestCtx is safe once applied index >= index. */
  readonly readStates: readonly ReadState[];
}

export interface RaftConfig {
  readonly id: NodeId;
  /** Base election timeout (and the leader lease peers defend); the randomized timeout is in [electionTicks + 1, 2*electionTicks + 1). Default 10. */
  readonly electionTicks: number;
  /** Leader heartbeat interval; must be < electionTicks. Default 1. */
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Bound on AppendEntries in flight per follower in replicate state (pipelining window). */
  readonly maxInflightMsgs: number;
  /** Bound on entries in one AppendEntries. */
  readonly maxEntriesPerMsg: number;
  /** Bound on entry payload bytes in one AppendEntries (at least one entry is always sent). */
  readonly maxBytesPerMsg: number;
  /** InstallSnapshot chunk size. */
  readonly snapshotChunkBytes: number;
  /** Bound on ReadIndex requests queued at the leader (waiting for its first commit or a quorum). */
  readonly maxPendingReads: number;
  /** The only source of randomness (election timeout jitter). */
  readonly random: Random;
}

export const defaultRaftConfig: Omit<RaftConfig, 'id' | 'random'> = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxInflightMsgs: 256,
  maxEntriesPerMsg: 256,
  maxBytesPerMsg: 1 << 20,
  snapshotChunkBytes: 256 << 10,
  maxPendingReads: 4096,
};

export interface InitialState {
  readonly hardState: HardState;
  /** Latest persisted snapshot; the state machine is restored from it, so applied starts at its index. */
  readonly snapshot?: Snapshot;
  /** Persisted entries after the snapshot (contiguous). */
  readonly entries: readonly Entry[];
  /**
   * The bootstrap membership, used only on first start (no snapshot, no entries, term 0): the
   * core then writes one conf entry per member at term 1 (committed) so that nodes added later
   * learn the membership from the log. A node joining an existing cluster passes empty lists.
   */
  readonly conf: ConfState;
}

// ---------------------------------------------------------------------------
// Results (protocol outcomes are values, not exceptions).

export type StepResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: 'notLeader'; readonly leader: NodeId }
  | { readonly ok: false; readonly reason: 'transferring'; readonly leader: NodeId }
  | { readonly ok: false; readonly reason: 'confChangePending'; readonly leader: NodeId }
  | { readonly ok: false; readonly reason: 'invalid'; readonly leader: NodeId; readonly detail: string };

export type ReadIndexResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'notLeader'; readonly leader: NodeId }
  | { readonly ok: false; readonly reason: 'tooManyPendingReads'; readonly leader: NodeId };

export type TransferResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'notLeader'; readonly leader: NodeId }
  | { readonly ok: false; readonly reason: 'invalid'; readonly leader: NodeId; readonly detail: string };

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly inflight: number;
  readonly learner: boolean;
  readonly recentActive: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly role: Role;
  readonly leader: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly conf: ConfState;
  readonly isLearner: boolean;
  readonly leadTransferee: NodeId;
  /** Leader only: per-member replication progress. */
  readonly progress?: ReadonlyMap<NodeId, ProgressStatus>;
}

// ---------------------------------------------------------------------------
// ConfChange encoding: [type:1][node:u32 BE][context...]

const confTypeCodes: Record<ConfChangeType, number> = { addVoter: 1, addLearner: 2, removeNode: 3 };
const confTypesByCode: readonly (ConfChangeType | undefined)[] = [undefined, 'addVoter', 'addLearner', 'removeNode'];

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const ctx = cc.context ?? new Uint8Array(0);
  const out = new Uint8Array(5 + ctx.length);
  out[0] = confTypeCodes[cc.type];
  new DataView(out.buffer).setUint32(1, cc.node >>> 0, false);
  out.set(ctx, 5);
  return out;
}

/** Throws ValidationError (path 'confChange') on malformed data. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length < 5) throw new ValidationError('confChange', 'at least 5 bytes', `${data.length} bytes`);
  const type = confTypesByCode[data[0]];
  if (type === undefined) throw new ValidationError('confChange.type', 'code 1..3', String(data[0]));
  const node = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1, false);
  if (node === 0) throw new ValidationError('confChange.node', 'a node id > 0', '0');
  const context = data.slice(5);
  return context.length > 0 ? { type, node, context } : { type, node };
}

/** Applies one change to a membership; pure and idempotent for repeated adds. */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState {
  const voters = conf.voters.filter((v) => v !== cc.node);
  const learners = conf.learners.filter((l) => l !== cc.node);
  if (cc.type === 'addVoter') voters.push(cc.node);
  else if (cc.type === 'addLearner') {
    // A voter stays a voter (demotion is not supported); otherwise it becomes a learner.
    if (conf.voters.includes(cc.node)) voters.push(cc.node);
    else learners.push(cc.node);
  }
  return { voters: voters.sort((a, b) => a - b), learners: learners.sort((a, b) => a - b) };
}

export const emptyConf: ConfState = { voters: [], learners: [] };
