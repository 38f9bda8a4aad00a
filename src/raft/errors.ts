/**
 * Typed failures of the Raft I/O shell (node, storage, transport). Protocol
 * outcomes inside the pure core are values, not these; these are what a caller
 * of `RaftNode` (or an HTTP edge) sees, each with a stable `code`.
 */
import { CygnetError } from '../common/errors.ts';

/**
 * This node is not the leader. `leader` is 0 when unknown (code CYG_NO_LEADER,
 * 503); otherwise CYG_NOT_LEADER (307) with the leader's Raft `address` and its
 * application metadata `leaderMeta` (e.g. client API address) when known.
 */
export class NotLeaderError extends CygnetError {
  readonly leader: number;
  readonly address: string | undefined;
  readonly leaderMeta: string | undefined;
  constructor(leader: number, address?: string, leaderMeta?: string) {
    super(
      leader === 0 ? 'CYG_NO_LEADER' : 'CYG_NOT_LEADER',
      leader === 0 ? 'no leader known' : `not the leader; leader is ${leader}${address === undefined ? '' : ` at ${address}`}`,
    );
    this.leader = leader;
    this.address = address;
    this.leaderMeta = leaderMeta;
  }
}

/** A proposal or read was not committed/confirmed within its deadline; its outcome is unknown. */
export class ProposalTimeoutError extends CygnetError {
  constructor(what: string, timeoutMs: number) {
    super('CYG_TIMEOUT', `${what} timed out after ${timeoutMs} ms (outcome unknown)`);
  }
}

/**
 * Refused at once because a bounded queue (pending proposals or reads) is full:
 * nothing was proposed, so retrying later is safe (503 with Retry-After).
 */
export class OverloadedError extends CygnetError {
  constructor(what: string) {
    super('CYG_OVERLOADED', `${what}: overloaded, nothing was proposed; retry later`);
  }
}

/** Writing to stable storage failed: the node can no longer promise durability. `cause` is the I/O error. */
export class StorageFailureError extends CygnetError {
  constructor(during: string, cause: unknown) {
    super('CYG_INTERNAL', `storage failure while ${during}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * The proposal's log slot was taken by another leader's entry: it was NOT
 * applied, so sending it again is safe (503 with Retry-After, like a refusal
 * while no leader is known; 409 would tell a client the request itself is at fault).
 */
export class ProposalDroppedError extends CygnetError {
  readonly index: number;
  constructor(index: number, reason: string) {
    super('CYG_LEADER_CHANGED', `proposal at index ${index} dropped: ${reason}`);
    this.index = index;
  }
}

/** The proposal's fate cannot be known (e.g. superseded by a snapshot before we saw its entry applied). */
export class ProposalOutcomeUnknownError extends CygnetError {
  constructor(index: number, reason: string) {
    super('CYG_TIMEOUT', `proposal at index ${index}: outcome unknown (${reason})`);
  }
}

/** The node is closing or closed. */
export class ShuttingDownError extends CygnetError {
  constructor() {
    super('CYG_SHUTTING_DOWN', 'raft node is shutting down');
  }
}

/** On-disk state is damaged in a way that cannot be a torn tail: refuse to start. */
export class CorruptStorageError extends CygnetError {
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number, detail: string) {
    super('CYG_CORRUPT', `${file} at offset ${offset}: ${detail}`);
    this.file = file;
    this.offset = offset;
  }
}
