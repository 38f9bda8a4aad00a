/**
 * The leader's view of one follower's replication (after etcd's Progress).
 *
 *            reject / heartbeat response / snapshot done
 *   ┌────────┐ ───────────────────────────────▶ ┌───────────┐
 *   │ probe  │   first success                  │ replicate │
 *   │ 1 msg  │ ───────────────────────────────▶ │ window of │
 *   │ per HB │ ◀─────────────────────────────── │ inflight  │
 *   └────────┘            reject                └───────────┘
 *        │ next needs compacted entries               │
 *        ▼                                            │
 *   ┌──────────┐ ◀────────────────────────────────────┘
 *   │ snapshot │  chunks sent one at a time; resent on heartbeat response
 *   └──────────┘
 *
 * Invariants: match < next; inflight holds ascending last-indexes of AppendEntries
 * sent in replicate state and never exceeds the maxInflight bound.
 * Pure: no I/O.
 */
import type { ProgressState, ProgressStatus } from './types.ts';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Probe state: one AppendEntries sent, waiting for its answer or the next heartbeat. */
  probeSent = false;
  /** Replicate state: last index of each AppendEntries in flight (bounded by maxInflight). */
  inflight: number[] = [];
  /** Snapshot state: index of the snapshot being sent and the byte offset acknowledged. */
  pendingSnapshot = 0;
  snapshotOffset = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  learner: boolean;
  private readonly maxInflight: number;

  constructor(next: number, learner: boolean, maxInflight: number) {
    this.next = next;
    this.learner = learner;
    this.maxInflight = maxInflight;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= this.maxInflight;
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.state = 'probe';
    this.probeSent = false;
    this.inflight = [];
    this.pendingSnapshot = 0;
    this.snapshotOffset = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflight = [];
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.snapshotOffset = 0;
    this.inflight = [];
    this.probeSent = false;
  }

  /** An AppendEntries ending at lastIndex was sent. */
  sentEntries(lastIndex: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflight.push(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** A success up to index: returns true when it moved match forward. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    while (this.inflight.length > 0 && this.inflight[0] <= index) this.inflight.shift();
    return updated;
  }

  /**
   * A rejection of prevIndex = rejected with the follower's hint already turned into a
   * candidate next. Returns false when the rejection is stale (ignored).
   */
  maybeDecrTo(rejected: number, candidateNext: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = Math.max(this.match + 1, Math.min(rejected, candidateNext));
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(this.match + 1, Math.min(rejected, candidateNext));
    this.probeSent = false;
    return true;
  }

  status(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      inflight: this.inflight.length,
      learner: this.learner,
      recentActive: this.recentActive,
    };
  }

  describe(): string {
    return `match=${this.match} next=${this.next} ${this.state}${this.learner ? ' learner' : ''} inflight=${this.inflight.length}`;
  }
}
