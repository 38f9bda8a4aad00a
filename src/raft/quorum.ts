/**
 * Majority maths over one voter set (no joint consensus: membership changes one
 * server at a time). Pure functions; `quorum.test.ts` checks them against a
 * brute-force reference.
 */
import type { NodeId } from './types.ts';

export type VoteOutcome = 'pending' | 'won' | 'lost';

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * Scratch for computeCommittedIndex: it runs on every acknowledgement and persist, and
 * `map(...).sort(...)` allocated ~1.7 KB there each time (a third of a leader's young-generation
 * garbage per write at 1 client). Reused, never escapes a call.
 */
const matchScratch: number[] = [];

/** The largest index that a majority of voters have matched (0 for no voters). */
export function computeCommittedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  const n = voters.length;
  if (n === 0) return 0;
  // Insertion sort, descending: voter sets are a handful of ids.
  for (let i = 0; i < n; i++) {
    const m = matchOf(voters[i] as NodeId);
    let j = i;
    while (j > 0 && (matchScratch[j - 1] as number) < m) {
      matchScratch[j] = matchScratch[j - 1] as number;
      j--;
    }
    matchScratch[j] = m;
  }
  return matchScratch[quorumSize(n) - 1] as number;
}

/** Outcome of an election given granted / rejected votes (absent = not answered yet). */
export function computeVoteOutcome(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  const q = quorumSize(voters.length);
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    const vote = votes.get(v);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  if (granted >= q) return 'won';
  if (voters.length - rejected < q) return 'lost';
  return 'pending';
}

/** Whether the acknowledging set contains a majority of voters. */
export function hasQuorum(voters: readonly NodeId[], acked: (id: NodeId) => boolean): boolean {
  let n = 0;
  for (const v of voters) if (acked(v)) n++;
  return n >= quorumSize(voters.length);
}
