import { expect } from 'chai';
import { APP_DEFAULTS, HEALTH_CHECK_DEFAULTS } from '../../../../src/framework/app/app-definition.ts';
import { AppValidationError } from '../../../../src/framework/app/app-errors.ts';
import { parseAppDefinition } from '../../../../src/framework/app/parse-app.ts';
import { CygnetError } from '../../../../src/common/errors.ts';
import { fixtureNames, loadFixture, thrownBy } from './load-fixture.ts';

describe('framework/app parseAppDefinition', () => {
  it('fills every default as Marathon 1.11 does', () => {
    const d = parseAppDefinition({ id: '/a', cmd: 'sleep 100' });
    expect(d).to.deep.equal({
      id: '/a',
      cmd: 'sleep 100',
      env: {},
      instances: 1,
      cpus: 1,
      mem: 128,
      disk: 0,
      gpus: 0,
      executor: '',
      constraints: [],
      fetch: [],
      portDefinitions: [{ port: 0, protocol: 'tcp', name: 'default', labels: {} }],
      requirePorts: false,
      backoffSeconds: 1,
      backoffFactor: 1.15,
      maxLaunchDelaySeconds: 300,
      healthChecks: [],
      readinessChecks: [],
      dependencies: [],
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      labels: {},
      role: '*',
      killSelection: 'YOUNGEST_FIRST',
      unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
    });
    expect(APP_DEFAULTS.maxLaunchDelaySeconds).to.equal(300);
  });

  it('returns a deeply frozen value', () => {
    const d = parseAppDefinition(loadFixture('python-http-server.json'));
    expect(Object.isFrozen(d)).to.equal(true);
    expect(Object.isFrozen(d.portDefinitions[1]?.labels)).to.equal(true);
    expect(Object.isFrozen(d.healthChecks[0])).to.equal(true);
  });

  for (const name of fixtureNames()) {
    it(`accepts the fixture ${name}`, () => {
      const d = parseAppDefinition(loadFixture(name));
      expect(d.id).to.match(/^\/[a-z]/);
    });
  }

  it('reads the python http.server fixture field by field', () => {
    const d = parseAppDefinition(loadFixture('python-http-server.json'));
    expect(d.portDefinitions.map((p) => p.name)).to.deep.equal(['http', 'admin']);
    expect(d.portDefinitions[1]?.labels).to.deep.equal({ metrics: 'prometheus' });
    expect(d.healthChecks).to.deep.equal([
      { protocol: 'HTTP', path: '/', portIndex: 0, ignoreHttp1xx: false, gracePeriodSeconds: 30, intervalSeconds: 5, timeoutSeconds: 2, maxConsecutiveFailures: 3, delaySeconds: 15 },
    ]);
    expect(d.constraints).to.deep.equal([{ operator: 'UNIQUE', field: 'hostname' }]);
    expect(d.upgradeStrategy).to.deep.equal({ minimumHealthCapacity: 0.5, maximumOverCapacity: 0.2 });
  });

  it('reads the canary fixture: args, fetch with sha256, MESOS_HTTP check, readiness, typed constraints', () => {
    const d = parseAppDefinition(loadFixture('canary.json'));
    expect(d.cmd).to.equal(undefined);
    expect(d.args?.[0]).to.equal('/usr/local/bin/api');
    expect(d.fetch[0]).to.include({ extract: true, executable: false, cache: false });
    expect(d.healthChecks[0]).to.include({ protocol: 'MESOS_HTTP', delaySeconds: 5, path: '/healthz' });
    expect(d.readinessChecks[0]?.httpStatusCodesForReady).to.deep.equal([200, 204]);
    expect(d.constraints).to.deep.equal([
      { operator: 'GROUP_BY', field: 'rack', value: '3', groups: 3 },
      { operator: 'MAX_PER', field: 'hostname', value: '2', max: 2 },
    ]);
    expect(d.killSelection).to.equal('OLDEST_FIRST');
    expect(d.unreachableStrategy).to.deep.equal({ inactiveAfterSeconds: 60, expungeAfterSeconds: 600 });
    expect(d.dependencies).to.deep.equal(['/shop/db']);
  });

  it('reads the marathon-lb fixture: relative id, HAPROXY labels kept, TCP and COMMAND checks', () => {
    const d = parseAppDefinition(loadFixture('marathon-lb-vhost.json'));
    expect(d.id).to.equal('/blog');
    expect(d.labels.HAPROXY_0_VHOST).to.equal('blog.example.com');
    expect(d.healthChecks.map((h) => h.protocol)).to.deep.equal(['TCP', 'COMMAND']);
    expect(d.healthChecks[1]).to.deep.include({ command: { value: 'curl -fsS http://127.0.0.1:$PORT0/ping' } });
    expect(d.acceptedResourceRoles).to.deep.equal(['*']);
    expect(d.user).to.equal('nobody');
  });

  it('migrates the deprecated ports and uris, ignoring GET-only fields', () => {
    const d = parseAppDefinition(loadFixture('legacy-ports-uris.json'));
    expect(d.portDefinitions).to.deep.equal([
      { port: 0, protocol: 'tcp', labels: {} },
      { port: 0, protocol: 'tcp', labels: {} },
    ]);
    expect(d.fetch).to.deep.equal([
      { uri: 'https://downloads.example.com/tools/legacy-1.0.tgz', extract: true, executable: false, cache: false },
      { uri: 'https://downloads.example.com/tools/run.sh', extract: false, executable: false, cache: false },
    ]);
    expect(d.constraints.map((c) => c.operator)).to.deep.equal(['CLUSTER', 'LIKE', 'IS']);
  });

  it('adds portIndex 0 to network health checks naming no port, as Marathon stores them', () => {
    const withPorts = parseAppDefinition({ id: '/a', cmd: 'x y', portDefinitions: [{ port: 0 }], healthChecks: [{ protocol: 'TCP' }] });
    expect(withPorts.healthChecks[0]).to.include({ portIndex: 0 });
    const defaultPorts = parseAppDefinition({ id: '/a', cmd: 'x y', healthChecks: [{ protocol: 'HTTP' }] });
    expect(defaultPorts.healthChecks[0]).to.include({ portIndex: 0 });
    const fixed = parseAppDefinition({ id: '/a', cmd: 'x y', healthChecks: [{ protocol: 'TCP', port: 8080 }] });
    expect(fixed.healthChecks[0]).to.not.have.property('portIndex');
    const command = parseAppDefinition({ id: '/a', cmd: 'x y', portDefinitions: [{}], healthChecks: [{ protocol: 'COMMAND', command: { value: 'true' } }] });
    expect(command.healthChecks[0]).to.not.have.property('portIndex');
  });

  it('applies health check defaults, and prints delaySeconds 15 for checks Marathon runs itself', () => {
    const d = parseAppDefinition({ id: '/a', cmd: 'x y', healthChecks: [{ delaySeconds: 3 }, { protocol: 'MESOS_TCP', delaySeconds: 3 }] });
    expect(d.healthChecks[0]).to.deep.equal({ protocol: 'HTTP', ignoreHttp1xx: false, portIndex: 0, ...HEALTH_CHECK_DEFAULTS });
    expect(d.healthChecks[1]).to.include({ protocol: 'MESOS_TCP', delaySeconds: 3 });
  });

  it('matches enum literals case-insensitively and answers the canonical spelling', () => {
    const d = parseAppDefinition({
      id: '/a',
      cmd: 'x y',
      killSelection: 'oldest_first',
      unreachableStrategy: 'DISABLED',
      portDefinitions: [{ protocol: 'UDP' }],
      healthChecks: [{ protocol: 'https', portIndex: 0 }],
      constraints: [['hostname', 'unique']],
    });
    expect(d.killSelection).to.equal('OLDEST_FIRST');
    expect(d.unreachableStrategy).to.equal('disabled');
    expect(d.portDefinitions[0]?.protocol).to.equal('udp');
    expect(d.healthChecks[0]?.protocol).to.equal('HTTPS');
    expect(d.constraints[0]?.operator).to.equal('UNIQUE');
  });

  it('treats null as absent, like Marathon', () => {
    const d = parseAppDefinition({ id: '/a', cmd: 'x y', args: null, user: null, container: null, env: null, instances: null });
    expect(d.instances).to.equal(1);
    expect(d).to.not.have.property('args');
    expect(d).to.not.have.property('user');
  });

  it('reads -0 as 0', () => {
    const d = parseAppDefinition({ id: '/a', cmd: 'x y', disk: -0, instances: -0 });
    expect(Object.is(d.disk, 0)).to.equal(true);
    expect(Object.is(d.instances, 0)).to.equal(true);
  });

  it('keeps __proto__ labels as plain data, never touching prototypes', () => {
    const json: unknown = JSON.parse('{"id":"/a","cmd":"x y","labels":{"__proto__":"p","a":"b"},"env":{"__proto__":"q"}}');
    const d = parseAppDefinition(json);
    expect(Object.getPrototypeOf(d.labels)).to.equal(Object.prototype);
    expect(Object.keys(d.labels)).to.deep.equal(['__proto__', 'a']);
    expect(Object.keys(d.env)).to.deep.equal(['__proto__']);
  });

  it('dedupes repeated constraints, as Marathon keeps them in a set', () => {
    const d = parseAppDefinition({ id: '/a', cmd: 'x y', constraints: [['hostname', 'UNIQUE'], ['hostname', 'unique']] });
    expect(d.constraints).to.have.length(1);
  });

  it('resolves relative ids and dependencies against basePath', () => {
    const d = parseAppDefinition({ id: 'web', cmd: 'x y', dependencies: ['db', '../infra/cache', '/abs/x'] }, { basePath: '/shop' });
    expect(d.id).to.equal('/shop/web');
    expect(d.dependencies).to.deep.equal(['/shop/db', '/infra/cache', '/abs/x']);
  });

  it('applies defaultRole and validRoles', () => {
    expect(parseAppDefinition({ id: '/a', cmd: 'x y' }, { defaultRole: 'prod' }).role).to.equal('prod');
    const err = thrownBy(() => parseAppDefinition({ id: '/a', cmd: 'x y', role: 'dev' }, { validRoles: ['prod'] }));
    expect(err).to.be.instanceOf(AppValidationError);
    expect((err as AppValidationError).body.details).to.deep.equal([{ path: '/role', errors: ['got dev, expected one of: [prod]'] }]);
  });

  it('throws a CygnetError with code CYG_VALIDATION and HTTP 422', () => {
    const err = thrownBy(() => parseAppDefinition({ id: '/a' }));
    expect(err).to.be.instanceOf(CygnetError);
    expect((err as AppValidationError).code).to.equal('CYG_VALIDATION');
    expect((err as AppValidationError).httpStatus).to.equal(422);
    expect((err as AppValidationError).message).to.contain('/');
  });
});
