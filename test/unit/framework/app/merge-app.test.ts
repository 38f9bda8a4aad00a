import { expect } from 'chai';
import { AppValidationError } from '../../../../src/framework/app/app-errors.ts';
import {
  UPDATE_MESSAGES,
  applyAppUpdate,
  changedFields,
  definitionsEqual,
  isRestartEquivalent,
  isScaleOnly,
  readRollbackVersion,
} from '../../../../src/framework/app/merge-app.ts';
import { APP_MESSAGES, parseAppDefinition } from '../../../../src/framework/app/parse-app.ts';
import { fixtureNames, loadFixture, thrownBy } from './load-fixture.ts';

const web = parseAppDefinition(loadFixture('python-http-server.json'));

describe('framework/app applyAppUpdate (PUT partialUpdate=true, PATCH)', () => {
  it('{"instances": n} alone is a scale', () => {
    const next = applyAppUpdate(web, { instances: 7 });
    expect(next.instances).to.equal(7);
    expect(isScaleOnly(web, next)).to.equal(true);
    expect(changedFields(web, next)).to.deep.equal(['instances']);
  });

  it('replaces each given top-level field whole, keeping the others', () => {
    const next = applyAppUpdate(web, { labels: { tier: 'front' }, env: { A: '1' }, cpus: 0.5 });
    expect(next.labels).to.deep.equal({ tier: 'front' });
    expect(next.env).to.deep.equal({ A: '1' });
    expect(next.cpus).to.equal(0.5);
    expect(next.healthChecks).to.deep.equal(web.healthChecks);
    expect(next.portDefinitions).to.deep.equal(web.portDefinitions);
    expect(isScaleOnly(web, next)).to.equal(false);
    expect(changedFields(web, next)).to.deep.equal(['cpus', 'env', 'labels']);
  });

  it('updates of the same current definition stay independent of each other', () => {
    const first = applyAppUpdate(web, { labels: { a: 'b' }, healthChecks: [] });
    const second = applyAppUpdate(web, { instances: 4 });
    expect(first.labels).to.deep.equal({ a: 'b' });
    expect(second.labels).to.deep.equal(web.labels);
    expect(second.healthChecks).to.deep.equal(web.healthChecks);
    expect(applyAppUpdate(web, {})).to.deep.equal(web);
  });

  it('keeps the current value for a null field, as Marathon does', () => {
    const next = applyAppUpdate(web, { cmd: null, mem: null, instances: 2 });
    expect(next.cmd).to.equal(web.cmd);
    expect(next.mem).to.equal(web.mem);
  });

  it('ignores the body id: the URL names the app', () => {
    expect(applyAppUpdate(web, { id: '/other', instances: 1 }).id).to.equal('/shop/web');
  });

  it('sending args to a cmd app conflicts, as in Marathon', () => {
    const e = thrownBy(() => applyAppUpdate(web, { args: ['x'] })) as AppValidationError;
    expect(e.body).to.deep.equal({ message: 'Object is not valid', details: [{ path: '/', errors: [APP_MESSAGES.cmdArgsOrContainer] }] });
  });

  it('re-validates the merged app with the same 422 bodies', () => {
    const schema = thrownBy(() => applyAppUpdate(web, { instances: -1, cpus: 'x' })) as AppValidationError;
    expect(schema.body).to.deep.equal({
      message: 'Invalid JSON',
      details: [{ path: '/cpus', errors: ['error.expected.jsnumber'] }, { path: '/instances', errors: ['error.min'] }],
    });
    // Dropping the ports leaves the existing HTTP check pointing at nothing.
    const rules = thrownBy(() => applyAppUpdate(web, { portDefinitions: [] })) as AppValidationError;
    expect(rules.body).to.deep.equal({
      message: 'Object is not valid',
      details: [{ path: '/healthChecks(0)', errors: [APP_MESSAGES.healthPortIndex] }],
    });
  });

  it('migrates deprecated ports and uris in an update', () => {
    const next = applyAppUpdate(web, { ports: [0, 0, 0], uris: ['http://x/y.zip'] });
    expect(next.portDefinitions.map((p) => p.port)).to.deep.equal([0, 0, 0]);
    expect(next.fetch).to.deep.equal([{ uri: 'http://x/y.zip', extract: true, executable: false, cache: false }]);
    const both = thrownBy(() => applyAppUpdate(web, { uris: ['http://x/a'], fetch: [{ uri: 'http://x/b' }] })) as AppValidationError;
    expect(both.body.details).to.deep.equal([{ path: '/', errors: [UPDATE_MESSAGES.urisAndFetch] }]);
  });

  it('gives new health checks portIndex 0 when they name no port', () => {
    const next = applyAppUpdate(web, { healthChecks: [{ protocol: 'TCP' }] });
    expect(next.healthChecks[0]).to.include({ protocol: 'TCP', portIndex: 0 });
  });

  it('refuses a body that is not an object', () => {
    const e = thrownBy(() => applyAppUpdate(web, [1, 2])) as AppValidationError;
    expect(e.body.details).to.deep.equal([{ path: '', errors: ['error.expected.jsobject'] }]);
  });

  const shapes: [string, unknown][] = [
    ...fixtureNames().map((n): [string, unknown] => [n, loadFixture(n)]),
    ['an HTTP check naming no port, default ports', { id: '/h', cmd: 'x y', healthChecks: [{ protocol: 'HTTP' }] }],
    ['a MESOS_TCP check and no ports', { id: '/m', cmd: 'x y', portDefinitions: [], healthChecks: [{ protocol: 'MESOS_TCP' }] }],
    ['deprecated ports and uris', { id: '/d', cmd: 'x y', ports: [0, 0], uris: ['http://x/a.tgz'], healthChecks: [{ protocol: 'TCP', portIndex: 1 }] }],
    ['args, disabled unreachable, every operator', {
      id: '/e', args: ['a'], unreachableStrategy: 'disabled',
      constraints: [['a', 'UNIQUE'], ['b', 'CLUSTER'], ['c', 'GROUP_BY', '2'], ['d', 'LIKE', 'x.*'], ['e', 'UNLIKE', 'y'], ['f', 'MAX_PER', '1'], ['g', 'IS', 'z']],
    }],
  ];
  for (const [name, json] of shapes) {
    it(`is idempotent for ${name}: {} changes nothing, {"instances": n} is a scale`, () => {
      const def = parseAppDefinition(json);
      expect(definitionsEqual(applyAppUpdate(def, {}), def)).to.equal(true);
      expect(applyAppUpdate(def, {})).to.deep.equal(def);
      const scaled = applyAppUpdate(def, { instances: def.instances + 3 });
      expect(isScaleOnly(def, scaled)).to.equal(true);
      expect(changedFields(def, scaled)).to.deep.equal(['instances']);
    });
  }
});

