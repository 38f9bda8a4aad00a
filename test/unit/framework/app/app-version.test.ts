import { expect } from 'chai';
import {
  describeAppDefinition,
  describeAppVersion,
  firstAppVersion,
  nextAppVersion,
  normalizeVersionId,
  versionIdAt,
} from '../../../../src/framework/app/app-version.ts';
import { applyAppUpdate } from '../../../../src/framework/app/merge-app.ts';
import { parseAppDefinition } from '../../../../src/framework/app/parse-app.ts';

const T0 = Date.UTC(2026, 11, 6, 5, 0, 0, 0);
const app = parseAppDefinition({ id: '/shop/web', cmd: 'sleep 100', instances: 2 });

describe('framework/app versions', () => {
  it('prints version ids as Marathon does: ISO-8601 UTC with milliseconds', () => {
    expect(versionIdAt(T0)).to.equal('2026-12-06T05:00:00.000Z');
    expect(normalizeVersionId('2026-12-06T05:00:00Z')).to.equal('2026-12-06T05:00:00.000Z');
    expect(normalizeVersionId('2026-12-06T06:00:00.5+01:00')).to.equal('2026-12-06T05:00:00.500Z');
    expect(normalizeVersionId('latest')).to.equal(undefined);
    expect(normalizeVersionId('2026-13-45T00:00:00Z')).to.equal(undefined);
  });

  it('a first version has both versionInfo times equal to it', () => {
    const v = firstAppVersion(app, T0);
    expect(v.versionInfo).to.deep.equal({ lastScalingAt: v.version, lastConfigChangeAt: v.version });
    expect(describeAppVersion(v)).to.equal('/shop/web@2026-12-06T05:00:00.000Z instances=2 config=2026-12-06T05:00:00.000Z');
  });

  it('a scale moves lastScalingAt only; a config change moves both', () => {
    const v1 = firstAppVersion(app, T0);
    const v2 = nextAppVersion(v1, applyAppUpdate(app, { instances: 5 }), T0 + 1000);
    expect(v2?.versionInfo).to.deep.equal({ lastScalingAt: '2026-12-06T05:00:01.000Z', lastConfigChangeAt: v1.version });
    if (v2 === undefined) throw new Error('expected a version');
    const v3 = nextAppVersion(v2, applyAppUpdate(v2.definition, { mem: 64 }), T0 + 2000);
    expect(v3?.versionInfo).to.deep.equal({ lastScalingAt: '2026-12-06T05:00:02.000Z', lastConfigChangeAt: '2026-12-06T05:00:02.000Z' });
  });

  it('describes a definition in one stable line', () => {
    const d = parseAppDefinition({ id: '/w', cmd: 'sleep 1', constraints: [['hostname', 'UNIQUE']], healthChecks: [{ protocol: 'TCP' }] });
    expect(describeAppDefinition(d)).to.equal('/w instances=1 cpus=1 mem=128 disk=0 ports=1 health=TCP constraints=hostname:UNIQUE cmd="sleep 1"');
    expect(describeAppDefinition(parseAppDefinition({ id: '/v', args: ['a', 'b'] }))).to.equal(
      '/v instances=1 cpus=1 mem=128 disk=0 ports=1 health=- constraints=- args=["a","b"]',
    );
  });

  it('no change, no version', () => {
    const v1 = firstAppVersion(app, T0);
    expect(nextAppVersion(v1, applyAppUpdate(app, {}), T0 + 5)).to.equal(undefined);
  });

  it('versions strictly increase even if the clock does not', () => {
    const v1 = firstAppVersion(app, T0);
    const v2 = nextAppVersion(v1, applyAppUpdate(app, { instances: 3 }), T0 - 10_000);
    expect(v2?.version).to.equal('2026-12-06T05:00:00.001Z');
  });
});
