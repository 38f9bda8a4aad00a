/**
 * Marathon's constraint operators, one table each: an offer (host and
 * attributes), the app's placed instances, the constraint, and whether the
 * offer meets it. Cases follow Marathon's documented semantics
 * (docs/docs/constraints.md) and its Constraints.scala behaviour.
 */
import { expect } from 'chai';
import { explainConstraints, formatScalar } from '../../../../src/framework/placement/index.ts';
import { makeOffer, makeRequest, parseConstraint, placedOn } from './helpers.ts';

interface Row {
  readonly constraint: string;
  readonly offer: { agent: string; host?: string; attributes?: string; region?: string };
  /** Placed instances of the app: `host` or `host|attributes`. */
  readonly placed?: readonly string[];
  readonly instances?: number;
  readonly ok: boolean;
}

function run(rows: readonly Row[]): void {
  for (const row of rows) {
    const placed = (row.placed ?? []).map((p, k) => {
      const [host, attributes] = p.split('|');
      return placedOn('/app', `p${k}`, { agent: host, host, attributes });
    });
    const req = makeRequest('/app', 'new', { constraints: [parseConstraint(row.constraint)], instances: row.instances });
    const [verdict] = explainConstraints(req, makeOffer({ ...row.offer, host: row.offer.host ?? row.offer.agent }), placed);
    expect(verdict.ok, `${row.constraint} on ${JSON.stringify(row.offer)} with [${(row.placed ?? []).join(', ')}]: ${verdict.describe}`).to.equal(row.ok);
  }
}

