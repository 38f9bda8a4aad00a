/**
 * Parsers for Jepsen histories into checker operations:
 *  * the jepsen-etcd log (`INFO  jepsen.util - <process>\t:<type>\t:<f>\t<value>`),
 *    one register;
 *  * the kv EDN history (`{:process P, :type :invoke, :f :get, :key "K", :value V}`).
 *
 * Rules (both formats): an invocation is matched with the next completion of
 * the same process; time is the event's line position, so no two events tie.
 * `:ok` = took effect with that result; `:fail` = completed without effect —
 * dropped for reads and writes, kept as `{ ok: false }` for a cas (the
 * register did not hold FROM: an observed outcome); `:info`, or no completion
 * at all = unknown outcome: output undefined, ret = Infinity (reads with an
 * unknown outcome constrain nothing and are dropped).
 *
 * Invariants: every malformed line is a `ValidationError` naming the line;
 * never a crash. No I/O here (callers read the files).
 */
import { ValidationError } from '../common/errors.ts';
import { Keyword, parseEdn, printEdn, type EdnMap, type EdnValue } from './edn.ts';
import type { KvInput, KvOutput, RegisterInput, RegisterOutput } from './models.ts';
import type { Operation } from './types.ts';

type Completion = 'ok' | 'fail' | 'info';

interface PendingCall<I> {
  readonly input: I;
  readonly call: number;
  /** Position in the output: operations come out in invocation order. */
  readonly slot: number;
}

/** Matches invocations with completions per process and emits operations in invocation order. */
class HistoryBuilder<I, O> {
  private readonly pending = new Map<number, PendingCall<I>>();
  private readonly slots: (Operation<I, O> | null)[] = [];

  constructor(private readonly isRead: (input: I) => boolean) {}

  invoke(process: number, input: I, time: number, where: string): void {
    if (this.pending.has(process)) {
      throw new ValidationError(where, `no new invocation while process ${process} has one outstanding`, 'an :invoke');
    }
    this.pending.set(process, { input, call: time, slot: this.slots.length });
    this.slots.push(null);
  }

  /** The outstanding call of `process` (left outstanding until `complete`). */
  outstanding(process: number, where: string): PendingCall<I> {
    const call = this.pending.get(process);
    if (call === undefined) throw new ValidationError(where, `an outstanding invocation for process ${process}`, 'a completion');
    return call;
  }

  complete(process: number, kind: Completion, output: O | undefined, time: number, where: string): void {
    const { input, call, slot } = this.outstanding(process, where);
    this.pending.delete(process);
    if (kind === 'ok' || (kind === 'fail' && output !== undefined)) {
      this.slots[slot] = { clientId: process, input, output, call, ret: time };
    } else if (kind === 'info' && !this.isRead(input)) {
      this.slots[slot] = { clientId: process, input, output: undefined, call, ret: Infinity };
    }
    // Otherwise dropped: a failed read/write, or a read with unknown outcome.
  }

  finish(): Operation<I, O>[] {
    for (const [process, call] of this.pending) {
      if (!this.isRead(call.input)) {
        this.slots[call.slot] = { clientId: process, input: call.input, output: undefined, call: call.call, ret: Infinity };
      }
    }
    this.pending.clear();
    return this.slots.filter((op): op is Operation<I, O> => op !== null);
  }
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function isKeyword(v: unknown, name?: string): v is Keyword {
  return v instanceof Keyword && (name === undefined || v.name === name);
}

function pairOf(v: EdnValue, where: string, isElem: (x: EdnValue) => boolean, what: string): [EdnValue, EdnValue] {
  if (!Array.isArray(v) || v.length !== 2 || !isElem(v[0]) || !isElem(v[1])) {
    throw new ValidationError(where, `[FROM TO] of ${what}`, printEdn(v));
  }
  return [v[0], v[1]];
}

// ---------- jepsen-etcd ----------

const ETCD_LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:([\w-]+)\s+:([\w-]+)\s+(.*?)\s*$/;

function etcdInput(f: string, value: EdnValue, where: string): RegisterInput {
  switch (f) {
    case 'read':
      return { op: 'read' };
    case 'write':
      if (!isInt(value)) throw new ValidationError(`${where} (write value)`, 'an integer', printEdn(value));
      return { op: 'write', value };
    case 'cas': {
      const [from, to] = pairOf(value, `${where} (cas value)`, isInt, 'integers');
      return { op: 'cas', from: from as number, to: to as number };
    }
    default:
      throw new ValidationError(`${where} (f)`, ':read, :write or :cas', `:${f}`);
  }
}

/** The output an etcd completion reports; undefined = nothing observed. */
function etcdOutput(kind: Completion, input: RegisterInput, value: EdnValue, where: string): RegisterOutput | undefined {
  if (kind === 'info') return undefined;
  if (input.op === 'read') {
    if (kind === 'fail') return undefined;
    if (value !== null && !isInt(value)) throw new ValidationError(`${where} (read value)`, 'nil or an integer', printEdn(value));
    return { value };
  }
  if (input.op === 'write') return kind === 'ok' ? { ok: true } : undefined;
  return { ok: kind === 'ok' };
}

/** Parses a jepsen-etcd log (one register). Blank lines are ignored. */
export function parseJepsenEtcdLog(text: string): Operation<RegisterInput, RegisterOutput>[] {
  const builder = new HistoryBuilder<RegisterInput, RegisterOutput>((i) => i.op === 'read');
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const where = `line ${i + 1}`;
    const m = ETCD_LINE.exec(lines[i]);
    if (m === null) throw new ValidationError(where, '"INFO  jepsen.util - <process> :<type> :<f> <value>"', JSON.stringify(lines[i].slice(0, 80)));
    const process = Number(m[1]);
    const [, , type, f, rawValue] = m;
    const value = parseEdn(rawValue, `${where} (value)`);
    if (type === 'invoke') {
      builder.invoke(process, etcdInput(f, value, where), i, where);
      continue;
    }
    if (type !== 'ok' && type !== 'fail' && type !== 'info') {
      throw new ValidationError(`${where} (type)`, ':invoke, :ok, :fail or :info', `:${type}`);
    }
    const call = builder.outstanding(process, where);
    if (call.input.op !== f) throw new ValidationError(`${where} (f)`, `:${call.input.op} (the invoked function)`, `:${f}`);
    checkEchoedArgument(call.input, type, value, where);
    builder.complete(process, type, etcdOutput(type, call.input, value, where), i, where);
  }
  return builder.finish();
}