describe('framework/app applyAppUpdate (PUT partialUpdate=false)', () => {
  it('replaces the whole definition; left-out fields fall back to defaults', () => {
    const next = applyAppUpdate(web, { cmd: 'sleep 5' }, { partialUpdate: false });
    expect(next.id).to.equal('/shop/web');
    expect(next.instances).to.equal(1);
    expect(next.cpus).to.equal(1);
    expect(next.healthChecks).to.deep.equal([]);
    expect(next.constraints).to.deep.equal([]);
  });

  it('validates like a new app', () => {
    const e = thrownBy(() => applyAppUpdate(web, { instances: 3 }, { partialUpdate: false })) as AppValidationError;
    expect(e.body.details).to.deep.equal([{ path: '/', errors: [APP_MESSAGES.cmdArgsOrContainer] }]);
  });
});

describe('framework/app readRollbackVersion', () => {
  it('tells a rollback from an update', () => {
    expect(readRollbackVersion({ version: '2026-12-06T05:00:00.123Z' })).to.equal('2026-12-06T05:00:00.123Z');
    expect(readRollbackVersion({ id: '/shop/web', version: '2026-12-06T05:00:00.123Z' })).to.equal('2026-12-06T05:00:00.123Z');
    expect(readRollbackVersion({ instances: 2 })).to.equal(undefined);
    expect(readRollbackVersion({ version: null, instances: 2 })).to.equal(undefined);
  });

  it("enforces Marathon's rule that version goes only with id", () => {
    const e = thrownBy(() => readRollbackVersion({ version: '2026-12-06T05:00:00.123Z', instances: 2 })) as AppValidationError;
    expect(e.body).to.deep.equal({ message: 'Object is not valid', details: [{ path: '/', errors: [UPDATE_MESSAGES.versionOnlyWithId] }] });
    const bad = thrownBy(() => readRollbackVersion({ version: 'latest' })) as AppValidationError;
    expect(bad.body.details).to.deep.equal([{ path: '/version', errors: ['error.expected.date.isoformat'] }]);
  });
});

describe('framework/app comparisons', () => {
  it('definitionsEqual ignores the order of map keys and of set-like lists', () => {
    const a = parseAppDefinition({ id: '/a', cmd: 'x y', labels: { a: '1', b: '2' }, constraints: [['h', 'UNIQUE'], ['r', 'CLUSTER', 'x']] });
    const b = parseAppDefinition({ id: '/a', cmd: 'x y', labels: { b: '2', a: '1' }, constraints: [['r', 'CLUSTER', 'x'], ['h', 'UNIQUE']] });
    expect(definitionsEqual(a, b)).to.equal(true);
    expect(isScaleOnly(a, b)).to.equal(false);
    expect(isRestartEquivalent(a, b)).to.equal(true);
  });

  it('order of portDefinitions and args matters', () => {
    const a = parseAppDefinition({ id: '/a', args: ['x', 'y'] });
    const b = parseAppDefinition({ id: '/a', args: ['y', 'x'] });
    expect(definitionsEqual(a, b)).to.equal(false);
    expect(isRestartEquivalent(a, b)).to.equal(false);
  });

  it('a config change with a scale is not scale-only', () => {
    const next = applyAppUpdate(web, { instances: 9, mem: 65 });
    expect(isScaleOnly(web, next)).to.equal(false);
    expect(isRestartEquivalent(web, next)).to.equal(false);
  });
});
