/**
 * The membership a node acts on, and its history since the latest snapshot.
 * Conf entries take effect when applied (see core.ts); `apply` skips entries
 * already reflected (idempotent on replay after restart), and `at(index)`
 * gives the conf to store in a snapshot taken at `index`.
 *
 * Invariants: history is ascending by index; its last element is `conf`;
 * appliedIndex is the index of the last conf entry reflected (or the base).
 * Pure: no I/O.
 */
import type { ConfChange, ConfState, Entry } from './types.ts';
import { applyConfChange, decodeConfChange } from './types.ts';

export class Membership {
  conf: ConfState;
  /** Conf entries with index <= appliedIndex are reflected in `conf`. */
  appliedIndex: number;
  private history: { index: number; conf: ConfState }[];

  constructor(conf: ConfState, index: number, before?: ConfState) {
    this.conf = conf;
    this.appliedIndex = index;
    this.history = before !== undefined ? [{ index: 0, conf: before }, { index, conf }] : [{ index, conf }];
  }

  /** Applies the conf entries among `entries` not yet reflected; calls onChange for each. */
  apply(entries: readonly Entry[], onChange: (cc: ConfChange) => void): void {
    for (const e of entries) {
      if (e.type !== 'conf' || e.index <= this.appliedIndex) continue;
      const cc = decodeConfChange(e.data);
      this.conf = applyConfChange(this.conf, cc);
      this.appliedIndex = e.index;
      this.history.push({ index: e.index, conf: this.conf });
      onChange(cc);
    }
  }

  /** The membership as of `index`. */
  at(index: number): ConfState {
    let conf = this.history[0].conf;
    for (const h of this.history) if (h.index <= index) conf = h.conf;
    return conf;
  }

  /** Forget history no snapshot at or after `index` can need. */
  prune(index: number): void {
    let keepFrom = 0;
    for (let k = 0; k < this.history.length; k++) if (this.history[k].index <= index) keepFrom = k;
    this.history = this.history.slice(keepFrom);
  }

  /** Replaced wholesale by a received snapshot. */
  restore(conf: ConfState, index: number): void {
    this.conf = conf;
    this.appliedIndex = index;
    this.history = [{ index, conf }];
  }
}
