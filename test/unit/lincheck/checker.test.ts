/**
 * The checker on small hand-made histories whose verdicts follow from the
 * definition: sequential, overlapping, stale reads, lost writes, unknown
 * outcomes taking effect late or never, cas, the equal-time tie rule,
 * per-key partitions, timeouts and bad input.
 */
import { expect } from 'chai';
import { ValidationError } from '../../../src/common/errors.ts';
import { checkOperations, checkOperationsVerbose, SLICE_ITERATIONS } from '../../../src/lincheck/checker.ts';
import {
  kvModel,
  registerModel,
  type KvInput,
  type KvOutput,
  type RegisterInput,
  type RegisterOutput,
} from '../../../src/lincheck/models.ts';
import type { Operation } from '../../../src/lincheck/types.ts';

type RegOp = Operation<RegisterInput, RegisterOutput>;
type KvOp = Operation<KvInput, KvOutput>;

const w = (clientId: number, call: number, ret: number, value: number): RegOp => ({
  clientId,
  call,
  ret,
  input: { op: 'write', value },
  output: { ok: true },
});
const r = (clientId: number, call: number, ret: number, value: number | null): RegOp => ({
  clientId,
  call,
  ret,
  input: { op: 'read' },
  output: { value },
});
const cas = (clientId: number, call: number, ret: number, from: number, to: number, ok: boolean): RegOp => ({
  clientId,
  call,
  ret,
  input: { op: 'cas', from, to },
  output: { ok },
});
/** A write whose outcome is unknown (Jepsen :info): it may take effect any time after `call`, or never. */
const wInfo = (clientId: number, call: number, value: number): RegOp => ({
  clientId,
  call,
  ret: Infinity,
  input: { op: 'write', value },
  output: undefined,
});

const reg = (ops: RegOp[]) => checkOperations(registerModel, ops);

