import { expect } from 'chai';
import type { AppVersion } from '../../../../src/framework/app/app-definition.ts';
import { firstAppVersion } from '../../../../src/framework/app/app-version.ts';
import { parseAppDefinition } from '../../../../src/framework/app/parse-app.ts';
import { renderApp, renderDefinition } from '../../../../src/framework/app/render-app.ts';
import { fixtureNames, loadFixture } from './load-fixture.ts';

const T0 = Date.UTC(2026, 11, 6, 5, 0, 0, 123);

/** Every key Marathon 1.11's App type may print; anything else would be a cygnet-only key. */
const MARATHON_APP_KEYS = new Set([
  'id', 'acceptedResourceRoles', 'args', 'backoffFactor', 'backoffSeconds', 'cmd', 'constraints', 'container', 'cpus',
  'dependencies', 'disk', 'env', 'executor', 'executorResources', 'fetch', 'healthChecks', 'check', 'instances', 'labels',
  'maxLaunchDelaySeconds', 'mem', 'gpus', 'ipAddress', 'networks', 'ports', 'portDefinitions', 'readinessChecks', 'residency',
  'resourceLimits', 'requirePorts', 'secrets', 'taskKillGracePeriodSeconds', 'upgradeStrategy', 'uris', 'user', 'version',
  'versionInfo', 'killSelection', 'unreachableStrategy', 'tty', 'role',
]);
const HEALTH_KEYS = new Set([
  'command', 'gracePeriodSeconds', 'ignoreHttp1xx', 'intervalSeconds', 'maxConsecutiveFailures', 'path', 'port', 'portIndex',
  'protocol', 'ipProtocol', 'timeoutSeconds', 'delaySeconds',
]);

/**
 * The keyword arguments of marathon-python's `MarathonApp.__init__` (thefactory/marathon-python,
 * marathon/models/app.py), camel-cased: that client builds apps with `MarathonApp(**response)`
 * and fails on any key outside this list.
 */
const MARATHON_PYTHON_APP_KEYS = new Set([
  'acceptedResourceRoles', 'args', 'backoffFactor', 'backoffSeconds', 'cmd', 'constraints', 'container', 'cpus',
  'dependencies', 'deployments', 'disk', 'env', 'executor', 'healthChecks', 'id', 'role', 'instances', 'killSelection',
  'labels', 'lastTaskFailure', 'maxLaunchDelaySeconds', 'mem', 'ports', 'requirePorts', 'storeUrls', 'taskRateLimit',
  'tasks', 'tasksRunning', 'tasksStaged', 'tasksHealthy', 'taskKillGracePeriodSeconds', 'tasksUnhealthy',
  'upgradeStrategy', 'unreachableStrategy', 'uris', 'user', 'version', 'versionInfo', 'ipAddress', 'fetch', 'taskStats',
  'readinessChecks', 'readinessCheckResults', 'secrets', 'portDefinitions', 'residency', 'gpus', 'networks',
]);

function versionOf(json: unknown): AppVersion {
  return firstAppVersion(parseAppDefinition(json), T0);
}

