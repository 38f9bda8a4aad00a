import { expect } from 'chai';
import { SeededRandom } from '../../../src/common/random.ts';
import { computeBackoffMs } from '../../../src/framework/sdk/backoff.ts';
import { createWire } from '../../../src/framework/sdk/wire.ts';
import { CygnetError, ValidationError } from '../../../src/common/errors.ts';

describe('sdk backoff', () => {
  it('stays within [min, cap] and its ceiling grows exponentially up to the cap', () => {
    const rng = new SeededRandom(7);
    const policy = { minMs: 100, maxMs: 5_000 };
    for (let attempt = 0; attempt < 50; attempt++) {
      const ceiling = Math.min(policy.maxMs, policy.minMs * 2 ** attempt);
      for (let i = 0; i < 20; i++) {
        const d = computeBackoffMs(attempt, policy, rng);
        expect(d).to.be.within(policy.minMs, ceiling);
      }
    }
    expect(computeBackoffMs(0, policy, { next: () => 0.999 })).to.be.at.most(policy.minMs);
    expect(computeBackoffMs(1e9, policy, { next: () => 0.999999 })).to.equal(policy.maxMs);
  });

  it('jitters: different random draws give different delays', () => {
    const policy = { minMs: 100, maxMs: 60_000 };
    const a = computeBackoffMs(5, policy, { next: () => 0.1 });
    const b = computeBackoffMs(5, policy, { next: () => 0.9 });
    expect(a).to.be.lessThan(b);
  });
});

describe('sdk wire (json)', () => {
  it('round-trips a call and validates events', () => {
    const wire = createWire('json');
    expect(wire.mediaType).to.equal('application/json');
    const bytes = wire.encodeCall({ type: 'REVIVE' });
    expect(JSON.parse(new TextDecoder().decode(bytes))).to.deep.equal({ type: 'REVIVE' });
    expect(wire.decodeEvent(new TextEncoder().encode('{"type":"HEARTBEAT"}'))).to.deep.equal({ type: 'HEARTBEAT' });
    expect(() => wire.decodeEvent(new TextEncoder().encode("[1]"))).to.throw(CygnetError);
    expect(() => wire.decodeEvent(new TextEncoder().encode('{}'))).to.throw(ValidationError, /event.type: expected a string, got undefined/);
    // An event type this build does not know is dropped by the decoder, as Mesos' parser drops unknown enum names: then it has none.
    expect(() => wire.decodeEvent(new TextEncoder().encode('{"type":"FOO"}'))).to.throw(ValidationError, /event.type: expected a string, got undefined/);
  });

  it('rejects an unknown content type', () => {
    expect(() => createWire('xml' as 'json')).to.throw(ValidationError, /contentType: expected 'json' or 'protobuf', got xml/);
  });
});

describe('sdk wire (protobuf)', () => {
  it('encodes calls as mesos.v1.scheduler.Call bytes and decodes events to the JSON shape', async () => {
    const { encodeProtobuf, decodeProtobuf } = await import('../../../src/protocol/codec.ts');
    const wire = createWire('protobuf');
    expect(wire.mediaType).to.equal('application/x-protobuf');
    const call = { type: 'KILL' as const, framework_id: { value: 'fw' }, kill: { task_id: { value: 't1' } } };
    expect(decodeProtobuf('mesos.v1.scheduler.Call', wire.encodeCall(call))).to.deep.equal(call);
    const event = { type: 'UPDATE' as const, update: { status: { task_id: { value: 't1' }, state: 'TASK_RUNNING' as const, uuid: 'AAECAw==' } } };
    expect(wire.decodeEvent(encodeProtobuf('mesos.v1.scheduler.Event', event))).to.deep.equal(event);
  });
});
