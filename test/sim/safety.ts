/**
 * Raft's safety properties (paper Figure 3), checked while the simulation runs:
 *  - election safety: at most one leader per term;
 *  - leader completeness: a new leader of term t holds every entry committed in a term < t;
 *  - state-machine safety: no two nodes apply different entries at one index;
 *  - log matching: two logs with an entry of equal index and term agree on all entries up to it.
 * Each check throws SafetyViolation naming the property and the evidence.
 */
import type { Entry, NodeId } from '../../src/raft/types.ts';
import type { CoreView } from '../../src/raft/node.ts';

export class SafetyViolation extends Error {}

function entryKey(e: Entry): string {
  let h = 0;
  for (const b of e.data) h = (Math.imul(h, 31) + b) | 0;
  return `${e.term}/${e.type}/${e.data.length}/${h}`;
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** index -> (term, key) of the entry applied there (first applier wins; others must agree). */
  readonly appliedAt = new Map<number, { term: number; key: string }>();
  /** index -> lowest leader term in which it was seen committed. */
  private readonly committedInTerm = new Map<number, number>();
  private readonly termCommitSeen = new Map<NodeId, { term: number; commit: number }>();
  private readonly wasLeader = new Map<NodeId, number>();

  /**
   * Call after every event with every live core; returns the number of leaders elected so
   * far and the current leaders as `id@term` (reading each core's status once).
   */
  observe(cores: readonly CoreView[]): { elections: number; leaders: string } {
    let leaders = '';
    for (const c of cores) {
      const s = c.status;
      if (s.role !== 'leader') {
        this.wasLeader.delete(c.id);
        continue;
      }
      leaders += `${leaders === '' ? '' : ','}${c.id}@${s.term}`;
      const known = this.leaderOfTerm.get(s.term);
      if (known !== undefined && known !== c.id) {
        throw new SafetyViolation(`election safety: nodes ${known} and ${c.id} both leader in term ${s.term}`);
      }
      this.leaderOfTerm.set(s.term, c.id);
      if (this.wasLeader.get(c.id) !== s.term) {
        this.wasLeader.set(c.id, s.term);
        this.checkLeaderCompleteness(c);
      }
      const seen = this.termCommitSeen.get(c.id);
      const from = seen !== undefined && seen.term === s.term ? seen.commit : 0;
      for (let i = Math.max(from + 1, s.firstIndex - 1); i <= s.commit; i++) {
        if (!this.committedInTerm.has(i)) this.committedInTerm.set(i, s.term);
      }
      this.termCommitSeen.set(c.id, { term: s.term, commit: s.commit });
    }
    return { elections: this.leaderOfTerm.size, leaders };
  }

  private checkLeaderCompleteness(c: CoreView): void {
    const s = c.status;
    for (const [index, term] of this.committedInTerm) {
      if (term >= s.term || index < s.firstIndex) continue;
      const applied = this.appliedAt.get(index);
      const have = c.logTerm(index);
      if (have === undefined) {
        throw new SafetyViolation(`leader completeness: leader ${c.id} of term ${s.term} lacks index ${index} committed in term ${term} (last ${s.lastIndex})`);
      }
      if (applied !== undefined && applied.term !== have) {
        throw new SafetyViolation(`leader completeness: leader ${c.id} of term ${s.term} has term ${have} at ${index}, committed term ${applied.term}`);
      }
    }
  }

  onApply(node: NodeId, e: Entry): void {
    const key = entryKey(e);
    const prev = this.appliedAt.get(e.index);
    if (prev === undefined) this.appliedAt.set(e.index, { term: e.term, key });
    else if (prev.key !== key) {
      throw new SafetyViolation(`state-machine safety: node ${node} applied ${key} at ${e.index}, another node applied ${prev.key}`);
    }
  }

  /** Log matching across all pairs (O(nodes² · log)); run periodically and at the end. */
  checkLogMatching(cores: readonly CoreView[]): void {
    for (let a = 0; a < cores.length; a++) {
      for (let b = a + 1; b < cores.length; b++) this.checkPair(cores[a], cores[b]);
    }
  }

  private checkPair(x: CoreView, y: CoreView): void {
    const sx = x.status;
    const sy = y.status;
    const lo = Math.max(sx.firstIndex, sy.firstIndex);
    const hi = Math.min(sx.lastIndex, sy.lastIndex);
    let agreeFrom = -1;
    for (let i = hi; i >= lo; i--) {
      if (x.logTerm(i) === y.logTerm(i)) {
        agreeFrom = i;
        break;
      }
    }
    for (let i = lo; i <= agreeFrom; i++) {
      const ex = x.logEntry(i);
      const ey = y.logEntry(i);
      if (ex === undefined || ey === undefined) continue;
      if (entryKey(ex) !== entryKey(ey)) {
        throw new SafetyViolation(`log matching: nodes ${x.id} and ${y.id} agree at ${agreeFrom} (term ${x.logTerm(agreeFrom)}) but differ at ${i}: ${entryKey(ex)} vs ${entryKey(ey)}`);
      }
    }
  }
}
