import { expect } from 'chai';
import {
  healthProbeDelaySeconds,
  healthProbeKind,
  healthProbePath,
  healthProbePort,
} from '../../../../src/framework/app/health-check.ts';
import { parseAppDefinition } from '../../../../src/framework/app/parse-app.ts';

function checksOf(healthChecks: unknown[], ports: unknown[] = [{}, {}]) {
  return parseAppDefinition({ id: '/a', cmd: 'x y', portDefinitions: ports, healthChecks }).healthChecks;
}

describe('framework/app health check probes', () => {
  it('an HTTP check without path is an HTTP probe of /', () => {
    const [hc] = checksOf([{ protocol: 'HTTP', portIndex: 1 }]);
    if (hc === undefined) throw new Error('no check');
    expect(healthProbeKind(hc)).to.equal('HTTP');
    expect(healthProbePath(hc)).to.equal('/');
    expect(healthProbePort(hc, [31000, 31001])).to.equal(31001);
  });

  it('maps every protocol to its probe', () => {
    const hcs = checksOf([
      { protocol: 'HTTPS', path: '/h' },
      { protocol: 'TCP', port: 9000 },
      { protocol: 'MESOS_HTTPS' },
    ]);
    expect(hcs.map(healthProbeKind)).to.deep.equal(['HTTPS', 'TCP', 'HTTPS']);
    expect(hcs.map(healthProbePath)).to.deep.equal(['/h', undefined, '/']);
    expect(hcs.map((h) => healthProbePort(h, [31000, 31001]))).to.deep.equal([31000, 9000, 31000]);
    const [cmd] = checksOf([{ protocol: 'COMMAND', command: { value: 'true' } }]);
    if (cmd === undefined) throw new Error('no check');
    expect(healthProbeKind(cmd)).to.equal('COMMAND');
    expect(healthProbePort(cmd, [1])).to.equal(undefined);
  });

  it('uses the first port when the check names none and the app has one port', () => {
    const [hc] = parseAppDefinition({ id: '/a', cmd: 'x y', healthChecks: [{ protocol: 'TCP' }] }).healthChecks;
    if (hc === undefined) throw new Error('no check');
    expect(healthProbePort(hc, [31555])).to.equal(31555);
  });

  it('delays the first probe only for checks Mesos runs', () => {
    const hcs = checksOf([{ protocol: 'HTTP', delaySeconds: 40 }, { protocol: 'MESOS_TCP', delaySeconds: 40 }], [{}]);
    expect(hcs.map(healthProbeDelaySeconds)).to.deep.equal([0, 40]);
  });
});
