import { expect } from 'chai';
import { RegistryDeltaRejectedError, RegistryState, describeDelta } from '../../../src/registry/registry-state.ts';
import { parseSnapshot } from '../../../src/registry/record-validation.ts';
import type { RegistryDelta } from '../../../src/registry/types.ts';
import { app, endpoint } from '../../helpers/registry-fixtures.ts';

function rejection(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(RegistryDeltaRejectedError);
    return (err as RegistryDeltaRejectedError).rejection;
  }
  throw new Error('expected the delta to be rejected');
}

describe('RegistryState', () => {
  it('applies app and endpoint deltas and indexes endpoints by app and by task', () => {
    const s = new RegistryState('c1');
    s.apply({ type: 'APP_UPDATED', revision: 1, app: app('/shop/web') });
    s.apply({ type: 'ENDPOINT_UP', revision: 2, endpoint: endpoint('/shop/web', 't1') });
    s.apply({ type: 'ENDPOINT_UP', revision: 3, endpoint: endpoint('/shop/web', 't2', { index: 1 }) });
    expect(s.revision).to.equal(3);
    expect(s.endpointsOf('/shop/web').map((e) => e.taskId)).to.deep.equal(['t1', 't2']);
    expect(s.endpoint('t2')?.index).to.equal(1);
    expect(s.describe()).to.equal('registry cluster=c1 rev=3 apps=1 endpoints=2');
    s.apply({ type: 'ENDPOINT_DOWN', revision: 4, appId: '/shop/web', taskId: 't1' });
    expect(s.endpoint('t1')).to.equal(undefined);
    expect(s.endpointsOf('/shop/web').map((e) => e.taskId)).to.deep.equal(['t2']);
  });

  it('rejects ENDPOINT_UP for an unknown app and leaves the state untouched', () => {
    const s = new RegistryState('c1');
    expect(rejection(() => s.apply({ type: 'ENDPOINT_UP', revision: 1, endpoint: endpoint('/ghost', 't1') }))).to.equal('unknown-app');
    expect(s.revision).to.equal(0);
    expect(s.endpointCount).to.equal(0);
    expect(s.appCount).to.equal(0);
  });

  it('a duplicate taskId replaces the endpoint instead of adding one', () => {
    const s = new RegistryState('c1');
    s.apply({ type: 'APP_UPDATED', revision: 1, app: app('/a') });
    s.apply({ type: 'ENDPOINT_UP', revision: 2, endpoint: endpoint('/a', 't1', { ip: '10.0.0.1' }) });
    s.apply({ type: 'ENDPOINT_UP', revision: 3, endpoint: endpoint('/a', 't1', { ip: '10.0.0.9' }) });
    expect(s.endpointsOf('/a')).to.have.length(1);
    expect(s.endpoint('t1')?.ip).to.equal('10.0.0.9');
    expect(s.endpointCount).to.equal(1);
  });

  it('rejects a task id that belongs to another app, both up and down', () => {
    const s = new RegistryState('c1');
    s.apply({ type: 'APP_UPDATED', revision: 1, app: app('/a') });
    s.apply({ type: 'APP_UPDATED', revision: 2, app: app('/b') });
    s.apply({ type: 'ENDPOINT_UP', revision: 3, endpoint: endpoint('/a', 't1') });
    expect(rejection(() => s.apply({ type: 'ENDPOINT_UP', revision: 4, endpoint: endpoint('/b', 't1') }))).to.equal('task-of-other-app');
    expect(rejection(() => s.apply({ type: 'ENDPOINT_DOWN', revision: 4, appId: '/b', taskId: 't1' }))).to.equal('task-of-other-app');
    expect(s.endpoint('t1')?.appId).to.equal('/a');
    expect(s.revision).to.equal(3);
  });

  it('rejects a revision that does not grow, and accepts gaps', () => {
    const s = new RegistryState('c1');
    s.apply({ type: 'APP_UPDATED', revision: 5, app: app('/a') });
    expect(rejection(() => s.apply({ type: 'APP_REMOVED', revision: 5, appId: '/a' }))).to.equal('stale-revision');
    expect(rejection(() => s.apply({ type: 'APP_REMOVED', revision: 4, appId: '/a' }))).to.equal('stale-revision');
    expect(s.app('/a')).to.not.equal(undefined);
    s.apply({ type: 'APP_REMOVED', revision: 9, appId: '/a' });
    expect(s.revision).to.equal(9);
  });

  it('treats removing something unknown as an accepted no-op that still advances the revision', () => {
    const s = new RegistryState('c1');
    s.apply({ type: 'APP_REMOVED', revision: 1, appId: '/nope' });
    s.apply({ type: 'ENDPOINT_DOWN', revision: 2, appId: '/nope', taskId: 'nope' });
    expect(s.revision).to.equal(2);
    expect(s.appCount).to.equal(0);
  });

  it('APP_UPDATED keeps endpoints; APP_REMOVED drops them from both indexes', () => {
    const s = new RegistryState('c1');
    s.apply({ type: 'APP_UPDATED', revision: 1, app: app('/a') });
    s.apply({ type: 'ENDPOINT_UP', revision: 2, endpoint: endpoint('/a', 't1') });
    s.apply({ type: 'APP_UPDATED', revision: 3, app: app('/a', { labels: { CYGNET_VHOST: 'a.example' } }) });
    expect(s.endpointsOf('/a')).to.have.length(1);
    expect(s.app('/a')?.labels).to.deep.equal({ CYGNET_VHOST: 'a.example' });
    s.apply({ type: 'APP_REMOVED', revision: 4, appId: '/a' });
    expect(s.endpoint('t1')).to.equal(undefined);
    expect(s.endpointsOf('/a')).to.deep.equal([]);
    // The app is gone, so its endpoints may not come back without APP_UPDATED.
    expect(rejection(() => s.apply({ type: 'ENDPOINT_UP', revision: 5, endpoint: endpoint('/a', 't1') }))).to.equal('unknown-app');
  });

  it('snapshot → loadSnapshot round-trips and replaces everything, even at a lower revision', () => {
    const s = new RegistryState('c1');
    s.apply({ type: 'CLUSTER_UPDATED', revision: 1, cluster: { leader: '127.0.0.1:8080' } });
    s.apply({ type: 'APP_UPDATED', revision: 2, app: app('/a') });
    s.apply({ type: 'ENDPOINT_UP', revision: 3, endpoint: endpoint('/a', 't1') });
    const snap = s.snapshot();
    expect(parseSnapshot(JSON.parse(JSON.stringify(snap)))).to.deep.equal(snap);
    const t = RegistryState.fromSnapshot(snap);
    expect(t.snapshot()).to.deep.equal(snap);
    const other = new RegistryState('c2');
    other.apply({ type: 'APP_UPDATED', revision: 1, app: app('/b') });
    t.loadSnapshot(other.snapshot());
    expect(t.clusterId).to.equal('c2');
    expect(t.revision).to.equal(1);
    expect(t.app('/a')).to.equal(undefined);
    expect(t.endpoint('t1')).to.equal(undefined);
    expect(t.cluster).to.deep.equal({});
  });

  it('describes deltas in one stable line', () => {
    const deltas: RegistryDelta[] = [
      { type: 'APP_UPDATED', revision: 1, app: app('/a') },
      { type: 'ENDPOINT_UP', revision: 2, endpoint: endpoint('/a', 't1', { ports: [31000, 31001] }) },
      { type: 'ENDPOINT_DOWN', revision: 3, appId: '/a', taskId: 't1' },
      { type: 'APP_REMOVED', revision: 4, appId: '/a' },
      { type: 'CLUSTER_UPDATED', revision: 5, cluster: { master: '127.0.0.1:5050' } },
    ];
    expect(deltas.map(describeDelta)).to.deep.equal([
      '#1 APP_UPDATED /a',
      '#2 ENDPOINT_UP /a t1 10.0.0.1:31000,31001',
      '#3 ENDPOINT_DOWN /a t1',
      '#4 APP_REMOVED /a',
      '#5 CLUSTER_UPDATED leader=- master=127.0.0.1:5050',
    ]);
  });
});
