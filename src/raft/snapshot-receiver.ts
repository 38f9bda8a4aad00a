/**
 * A follower's assembly of a snapshot arriving in InstallSnapshot chunks.
 * Chunks must arrive in order; offset 0 (re)starts an assembly; anything else
 * out of place is answered with the offset we want next, so the leader resends.
 *
 * Invariant: `bytes` = total length of `chunks`, all for one (index, term).
 * Pure: no I/O.
 */
import type { InstallSnapshotMessage } from './types.ts';

export type ChunkOutcome =
  | { readonly kind: 'want'; readonly offset: number }
  | { readonly kind: 'complete'; readonly data: Uint8Array };

interface Assembly {
  readonly index: number;
  readonly term: number;
  readonly chunks: Uint8Array[];
  bytes: number;
}

export class SnapshotReceiver {
  private current: Assembly | undefined;

  accept(m: InstallSnapshotMessage): ChunkOutcome {
    if (m.offset === 0) this.current = { index: m.meta.index, term: m.meta.term, chunks: [], bytes: 0 };
    const cur = this.current;
    const same = cur !== undefined && cur.index === m.meta.index && cur.term === m.meta.term;
    if (!same) return { kind: 'want', offset: 0 };
    if (m.offset !== cur.bytes) return { kind: 'want', offset: cur.bytes };
    cur.chunks.push(m.chunk);
    cur.bytes += m.chunk.length;
    if (!m.done) return { kind: 'want', offset: cur.bytes };
    this.current = undefined;
    const data = new Uint8Array(cur.bytes);
    let at = 0;
    for (const c of cur.chunks) {
      data.set(c, at);
      at += c.length;
    }
    return { kind: 'complete', data };
  }

  clear(): void {
    this.current = undefined;
  }
}
