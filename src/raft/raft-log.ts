/**
 * The in-memory Raft log of one node: the entries after the latest snapshot,
 * the commit index, and which suffix has not yet been handed to the shell for
 * persistence ("unstable").
 *
 * Invariants:
 *  - entries[k].index === snapshotIndex + 1 + k (contiguous after the snapshot).
 *  - snapshotIndex <= applied <= commit <= lastIndex().
 *  - unstableFrom - 1 <= lastIndex(); entries >= unstableFrom are not yet in any Ready.
 *  - Committed entries are never truncated (assertion).
 * Pure: no I/O.
 */
import type { Entry, Snapshot } from './types.ts';
import { RaftAssertionError } from './assert.ts';

export class RaftLog {
  snapshotIndex: number;
  snapshotTerm: number;
  private entries: Entry[];
  commit: number;
  applied: number;
  /** First index not yet returned in a Ready. */
  unstableFrom: number;
  /** Last index known persisted (its Ready was advanced); the leader counts itself only up to here. */
  stableIndex: number;

  constructor(snapshotIndex: number, snapshotTerm: number, entries: readonly Entry[], commit: number) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    this.entries = [...entries];
    for (let k = 0; k < this.entries.length; k++) {
      if (this.entries[k].index !== snapshotIndex + 1 + k) {
        throw new RaftAssertionError(`log not contiguous: entry ${this.entries[k].index} at position ${snapshotIndex + 1 + k}`);
      }
    }
    this.commit = Math.max(commit, snapshotIndex);
    if (this.commit > this.lastIndex()) {
      throw new RaftAssertionError(`commit ${this.commit} beyond last index ${this.lastIndex()}`);
    }
    this.applied = snapshotIndex;
    this.unstableFrom = this.lastIndex() + 1;
    this.stableIndex = this.lastIndex();
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length === 0 ? this.snapshotTerm : this.entries[this.entries.length - 1].term;
  }

  /** Term at `index`, or undefined when compacted away (< snapshotIndex) or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndex - 1].term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: is (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi) (hi exclusive), at most maxCount and about maxBytes of data (at least
   * one entry). Requires lo > snapshotIndex.
   */
  slice(lo: number, hi: number, maxCount: number, maxBytes: number): Entry[] {
    if (lo <= this.snapshotIndex) throw new RaftAssertionError(`slice from compacted index ${lo} (snapshot ${this.snapshotIndex})`);
    const end = Math.min(hi, this.lastIndex() + 1, lo + maxCount);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < end; i++) {
      const e = this.entries[i - this.snapshotIndex - 1];
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Leader append: entries must start at lastIndex + 1. */
  append(entry: Entry): void {
    if (entry.index !== this.lastIndex() + 1) {
      throw new RaftAssertionError(`append at ${entry.index} with last index ${this.lastIndex()}`);
    }
    this.entries.push(entry);
  }

  /**
   * Follower append (§5.3): if our log matches (prevIndex, prevTerm), drop any conflicting
   * suffix and append the new entries. Returns the last new index, or undefined on mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k];
      if (e.index !== prevIndex + 1 + k) throw new RaftAssertionError(`AppendEntries entries not contiguous at ${e.index}`);
      const ours = this.term(e.index);
      if (ours === e.term) continue;
      if (ours === undefined && e.index <= this.snapshotIndex) continue; // compacted, hence committed and equal
      if (ours !== undefined && e.index <= this.commit) {
        throw new RaftAssertionError(`conflict with committed entry ${e.index} (term ${ours} vs ${e.term})`);
      }
      this.truncateFrom(e.index);
      for (let j = k; j < entries.length; j++) this.entries.push(entries[j]);
      break;
    }
    return lastNew;
  }

  /** Drops entries >= index (never committed ones). */
  private truncateFrom(index: number): void {
    if (index <= this.commit) throw new RaftAssertionError(`truncating committed index ${index} (commit ${this.commit})`);
    this.entries.length = Math.max(0, index - this.snapshotIndex - 1);
    if (this.unstableFrom > index) this.unstableFrom = index;
    if (this.stableIndex >= index) this.stableIndex = index - 1;
  }

  /**
   * Conflict hint for a rejected AppendEntries at prevIndex: the first index of our term at
   * prevIndex, or (lastIndex + 1, term 0) when we do not have prevIndex.
   */
  conflictHint(prevIndex: number): { hintIndex: number; hintTerm: number } {
    if (prevIndex > this.lastIndex()) return { hintIndex: this.lastIndex() + 1, hintTerm: 0 };
    const t = this.term(prevIndex);
    if (t === undefined) return { hintIndex: this.snapshotIndex + 1, hintTerm: 0 };
    let i = prevIndex;
    while (i - 1 > this.snapshotIndex && this.term(i - 1) === t) i--;
    return { hintIndex: i, hintTerm: t };
  }

  /** Last index in our log whose term is <= term (for the leader's use of a conflict hint). */
  lastIndexWithTermAtMost(term: number, from: number): number {
    let i = Math.min(from, this.lastIndex());
    while (i > this.snapshotIndex) {
      const t = this.term(i);
      if (t !== undefined && t <= term) return i;
      i--;
    }
    return this.snapshotIndex;
  }

  commitTo(index: number): boolean {
    if (index <= this.commit) return false;
    if (index > this.lastIndex()) throw new RaftAssertionError(`commit ${index} beyond last index ${this.lastIndex()}`);
    this.commit = index;
    return true;
  }

  /** Entries not yet handed out in a Ready. */
  unstableEntries(): Entry[] {
    if (this.unstableFrom > this.lastIndex()) return [];
    return this.entries.slice(this.unstableFrom - this.snapshotIndex - 1);
  }

  /** Committed, not yet applied entries, in order. */
  committedToApply(): Entry[] {
    if (this.commit <= this.applied) return [];
    return this.entries.slice(this.applied - this.snapshotIndex, this.commit - this.snapshotIndex);
  }

  /** Replace everything with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.snapshotIndex = snapshot.meta.index;
    this.snapshotTerm = snapshot.meta.term;
    this.entries = [];
    this.commit = snapshot.meta.index;
    this.applied = snapshot.meta.index;
    this.unstableFrom = snapshot.meta.index + 1;
    this.stableIndex = snapshot.meta.index;
  }

  /** Drop entries <= index (the app has a snapshot covering them). Requires index <= applied. */
  compact(index: number): void {
    if (index <= this.snapshotIndex) return;
    if (index > this.applied) throw new RaftAssertionError(`compact(${index}) beyond applied ${this.applied}`);
    const t = this.term(index);
    if (t === undefined) throw new RaftAssertionError(`compact(${index}): no term`);
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = t;
  }
}
