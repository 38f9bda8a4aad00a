/**
 * The linearizability checker's public shapes: a history is a list of
 * `Operation`s (one per client call, with its call and return times), checked
 * against a sequential `Model`.
 *
 * Invariants the checker relies on (validated at its entry):
 *  * `call` is a finite number and `call <= ret`; `ret` is `Infinity` when
 *    the outcome is unknown (Jepsen `:info`), and then `output` is undefined.
 *  * Real-time order: operation A precedes B iff `A.ret < B.call`. Intervals
 *    are closed, so an operation returning at t and one called at the same t
 *    are CONCURRENT (either order is allowed). This is porcupine's rule
 *    (calls sort before returns at equal times) and the sound one for coarse
 *    clocks: it never reports a violation that finer timestamps could excuse.
 *  * `Model.step` is pure: it never mutates `state`, and equal `key()`s mean
 *    states that behave identically (the memo cache trusts that).
 *
 * No I/O here.
 */

export interface Operation<I, O> {
  readonly clientId: number;
  readonly input: I;
  /** undefined = outcome unknown (:info): the op may or may not take effect. */
  readonly output: O | undefined;
  /** Time the call started (any monotonic unit: ms, ticks, log line number). */
  readonly call: number;
  /** Time it returned; Infinity when unknown. */
  readonly ret: number;
}

export interface StepResult<S> {
  readonly ok: boolean;
  readonly next: S;
}

export interface Model<S, I, O> {
  init(): S;
  /** Whether `input` may produce `output` from `state`, and the next state. output undefined = unknown outcome: any result allowed. */
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /** Split a history into independent sub-histories (per key); optional. */
  partition?(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
  /** Canonical string of a state, for memoization. */
  key(state: S): string;
  describeOperation?(input: I, output: O | undefined): string;
  /** Readable state for failure messages; `key` is used when absent. */
  describeState?(state: S): string;
}

/** unknown = gave up (timeout). */
export type CheckResult = 'ok' | 'illegal' | 'unknown';

export interface CheckOptions {
  /** Give up and answer 'unknown' after this long (all partitions together). Default: no limit. */
  readonly timeoutMs?: number;
  /** Source of time for the timeout; default `Date.now`. */
  readonly nowMs?: () => number;
  /** Explored configurations one partition may hold before answering 'unknown' (memory bound); default `MAX_MEMO_ENTRIES`. */
  readonly maxExploredPerPartition?: number;
}

/** Why a history is not linearizable, in terms a reader can follow. */
export interface LinearizationFailure<I, O> {
  /** Index of the failing partition (sub-history) in `model.partition`'s answer; 0 when unpartitioned. */
  readonly partition: number;
  /** Operations in that partition. */
  readonly partitionSize: number;
  /** The longest legal linearization the search found, in order. */
  readonly longestPrefix: readonly Operation<I, O>[];
  /** The model state after `longestPrefix` (its `describeState`, else its `key`). */
  readonly stateAfterPrefix: string;
  /** An operation that had to be linearized next (its return had come) but no order allowed it. */
  readonly blocked: Operation<I, O>;
}

export interface VerboseCheckResult<I, O> {
  readonly result: CheckResult;
  /** Number of independent sub-histories checked. */
  readonly partitions: number;
  /** Set when result is 'illegal'. */
  readonly failure?: LinearizationFailure<I, O>;
  /** One readable paragraph: the verdict and, when illegal, why. */
  readonly message: string;
}
