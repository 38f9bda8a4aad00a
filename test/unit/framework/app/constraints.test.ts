import { expect } from 'chai';
import {
  CONSTRAINT_MESSAGES,
  compileFullMatch,
  constraintToTriple,
  describeConstraint,
  parseConstraint,
  parseJavaInt,
} from '../../../../src/framework/app/constraints.ts';

describe('framework/app constraints', () => {
  const good: [triple: string[], want: unknown][] = [
    [['hostname', 'UNIQUE'], { operator: 'UNIQUE', field: 'hostname' }],
    [['@zone', 'unique'], { operator: 'UNIQUE', field: '@zone' }],
    [['rack', 'CLUSTER'], { operator: 'CLUSTER', field: 'rack' }],
    [['rack', 'CLUSTER', 'a'], { operator: 'CLUSTER', field: 'rack', value: 'a' }],
    [['rack', 'GROUP_BY'], { operator: 'GROUP_BY', field: 'rack' }],
    [['rack', 'GROUP_BY', '+3'], { operator: 'GROUP_BY', field: 'rack', value: '+3', groups: 3 }],
    [['hostname', 'MAX_PER', '2'], { operator: 'MAX_PER', field: 'hostname', value: '2', max: 2 }],
    [['hostname', 'LIKE', 'web-[0-9]+'], { operator: 'LIKE', field: 'hostname', value: 'web-[0-9]+' }],
    [['hostname', 'UNLIKE', 'db.*'], { operator: 'UNLIKE', field: 'hostname', value: 'db.*' }],
    [['zone', 'IS', 'z1'], { operator: 'IS', field: 'zone', value: 'z1' }],
    [['level', 'IS', '3.5'], { operator: 'IS', field: 'level', value: '3.5' }],
    [['zone', 'IS'], { operator: 'IS', field: 'zone' }],
  ];
  for (const [triple, want] of good) {
    it(`parses ${JSON.stringify(triple)}`, () => {
      const got = parseConstraint(triple);
      expect(got).to.deep.equal({ ok: true, constraint: want });
    });
  }

  const bad: [triple: string[], message: string][] = [
    [['hostname'], CONSTRAINT_MESSAGES.wrongArity],
    [['a', 'b', 'c', 'd'], CONSTRAINT_MESSAGES.wrongArity],
    [['', 'UNIQUE'], CONSTRAINT_MESSAGES.illegal],
    [['hostname', 'SPREAD'], CONSTRAINT_MESSAGES.operatorInvalid],
    [['hostname', 'UNIQUE', 'x'], CONSTRAINT_MESSAGES.uniqueNoValue],
    [['rack', 'GROUP_BY', '3.0'], CONSTRAINT_MESSAGES.groupByInt],
    [['rack', 'GROUP_BY', ''], CONSTRAINT_MESSAGES.groupByInt],
    [['rack', 'GROUP_BY', '99999999999'], CONSTRAINT_MESSAGES.groupByInt],
    [['rack', 'MAX_PER'], CONSTRAINT_MESSAGES.maxPerInt],
    [['rack', 'MAX_PER', 'two'], CONSTRAINT_MESSAGES.maxPerInt],
    [['rack', 'LIKE'], CONSTRAINT_MESSAGES.likeNeedsRegex],
    [['rack', 'LIKE', '(unclosed'], CONSTRAINT_MESSAGES.invalidRegex],
    [['rack', 'UNLIKE', '*'], CONSTRAINT_MESSAGES.invalidRegex],
    [['ports', 'IS', '[31000-32000]'], CONSTRAINT_MESSAGES.isOnlyText],
    [['tags', 'IS', '{a,b}'], CONSTRAINT_MESSAGES.isOnlyText],
  ];
  for (const [triple, message] of bad) {
    it(`refuses ${JSON.stringify(triple)}: ${message}`, () => {
      expect(parseConstraint(triple)).to.deep.equal({ ok: false, message });
    });
  }

  it('prints back the triple Marathon prints, in canonical operator case', () => {
    for (const [triple] of good) {
      const got = parseConstraint(triple);
      if (!got.ok) throw new Error('unreachable');
      const printed = constraintToTriple(got.constraint);
      expect(printed).to.deep.equal([triple[0], triple[1]?.toUpperCase(), ...triple.slice(2)]);
      expect(describeConstraint(got.constraint)).to.equal(printed.join(':'));
    }
  });

  it('reads integers the way Java Integer.parseInt does', () => {
    expect(parseJavaInt('007')).to.equal(7);
    expect(parseJavaInt('-2')).to.equal(-2);
    expect(parseJavaInt('-0')).to.equal(0);
    expect(parseJavaInt('2147483647')).to.equal(2147483647);
    expect(parseJavaInt('2147483648')).to.equal(undefined);
    expect(parseJavaInt(' 1')).to.equal(undefined);
    expect(parseJavaInt('1e3')).to.equal(undefined);
  });

  it('matches LIKE patterns against the whole value, as Java String.matches does', () => {
    const re = compileFullMatch('web-[0-9]+');
    expect(re.test('web-12')).to.equal(true);
    expect(re.test('xweb-12')).to.equal(false);
    expect(re.test('web-12x')).to.equal(false);
    expect(compileFullMatch('a|b').test('ab')).to.equal(false);
  });
});
