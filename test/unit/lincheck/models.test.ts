/**
 * The sequential specifications on their own: each step's legality and next
 * state, unknown outputs, wrong-shaped outputs, canonical keys, and the
 * one-line descriptions used in failure messages.
 */
import { expect } from 'chai';
import { kvModel, registerModel, type KvState } from '../../../src/lincheck/models.ts';

describe('lincheck registerModel', () => {
  const { step } = registerModel;

  it('starts at nil and reads what was written', () => {
    expect(registerModel.init()).to.equal(null);
    expect(step(null, { op: 'read' }, { value: null })).to.deep.equal({ ok: true, next: null });
    expect(step(null, { op: 'read' }, { value: 1 }).ok).to.equal(false);
    expect(step(null, { op: 'write', value: 4 }, { ok: true })).to.deep.equal({ ok: true, next: 4 });
  });

  it('treats a write answered { ok: false } as not taking effect', () => {
    expect(step(3, { op: 'write', value: 4 }, { ok: false })).to.deep.equal({ ok: true, next: 3 });
  });

  it('accepts any outcome when the output is unknown', () => {
    expect(step(3, { op: 'read' }, undefined)).to.deep.equal({ ok: true, next: 3 });
    expect(step(3, { op: 'write', value: 4 }, undefined)).to.deep.equal({ ok: true, next: 4 });
    expect(step(3, { op: 'cas', from: 3, to: 5 }, undefined)).to.deep.equal({ ok: true, next: 5 });
    expect(step(2, { op: 'cas', from: 3, to: 5 }, undefined)).to.deep.equal({ ok: true, next: 2 });
  });

  it('never accepts a wrong-shaped answer', () => {
    expect(step(3, { op: 'read' }, { ok: true }).ok).to.equal(false);
    expect(step(3, { op: 'write', value: 1 }, { value: 1 }).ok).to.equal(false);
    expect(step(3, { op: 'cas', from: 3, to: 1 }, { value: 3 }).ok).to.equal(false);
  });

  it('describes operations and states in one line', () => {
    expect(registerModel.describeOperation?.({ op: 'cas', from: 1, to: 2 }, { ok: false })).to.equal('cas(1, 2) -> fail');
    expect(registerModel.describeOperation?.({ op: 'read' }, { value: null })).to.equal('read() -> nil');
    expect(registerModel.describeOperation?.({ op: 'write', value: 7 }, undefined)).to.equal('write(7) -> ?');
    expect(registerModel.key(null)).to.not.equal(registerModel.key(0));
  });
});

describe('lincheck kvModel', () => {
  const { step } = kvModel;
  const kv = (entries: [string, string][]): KvState => new Map(entries);

  it('puts, appends, gets and cas-es per key without mutating the old state', () => {
    const s0 = kvModel.init();
    const s1 = step(s0, { op: 'put', key: 'a', value: 'x' }, { ok: true }).next;
    const s2 = step(s1, { op: 'append', key: 'a', value: 'y' }, { ok: true }).next;
    expect(s0.size).to.equal(0);
    expect(s1.get('a')).to.equal('x');
    expect(step(s2, { op: 'get', key: 'a' }, { value: 'xy' }).ok).to.equal(true);
    expect(step(s2, { op: 'get', key: 'b' }, { value: '' }).ok).to.equal(true);
    expect(step(s2, { op: 'cas', key: 'a', from: 'xy', to: 'z' }, { ok: true }).next.get('a')).to.equal('z');
    expect(step(s2, { op: 'cas', key: 'a', from: 'x', to: 'z' }, { ok: true }).ok).to.equal(false);
  });

  it('has canonical, injective keys', () => {
    expect(kvModel.key(kv([]))).to.equal(kvModel.key(kv([['a', '']])));
    expect(kvModel.key(kv([['a', '1'], ['b', '2']]))).to.equal(kvModel.key(kv([['b', '2'], ['a', '1']])));
    // Values containing separators cannot impersonate other states.
    expect(kvModel.key(kv([['a', '1:b1:2']]))).to.not.equal(kvModel.key(kv([['a', '1'], ['b', '2']])));
    expect(kvModel.key(kv([['ab', '']]))).to.not.equal(kvModel.key(kv([['a', 'b']])));
  });

  it('partitions a history by key, keeping each key in order', () => {
    const op = (key: string, call: number) => ({ clientId: 0, call, ret: call + 1, input: { op: 'get' as const, key }, output: { value: '' } });
    const parts = kvModel.partition?.([op('a', 0), op('b', 1), op('a', 2)]) ?? [];
    expect(parts.map((p) => p.map((o) => o.call))).to.deep.equal([[0, 2], [1]]);
  });

  it('describes operations and states in one line', () => {
    expect(kvModel.describeOperation?.({ op: 'append', key: 'k', value: 'x' }, { ok: true })).to.equal('append("k", "x") -> ok');
    expect(kvModel.describeOperation?.({ op: 'get', key: 'k' }, { value: 'ab' })).to.equal('get("k") -> "ab"');
    expect(kvModel.describeState?.(kv([['b', '2'], ['a', '1'], ['c', '']]))).to.equal('{"a": "1", "b": "2"}');
  });
});
