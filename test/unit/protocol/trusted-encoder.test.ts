/**
 * The trusted encoder writes exactly the bytes of the validating codec:
 * for messages generated from the protos' own reflection (every field type,
 * edge values, enum numbers, int64 strings, nulls, empty arrays, unknown
 * keys, keys in any order, shared sealed sub-objects and mutated unsealed
 * ones), `encodeTrustedJson` equals `encodeJson` and `encodeTrustedProtobuf`
 * equals `encodeProtobuf`. Seeded: a failure names the seed and iteration.
 */

import { expect } from 'chai';
import type protobuf from 'protobufjs';
import { SeededRandom, randomInt } from '../../../src/common/random.ts';
import type { Random } from '../../../src/common/random.ts';
import { encodeJson, encodeProtobuf } from '../../../src/protocol/codec.ts';
import type { MessageName } from '../../../src/protocol/codec.ts';
import { messageType } from '../../../src/protocol/proto-registry.ts';
import { encodeRecord } from '../../../src/protocol/recordio.ts';
import { encodeTrustedJson, encodeTrustedProtobuf, encodeTrustedRecord, sealForReuse } from '../../../src/protocol/trusted-encoder.ts';
import { offer, samples } from './fixtures.ts';

const SEED = 20261206;
const ITERATIONS = 600;
/** Optional sub-messages are generated down to this depth (required ones always). */
const MAX_DEPTH = 5;

const NAMES: readonly MessageName[] = ['mesos.v1.scheduler.Event', 'cygnet.agent.Event', 'mesos.v1.executor.Event', 'mesos.v1.Offer', 'mesos.v1.TaskStatus', 'mesos.v1.TaskInfo'];

const STRINGS = ['', 'a', 'web-1', 'x'.repeat(100), '\u2028\u007f', 'é'.repeat(70), 'ünïcødé ✓', 'quote " and \\ backslash', 'line\nbreak\ttab', '\u0000\u001f', '\ud83d\ude00', '\ud800 lone'];
const DOUBLES = [0, -0, 1, -1, 0.5, 16, 65536, 1e-7, 1.7976931348623157e308, 5e-324, 123.456];
const INT32 = [0, -0, 1, -1, 2147483647, -2147483648, 5050];
const UINT32 = [0, 1, 4294967295, 0x7f000001];
const INT64 = [0, -0, 1, -1, 2 ** 53, 2 ** 53 + 2, 1.8e18, 2 ** 63, -(2 ** 63), '9223372036854775807', '-9223372036854775808', '12345678901234567', '0'];
const UINT64 = [0, 1, 2 ** 53, 1.8e18, 2 ** 63, 2 ** 64, '18446744073709551615', '9223372036854775808', '42'];
const BYTES = ['', 'AA==', 'AAE', 'AAEC', Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64'), 'AAF'];

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[randomInt(rng, 0, items.length)];
}

function scalar(rng: Random, field: protobuf.Field): unknown {
  const resolved = field.resolvedType;
  if (resolved !== null && !('fieldsArray' in resolved)) {
    const e = resolved as protobuf.Enum;
    const names = Object.keys(e.values);
    const name = pick(rng, names);
    return rng.next() < 0.25 ? e.values[name] : name;
  }
  switch (field.type) {
    case 'string':
      return pick(rng, STRINGS);
    case 'bool':
      return rng.next() < 0.5;
    case 'double':
    case 'float':
      return field.type === 'float' ? pick(rng, [0, 1, -2.5, 0.5]) : pick(rng, DOUBLES);
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return pick(rng, INT32);
    case 'uint32':
    case 'fixed32':
      return pick(rng, UINT32);
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return pick(rng, INT64);
    case 'uint64':
    case 'fixed64':
      return pick(rng, UINT64);
    case 'bytes':
      return pick(rng, BYTES);
    default:
      throw new Error(`no generator for ${field.type}`);
  }
}

/** A message the codec accepts, with noise it must ignore; sometimes frozen (deeply) to exercise the caches. */
function message(rng: Random, type: protobuf.Type, depth: number, shared: Map<protobuf.Type, object>): Record<string, unknown> {
  const fields = [...type.fieldsArray];
  // Keys in any order: the output order must not depend on it.
  for (let i = fields.length - 1; i > 0; i--) {
    const j = randomInt(rng, 0, i + 1);
    [fields[i], fields[j]] = [fields[j], fields[i]];
  }
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    field.resolve();
    const sub = field.resolvedType !== null && 'fieldsArray' in field.resolvedType ? (field.resolvedType as protobuf.Type) : undefined;
    const want = field.required || (sub === undefined ? rng.next() < 0.5 : depth < MAX_DEPTH && rng.next() < 0.6 / (depth + 1));
    if (!want) {
      const r = rng.next();
      if (r < 0.05) out[field.name] = null;
      else if (r < 0.08 && field.repeated) out[field.name] = [];
      continue;
    }
    const one = (): unknown => (sub === undefined ? scalar(rng, field) : subMessage(rng, sub, depth + 1, shared));
    if (field.repeated) {
      const n = randomInt(rng, field.required ? 1 : 0, 4);
      out[field.name] = Array.from({ length: n }, one);
    } else {
      out[field.name] = one();
    }
  }
  if (rng.next() < 0.1) out.not_a_field = pick(rng, [1, 'x', { value: 2 }]);
  return out;
}

