import { expect } from 'chai';
import {
  InsufficientResourcesError,
  add,
  allocatableTo,
  allocateTo,
  contains,
  equals,
  flatten,
  intersectRanges,
  isEmpty,
  mergeRanges,
  ranges,
  rangesContain,
  rangesCount,
  reservedRoles,
  resourcesToString,
  scalar,
  setItems,
  subtract,
  subtractRanges,
  subtractSaturating,
  toVector,
  trySubtract,
  unallocate,
  unreserved,
} from '../../../src/common/resources.ts';
import { parseResources } from '../../../src/common/resource-parse.ts';

const R = (s: string) => parseResources(s);

describe('resources arithmetic', () => {
  it('adds scalars in fixed point so 0.1 + 0.2 == 0.3', () => {
    const sum = add(R('cpus:0.1'), R('cpus:0.2'));
    expect(scalar(sum, 'cpus')).to.equal(0.3);
    expect(resourcesToString(sum)).to.equal('cpus:0.3');
    expect(contains(R('cpus:0.3'), sum)).to.equal(true);
    expect(equals(subtract(sum, R('cpus:0.1')), R('cpus:0.2'))).to.equal(true);
  });

  it('rounds scalars to 3 decimal digits', () => {
    expect(scalar(R('cpus:0.12345'), 'cpus')).to.equal(0.123);
    expect(scalar(add(R('mem:1.0005'), R('mem:0')), 'mem')).to.equal(1.001);
  });

  it('keeps unreserved and reserved resources apart', () => {
    const rs = R('cpus:4;cpus(role1):2;mem:1024');
    expect(scalar(rs, 'cpus')).to.equal(6);
    expect(resourcesToString(unreserved(rs))).to.equal('cpus:4; mem:1024');
    expect(resourcesToString(allocatableTo(rs, 'role1'))).to.equal('cpus:4; cpus(role1):2; mem:1024');
    expect(resourcesToString(allocatableTo(rs, 'role2'))).to.equal('cpus:4; mem:1024');
    expect(reservedRoles(rs)).to.deep.equal(['role1']);
    // cpus(role1) cannot be taken from unreserved cpus
    expect(contains(R('cpus:10'), R('cpus(role1):1'))).to.equal(false);
    expect(resourcesToString(flatten(rs))).to.equal('cpus:6; mem:1024');
    expect(resourcesToString(flatten(rs, 'r'))).to.equal('cpus(r):6; mem(r):1024');
  });

  it('subtracts, and refuses to subtract what is not there', () => {
    const rs = R('cpus:4;mem:2048;ports:[31000-32000];disks:{a,b,c}');
    const left = subtract(rs, R('cpus:1.5;ports:[31000-31000,31500-31600];disks:{b}'));
    expect(resourcesToString(left)).to.equal('cpus:2.5; mem:2048; ports:[31001-31499, 31601-32000]; disks:{a, c}');
    expect(trySubtract(rs, R('cpus:5'))).to.equal(undefined);
    expect(() => subtract(rs, R('cpus:5'))).to.throw(InsufficientResourcesError, 'insufficient resources: cpus:5 is not available');
    expect(() => subtract(rs, R('gpus:1'))).to.throw(InsufficientResourcesError, 'gpus:1');
    expect(() => subtract(rs, R('ports:[1-2]'))).to.throw(InsufficientResourcesError, 'ports:[1-2]');
    expect(resourcesToString(subtractSaturating(R('cpus:1;mem:5'), R('cpus:2;gpus:1')))).to.equal('mem:5');
  });

  it('drops emptied entries and reports emptiness', () => {
    const rs = subtract(R('cpus:1;mem:10'), R('cpus:1;mem:10'));
    expect(rs).to.deep.equal([]);
    expect(isEmpty(rs)).to.equal(true);
    expect(isEmpty(R('cpus:0'))).to.equal(true);
    expect(isEmpty(R('cpus:0.001'))).to.equal(false);
    expect(resourcesToString([])).to.equal('{}');
  });

  it('merges, subtracts, intersects and counts ranges', () => {
    expect(mergeRanges([{ begin: 5, end: 6 }, { begin: 1, end: 2 }, { begin: 3, end: 4 }, { begin: 8, end: 9 }])).to.deep.equal([
      { begin: 1, end: 6 },
      { begin: 8, end: 9 },
    ]);
    expect(subtractRanges([{ begin: 1, end: 10 }], [{ begin: 0, end: 2 }, { begin: 5, end: 5 }, { begin: 9, end: 20 }])).to.deep.equal([
      { begin: 3, end: 4 },
      { begin: 6, end: 8 },
    ]);
    expect(intersectRanges([{ begin: 1, end: 10 }], [{ begin: 5, end: 12 }, { begin: 0, end: 1 }])).to.deep.equal([
      { begin: 1, end: 1 },
      { begin: 5, end: 10 },
    ]);
    expect(rangesContain([{ begin: 1, end: 10 }], [{ begin: 2, end: 3 }, { begin: 10, end: 10 }])).to.equal(true);
    expect(rangesContain([{ begin: 1, end: 10 }], [{ begin: 10, end: 11 }])).to.equal(false);
    expect(rangesCount(ranges(R('ports:[31000-32000]'), 'ports'))).to.equal(1001);
    expect(resourcesToString(add(R('ports:[1-5]'), R('ports:[6-9,20-20]')))).to.equal('ports:[1-9, 20-20]');
  });

  it('adds and contains sets', () => {
    expect(setItems(add(R('foo:{a,b}'), R('foo:{b,c}')), 'foo')).to.deep.equal(['a', 'b', 'c']);
    expect(contains(R('foo:{a,b}'), R('foo:{b}'))).to.equal(true);
    expect(contains(R('foo:{a,b}'), R('foo:{c}'))).to.equal(false);
  });

  it('tags offers with an allocation role and strips it on return', () => {
    const offered = allocateTo(R('cpus:1;mem:8'), 'web');
    expect(resourcesToString(offered)).to.equal('cpus{ALLOC:web}:1; mem{ALLOC:web}:8');
    expect(contains(R('cpus:1;mem:8'), offered)).to.equal(false);
    expect(equals(unallocate(offered), R('cpus:1;mem:8'))).to.equal(true);
  });

  it('computes the vector fast path', () => {
    const v = toVector(R('cpus:1.5;cpus(r):0.5;mem:100;disk:7;gpus:1;ports:[1-10,20-29];foo:{a}'));
    expect(v).to.deep.equal({ cpus: 2, memMb: 100, diskMb: 7, gpus: 1, ports: 20 });
  });

  it('contains() sums duplicate entries of unnormalized lists', () => {
    const one = { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 1 } };
    expect(contains(R('cpus:1.5'), [one, one])).to.equal(false);
    expect(contains([one, one], R('cpus:2'))).to.equal(true);
    expect(contains(R('cpus:2'), [one, { ...one, scalar: { value: 0 } }])).to.equal(true);
  });

  it('never mutates its inputs', () => {
    const a = R('cpus:1;ports:[1-5]');
    const b = R('cpus:1;ports:[6-9]');
    const snapshot = JSON.stringify([a, b]);
    add(a, b);
    subtract(add(a, b), b);
    flatten(a, 'x');
    expect(JSON.stringify([a, b])).to.equal(snapshot);
  });
});
