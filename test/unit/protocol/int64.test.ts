/**
 * 64-bit integers beyond 2^53 (an epoch time in nanoseconds, ~1.8e18): Mesos
 * writes them as JSON numbers; we accept them (as numbers, or as numeric
 * strings checked exactly against the range), keep the nearest double, and
 * emit them as plain JSON integers and as protobuf varints. Garbage stays out.
 */
import { expect } from 'chai';
import { CygnetError } from '../../../src/common/errors.ts';
import { decodeJson, decodeProtobuf, encodeJson, encodeProtobuf } from '../../../src/protocol/codec.ts';
import type { TaskStatus } from '../../../src/protocol/mesos-types.ts';

/** 1763776800123456789 ns is not a double: this is the nearest one (what a JSON number of it parses to). */
const NOW_NS_DOUBLE = 1763776800123456768;

function statusWith(nanoseconds: unknown): string {
  return JSON.stringify({ task_id: { value: 't' }, state: 'TASK_UNREACHABLE', unreachable_time: { nanoseconds } });
}

function nsOf(body: string): number | undefined {
  return decodeJson<TaskStatus>('mesos.v1.TaskStatus', body).unreachable_time?.nanoseconds;
}

function rejection(body: string): string {
  try {
    decodeJson('mesos.v1.TaskStatus', body);
  } catch (err) {
    expect(err).to.be.instanceOf(CygnetError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${body}`);
}

describe('protocol/codec 64-bit integers beyond 2^53', () => {
  it('accepts an epoch time in ns as a JSON number (Mesos) and as a numeric string', () => {
    expect(Number('1763776800123456789')).to.equal(NOW_NS_DOUBLE);
    expect(nsOf('{"task_id":{"value":"t"},"state":"TASK_UNREACHABLE","unreachable_time":{"nanoseconds":1763776800123456789}}')).to.equal(NOW_NS_DOUBLE);
    expect(nsOf(statusWith('1763776800123456789'))).to.equal(NOW_NS_DOUBLE);
    expect(nsOf(statusWith('-9223372036854775808'))).to.equal(-(2 ** 63));
    expect(nsOf(statusWith('9223372036854775807'))).to.equal(2 ** 63); // INT64_MAX as a double
    expect(nsOf('{"task_id":{"value":"t"},"state":"TASK_LOST","unreachable_time":{"nanoseconds":9223372036854775807}}')).to.equal(2 ** 63);
  });

  it('emits it as a plain JSON integer and round-trips through JSON and protobuf', () => {
    const status: TaskStatus = { task_id: { value: 't' }, state: 'TASK_UNREACHABLE', unreachable_time: { nanoseconds: NOW_NS_DOUBLE } };
    const json = encodeJson('mesos.v1.TaskStatus', status);
    expect(json).to.contain('"unreachable_time":{"nanoseconds":1763776800123456800}');
    expect(decodeJson('mesos.v1.TaskStatus', json)).to.deep.equal(status);
    expect(decodeProtobuf('mesos.v1.TaskStatus', encodeProtobuf('mesos.v1.TaskStatus', status))).to.deep.equal(status);
    const min: TaskStatus = { ...status, unreachable_time: { nanoseconds: -(2 ** 63) } };
    expect(decodeProtobuf('mesos.v1.TaskStatus', encodeProtobuf('mesos.v1.TaskStatus', min))).to.deep.equal(min);
  });

  it('uint64 takes values up to 2^64-1 (Value.Range bounds)', () => {
    const range = (begin: unknown): string => JSON.stringify({ name: 'r', type: 'RANGES', ranges: { range: [{ begin, end: '18446744073709551615' }] } });
    const r = decodeJson<{ ranges?: { range: { begin: number; end: number }[] } }>('mesos.v1.Resource', range(2 ** 60));
    expect(r.ranges?.range[0]).to.deep.equal({ begin: 2 ** 60, end: 2 ** 64 });
  });

  it('still rejects fractions, out-of-range values, exponents, hex, blanks and non-numbers, naming the field', () => {
    const expected = 'unreachable_time.nanoseconds: expected an int64 integer in [-2^63, 2^63-1] (number or numeric string)';
    for (const bad of [1.5, 2 ** 64, -(2 ** 65), '9223372036854775808', '-9223372036854775809', '1e18', '0x10', ' 1', '1.0', '', 'abc', true, [], {}]) {
      expect(rejection(statusWith(bad))).to.match(new RegExp(`^${expected.replace(/[[\]()^]/g, '\\$&')}, got `));
    }
    expect(rejection('{"task_id":{"value":"t"},"state":"TASK_LOST","unreachable_time":{"nanoseconds":1e400}}')).to.match(/got number Infinity$/);
  });
});
