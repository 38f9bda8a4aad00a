/**
 * Sequential specifications for the checker: a single register (Jepsen's etcd
 * test) and a string key/value store (put / append / get / cas per key).
 *
 * Invariants: `step` is pure (never mutates its state argument); `key` is
 * canonical — states that behave the same have the same key (an absent kv key
 * and a key holding '' are the same state). An unknown output (undefined)
 * accepts any result: a write/put/append takes effect, a cas swaps iff the
 * state holds `from`, a read/get changes nothing. "Never took effect" is
 * covered by the checker placing the op last.
 *
 * No I/O here.
 */
import type { Model, Operation, StepResult } from './types.ts';

// ---------- register ----------

export type RegisterInput = { op: 'read' } | { op: 'write'; value: number } | { op: 'cas'; from: number; to: number };
/** read: `{ value }`; write: `{ ok: true }`; cas: `{ ok }` = swapped or not. */
export type RegisterOutput = { value: number | null } | { ok: boolean };
export type RegisterState = number | null;

function describeRegisterValue(v: number | null): string {
  return v === null ? 'nil' : String(v);
}

function describeRegisterInput(input: RegisterInput): string {
  switch (input.op) {
    case 'read':
      return 'read()';
    case 'write':
      return `write(${input.value})`;
    case 'cas':
      return `cas(${input.from}, ${input.to})`;
  }
}

function describeOutput(output: { value: number | null } | { value: string } | { ok: boolean } | undefined): string {
  if (output === undefined) return '?';
  if ('ok' in output) return output.ok ? 'ok' : 'fail';
  return typeof output.value === 'string' ? JSON.stringify(output.value) : describeRegisterValue(output.value);
}

/** Whether a read's answer reports exactly `v` (a wrong-shaped answer is never legal). */
function reads<T>(output: { value: T } | { ok: boolean }, v: T): boolean {
  return 'value' in output && output.value === v;
}

export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = {
  init: () => null,
  step(state, input, output): StepResult<RegisterState> {
    switch (input.op) {
      case 'read':
        return { ok: output === undefined || reads(output, state), next: state };
      case 'write':
        // A write answered { ok: false } did not take effect.
        if (output !== undefined && 'ok' in output && !output.ok) return { ok: true, next: state };
        return { ok: output === undefined || 'ok' in output, next: input.value };
      case 'cas': {
        const holds = state === input.from;
        if (output === undefined) return { ok: true, next: holds ? input.to : state };
        if (!('ok' in output)) return { ok: false, next: state };
        return output.ok ? { ok: holds, next: input.to } : { ok: !holds, next: state };
      }
    }
  },
  key: (state) => describeRegisterValue(state),
  describeState: (state) => describeRegisterValue(state),
  describeOperation: (input, output) => `${describeRegisterInput(input)} -> ${describeOutput(output)}`,
};

// ---------- key/value ----------

export type KvInput =
  | { op: 'get'; key: string }
  | { op: 'put'; key: string; value: string }
  | { op: 'append'; key: string; value: string }
  | { op: 'cas'; key: string; from: string; to: string };
/** get: `{ value }` ('' when absent); put/append: `{ ok: true }`; cas: `{ ok }` = swapped or not. */
export type KvOutput = { value: string } | { ok: boolean };
/** Absent keys hold ''. */
export type KvState = ReadonlyMap<string, string>;

const emptyKv: KvState = new Map<string, string>();

function withKey(state: KvState, key: string, value: string): KvState {
  const next = new Map(state);
  next.set(key, value);
  return next;
}

function describeKvInput(input: KvInput): string {
  const k = JSON.stringify(input.key);
  switch (input.op) {
    case 'get':
      return `get(${k})`;
    case 'put':
      return `put(${k}, ${JSON.stringify(input.value)})`;
    case 'append':
      return `append(${k}, ${JSON.stringify(input.value)})`;
    case 'cas':
      return `cas(${k}, ${JSON.stringify(input.from)}, ${JSON.stringify(input.to)})`;
  }
}

/** Length-prefixed `<len>:<key><len>:<value>` per non-empty key, sorted: injective without escaping. */
function kvKey(state: KvState): string {
  let only = '';
  let parts: string[] | undefined;
  for (const [k, v] of state) {
    if (v === '') continue;
    const part = `${k.length}:${k}${v.length}:${v}`;
    if (only === '' && parts === undefined) only = part;
    else (parts ??= [only]).push(part);
  }
  return parts === undefined ? only : parts.sort().join('');
}

/** One sub-history per key, in order of first appearance. */
function partitionByKey(ops: readonly Operation<KvInput, KvOutput>[]): Operation<KvInput, KvOutput>[][] {
  const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
  for (const op of ops) {
    let list = byKey.get(op.input.key);
    if (list === undefined) {
      list = [];
      byKey.set(op.input.key, list);
    }
    list.push(op);
  }
  return [...byKey.values()];
}

function stepWrite(state: KvState, key: string, value: string, output: KvOutput | undefined): StepResult<KvState> {
  // A put/append answered { ok: false } did not take effect.
  if (output !== undefined && 'ok' in output && !output.ok) return { ok: true, next: state };
  return { ok: output === undefined || 'ok' in output, next: withKey(state, key, value) };
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => emptyKv,
  step(state, input, output): StepResult<KvState> {
    const current = state.get(input.key) ?? '';
    switch (input.op) {
      case 'get':
        return { ok: output === undefined || reads(output, current), next: state };
      case 'put':
        return stepWrite(state, input.key, input.value, output);
      case 'append':
        return stepWrite(state, input.key, current + input.value, output);
      case 'cas': {
        const holds = current === input.from;
        if (output === undefined) return { ok: true, next: holds ? withKey(state, input.key, input.to) : state };
        if (!('ok' in output)) return { ok: false, next: state };
        return output.ok ? { ok: holds, next: withKey(state, input.key, input.to) } : { ok: !holds, next: state };
      }
    }
  },
  partition: partitionByKey,
  key: kvKey,
  describeState: (state) => {
    const entries = [...state].filter(([, v]) => v !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;
  },
  describeOperation: (input, output) => `${describeKvInput(input)} -> ${describeOutput(output)}`,
};