/** A write/cas completion repeats the invoked argument (or says :timed-out); a mismatch means a mangled log. */
function checkEchoedArgument(input: RegisterInput, type: Completion, value: EdnValue, where: string): void {
  if (input.op === 'read' || isKeyword(value)) return;
  const expected = input.op === 'write' ? input.value : [input.from, input.to];
  if (printEdn(value) !== printEdn(expected)) {
    throw new ValidationError(`${where} (:${type} value)`, `${printEdn(expected)} as invoked`, printEdn(value));
  }
}

// ---------- kv EDN ----------

function field(map: EdnMap, name: string): EdnValue | undefined {
  return map.get(`:${name}`);
}

function kvString(v: EdnValue | undefined, where: string, what: string): string {
  if (typeof v === 'string') return v;
  if (isInt(v)) return String(v);
  throw new ValidationError(`${where} (${what})`, 'a string', v === undefined ? 'nothing' : printEdn(v));
}

function kvInput(f: string, key: string, value: EdnValue | undefined, where: string): KvInput {
  switch (f) {
    case 'get':
      return { op: 'get', key };
    case 'put':
    case 'append':
      return { op: f, key, value: kvString(value, where, ':value') };
    case 'cas': {
      const [from, to] = pairOf(value ?? null, `${where} (:value)`, (x) => typeof x === 'string', 'strings');
      return { op: 'cas', key, from: from as string, to: to as string };
    }
    default:
      throw new ValidationError(`${where} (:f)`, ':get, :put, :append or :cas', `:${f}`);
  }
}

function kvOutput(kind: Completion, input: KvInput, value: EdnValue | undefined, where: string): KvOutput | undefined {
  if (kind === 'info') return undefined;
  if (input.op === 'get') {
    if (kind === 'fail') return undefined;
    return { value: value === null || value === undefined ? '' : kvString(value, where, ':value') };
  }
  if (input.op === 'cas') return { ok: kind === 'ok' };
  return kind === 'ok' ? { ok: true } : undefined;
}

/** Parses a kv EDN history (one map a line; keys are independent string registers). Blank lines are ignored. */
export function parseJepsenKvEdn(text: string): Operation<KvInput, KvOutput>[] {
  const builder = new HistoryBuilder<KvInput, KvOutput>((i) => i.op === 'get');
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const where = `line ${i + 1}`;
    const form = parseEdn(lines[i], where);
    if (!(form instanceof Map)) throw new ValidationError(where, 'an EDN map {:process … :type … :f …}', printEdn(form));
    const process = field(form, 'process');
    const type = field(form, 'type');
    const f = field(form, 'f');
    if (!isInt(process) || process < 0) {
      throw new ValidationError(`${where} (:process)`, 'a non-negative integer', printEdn(process ?? null));
    }
    if (!isKeyword(type)) throw new ValidationError(`${where} (:type)`, 'a keyword', printEdn(type ?? null));
    if (!isKeyword(f)) throw new ValidationError(`${where} (:f)`, 'a keyword', printEdn(f ?? null));
    const p = process;
    const typeName = type.name;
    const fName = f.name;
    if (typeName === 'invoke') {
      const key = kvString(field(form, 'key'), where, ':key');
      builder.invoke(p, kvInput(fName, key, field(form, 'value'), where), i, where);
      continue;
    }
    if (typeName !== 'ok' && typeName !== 'fail' && typeName !== 'info') {
      throw new ValidationError(`${where} (:type)`, ':invoke, :ok, :fail or :info', `:${typeName}`);
    }
    const call = builder.outstanding(p, where);
    if (call.input.op !== fName) throw new ValidationError(`${where} (:f)`, `:${call.input.op} (the invoked function)`, `:${fName}`);
    builder.complete(p, typeName, kvOutput(typeName, call.input, field(form, 'value'), where), i, where);
  }
  return builder.finish();
}
