import { expect } from 'chai';
import { validationMessage as parseError } from '../../helpers/validation.ts';
import { attributesToString, parseAttributes, parseResources, parseResourcesJson } from '../../../src/common/resource-parse.ts';
import { resourcesToString } from '../../../src/common/resources.ts';

describe('parseResources (text form)', () => {
  it('parses scalars, ranges, sets and roles', () => {
    const rs = parseResources('cpus:4;mem:2048;disk:10000;ports:[31000-32000];cpus(role1):2;foo:{a,b}');
    expect(resourcesToString(rs)).to.equal('cpus:4; mem:2048; disk:10000; ports:[31000-32000]; cpus(role1):2; foo:{a, b}');
    expect(rs[3]).to.deep.equal({ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] } });
    expect(rs[4]).to.deep.equal({ name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, role: 'role1' });
  });

  it('merges duplicates and tolerates whitespace and a trailing ;', () => {
    expect(resourcesToString(parseResources(' cpus : 1 ; cpus:2.5; ports:[1-2]; ports:[3-4];'))).to.equal('cpus:3.5; ports:[1-4]');
    expect(parseResources('')).to.deep.equal([]);
  });

  it('applies a default role', () => {
    expect(resourcesToString(parseResources('cpus:1;mem(*):2', 'r1'))).to.equal('cpus(r1):1; mem:2');
  });

  it('rejects bad entries with the offending part', () => {
    expect(parseError(() => parseResources('cpus:-1'))).to.equal('resources[0]: expected cpus to be non-negative, got "-1"');
    expect(parseError(() => parseResources('cpus:1;mem:NaN'))).to.equal('resources[1]: expected mem to be a number, got "NaN"');
    expect(parseError(() => parseResources('cpus:1e400'))).to.equal('resources[0]: expected cpus to be a finite number, got "1e400"');
    expect(parseError(() => parseResources('mem:9007199254740993'))).to.equal(
      'resources[0]: expected mem to be at most 2^53-1, got "9007199254740993"',
    );
    expect(parseError(() => parseResources(':4'))).to.equal('resources[0]: expected a resource name, got ":4"');
    expect(parseError(() => parseResources('cpus'))).to.equal('resources[0]: expected name:value, got "cpus"');
    expect(parseError(() => parseResources('cpus:'))).to.equal('resources[0]: expected a value for cpus, got "cpus:"');
    expect(parseError(() => parseResources('cpus:1;;mem:1'))).to.equal('resources[1]: expected name:value, got ""');
    expect(parseError(() => parseResources('ports:[10-5]'))).to.equal('resources[0]: expected range begin <= end, got "10-5"');
    expect(parseError(() => parseResources('ports:[1-10,5-20]'))).to.equal(
      'resources[0]: expected non-overlapping ranges, got 1-10 and 5-20',
    );
    expect(parseError(() => parseResources('ports:[1.5-3]'))).to.equal('resources[0]: expected range bound to be an integer, got "1.5"');
    expect(parseError(() => parseResources('ports:[1-3'))).to.equal('resources[0]: expected ranges like [a-b,c-d], got "[1-3"');
    expect(parseError(() => parseResources('foo:{a,a}'))).to.equal('resources[0]: expected distinct set items, got duplicate "a"');
    expect(parseError(() => parseResources('foo:{a,}'))).to.equal('resources[0]: expected non-empty set items, got "{a,}"');
    expect(parseError(() => parseResources('cpus(role1:1'))).to.equal('resources[0]: expected name(role):value, got "cpus(role1:1"');
    expect(parseError(() => parseResources('cpus(a b):1'))).to.equal(
      'resources[0]: expected a role of letters, digits, _ . - / or *, got "cpus(a b):1"',
    );
    expect(parseError(() => parseResources('cpus:1;cpus:[1-2]'))).to.equal('resources[1]: expected cpus to be SCALAR like its earlier entry, got RANGES');
  });
});

