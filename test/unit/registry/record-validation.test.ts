import { expect } from 'chai';
import { validationMessage as errorOf } from '../../helpers/validation.ts';
import { parseDelta, parseSnapshot, parseWatchRecord } from '../../../src/registry/record-validation.ts';
import { app, endpoint } from '../../helpers/registry-fixtures.ts';

describe('registry record validation', () => {
  it('accepts every record kind and drops unknown fields', () => {
    const up = { type: 'ENDPOINT_UP', revision: 3, endpoint: { ...endpoint('/a', 't1'), future: 1 }, extra: true };
    expect(parseWatchRecord(up)).to.deep.equal({ type: 'ENDPOINT_UP', revision: 3, endpoint: endpoint('/a', 't1') });
    expect(parseWatchRecord({ type: 'HEARTBEAT', revision: 0 })).to.deep.equal({ type: 'HEARTBEAT', revision: 0 });
    expect(parseWatchRecord({ type: 'RESUMED', clusterId: 'c', revision: 4 })).to.deep.equal({ type: 'RESUMED', clusterId: 'c', revision: 4 });
    const weighted = app('/a', { versionWeights: { v1: 1, v2: 0.5 } });
    expect(parseDelta({ type: 'APP_UPDATED', revision: 1, app: weighted })).to.deep.equal({ type: 'APP_UPDATED', revision: 1, app: weighted });
    expect(parseDelta({ type: 'CLUSTER_UPDATED', revision: 1, cluster: { leader: 'h:1', master: null } })).to.deep.equal({ type: 'CLUSTER_UPDATED', revision: 1, cluster: { leader: 'h:1' } });
  });

  it('names the offending field path', () => {
    expect(errorOf(() => parseWatchRecord('hello'))).to.equal('<root>: expected an object, got "hello"');
    expect(errorOf(() => parseWatchRecord({ type: 'NOPE', revision: 1 }))).to.match(/^type: expected one of SNAPSHOT, RESUMED/);
    expect(errorOf(() => parseDelta({ type: 'APP_REMOVED', revision: 0, appId: '/a' }))).to.equal('revision: expected an integer revision >= 1, got 0');
    expect(errorOf(() => parseDelta({ type: 'APP_REMOVED', revision: 1, appId: 'a' }))).to.equal('appId: expected an absolute app id like "/shop/web", got "a"');
    expect(errorOf(() => parseDelta({ type: 'ENDPOINT_UP', revision: 1, endpoint: endpoint('/a', 't', { ports: [1, 70000] }) })))
      .to.equal('endpoint.ports[1]: expected a port number 0-65535, got 70000');
    expect(errorOf(() => parseDelta({ type: 'ENDPOINT_UP', revision: 1, endpoint: endpoint('/a', 't', { healthySince: 'soon' }) })))
      .to.equal('endpoint.healthySince: expected a Date.parse-able time, got "soon"');
    expect(errorOf(() => parseDelta({ type: 'APP_UPDATED', revision: 1, app: { id: '/a', labels: { x: 1 }, ports: [] } })))
      .to.equal('app.labels.x: expected a string, got 1');
    expect(errorOf(() => parseDelta({ type: 'APP_UPDATED', revision: 1, app: { id: '/a', ports: [{ protocol: 'sctp', servicePort: 0 }] } })))
      .to.equal('app.ports[0].protocol: expected one of tcp, udp, udp,tcp, got "sctp"');
    expect(errorOf(() => parseDelta({ type: 'APP_UPDATED', revision: 1, app: app('/a', { versionWeights: { v1: -1 } }) })))
      .to.equal('app.versionWeights.v1: expected a finite number >= 0, got -1');
  });

  it('refuses a __proto__ key instead of setting a prototype', () => {
    const raw = JSON.parse('{"type":"APP_UPDATED","revision":1,"app":{"id":"/a","ports":[],"labels":{"__proto__":"x"}}}') as unknown;
    expect(errorOf(() => parseDelta(raw))).to.match(/^app.labels: expected keys other than "__proto__"/);
  });

  it('checks a snapshot for endpoints under the wrong app and duplicate ids', () => {
    const base = { type: 'SNAPSHOT', clusterId: 'c', revision: 2, cluster: {} };
    expect(errorOf(() => parseSnapshot({ ...base, apps: [{ ...app('/a'), endpoints: [endpoint('/b', 't1')] }] })))
      .to.equal('apps[0].endpoints[0].appId: expected "/a", got "/b"');
    expect(errorOf(() => parseSnapshot({ ...base, apps: [{ ...app('/a'), endpoints: [endpoint('/a', 't1')] }, { ...app('/b'), endpoints: [endpoint('/b', 't1')] }] })))
      .to.equal('apps[1].endpoints[0].taskId: expected a task id unique in the snapshot, got "t1"');
    expect(errorOf(() => parseSnapshot({ ...base, apps: [{ ...app('/a'), endpoints: [] }, { ...app('/a'), endpoints: [] }] })))
      .to.equal('apps[1].id: expected an app id not listed before, got "/a"');
    expect(errorOf(() => parseSnapshot({ ...base, clusterId: '', apps: [] }))).to.equal('clusterId: expected a non-empty string, got ""');
  });
});
