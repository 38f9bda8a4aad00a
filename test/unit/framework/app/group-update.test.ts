import { expect } from 'chai';
import { AppValidationError } from '../../../../src/framework/app/app-errors.ts';
import { readGroupUpdate } from '../../../../src/framework/app/group-update.ts';

/** The JSON paths of the validation errors `fn` throws. */
function errorPaths(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(AppValidationError);
    return (err as AppValidationError).body.details.map((d) => d.path);
  }
  throw new Error('expected a validation error');
}

describe("readGroupUpdate (Marathon's GroupUpdate as app writes)", () => {
  it('resolves group and app ids as Marathon does: groups against their parent, apps against their group', () => {
    const u = readGroupUpdate({ id: 'shop', apps: [{ id: 'web', cmd: 'x' }, { id: '/shop/api' }], groups: [{ id: 'db', apps: [{ id: 'pg' }] }, { id: '/shop/cache', apps: [] }] }, '/');
    expect(u.id).to.equal('/shop');
    expect(u.apps.map((a) => [a.id, a.path, a.body.id])).to.deep.equal([
      ['/shop/web', '/apps/0', '/shop/web'],
      ['/shop/api', '/apps/1', '/shop/api'],
      ['/shop/db/pg', '/groups/0/apps/0', '/shop/db/pg'],
    ]);
    expect(u.apps[0]?.body.cmd).to.equal('x');
    // What the update lists in full: the apps of /shop, /shop/db and /shop/cache, and the subgroups of /shop.
    expect(u.appScopes.map((s) => [s.id, [...s.keep]])).to.deep.equal([
      ['/shop', ['/shop/web', '/shop/api']],
      ['/shop/db', ['/shop/db/pg']],
      ['/shop/cache', []],
    ]);
    expect(u.groupScopes.map((s) => [s.id, [...s.keep]])).to.deep.equal([['/shop', ['/shop/db', '/shop/cache']]]);
  });

  it('takes the URL group when the body names none, and resolves a body id below it', () => {
    expect(readGroupUpdate({ scaleBy: 1.5 }, '/shop')).to.deep.include({ id: '/shop', scaleBy: 1.5, apps: [] });
    expect(readGroupUpdate({ id: 'db' }, '/shop').id).to.equal('/shop/db');
    expect(readGroupUpdate({ id: '/shop' }, '/shop').id).to.equal('/shop');
    expect(readGroupUpdate({ version: '2026-01-01T00:00:00.000Z' }, '/shop').version).to.equal('2026-01-01T00:00:00.000Z');
  });

  it('refuses ids outside their group, with the JSON path of each', () => {
    expect(errorPaths(() => readGroupUpdate({ id: '/elsewhere' }, '/shop'))).to.deep.equal(['/id']);
    expect(errorPaths(() => readGroupUpdate({ id: 'shop', apps: [{ id: '/other/web' }, { id: '../up' }] }, '/'))).to.deep.equal(['/apps/0/id', '/apps/1/id']);
    expect(errorPaths(() => readGroupUpdate({ id: 'shop', groups: [{ id: '/shop' }, { apps: [] }] }, '/'))).to.deep.equal(['/groups/0/id', '/groups/1/id']);
    expect(errorPaths(() => readGroupUpdate({ id: 'Shop!' }, '/'))).to.deep.equal(['/id']);
  });

  it('refuses wrong types, duplicates, pods and nested scaleBy/version', () => {
    expect(errorPaths(() => readGroupUpdate([], '/'))).to.deep.equal(['/']);
    expect(errorPaths(() => readGroupUpdate({ id: 7 }, '/'))).to.deep.equal(['/id']);
    expect(errorPaths(() => readGroupUpdate({ apps: {} }, '/'))).to.deep.equal(['/apps']);
    expect(errorPaths(() => readGroupUpdate({ apps: [null, { cmd: 'x' }, { id: 3 }] }, '/g'))).to.deep.equal(['/apps/0', '/apps/1/id', '/apps/2/id']);
    expect(errorPaths(() => readGroupUpdate({ apps: [{ id: 'a' }], groups: [{ id: '.', apps: [{ id: '/g/a' }] }] }, '/g'))).to.include('/groups/0/id');
    expect(errorPaths(() => readGroupUpdate({ apps: [{ id: 'a' }, { id: '/g/a' }] }, '/g'))).to.deep.equal(['/apps/1/id']);
    expect(errorPaths(() => readGroupUpdate({ pods: [{ id: 'p' }] }, '/g'))).to.deep.equal(['/pods']);
    expect(errorPaths(() => readGroupUpdate({ scaleBy: -1 }, '/g'))).to.deep.equal(['/scaleBy']);
    expect(errorPaths(() => readGroupUpdate({ scaleBy: '2' }, '/g'))).to.deep.equal(['/scaleBy']);
    expect(errorPaths(() => readGroupUpdate({ groups: [{ id: 'x', scaleBy: 2, version: 'v' }] }, '/g'))).to.deep.equal(['/groups/0/scaleBy', '/groups/0/version']);
    expect(errorPaths(() => readGroupUpdate({ dependencies: [1] }, '/g'))).to.deep.equal(['/dependencies']);
    // The bound app ids have, on the resolved id (an empty group is kept, and its id goes back in Location).
    expect(errorPaths(() => readGroupUpdate({ id: `/${'a'.repeat(60_000)}` }, '/'))).to.deep.equal(['/id']);
    expect(errorPaths(() => readGroupUpdate({ groups: [{ id: 'b'.repeat(1020) }] }, '/aaaa'))).to.deep.equal(['/groups/0/id']);
    expect(readGroupUpdate({ id: `/${'a'.repeat(1023)}` }, '/').groups).to.deep.equal([`/${'a'.repeat(1023)}`]);
    // A group and an app of one update may not share an id.
    expect(errorPaths(() => readGroupUpdate({ id: '/t', apps: [{ id: 'a', cmd: 'sleep 1' }], groups: [{ id: 'a' }] }, '/'))).to.deep.equal(['/apps/0/id']);
  });

  it('bounds the nesting of hostile input instead of recursing without end', () => {
    let g: Record<string, unknown> = { id: 'leaf' };
    for (let i = 0; i < 10_000; i++) g = { id: `n${i}`, groups: [g] };
    const paths = errorPaths(() => readGroupUpdate(g, '/'));
    expect(paths).to.have.lengthOf(1);
    expect(paths[0]).to.match(/^(\/groups\/0){33}$/);
  });
});
