import { expect } from 'chai';
import {
  idSegments,
  isInGroup,
  isPathIdSyntax,
  isRootId,
  isValidSegment,
  normalizeAppId,
  parentGroupId,
  sanitizeDnsLabel,
  toDnsName,
} from '../../../../src/framework/app/app-id.ts';

describe('framework/app app ids', () => {
  const cases: [raw: string, base: string, want: string][] = [
    ['/shop/web', '/', '/shop/web'],
    ['shop/web', '/', '/shop/web'],
    ['web', '/shop', '/shop/web'],
    ['//shop///web//', '/', '/shop/web'],
    ['./web', '/shop', '/shop/web'],
    ['../web', '/shop/front', '/shop/web'],
    ['/shop/../web', '/', '/web'],
    ['../../../web', '/a', '/web'],
    ['/a/./b/.', '/', '/a/b'],
    ['/', '/', '/'],
    ['', '/shop', '/shop'],
    ['..', '/shop', '/'],
  ];
  for (const [raw, base, want] of cases) {
    it(`normalizes ${JSON.stringify(raw)} against ${base} to ${want}`, () => {
      expect(normalizeAppId(raw, base)).to.equal(want);
    });
  }

  it('knows segments, parents, root and groups', () => {
    expect(idSegments('/shop/web')).to.deep.equal(['shop', 'web']);
    expect(parentGroupId('/shop/web')).to.equal('/shop');
    expect(parentGroupId('/web')).to.equal('/');
    expect(parentGroupId('/')).to.equal('/');
    expect(isRootId('/')).to.equal(true);
    expect(isRootId('/a')).to.equal(false);
    expect(isInGroup('/shop/web', '/shop')).to.equal(true);
    expect(isInGroup('/shop', '/shop')).to.equal(false);
    expect(isInGroup('/shopping/web', '/shop')).to.equal(false);
    expect(isInGroup('/a', '/')).to.equal(true);
  });

  it("accepts Marathon's id syntax and nothing else", () => {
    for (const ok of ['/a', '/a-b/c1', 'rel/x', '/a.b/c', '/../a', '/1/2', '//a//', '/']) expect(isPathIdSyntax(ok), ok).to.equal(true);
    for (const bad of ['/A', '/a_b', '/-a', '/a-', '/a b', '/ä', '/a..b', '/.a', '/./a', '/a.', '/a/.']) expect(isPathIdSyntax(bad), bad).to.equal(false);
    expect(isValidSegment('web-1')).to.equal(true);
    expect(isValidSegment('a.b')).to.equal(true);
    expect(isValidSegment('Web')).to.equal(false);
  });

  it('decides id syntax in linear time on inputs that make Marathon\'s own regex backtrack exponentially', () => {
    // Marathon's RAML pattern needs ~2^n steps on `//…//!` (n = 25 already takes minutes), and a
    // hung event loop is a denial of service. A regression here hangs this test until mocha's timeout.
    const hostile = ['//'.repeat(50_000) + '!', `/${'a'.repeat(1 << 20)}!`, `/${'a-'.repeat(1 << 19)}!`, `/${'a.'.repeat(1 << 19)}!`];
    for (const s of hostile) expect(isPathIdSyntax(s)).to.equal(false);
  });

  it('names apps in DNS with reversed segments', () => {
    expect(toDnsName('/shop/web', 'cygnet')).to.equal('web.shop.cygnet');
    expect(toDnsName('/web', 'cygnet.local')).to.equal('web.cygnet.local');
    expect(toDnsName('/a.b/c', 'cygnet')).to.equal('c.a-b.cygnet');
  });

  it('sanitizes labels to RFC 1123', () => {
    expect(sanitizeDnsLabel('My_App!')).to.equal('my-app');
    expect(sanitizeDnsLabel('--x--')).to.equal('x');
    expect(sanitizeDnsLabel('a'.repeat(70))).to.have.length(63);
    expect(sanitizeDnsLabel(`${'a'.repeat(62)}-b`)).to.equal('a'.repeat(62));
    const long = toDnsName(`/${Array.from({ length: 10 }, () => 'x'.repeat(40)).join('/')}`, 'cygnet');
    expect(long.length).to.be.at.most(253);
    expect(long.endsWith('.cygnet')).to.equal(true);
  });
});
