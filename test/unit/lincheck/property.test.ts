/**
 * The checker against a deliberately simple reference on tiny random
 * histories (≤ 7 ops, seeded): the reference tries every permutation of the
 * ops (depth-first, dropping a branch as soon as it breaks real-time order or
 * the model), with no memo, no entry list and no partitions — the definition
 * of linearizability, read literally. Verdicts must agree on every history.
 *
 * Histories are generated legal by construction (each op takes effect at a
 * random point inside its interval, outputs taken from that sequential run),
 * then half of them get one output corrupted, so both verdicts show up often;
 * the test checks that they do.
 */
import { expect } from 'chai';
import { randomInt, SeededRandom, type Random } from '../../../src/common/random.ts';
import { checkOperations } from '../../../src/lincheck/checker.ts';
import {
  kvModel,
  registerModel,
  type KvInput,
  type KvOutput,
  type RegisterInput,
  type RegisterOutput,
} from '../../../src/lincheck/models.ts';
import type { Model, Operation } from '../../../src/lincheck/types.ts';

const SEED = 20261122;
const CASES_PER_MODEL = 400;
const MAX_OPS = 7;

/** Literal definition: some total order of all ops respects real time (a.ret < b.call ⇒ a first) and the model. */
function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): boolean {
  const used = new Array<boolean>(ops.length).fill(false);
  const search = (state: S, placed: number): boolean => {
    if (placed === ops.length) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      // ops[i] may go next only if no unplaced op finished before it was called.
      if (ops.some((o, j) => !used[j] && j !== i && o.ret < ops[i].call)) continue;
      const r = model.step(state, ops[i].input, ops[i].output);
      if (!r.ok) continue;
      used[i] = true;
      const found = search(r.next, placed + 1);
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(model.init(), 0);
}

interface Shape {
  readonly clientId: number;
  readonly call: number;
  readonly ret: number;
  /** When it "really" took effect, inside [call, ret]. */
  readonly at: number;
  readonly unknown: boolean;
}

function randomShapes(rng: Random, n: number): Shape[] {
  return Array.from({ length: n }, (_, clientId) => {
    const call = randomInt(rng, 0, 12);
    const ret = call + randomInt(rng, 0, 6);
    const unknown = rng.next() < 0.15;
    return { clientId, call, ret: unknown ? Infinity : ret, at: call + rng.next() * (ret - call), unknown };
  });
}

/** Runs the inputs in `at` order through the model to produce legal outputs. */
function legalHistory<S, I, O>(
  model: Model<S, I, O>,
  shapes: Shape[],
  inputs: I[],
  outputOf: (state: S, input: I) => O,
): Operation<I, O>[] {
  const order = shapes.map((_, i) => i).sort((a, b) => shapes[a].at - shapes[b].at);
  const outputs = new Array<O | undefined>(shapes.length);
  let state = model.init();
  for (const i of order) {
    const output = outputOf(state, inputs[i]);
    outputs[i] = shapes[i].unknown ? undefined : output;
    state = model.step(state, inputs[i], output).next;
  }
  return shapes.map((s, i) => ({ clientId: s.clientId, call: s.call, ret: s.ret, input: inputs[i], output: outputs[i] }));
}

function corruptOne<I, O>(rng: Random, ops: Operation<I, O>[], corrupt: (o: O) => O): Operation<I, O>[] {
  const known = ops.map((op, i) => i).filter((i) => ops[i].output !== undefined);
  if (known.length === 0) return ops;
  const victim = known[randomInt(rng, 0, known.length)];
  return ops.map((op, i) => (i === victim && op.output !== undefined ? { ...op, output: corrupt(op.output) } : op));
}

function randomRegisterHistory(rng: Random): Operation<RegisterInput, RegisterOutput>[] {
  const shapes = randomShapes(rng, randomInt(rng, 1, MAX_OPS + 1));
  const value = () => randomInt(rng, 1, 3);
  const inputs = shapes.map((s): RegisterInput => {
    const k = rng.next();
    if (k < 0.4 && !s.unknown) return { op: 'read' };
    if (k < 0.75) return { op: 'write', value: value() };
    return { op: 'cas', from: value(), to: value() };
  });
  const ops = legalHistory(registerModel, shapes, inputs, (state, input): RegisterOutput => {
    if (input.op === 'read') return { value: state };
    if (input.op === 'write') return { ok: true };
    return { ok: state === input.from };
  });
  if (rng.next() < 0.5) return ops;
  return corruptOne(rng, ops, (o) => ('ok' in o ? { ok: !o.ok } : { value: o.value === null ? 1 : o.value === 1 ? 2 : null }));
}

function randomKvHistory(rng: Random): Operation<KvInput, KvOutput>[] {
  const shapes = randomShapes(rng, randomInt(rng, 1, MAX_OPS + 1));
  const key = () => (rng.next() < 0.5 ? 'a' : 'b');
  const inputs = shapes.map((s): KvInput => {
    const k = rng.next();
    const letter = rng.next() < 0.5 ? 'x' : 'y';
    if (k < 0.4 && !s.unknown) return { op: 'get', key: key() };
    if (k < 0.6) return { op: 'put', key: key(), value: letter };
    if (k < 0.85) return { op: 'append', key: key(), value: letter };
    return { op: 'cas', key: key(), from: rng.next() < 0.5 ? '' : 'x', to: letter };
  });
  const ops = legalHistory(kvModel, shapes, inputs, (state, input): KvOutput => {
    const current = state.get(input.key) ?? '';
    if (input.op === 'get') return { value: current };
    if (input.op === 'cas') return { ok: current === input.from };
    return { ok: true };
  });
  if (rng.next() < 0.5) return ops;
  return corruptOne(rng, ops, (o) => ('ok' in o ? { ok: !o.ok } : { value: o.value === '' ? 'x' : o.value.slice(1) }));
}

function compareWithReference<S, I, O>(
  model: Model<S, I, O>,
  generate: (rng: Random) => Operation<I, O>[],
  seed: number,
): { ok: number; illegal: number } {
  const rng = new SeededRandom(seed);
  const counts = { ok: 0, illegal: 0 };
  for (let c = 0; c < CASES_PER_MODEL; c++) {
    const ops = generate(rng);
    const expected = bruteForceLinearizable(model, ops) ? 'ok' : 'illegal';
    const got = checkOperations(model, ops);
    if (got !== expected) {
      expect.fail(`seed ${seed} case ${c}: checker says ${got}, reference says ${expected} for ${JSON.stringify(ops, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v))}`);
    }
    counts[expected]++;
  }
  return counts;
}

describe('lincheck checker vs brute-force reference (seeded)', () => {
  it(`agrees on ${CASES_PER_MODEL} random register histories`, () => {
    const counts = compareWithReference(registerModel, randomRegisterHistory, SEED);
    // Not vacuous: both verdicts are well represented.
    expect(counts.ok).to.be.greaterThan(CASES_PER_MODEL / 5);
    expect(counts.illegal).to.be.greaterThan(CASES_PER_MODEL / 10);
  });

  it(`agrees on ${CASES_PER_MODEL} random two-key kv histories (partitioned checker vs whole-history reference)`, () => {
    const counts = compareWithReference(kvModel, randomKvHistory, SEED + 1);
    expect(counts.ok).to.be.greaterThan(CASES_PER_MODEL / 5);
    expect(counts.illegal).to.be.greaterThan(CASES_PER_MODEL / 10);
  });

  it('the reference itself agrees with hand-derived verdicts', () => {
    const w = (call: number, ret: number, value: number): Operation<RegisterInput, RegisterOutput> => ({
      clientId: 0,
      call,
      ret,
      input: { op: 'write', value },
      output: { ok: true },
    });
    const r = (call: number, ret: number, value: number | null): Operation<RegisterInput, RegisterOutput> => ({
      clientId: 1,
      call,
      ret,
      input: { op: 'read' },
      output: { value },
    });
    expect(bruteForceLinearizable(registerModel, [w(0, 1, 1), r(2, 3, 1)])).to.equal(true);
    expect(bruteForceLinearizable(registerModel, [w(0, 1, 1), r(2, 3, null)])).to.equal(false);
    expect(bruteForceLinearizable(registerModel, [w(0, 5, 1), r(5, 6, null)])).to.equal(true);
  });
});
