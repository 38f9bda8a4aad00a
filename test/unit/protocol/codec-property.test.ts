/**
 * Property: whatever bytes arrive, the decoders either return a canonical
 * message (which then re-encodes and decodes to itself) or throw a
 * CygnetError — never a TypeError, RangeError or anything else that would
 * become a 500 or a crash. Inputs are the fixtures, mutated structurally
 * (values swapped for hostile ones, keys dropped/added) and byte-wise (bit
 * flips, insertions, deletions, truncation). Seeded: a failure prints the
 * seed and iteration that replay it.
 */

import { expect } from 'chai';
import { CygnetError } from '../../../src/common/errors.ts';
import { SeededRandom, randomInt } from '../../../src/common/random.ts';
import type { Random } from '../../../src/common/random.ts';
import { decodeJson, decodeProtobuf, encodeJson, encodeProtobuf } from '../../../src/protocol/codec.ts';
import type { MessageName } from '../../../src/protocol/codec.ts';
import { samples } from './fixtures.ts';

const SEED = 20261122;
const ITERATIONS = 2000;

const HOSTILE: readonly unknown[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  -(2 ** 63),
  1e308,
  '',
  '18446744073709551615',
  '-5',
  'TASK_RUNNING',
  'SUBSCRIBE',
  'AAEC',
  '!!',
  true,
  [],
  [null],
  [1, 'a', {}],
  {},
  { value: 7 },
  { value: 'x' },
  { __proto__: { polluted: true } },
  { constructor: 'x', toString: 1, hasOwnProperty: 2 },
];

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[randomInt(rng, 0, items.length)];
}

/** A deep copy with one random mutation somewhere in the tree. */
function mutateTree(rng: Random, value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rng.next() < 0.2) return rng.next() < 0.5 ? pick(rng, HOSTILE) : [...value, pick(rng, HOSTILE)];
    const i = randomInt(rng, 0, value.length);
    return value.map((v, j) => (j === i ? mutateTree(rng, v, depth + 1) : v));
  }
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    const roll = rng.next();
    if (keys.length === 0 || roll < 0.1) return { ...value, [pick(rng, ['type', 'value', 'junk', 'state', 'uuid', '__proto__'])]: pick(rng, HOSTILE) };
    const key = pick(rng, keys);
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    if (roll < 0.25) delete copy[key];
    else if (roll < 0.45 || depth > 12) copy[key] = pick(rng, HOSTILE);
    else copy[key] = mutateTree(rng, copy[key], depth + 1);
    return copy;
  }
  return pick(rng, HOSTILE);
}

function mutateBytes(rng: Random, input: Uint8Array): Uint8Array {
  const bytes = Array.from(input);
  const edits = randomInt(rng, 1, 4);
  for (let e = 0; e < edits; e++) {
    const roll = rng.next();
    const at = randomInt(rng, 0, bytes.length + 1);
    if (roll < 0.35 && bytes.length > 0) bytes[at % bytes.length] ^= 1 << randomInt(rng, 0, 8);
    else if (roll < 0.55) bytes.splice(at, 0, randomInt(rng, 0, 256));
    else if (roll < 0.7) bytes.splice(at, randomInt(rng, 1, 8));
    else if (roll < 0.85) bytes.length = Math.min(bytes.length, at);
    else bytes.splice(at, 0, ...Array.from({ length: randomInt(rng, 1, 16) }, () => randomInt(rng, 0, 256)));
  }
  return Uint8Array.from(bytes);
}

/** Runs one decode; returns what it decoded or undefined if it threw a CygnetError. Anything else fails the test. */
function decodeOrCygnet(what: string, decode: () => object): object | undefined {
  try {
    return decode();
  } catch (err) {
    if (!(err instanceof CygnetError)) {
      throw new Error(`${what}: threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} instead of a CygnetError`, {
        cause: err,
      });
    }
    expect(err.httpStatus, what).to.equal(400);
    return undefined;
  }
}

function assertStable(what: string, name: MessageName, decoded: object): void {
  expect(decodeJson(name, encodeJson(name, decoded)), `${what} (JSON)`).to.deep.equal(decoded);
  expect(decodeProtobuf(name, encodeProtobuf(name, decoded)), `${what} (protobuf)`).to.deep.equal(decoded);
}

describe('protocol/codec property: only CygnetError, whatever the body', () => {
  it(`decodeJson on ${ITERATIONS} structurally mutated bodies (seed ${SEED})`, () => {
    const rng = new SeededRandom(SEED);
    let accepted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const [name, msg] = pick(rng, samples);
      const body = JSON.stringify(mutateTree(rng, mutateTree(rng, msg)));
      const what = `seed ${SEED} iteration ${i} ${name} ${body.slice(0, 200)}`;
      const decoded = decodeOrCygnet(what, () => decodeJson<object>(name, body));
      if (decoded !== undefined) {
        accepted++;
        assertStable(what, name, decoded);
      }
    }
    // Both outcomes must be exercised for the property to mean anything.
    expect(accepted).to.be.greaterThan(ITERATIONS / 20);
    expect(accepted).to.be.lessThan(ITERATIONS);
  });

  it(`decodeJson on ${ITERATIONS} byte-mutated JSON texts (seed ${SEED + 1})`, () => {
    const rng = new SeededRandom(SEED + 1);
    for (let i = 0; i < ITERATIONS; i++) {
      const [name, msg] = pick(rng, samples);
      const body = mutateBytes(rng, Buffer.from(encodeJson(name, msg)));
      const what = `seed ${SEED + 1} iteration ${i} ${name}`;
      const decoded = decodeOrCygnet(what, () => decodeJson<object>(name, body));
      if (decoded !== undefined) assertStable(what, name, decoded);
    }
  });

  it(`decodeProtobuf on ${ITERATIONS} byte-mutated bodies (seed ${SEED + 2})`, () => {
    const rng = new SeededRandom(SEED + 2);
    let accepted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const [name, msg] = pick(rng, samples);
      const body = mutateBytes(rng, encodeProtobuf(name, msg));
      const what = `seed ${SEED + 2} iteration ${i} ${name} ${Buffer.from(body).toString('hex').slice(0, 200)}`;
      const decoded = decodeOrCygnet(what, () => decodeProtobuf<object>(name, body));
      if (decoded !== undefined) {
        accepted++;
        assertStable(what, name, decoded);
      }
    }
    expect(accepted).to.be.greaterThan(ITERATIONS / 20);
  });

  it(`decodeProtobuf on ${ITERATIONS} random byte strings (seed ${SEED + 3})`, () => {
    const rng = new SeededRandom(SEED + 3);
    for (let i = 0; i < ITERATIONS; i++) {
      const [name] = pick(rng, samples);
      const body = Uint8Array.from({ length: randomInt(rng, 0, 64) }, () => randomInt(rng, 0, 256));
      decodeOrCygnet(`seed ${SEED + 3} iteration ${i} ${name} ${Buffer.from(body).toString('hex')}`, () => decodeProtobuf<object>(name, body));
    }
  });
});