describe('lincheck checker: register histories', () => {
  it('accepts the empty history', () => {
    expect(reg([])).to.equal('ok');
  });

  it('accepts a sequential history and rejects a sequential stale read', () => {
    expect(reg([w(0, 0, 1, 1), r(1, 2, 3, 1), w(0, 4, 5, 2), r(1, 6, 7, 2)])).to.equal('ok');
    expect(reg([w(0, 0, 1, 1), w(0, 2, 3, 2), r(1, 4, 5, 1)])).to.equal('illegal');
  });

  it('reads nil before any write', () => {
    expect(reg([r(0, 0, 1, null), w(1, 2, 3, 7), r(0, 4, 5, 7)])).to.equal('ok');
    expect(reg([r(0, 0, 1, 7), w(1, 2, 3, 7)])).to.equal('illegal');
  });

  it('lets overlapping operations take effect in either order', () => {
    // write(1) spans both reads: nil-then-1 is fine in either read order allowed by real time.
    expect(reg([w(0, 0, 10, 1), r(1, 1, 4, null), r(2, 2, 3, 1)])).to.equal('ok');
    // Two concurrent writes; a later read may see either.
    expect(reg([w(0, 0, 5, 1), w(1, 1, 6, 2), r(2, 7, 8, 1)])).to.equal('ok');
    expect(reg([w(0, 0, 5, 1), w(1, 1, 6, 2), r(2, 7, 8, 2)])).to.equal('ok');
  });

  it('rejects a new-then-old read pair during a write (stale read)', () => {
    // Once a read has returned 1, a read that starts afterwards cannot see nil.
    expect(reg([w(0, 0, 10, 1), r(1, 1, 2, 1), r(2, 3, 4, null)])).to.equal('illegal');
  });

  it('rejects a lost acknowledged write', () => {
    expect(reg([w(0, 0, 1, 1), r(1, 2, 3, null)])).to.equal('illegal');
    expect(reg([w(0, 0, 1, 1), w(1, 2, 3, 2), r(2, 4, 5, 2), r(2, 6, 7, 1)])).to.equal('illegal');
  });

  it('lets an unknown-outcome write take effect late', () => {
    expect(reg([wInfo(0, 0, 5), r(1, 1, 2, null), r(1, 3, 4, null), r(1, 5, 6, 5), r(1, 7, 8, 5)])).to.equal('ok');
  });

  it('lets an unknown-outcome write never take effect', () => {
    expect(reg([w(1, 0, 1, 3), wInfo(0, 2, 5), r(1, 3, 4, 3), r(1, 50, 51, 3)])).to.equal('ok');
  });

  it('still rejects what no placement of an unknown-outcome write explains', () => {
    // Once visible, it cannot be undone.
    expect(reg([wInfo(0, 0, 5), r(1, 1, 2, 5), r(1, 3, 4, null)])).to.equal('illegal');
    // It cannot take effect before it was called.
    expect(reg([r(1, 0, 1, 5), wInfo(0, 2, 5)])).to.equal('illegal');
  });

  it('checks cas: swapped only from FROM, failed only when the register held something else', () => {
    expect(reg([w(0, 0, 1, 1), cas(1, 2, 3, 1, 2, true), r(0, 4, 5, 2)])).to.equal('ok');
    expect(reg([w(0, 0, 1, 0), cas(1, 2, 3, 1, 2, true)])).to.equal('illegal');
    expect(reg([w(0, 0, 1, 1), cas(1, 2, 3, 1, 2, false)])).to.equal('illegal');
    expect(reg([w(0, 0, 1, 3), cas(1, 2, 3, 1, 2, false), r(0, 4, 5, 3)])).to.equal('ok');
    // Failed cas concurrent with the write that made FROM true: it may have run first.
    expect(reg([w(0, 0, 4, 1), cas(1, 1, 3, 1, 2, false), r(0, 5, 6, 1)])).to.equal('ok');
  });

  it('treats an unknown-outcome cas as swapping iff the register held FROM when it took effect', () => {
    const casInfo: RegOp = { clientId: 2, call: 2, ret: Infinity, input: { op: 'cas', from: 1, to: 9 }, output: undefined };
    expect(reg([w(0, 0, 1, 1), casInfo, r(1, 3, 4, 9)])).to.equal('ok');
    expect(reg([w(0, 0, 1, 1), casInfo, r(1, 3, 4, 1)])).to.equal('ok');
    expect(reg([w(0, 0, 1, 2), casInfo, r(1, 3, 4, 9)])).to.equal('illegal');
  });

  it('treats closed intervals that touch as concurrent (a return at t does not precede a call at t)', () => {
    expect(reg([w(0, 0, 5, 1), r(1, 5, 6, null)])).to.equal('ok');
    expect(reg([w(0, 0, 5, 1), r(1, 6, 7, null)])).to.equal('illegal');
  });

  it('explains an illegal history: the blocked operation and the longest prefix', () => {
    const stale = r(2, 4, 5, 1);
    const ops = [w(0, 0, 1, 1), w(1, 2, 3, 2), stale];
    const v = checkOperationsVerbose(registerModel, ops);
    expect(v.result).to.equal('illegal');
    expect(v.failure?.blocked).to.equal(stale);
    expect(v.failure?.longestPrefix).to.deep.equal([ops[0], ops[1]]);
    expect(v.failure?.stateAfterPrefix).to.equal('2');
    expect(v.message).to.contain('no order admits read() -> 1 [client 2, 4..5]');
  });

  it('answers ok verbosely without a failure', () => {
    const v = checkOperationsVerbose(registerModel, [w(0, 0, 1, 1), r(1, 2, 3, 1)]);
    expect(v).to.include({ result: 'ok', partitions: 1 });
    expect(v.failure).to.equal(undefined);
  });

  it('gives up with unknown when the timeout passes (injected clock)', () => {
    // 24 concurrent writes then a read of a value never written: illegal, but only
    // after exploring ~2^24 subsets — far more than one slice of the search.
    const ops: RegOp[] = Array.from({ length: 24 }, (_, i) => w(i, 0, 100, i));
    ops.push(r(99, 101, 102, 1000));
    let now = 0;
    const nowMs = () => (now += 1000);
    expect(checkOperations(registerModel, ops, { timeoutMs: 500, nowMs })).to.equal('unknown');
    expect(SLICE_ITERATIONS).to.be.lessThan(2 ** 24);
  });

  it('gives up with unknown when a partition exceeds its memory bound', () => {
    const ops: RegOp[] = Array.from({ length: 24 }, (_, i) => w(i, 0, 100, i));
    ops.push(r(99, 101, 102, 1000));
    expect(checkOperations(registerModel, ops, { maxExploredPerPartition: 1000 })).to.equal('unknown');
  });

  it('rejects malformed operations with the field path', () => {
    const bad = [w(0, 0, 1, 1), { ...r(1, 5, 4, 1) }];
    expect(() => reg(bad)).to.throw(ValidationError, 'ops[1].ret: expected a number >= call (5)');
    expect(() => reg([{ ...w(0, 0, 1, 1), call: Number.NaN }])).to.throw(ValidationError, 'ops[0].call');
  });
});