describe('parseResources (JSON form)', () => {
  it('parses the Mesos JSON array', () => {
    const rs = parseResources(
      '[{"name":"cpus","type":"SCALAR","scalar":{"value":2}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":3}]},"role":"r"},{"name":"cpus","type":"SCALAR","scalar":{"value":0.5}}]',
    );
    expect(resourcesToString(rs)).to.equal('cpus:2.5; ports(r):[1-3]');
  });

  it('keeps reservations and allocation info', () => {
    const rs = parseResourcesJson([
      { name: 'mem', type: 'SCALAR', scalar: { value: 5 }, reservations: [{ type: 'DYNAMIC', role: 'db', principal: 'p' }], allocation_info: { role: 'db' } },
    ]);
    expect(resourcesToString(rs)).to.equal('mem(db){ALLOC:db}:5');
  });

  it('rejects bad JSON with a field path', () => {
    expect(parseError(() => parseResources('[{'))).to.match(/^resources: expected a JSON array of resources, got invalid JSON/);
    expect(parseError(() => parseResourcesJson({}))).to.equal('resources: expected an array of resources, got {}');
    expect(parseError(() => parseResourcesJson([{ name: '', type: 'SCALAR' }]))).to.equal('resources[0].name: expected a non-empty string, got ""');
    expect(parseError(() => parseResourcesJson([{ name: 'cpus', type: 'TEXT' }]))).to.equal(
      'resources[0].type: expected one of SCALAR, RANGES, SET, got "TEXT"',
    );
    expect(parseError(() => parseResourcesJson([{ name: 'cpus', type: 'SCALAR', scalar: { value: -2 } }]))).to.equal(
      'resources[0].scalar.value: expected a non-negative number, got -2',
    );
    expect(parseError(() => parseResourcesJson([{ name: 'cpus', type: 'SCALAR', scalar: { value: '2' } }]))).to.equal(
      'resources[0].scalar.value: expected a finite number, got "2"',
    );
    expect(parseError(() => parseResourcesJson([{ name: 'p', type: 'RANGES', ranges: { range: [{ begin: 5, end: 1 }] } }]))).to.equal(
      'resources[0].ranges.range[0]: expected begin <= end, got 5-1',
    );
    expect(parseError(() => parseResourcesJson([{ name: 's', type: 'SET', set: { item: ['a', 3] } }]))).to.equal(
      'resources[0].set.item[1]: expected a non-empty string, got 3',
    );
    expect(parseError(() => parseResourcesJson([{ name: 'c', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'X' }] }]))).to.equal(
      'resources[0].reservations[0].type: expected one of STATIC, DYNAMIC, got "X"',
    );
  });
});

describe('parseAttributes', () => {
  it('types values: numeric scalar, ranges, sets, otherwise text', () => {
    const attrs = parseAttributes('rack:a;zone:z1;level:3;ports:[1-5];tags:{x,y};ver:1.2.3');
    expect(attrs.map((a) => a.type)).to.deep.equal(['TEXT', 'TEXT', 'SCALAR', 'RANGES', 'SET', 'TEXT']);
    expect(attrs[2].scalar).to.deep.equal({ value: 3 });
    expect(attrs[0].text).to.deep.equal({ value: 'a' });
    expect(attributesToString(attrs)).to.equal('rack:a;zone:z1;level:3;ports:[1-5];tags:{x,y};ver:1.2.3');
    expect(parseAttributes('')).to.deep.equal([]);
  });

  it('rejects bad attributes', () => {
    expect(parseError(() => parseAttributes('rack'))).to.equal('attributes[0]: expected name:value, got "rack"');
    expect(parseError(() => parseAttributes('rack:a;:b'))).to.equal(
      'attributes[1]: expected an attribute name of letters, digits, _ . - /, got ":b"',
    );
    expect(parseError(() => parseAttributes('rack:a;rack:b'))).to.equal('attributes[1]: expected unique attribute names, got duplicate "rack"');
    expect(parseError(() => parseAttributes('zone:'))).to.equal('attributes[0]: expected a value for zone, got "zone:"');
    expect(parseError(() => parseAttributes('p:[5-1]'))).to.equal('attributes[0]: expected range begin <= end, got "5-1"');
  });
});
