/**
 * Marathon's groups in the replicated state: a group exists once an app is
 * created in it or POST/PUT /v2/groups names it, outlives its last app, and
 * goes only with DELETE /v2/groups (with every group below it). Groups and
 * apps never share an id. Snapshots carry the groups; a snapshot from before
 * groups were kept takes the groups its apps lie in.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../../src/common/clock.ts';
import { AppValidationError } from '../../../../src/framework/app/app-errors.ts';
import { AppService } from '../../../../src/framework/app-service.ts';
import { GroupService } from '../../../../src/framework/group-service.ts';
import type { FrameworkCommand } from '../../../../src/framework/state/commands.ts';
import { FrameworkState } from '../../../../src/framework/state/framework-state.ts';
import type { MarathonEvent } from '../../../../src/framework/state/observer.ts';
import { nullObserver } from '../../../../src/framework/state/observer.ts';

function harness(): { state: FrameworkState; apps: AppService; groups: GroupService; events: MarathonEvent[]; clock: ManualClock } {
  const state = new FrameworkState();
  const events: MarathonEvent[] = [];
  state.setObserver({ ...nullObserver, event: (e: MarathonEvent) => { events.push(e); } });
  let index = 0;
  const clock = new ManualClock(Date.parse('2026-12-07T08:00:00Z'));
  let uuid = 0;
  const propose = (cmd: FrameworkCommand) => Promise.resolve(state.apply({ index: ++index, term: 1, data: new TextEncoder().encode(JSON.stringify(cmd)) }));
  const apps = new AppService({ state, propose, clock, newUuid: () => `d-${++uuid}` });
  return { state, apps, groups: new GroupService(state, apps), events, clock };
}

const app = (id: string) => ({ id, cmd: 'sleep 1', cpus: 0.01, mem: 8, instances: 0 });
const kept = (s: FrameworkState): string[] => [...s.groups().keys()].sort();

describe('framework/state groups', () => {
  it('keeps an empty group, and every group it lies in', async () => {
    const h = harness();
    const { outcome, id } = await h.groups.create('/', { id: '/prod/empty' }, false);
    expect(id).to.equal('/prod/empty');
    expect(outcome).to.have.all.keys('version', 'deploymentId');
    expect(kept(h.state)).to.deep.equal(['/prod', '/prod/empty']);
    expect(h.state.isGroup('/prod/empty')).to.equal(true);
    expect(h.events.filter((e) => e.eventType === 'group_change_success').map((e) => e.groupId)).to.deep.equal(['/prod/empty']);
    // A second POST of the group is Marathon's 409.
    await h.groups.create('/', { id: '/prod/empty' }, false).then(() => expect.fail('created twice'), (err: Error) => expect(err.message).to.equal('Group /prod/empty is already created. Use PUT to change this group.'));
  });

  it('a group outlives its last app, as in Marathon, until the group itself is deleted', async () => {
    const h = harness();
    await h.apps.create(app('/shop/db/pg'));
    expect(kept(h.state)).to.deep.equal(['/shop', '/shop/db']);
    const created = h.state.groups().get('/shop/db');
    h.clock.advance(1_000);
    await h.apps.remove('/shop/db/pg', { force: true });
    expect(h.state.app('/shop/db/pg')).to.equal(undefined);
    expect(h.state.isGroup('/shop/db')).to.equal(true);
    // Each change inside is a new version of every group around it, as in Marathon.
    expect(h.state.groups().get('/shop/db')).to.not.equal(created);
    expect(h.state.groups().get('/shop')).to.equal(h.state.groups().get('/shop/db'));
    await h.groups.remove('/shop', false);
    expect(kept(h.state)).to.deep.equal([]);
    await h.groups.remove('/shop', false).then(() => expect.fail('deleted twice'), (err: Error) => expect(err.message).to.equal("Group '/shop' does not exist"));
  });

  it('deleting a group deletes its apps and every group below it, and nothing beside it', async () => {
    const h = harness();
    await h.groups.create('/', { id: '/a', apps: [app('web')], groups: [{ id: 'b', groups: [{ id: 'c' }] }] }, false);
    await h.groups.create('/', { id: '/ab' }, false);
    expect(kept(h.state)).to.deep.equal(['/a', '/a/b', '/a/b/c', '/ab']);
    await h.groups.remove('/a', true);
    expect(h.state.app('/a/web')).to.equal(undefined);
    expect(kept(h.state)).to.deep.equal(['/ab']);
    // The root: everything.
    await h.apps.create(app('/x/y'));
    await h.groups.remove('/', true);
    expect(kept(h.state)).to.deep.equal([]);
    expect([...h.state.apps()]).to.deep.equal([]);
  });

  it('a PUT creates the group, and a full `groups` list removes the subgroups it leaves out, empty or not', async () => {
    const h = harness();
    await h.groups.update('/team', { groups: [{ id: 'one' }, { id: 'two', apps: [app('w')] }] }, false);
    expect(kept(h.state)).to.deep.equal(['/team', '/team/one', '/team/two']);
    await h.groups.update('/team', { groups: [{ id: 'one' }] }, true);
    expect(kept(h.state)).to.deep.equal(['/team', '/team/one']);
    expect(h.state.app('/team/two/w')).to.equal(undefined);
    // A PUT that adds nothing writes no group.
    const before = h.events.length;
    await h.groups.update('/team', {}, false);
    expect(h.events.length).to.equal(before);
  });

  it('an app may not have a group\'s id, nor lie inside an app (422 on /id)', async () => {
    const h = harness();
    await h.groups.create('/', { id: '/team' }, false);
    for (const id of ['/team', '/solo/inner']) {
      if (id === '/solo/inner') await h.apps.create(app('/solo'));
      const err = await h.apps.create(app(id)).then(() => undefined, (e: unknown) => e);
      expect(err, id).to.be.instanceOf(AppValidationError);
      expect((err as AppValidationError).body.details.map((d) => d.path)).to.deep.equal(['/id']);
    }
    // Nor through a PUT that would create it.
    expect(await h.apps.update('/team', app('/team')).then(() => 'written', () => 'refused')).to.equal('refused');
    await h.groups.create('/', { id: '/solo' }, false).then(() => expect.fail('a group over an app'), (err: Error) => expect(err.message).to.equal('An app with the path /solo already exists.'));
    // A subgroup over an app is refused before anything is written.
    const err = await h.groups.create('/', { id: '/new', groups: [{ id: '/new/x' }], apps: [app('/new/y')] }, false).then(() => undefined, (e: unknown) => e);
    expect(err).to.equal(undefined);
    const over = await h.groups.update('/new', { groups: [{ id: 'y' }] }, false).then(() => undefined, (e: unknown) => e);
    expect(over).to.be.instanceOf(AppValidationError);
    expect(h.state.app('/new/y'), 'nothing written').to.not.equal(undefined);
    expect(kept(h.state), 'nothing removed either').to.deep.equal(['/new', '/new/x', '/team']);
  });

  it('applying a logged app write inside an app still succeeds: a log from before the rule replays to the same state', async () => {
    const h = harness();
    await h.apps.create(app('/a'));
    const other = harness();
    const logged: FrameworkCommand[] = [];
    const spy = new AppService({ state: other.state, propose: (cmd) => { logged.push(cmd); return Promise.resolve(other.state.applyCommand(cmd)); }, clock: new ManualClock(Date.parse('2026-12-07T08:00:01Z')), newUuid: () => 'd-x' });
    await spy.create(app('/x/b'));
    const put = JSON.parse(JSON.stringify(logged[0]).replaceAll('/x/b', '/a/b').replaceAll('x_b', 'a_b')) as FrameworkCommand;
    expect(h.state.applyCommand(put)).to.deep.include({ ok: true });
    expect(h.state.app('/a/b')).to.not.equal(undefined);
  });

  it('snapshots carry the groups; one from before groups were kept takes the groups its apps lie in', async () => {
    const h = harness();
    await h.groups.create('/', { id: '/empty' }, false);
    await h.apps.create(app('/shop/web'));
    const copy = new FrameworkState();
    copy.restore(h.state.snapshot());
    expect(kept(copy)).to.deep.equal(['/empty', '/shop']);
    expect(copy.groups().get('/empty')).to.equal(h.state.groups().get('/empty'));
    const old = JSON.parse(new TextDecoder().decode(h.state.snapshot())) as Record<string, unknown>;
    delete old.groups;
    const fromOld = new FrameworkState();
    fromOld.restore(new TextEncoder().encode(JSON.stringify(old)));
    expect(kept(fromOld)).to.deep.equal(['/shop']);
  });
});
