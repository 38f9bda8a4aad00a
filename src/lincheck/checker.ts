/**
 * Linearizability checker entry points. Splits a history into partitions
 * (linearizability is compositional, so independent keys are checked on
 * their own) and runs one `PartitionSearch` per partition, round-robin in
 * slices of `SLICE_ITERATIONS` — the single-threaded equivalent of
 * porcupine's parallel partitions: an easily refuted partition answers
 * 'illegal' without waiting for a hard one to finish.
 *
 * Verdicts: 'illegal' as soon as any partition is; 'ok' when all are;
 * 'unknown' when the timeout passes or a partition exceeds its memory
 * bound (`MAX_MEMO_ENTRIES` explored configurations) first — never a guess. Bad input (non-finite call,
 * ret < call) is a `ValidationError` naming `ops[i].field`.
 *
 * Pure: time comes from `opts.nowMs` (default Date.now); no I/O.
 */
import { ValidationError } from '../common/errors.ts';
import { PartitionSearch } from './search.ts';
import type {
  CheckOptions,
  CheckResult,
  LinearizationFailure,
  Model,
  Operation,
  VerboseCheckResult,
} from './types.ts';

/**
 * Explored configurations a partition may hold before the checker gives up
 * with 'unknown'. Each costs ~(ops/32 + 3) × 4 bytes in the memo plus its
 * interned state key; 4M keeps a pathological history to a few hundred MB
 * instead of exhausting the heap.
 */
export const MAX_MEMO_ENTRIES = 4_000_000;

/**
 * Search steps a partition runs before the next one gets a turn (~5–20 ms).
 * Also how often the clock and the memo bound are read.
 */
export const SLICE_ITERATIONS = 20_000;

/** Ops of the prefix shown in a failure message (the most recent ones). */
const MESSAGE_PREFIX_OPS = 6;

export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  opts?: CheckOptions,
): CheckResult {
  return runCheck(model, ops, opts ?? {}, false).result;
}

/** Like `checkOperations`, and on 'illegal' says which op could not be linearized after which prefix. */
export function checkOperationsVerbose<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  opts?: CheckOptions,
): VerboseCheckResult<I, O> {
  return runCheck(model, ops, opts ?? {}, true);
}

/** One line for an operation: the model's description plus who and when. */
export function describeOperation<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const what =
    model.describeOperation?.(op.input, op.output) ??
    `${JSON.stringify(op.input)} -> ${op.output === undefined ? '?' : JSON.stringify(op.output)}`;
  const ret = op.ret === Infinity ? '?' : String(op.ret);
  return `${what} [client ${op.clientId}, ${op.call}..${ret}]`;
}

// ---------- driver ----------

function validateOperations<I, O>(ops: readonly Operation<I, O>[]): void {
  if (!Array.isArray(ops)) throw new ValidationError('ops', 'an array of operations', typeof ops);
  ops.forEach((op: unknown, i) => {
    if (typeof op !== 'object' || op === null) throw new ValidationError(`ops[${i}]`, 'an operation object', String(op));
    const { call, ret } = op as { call?: unknown; ret?: unknown };
    if (typeof call !== 'number' || !Number.isFinite(call)) {
      throw new ValidationError(`ops[${i}].call`, 'a finite number', String(call));
    }
    if (typeof ret !== 'number' || Number.isNaN(ret) || ret < call) {
      throw new ValidationError(`ops[${i}].ret`, `a number >= call (${call}), or Infinity when unknown`, String(ret));
    }
  });
}

function runCheck<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  opts: CheckOptions,
  verbose: boolean,
): VerboseCheckResult<I, O> {
  validateOperations(ops);
  const nowMs = opts.nowMs ?? Date.now;
  const deadline = opts.timeoutMs === undefined ? Infinity : nowMs() + opts.timeoutMs;
  const maxExplored = opts.maxExploredPerPartition ?? MAX_MEMO_ENTRIES;
  const partitions = model.partition ? model.partition(ops) : [ops];
  const count = partitions.length;
  // Created on first turn and dropped when finished, so a history with many
  // small partitions never holds more than the unfinished searches in memory.
  const searches = new Array<PartitionSearch<S, I, O> | undefined>(count);
  let active = partitions.map((_, p) => p);
  let gaveUp = false;
  while (active.length > 0) {
    const stillRunning: number[] = [];
    for (const p of active) {
      const search = (searches[p] ??= new PartitionSearch(model, partitions[p], verbose));
      const status = search.run(SLICE_ITERATIONS);
      if (status === 'illegal') return illegalResult(model, partitions[p], p, count, search);
      if (status === 'running' && search.explored <= maxExplored) {
        stillRunning.push(p);
        continue;
      }
      if (status === 'running') gaveUp = true; // over the memory bound: this partition stays undecided
      searches[p] = undefined;
    }
    active = stillRunning;
    if (active.length > 0 && nowMs() > deadline) {
      gaveUp = true;
      break;
    }
  }
  return gaveUp
    ? { result: 'unknown', partitions: count, message: 'gave up: timeout or search bound reached' }
    : { result: 'ok', partitions: count, message: `linearizable (${ops.length} ops, ${count} partitions)` };
}

function illegalResult<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  partition: number,
  partitions: number,
  search: PartitionSearch<S, I, O>,
): VerboseCheckResult<I, O> {
  const dead = search.deadEnd;
  if (dead === undefined) return { result: 'illegal', partitions, message: 'not linearizable' };
  const failure: LinearizationFailure<I, O> = {
    partition,
    partitionSize: ops.length,
    longestPrefix: dead.prefix.map((i) => ops[i]),
    stateAfterPrefix: model.describeState?.(dead.state) ?? model.key(dead.state),
    blocked: ops[dead.blockedOp],
  };
  return { result: 'illegal', partitions, failure, message: describeFailure(model, failure) };
}

function describeFailure<S, I, O>(model: Model<S, I, O>, f: LinearizationFailure<I, O>): string {
  const shown = f.longestPrefix.slice(-MESSAGE_PREFIX_OPS);
  const omitted = f.longestPrefix.length - shown.length;
  const lines = [
    `not linearizable: partition ${f.partition} (${f.partitionSize} ops): after linearizing ${f.longestPrefix.length} ops ` +
      `(state ${f.stateAfterPrefix}), no order admits ${describeOperation(model, f.blocked)}`,
    `  longest linearization${omitted > 0 ? ` (last ${shown.length} of ${f.longestPrefix.length})` : ''}:`,
    ...shown.map((op) => `    ${describeOperation(model, op)}`),
  ];
  return lines.join('\n');
}