/** A sub-message: fresh, or (for a cache to hit) a sealed one reused from an earlier message. */
function subMessage(rng: Random, type: protobuf.Type, depth: number, shared: Map<protobuf.Type, object>): object {
  const earlier = shared.get(type);
  if (earlier !== undefined && rng.next() < 0.5) return earlier;
  const m = message(rng, type, depth, shared);
  if (rng.next() < 0.3) shared.set(type, sealForReuse(m));
  return m;
}

function expectSame(name: MessageName, msg: object, where: string): void {
  const json = encodeJson(name, msg);
  expect(encodeTrustedJson(name, msg), `JSON of ${name} (${where})`).to.equal(json);
  const proto = Buffer.from(encodeProtobuf(name, msg));
  expect(Buffer.from(encodeTrustedProtobuf(name, msg)).toString('hex'), `protobuf of ${name} (${where})`).to.equal(proto.toString('hex'));
}

describe('trusted encoder', () => {
  it('equals the validating codec on every fixture', () => {
    for (const [name, msg] of samples) expectSame(name, msg, 'fixture');
  });

  it(`equals the validating codec on ${ITERATIONS} generated messages (JSON and protobuf)`, () => {
    const rng = new SeededRandom(SEED);
    const shared = new Map<protobuf.Type, object>();
    let compared = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const name = NAMES[i % NAMES.length];
      const msg = message(rng, messageType(name), 0, shared);
      // Twice: the second time the frozen parts come from the caches.
      expectSame(name, msg, `seed ${SEED} iteration ${i}`);
      expectSame(name, msg, `seed ${SEED} iteration ${i}, again`);
      compared++;
    }
    expect(compared).to.equal(ITERATIONS);
    expect(shared.size, 'some sealed sub-messages were shared').to.be.greaterThan(5);
  });

  it('keeps a sealed object\'s encoding per message type', () => {
    const id = sealForReuse({ value: 'x-1' });
    const event = { type: 'RESCIND', rescind: { offer_id: id } };
    expectSame('mesos.v1.scheduler.Event', event, 'as an OfferID');
    const status = { task_id: id, state: 'TASK_LOST', agent_id: id };
    expectSame('mesos.v1.TaskStatus', status, 'as a TaskID and an AgentID');
    expect(Object.isFrozen(id)).to.equal(true);
    expect(Object.keys(id)).to.deep.equal(['value']);
  });

  it('seals all the way down, even under an object frozen elsewhere', () => {
    const inner = { key: 'k', value: 'a-1' };
    const status = sealForReuse({ task_id: { value: 't' }, state: 'TASK_RUNNING', agent_id: Object.freeze({ value: 'a' }), labels: Object.freeze({ labels: [inner] }) });
    const event = { type: 'UPDATE', update: { status } };
    expectSame('mesos.v1.scheduler.Event', event, 'first');
    expect(Object.isFrozen(inner), 'a child of a frozen object is frozen too').to.equal(true);
    expect(() => {
      (inner as { value: string }).value = 'changed';
    }).to.throw(TypeError);
    expectSame('mesos.v1.scheduler.Event', event, 'again, from the slot');
  });

  it('does not reuse the encoding of an object that was changed since (not sealed)', () => {
    const status = { task_id: { value: 't1' }, state: 'TASK_RUNNING', agent_id: { value: 'a1' } };
    const event = { type: 'UPDATE', update: { status } };
    expectSame('mesos.v1.scheduler.Event', event, 'before');
    status.task_id.value = 't2';
    status.state = 'TASK_FINISHED';
    expectSame('mesos.v1.scheduler.Event', event, 'after a change');
    expect(encodeTrustedJson('mesos.v1.scheduler.Event', event)).to.contain('"t2"');
  });

  it('writes lengths of 1, 2 and 3 bytes the same (sub-messages of < 128 B, < 16 KiB and more)', () => {
    for (const n of [1, 3, 300]) {
      const event = { type: 'OFFERS', offers: { offers: Array.from({ length: n }, (_, i) => ({ ...offer, id: { value: `o-${i}` } })) } };
      expectSame('mesos.v1.scheduler.Event', event, `${n} offers`);
    }
    expect(encodeProtobuf('mesos.v1.scheduler.Event', { type: 'OFFERS', offers: { offers: Array.from({ length: 300 }, () => offer) } }).byteLength).to.be.greaterThan(16384);
  });

  it('frames a record exactly as encodeRecord does', () => {
    for (const [name, msg] of samples) {
      expect(encodeTrustedRecord(name, 'application/json', msg).equals(encodeRecord(encodeJson(name, msg)))).to.equal(true);
      expect(encodeTrustedRecord(name, 'application/x-protobuf', msg).equals(encodeRecord(encodeProtobuf(name, msg)))).to.equal(true);
    }
  });
});
