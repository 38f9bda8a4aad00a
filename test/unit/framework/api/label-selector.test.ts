import { expect } from 'chai';
import { apiErrorAnswer } from '../../../../src/framework/api/errors.ts';
import { parseLabelSelector } from '../../../../src/framework/api/label-selector.ts';

// The cases of Marathon's LabelSelectorParsersTest, and what its grammar implies beyond them.
describe('label selector (GET /v2/apps?label=…)', () => {
  const matches = (q: string, labels: Record<string, string>): boolean => parseLabelSelector(q)(labels);

  it('existence: the label is there, whatever its value', () => {
    expect(matches('existence', { existence: 'one' })).to.equal(true);
    expect(matches('existence', { none: 'one' })).to.equal(false);
  });

  it('== and !=, with or without spaces; both need the label', () => {
    for (const q of ['foo == one', 'foo==one', ' foo ==one ']) {
      expect(matches(q, { foo: 'one' }), q).to.equal(true);
      expect(matches(q, { foo: 'four' }), q).to.equal(false);
      expect(matches(q, { bla: 'one' }), q).to.equal(false);
    }
    expect(matches('foo != one', { foo: 'one' })).to.equal(false);
    expect(matches('foo != one', { foo: 'four' })).to.equal(true);
    expect(matches('foo != one', { bla: 'one' }), 'absent label').to.equal(false);
  });

  it('in and notin sets, with escaped characters', () => {
    const q = String.raw`foo in (one, two, three\ is\ cool)`;
    expect(matches(q, { foo: 'three is cool' })).to.equal(true);
    expect(matches(q, { foo: 'one' })).to.equal(true);
    expect(matches(q, { foo: 'four' })).to.equal(false);
    expect(matches(q, { bla: 'one' })).to.equal(false);
    expect(matches('bla notin (one, two, three)', { bla: 'one' })).to.equal(false);
    expect(matches('bla notin (one, two, three)', { bla: 'four' })).to.equal(true);
    expect(matches('bla notin (one, two, three)', { rest: 'one' })).to.equal(false);
    expect(matches('bla in ()', { bla: 'x' }), 'an empty set holds nothing').to.equal(false);
  });

  it('every selector of a combined query must hold', () => {
    const q = 'foo==one, bla!=one, foo in (one, two, three), bla notin (one, two, three), existence';
    expect(matches(q, { foo: 'one', bla: 'four', existence: 'true' })).to.equal(true);
    expect(matches(q, { foo: 'one' })).to.equal(false);
    expect(matches(q, { bla: 'four' })).to.equal(false);
    const escaped = String.raw`\{\{\{ in (\*\*\*, \&\&\&, \$\$\$), \^\^\^ notin (\-\-\-, \!\!\!, \@\@\@), \#\#\#`;
    expect(matches(escaped, { '{{{': '&&&', '^^^': '&&&', '###': '&&&' })).to.equal(true);
    expect(matches(escaped, { '^^^': '---' })).to.equal(false);
    expect(matches(escaped, { '###': 'four' })).to.equal(false);
  });

  it('labels named like the operators still parse as labels', () => {
    expect(matches('in', { in: 'x' })).to.equal(true);
    expect(matches('notin == in', { notin: 'in' })).to.equal(true);
    expect(matches('a, in', { a: '1', in: '2' })).to.equal(true);
  });

  it('an empty query selects every app', () => {
    expect(matches('', {})).to.equal(true);
    expect(matches('  ', { a: 'b' })).to.equal(true);
  });

  it('refuses what does not parse with 422 and says where', () => {
    for (const q of ['foo some (one, two, three)', 'foo in one', 'foo test', 'a==', 'a,', ',a', 'a in (b', 'a in (b,)', 'a==b,c!=d,,', 'a=b', 'ü']) {
      let thrown: unknown;
      try {
        parseLabelSelector(q);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, q).to.be.instanceOf(Error);
      const answer = apiErrorAnswer(thrown);
      expect(answer.status, q).to.equal(422);
      expect(answer.body.message, q).to.match(/^Can not parse label selector .*\. Reason: .*offset \d+/);
    }
  });
});