const put = (clientId: number, call: number, ret: number, key: string, value: string): KvOp => ({
  clientId,
  call,
  ret,
  input: { op: 'put', key, value },
  output: { ok: true },
});
const append = (clientId: number, call: number, ret: number, key: string, value: string): KvOp => ({
  clientId,
  call,
  ret,
  input: { op: 'append', key, value },
  output: { ok: true },
});
const get = (clientId: number, call: number, ret: number, key: string, value: string): KvOp => ({
  clientId,
  call,
  ret,
  input: { op: 'get', key },
  output: { value },
});

describe('lincheck checker: kv histories', () => {
  it('reads absent keys as the empty string', () => {
    expect(checkOperations(kvModel, [get(0, 0, 1, 'a', ''), put(0, 2, 3, 'a', 'x'), get(1, 4, 5, 'a', 'x')])).to.equal('ok');
  });

  it('orders concurrent appends either way, but never loses or duplicates one', () => {
    const base = [append(0, 0, 5, 'k', 'x'), append(1, 1, 6, 'k', 'y')];
    expect(checkOperations(kvModel, [...base, get(2, 7, 8, 'k', 'xy')])).to.equal('ok');
    expect(checkOperations(kvModel, [...base, get(2, 7, 8, 'k', 'yx')])).to.equal('ok');
    expect(checkOperations(kvModel, [...base, get(2, 7, 8, 'k', 'x')])).to.equal('illegal');
    expect(checkOperations(kvModel, [...base, get(2, 7, 8, 'k', 'xx')])).to.equal('illegal');
  });

  it('checks keys independently and names the failing partition', () => {
    const stale = get(3, 6, 7, 'b', '1');
    const ops = [put(0, 0, 1, 'a', '1'), put(1, 0, 1, 'b', '1'), get(2, 2, 3, 'a', '1'), put(1, 4, 5, 'b', '2'), stale];
    const v = checkOperationsVerbose(kvModel, ops);
    expect(v.result).to.equal('illegal');
    expect(v.partitions).to.equal(2);
    expect(v.failure?.partition).to.equal(1);
    expect(v.failure?.blocked).to.equal(stale);
    expect(v.failure?.stateAfterPrefix).to.equal('{"b": "2"}');
    expect(checkOperations(kvModel, ops.slice(0, 4))).to.equal('ok');
  });

  it('finds an easily refuted key without waiting for a hard one (partitions take turns)', () => {
    // Key "hard": 24 concurrent puts, then a get of a value never put — refuting it
    // means exploring ~2^24 orders. Key "easy" holds a lost write. Checked one key
    // after the other this would run for minutes; taking turns, "easy" answers at once.
    const hard = Array.from({ length: 24 }, (_, i) => put(i, 0, 100, 'hard', String(i)));
    const ops = [...hard, get(99, 101, 102, 'hard', 'never'), put(0, 200, 201, 'easy', 'x'), get(1, 202, 203, 'easy', '')];
    // A clock that jumps 1 s per read with a 1.5 s budget: only the first turns fit.
    let now = 0;
    const v = checkOperationsVerbose(kvModel, ops, { timeoutMs: 1500, nowMs: () => (now += 1000) });
    expect(v.result).to.equal('illegal');
    expect(v.failure?.partition).to.equal(1);
    expect(v.failure?.blocked.input).to.deep.equal({ op: 'get', key: 'easy' });
  });

  it('checks thousands of small partitions', () => {
    const ops = Array.from({ length: 5000 }, (_, i) => [put(0, 4 * i, 4 * i + 1, `k${i}`, 'v'), get(1, 4 * i + 2, 4 * i + 3, `k${i}`, 'v')]).flat();
    expect(checkOperationsVerbose(kvModel, ops)).to.include({ result: 'ok', partitions: 5000 });
  });

  it('checks kv cas', () => {
    const kcas = (call: number, from: string, to: string, ok: boolean): KvOp => ({
      clientId: 1,
      call,
      ret: call + 1,
      input: { op: 'cas', key: 'k', from, to },
      output: { ok },
    });
    expect(checkOperations(kvModel, [put(0, 0, 1, 'k', 'a'), kcas(2, 'a', 'b', true), get(0, 4, 5, 'k', 'b')])).to.equal('ok');
    expect(checkOperations(kvModel, [put(0, 0, 1, 'k', 'a'), kcas(2, 'z', 'b', true)])).to.equal('illegal');
    expect(checkOperations(kvModel, [kcas(0, '', 'b', false)])).to.equal('illegal');
    expect(checkOperations(kvModel, [kcas(0, 'q', 'b', false), get(0, 2, 3, 'k', '')])).to.equal('ok');
  });
});
