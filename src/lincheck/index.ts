/**
 * The lincheck package in one import: the checker, the models, the Jepsen
 * parsers, and `checkJepsenText` which parses and checks a history file's
 * text in one call (what the CLI and tests use).
 *
 * No I/O here: callers read files and own the clock.
 */
import { checkOperationsVerbose } from './checker.ts';
import { parseJepsenEtcdLog, parseJepsenKvEdn } from './jepsen.ts';
import { kvModel, registerModel } from './models.ts';
import type { CheckOptions, CheckResult } from './types.ts';

export { checkOperations, checkOperationsVerbose, describeOperation, MAX_MEMO_ENTRIES, SLICE_ITERATIONS } from './checker.ts';
export { parseJepsenEtcdLog, parseJepsenKvEdn } from './jepsen.ts';
export * from './models.ts';
export type * from './types.ts';

/** `etcd`: the jepsen-etcd register log; `kv`: the EDN key/value history. */
export type JepsenFormat = 'etcd' | 'kv';

export const JEPSEN_FORMATS: readonly JepsenFormat[] = ['etcd', 'kv'];

export interface TextCheck {
  readonly result: CheckResult;
  readonly ops: number;
  readonly partitions: number;
  /** The checker's one-paragraph explanation (why, when illegal). */
  readonly message: string;
}

/** Parses `text` in `format` and checks it with the matching model. Throws ValidationError on malformed text. */
export function checkJepsenText(format: JepsenFormat, text: string, opts?: CheckOptions): TextCheck {
  if (format === 'etcd') {
    const ops = parseJepsenEtcdLog(text);
    const v = checkOperationsVerbose(registerModel, ops, opts);
    return { result: v.result, ops: ops.length, partitions: v.partitions, message: v.message };
  }
  const ops = parseJepsenKvEdn(text);
  const v = checkOperationsVerbose(kvModel, ops, opts);
  return { result: v.result, ops: ops.length, partitions: v.partitions, message: v.message };
}