describe('placement constraints (one table per operator)', () => {
  it('UNIQUE: no placed instance shares the value; an agent lacking the field never fits', () => {
    run([
      { constraint: 'hostname:UNIQUE', offer: { agent: 'h2' }, ok: true },
      { constraint: 'hostname:UNIQUE', offer: { agent: 'h4' }, placed: ['h1', 'h2', 'h3'], ok: true },
      { constraint: 'hostname:UNIQUE', offer: { agent: 'h2' }, placed: ['h1', 'h2', 'h3'], ok: false },
      { constraint: '@hostname:UNIQUE', offer: { agent: 'h2' }, placed: ['h2'], ok: false },
      { constraint: 'rack:UNIQUE', offer: { agent: 'x', attributes: 'rack:r3' }, placed: ['a|rack:r1', 'b|rack:r2'], ok: true },
      { constraint: 'rack:UNIQUE', offer: { agent: 'x', attributes: 'rack:r1' }, placed: ['a|rack:r1', 'b|rack:r2'], ok: false },
      { constraint: 'rack:UNIQUE', offer: { agent: 'x' }, ok: false },
    ]);
  });

  it('CLUSTER: with a value, exactly that value; without, the first placed instance decides', () => {
    run([
      { constraint: 'hostname:CLUSTER', offer: { agent: 'foo' }, ok: true },
      { constraint: 'hostname:CLUSTER:right.com', offer: { agent: 'wrong.com' }, ok: false },
      { constraint: 'hostname:CLUSTER:right.com', offer: { agent: 'right.com' }, ok: true },
      { constraint: 'rack:CLUSTER', offer: { agent: 'x', attributes: 'rack:r1' }, ok: true },
      { constraint: 'rack:CLUSTER', offer: { agent: 'x', attributes: 'rack:r1' }, placed: ['a|rack:r1', 'b|rack:r1'], ok: true },
      { constraint: 'rack:CLUSTER', offer: { agent: 'x', attributes: 'rack:r2' }, placed: ['a|rack:r1', 'b|rack:r1'], ok: false },
      { constraint: 'rack:CLUSTER', offer: { agent: 'x' }, ok: false },
      { constraint: 'jdk:CLUSTER:7', offer: { agent: 'x', attributes: 'jdk:6' }, ok: false },
      { constraint: 'jdk:CLUSTER:[6-7]', offer: { agent: 'x', attributes: 'jdk:[6-7]' }, ok: true },
      { constraint: 'gpu:CLUSTER:{0,1}', offer: { agent: 'x', attributes: 'gpu:{1,0}' }, ok: true },
    ]);
  });

  it('GROUP_BY n: spreads the app\'s instances evenly over n values', () => {
    const r = (n: number): string => `x|rack:r${n}`;
    run([
      { constraint: 'rack:GROUP_BY:2', instances: 5, offer: { agent: 'x', attributes: 'rack:r1' }, ok: true },
      // 5 over 2: 2 each and one remainder.
      { constraint: 'rack:GROUP_BY:2', instances: 5, offer: { agent: 'x', attributes: 'rack:r1' }, placed: [r(1), r(1)], ok: true },
      { constraint: 'rack:GROUP_BY:4', instances: 5, offer: { agent: 'x', attributes: 'rack:r1' }, placed: [r(1)], ok: true },
      { constraint: 'rack:GROUP_BY:2', instances: 5, offer: { agent: 'x', attributes: 'rack:r1' }, placed: [r(1), r(1), r(1)], ok: false },
      { constraint: 'rack:GROUP_BY:4', instances: 5, offer: { agent: 'x', attributes: 'rack:r1' }, placed: [r(1), r(1)], ok: false },
      { constraint: 'rack:GROUP_BY:2', instances: 5, offer: { agent: 'x', attributes: 'rack:r2' }, placed: [r(1)], ok: true },
      { constraint: 'rack:GROUP_BY:4', instances: 5, offer: { agent: 'x', attributes: 'rack:r2' }, placed: [r(1), r(1), r(2)], ok: false },
      { constraint: 'rack:GROUP_BY:2', instances: 5, offer: { agent: 'x', attributes: 'rack:r2' }, placed: [r(1), r(1), r(1), r(2)], ok: true },
      { constraint: 'rack:GROUP_BY:2', instances: 5, offer: { agent: 'x', attributes: 'rack:r3' }, placed: [r(1), r(2)], ok: false },
      { constraint: 'rack:GROUP_BY:2', instances: 5, offer: { agent: 'x' }, ok: false },
      { constraint: 'hostname:GROUP_BY:3', instances: 5, offer: { agent: 'h3' }, placed: ['h1', 'h2'], ok: true },
      { constraint: 'hostname:GROUP_BY:3', instances: 5, offer: { agent: 'h1' }, placed: ['h1'], ok: true },
    ]);
  });

  it('GROUP_BY without a value: a new value, or one of the least used', () => {
    const r = (n: number): string => `x|rack:r${n}`;
    run([
      { constraint: 'rack:GROUP_BY', offer: { agent: 'x', attributes: 'rack:r1' }, ok: true },
      { constraint: 'rack:GROUP_BY', offer: { agent: 'x', attributes: 'rack:r3' }, placed: [r(1), r(2)], ok: true },
      { constraint: 'rack:GROUP_BY', offer: { agent: 'x', attributes: 'rack:r1' }, placed: [r(1), r(2)], ok: true },
      { constraint: 'rack:GROUP_BY', offer: { agent: 'x', attributes: 'rack:r1' }, placed: [r(1), r(1), r(2)], ok: false },
      { constraint: 'rack:GROUP_BY', offer: { agent: 'x', attributes: 'rack:r2' }, placed: [r(1), r(1), r(2)], ok: true },
    ]);
  });

  it('LIKE: the whole value matches the regular expression', () => {
    run([
      { constraint: 'jdk:LIKE:7', offer: { agent: 'x', attributes: 'jdk:7' }, ok: true },
      { constraint: 'jdk:LIKE:7', offer: { agent: 'x', attributes: 'jdk:6' }, ok: false },
      { constraint: 'jdk:LIKE:7', offer: { agent: 'x', attributes: 'jdk:17' }, ok: false },
      { constraint: 'jdk:LIKE:7', offer: { agent: 'x' }, ok: false },
      { constraint: 'rack:LIKE:rack-[1-3]', offer: { agent: 'x', attributes: 'rack:rack-2' }, ok: true },
      { constraint: 'rack:LIKE:.*', offer: { agent: 'x', attributes: 'rack:anything' }, ok: true },
      { constraint: 'jdk:LIKE:\\[6-7\\]', offer: { agent: 'x', attributes: 'jdk:[6-7]' }, ok: true },
      { constraint: 'jdk:LIKE:\\[6-7\\]', offer: { agent: 'x', attributes: 'jdk:[5-7]' }, ok: false },
      { constraint: 'gpu:LIKE:\\{0,1\\}', offer: { agent: 'x', attributes: 'gpu:{1,0}' }, ok: true },
      { constraint: 'hostname:LIKE:web-.*', offer: { agent: 'web-3' }, ok: true },
      { constraint: 'level:LIKE:0\\.8', offer: { agent: 'x', attributes: 'level:0.80' }, ok: true },
    ]);
  });

  it('UNLIKE: the value does not match; an agent lacking the field fits', () => {
    run([
      { constraint: 'jdk:UNLIKE:7', offer: { agent: 'x', attributes: 'jdk:6' }, ok: true },
      { constraint: 'jdk:UNLIKE:7', offer: { agent: 'x', attributes: 'jdk:7' }, ok: false },
      { constraint: 'jdk:UNLIKE:7', offer: { agent: 'x' }, ok: true },
      { constraint: 'rack:UNLIKE:rack-[7-9]', offer: { agent: 'x', attributes: 'rack:rack-8' }, ok: false },
      { constraint: 'jdk:UNLIKE:\\[6-7\\]', offer: { agent: 'x', attributes: 'jdk:[6-7]' }, ok: false },
    ]);
  });

  it('MAX_PER n: fewer than n placed instances share the value', () => {
    run([
      { constraint: 'hostname:MAX_PER:2', offer: { agent: 'h1' }, ok: true },
      { constraint: 'hostname:MAX_PER:2', offer: { agent: 'h1' }, placed: ['h1'], ok: true },
      { constraint: 'hostname:MAX_PER:2', offer: { agent: 'h1' }, placed: ['h1', 'h1', 'h2'], ok: false },
      { constraint: 'hostname:MAX_PER:2', offer: { agent: 'h3' }, placed: ['h1', 'h1', 'h2'], ok: true },
      { constraint: 'rack:MAX_PER:2', offer: { agent: 'x', attributes: 'rack:1' }, placed: ['a|rack:1.0', 'b|rack:2.0'], ok: true },
      { constraint: 'rack:MAX_PER:2', offer: { agent: 'x', attributes: 'rack:1' }, placed: ['a|rack:1.0', 'b|rack:2.0', 'c|rack:1.0'], ok: false },
      { constraint: 'rack:MAX_PER:2', offer: { agent: 'x' }, ok: false },
    ]);
  });

  it('IS: equal to the value; scalars compared to three decimals', () => {
    run([
      { constraint: 'rack:IS:rack-1', offer: { agent: 'x', attributes: 'rack:rack-1' }, ok: true },
      { constraint: 'rack:IS:rack-1', offer: { agent: 'x', attributes: 'rack:rack-2' }, ok: false },
      { constraint: 'level:IS:0.8', offer: { agent: 'x', attributes: 'level:0.8' }, ok: true },
      { constraint: 'level:IS:0.80', offer: { agent: 'x', attributes: 'level:0.8' }, ok: true },
      { constraint: 'level:IS:0.8001', offer: { agent: 'x', attributes: 'level:0.8' }, ok: true },
      { constraint: 'level:IS:0.81', offer: { agent: 'x', attributes: 'level:0.8' }, ok: false },
      { constraint: 'rack:IS:rack-1', offer: { agent: 'x' }, ok: false },
    ]);
  });

  it('@region and @zone read the agent\'s fault domain', () => {
    run([
      { constraint: '@region:IS:eu', offer: { agent: 'x', region: 'eu' }, ok: true },
      { constraint: '@region:IS:eu', offer: { agent: 'x', region: 'us' }, ok: false },
      { constraint: '@zone:LIKE:eu-.*', offer: { agent: 'x', region: 'eu' }, ok: true },
      { constraint: '@region:IS:eu', offer: { agent: 'x' }, ok: false },
    ]);
  });

  it('formats scalars as Mesos prints them (at most 3 decimals, half-even, no trailing zeros)', () => {
    const cases: [number, string][] = [[0.8, '0.8'], [2, '2'], [1.1005, '1.1'], [1.00051, '1.001'], [1.0015, '1.002'], [0.0004, '0'], [12.5, '12.5'], [-1.25, '-1.25']];
    for (const [v, text] of cases) expect(formatScalar(v), String(v)).to.equal(text);
  });
});