describe('framework/app renderApp', () => {
  it('prints a minimal app exactly as Marathon 1.11 does, in its key order, with no nulls', () => {
    const out = renderApp(versionOf({ id: '/a', cmd: 'sleep 100' }));
    expect(out).to.deep.equal({
      id: '/a',
      backoffFactor: 1.15,
      backoffSeconds: 1,
      cmd: 'sleep 100',
      cpus: 1,
      disk: 0,
      executor: '',
      instances: 1,
      labels: {},
      maxLaunchDelaySeconds: 300,
      mem: 128,
      gpus: 0,
      networks: [{ mode: 'host' }],
      portDefinitions: [{ port: 0, name: 'default', protocol: 'tcp' }],
      requirePorts: false,
      upgradeStrategy: { maximumOverCapacity: 1, minimumHealthCapacity: 1 },
      version: '2026-12-06T05:00:00.123Z',
      versionInfo: { lastScalingAt: '2026-12-06T05:00:00.123Z', lastConfigChangeAt: '2026-12-06T05:00:00.123Z' },
      killSelection: 'YOUNGEST_FIRST',
      unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
      role: '*',
    });
    expect(Object.keys(out)).to.deep.equal([
      'id', 'backoffFactor', 'backoffSeconds', 'cmd', 'cpus', 'disk', 'executor', 'instances', 'labels',
      'maxLaunchDelaySeconds', 'mem', 'gpus', 'networks', 'portDefinitions', 'requirePorts', 'upgradeStrategy', 'version',
      'versionInfo', 'killSelection', 'unreachableStrategy', 'role',
    ]);
  });

  it('prints health checks with Marathon\'s fields (ipProtocol, delaySeconds, ignoreHttp1xx for HTTP only)', () => {
    const out = renderApp(versionOf(loadFixture('marathon-lb-vhost.json')));
    expect(out.healthChecks).to.deep.equal([
      { gracePeriodSeconds: 60, intervalSeconds: 10, maxConsecutiveFailures: 5, portIndex: 0, protocol: 'TCP', ipProtocol: 'IPv4', timeoutSeconds: 20, delaySeconds: 15 },
      { command: { value: 'curl -fsS http://127.0.0.1:$PORT0/ping' }, gracePeriodSeconds: 300, intervalSeconds: 60, maxConsecutiveFailures: 3, protocol: 'COMMAND', ipProtocol: 'IPv4', timeoutSeconds: 20, delaySeconds: 15 },
    ]);
    const http = renderApp(versionOf(loadFixture('python-http-server.json')));
    expect((http.healthChecks as Record<string, unknown>[])[0]).to.include({ ignoreHttp1xx: false, path: '/', portIndex: 0, protocol: 'HTTP' });
  });

  for (const name of fixtureNames()) {
    it(`round-trips ${name}: parse → render → parse is the same definition, render is stable`, () => {
      const v = versionOf(loadFixture(name));
      const json = renderApp(v);
      const again = parseAppDefinition(JSON.parse(JSON.stringify(json)));
      expect(again).to.deep.equal(v.definition);
      expect(renderApp({ ...v, definition: again })).to.deep.equal(json);
    });

    it(`prints only Marathon's keys for ${name}`, () => {
      const json = renderApp(versionOf(loadFixture(name)));
      for (const key of Object.keys(json)) expect(MARATHON_APP_KEYS.has(key), key).to.equal(true);
      for (const key of Object.keys(json)) expect(MARATHON_PYTHON_APP_KEYS.has(key), `marathon-python: ${key}`).to.equal(true);
      for (const hc of (json.healthChecks ?? []) as Record<string, unknown>[]) {
        for (const key of Object.keys(hc)) expect(HEALTH_KEYS.has(key), key).to.equal(true);
      }
      expect(JSON.stringify(json)).to.not.contain('null');
    });
  }

  it('prints constraints as triples, unreachable "disabled", optional fields only when set', () => {
    const out = renderDefinition(
      parseAppDefinition({
        id: '/a',
        args: ['x'],
        user: 'u',
        constraints: [['hostname', 'unique'], ['rack', 'CLUSTER', 'a'], ['zone', 'IS']],
        unreachableStrategy: 'disabled',
        taskKillGracePeriodSeconds: 0,
        acceptedResourceRoles: ['*'],
      }),
    );
    expect(out.constraints).to.deep.equal([['hostname', 'UNIQUE'], ['rack', 'CLUSTER', 'a'], ['zone', 'IS']]);
    expect(out.unreachableStrategy).to.equal('disabled');
    expect(out).to.include({ user: 'u', taskKillGracePeriodSeconds: 0 });
    expect(out.args).to.deep.equal(['x']);
    expect(out).to.not.have.any.keys('cmd', 'version', 'versionInfo', 'env', 'fetch', 'healthChecks', 'dependencies');
  });

  it('prints an explicitly empty portDefinitions as []', () => {
    const out = renderDefinition(parseAppDefinition({ id: '/a', cmd: 'x y', portDefinitions: [] }));
    expect(out.portDefinitions).to.deep.equal([]);
  });
});
