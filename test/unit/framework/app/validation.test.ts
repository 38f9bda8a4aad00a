/**
 * Every invalid field gives Marathon's 422: the body's message says which phase
 * refused it ("Invalid JSON" for the schema, "Object is not valid" for the
 * rules), each detail names Marathon's path and its exact error string.
 */
import { expect } from 'chai';
import { AppValidationError, InvalidJsonError, parseJsonBody } from '../../../../src/framework/app/app-errors.ts';
import { APP_MESSAGES, parseAppDefinition } from '../../../../src/framework/app/parse-app.ts';
import { CONSTRAINT_MESSAGES } from '../../../../src/framework/app/constraints.ts';
import { thrownBy } from './load-fixture.ts';

type Detail = { path: string; errors: string[] };
const BASE = { id: '/shop/web', cmd: 'sleep 100' };
const SCHEMA = 'Invalid JSON';
const RULES = 'Object is not valid';
const MB = 'x'.repeat(1 << 20);

function nested(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { n: [v] };
  return v;
}

interface Case {
  readonly name: string;
  readonly app: Record<string, unknown>;
  readonly message: typeof SCHEMA | typeof RULES;
  readonly details: Detail[];
}

const d = (path: string, ...errors: string[]): Detail => ({ path, errors });
const app = (over: Record<string, unknown>): Record<string, unknown> => ({ ...BASE, ...over });

const CASES: Case[] = [
  // --- id
  { name: 'missing id', app: { cmd: 'sleep 1' }, message: SCHEMA, details: [d('/id', 'error.path.missing')] },
  { name: 'numeric id', app: app({ id: 123 }), message: SCHEMA, details: [d('/id', 'error.expected.jsstring')] },
  { name: 'empty id', app: app({ id: '' }), message: SCHEMA, details: [d('/id', 'error.minLength')] },
  { name: 'uppercase id', app: app({ id: '/Shop/web' }), message: SCHEMA, details: [d('/id', 'error.pattern')] },
  { name: 'underscore in id', app: app({ id: '/shop/my_web' }), message: SCHEMA, details: [d('/id', 'error.pattern')] },
  { name: 'dash-led segment', app: app({ id: '/-web' }), message: SCHEMA, details: [d('/id', 'error.pattern')] },
  { name: 'root id', app: app({ id: '/' }), message: RULES, details: [d('/id', APP_MESSAGES.pathNonEmpty), d('/', APP_MESSAGES.notRoot)] },
  { name: 'id escaping to root', app: app({ id: '/a/..' }), message: RULES, details: [d('/id', APP_MESSAGES.pathNonEmpty), d('/', APP_MESSAGES.notRoot)] },
  { name: 'reserved last segment', app: app({ id: '/shop/versions' }), message: RULES, details: [d('/id', APP_MESSAGES.reserved)] },
  { name: 'reserved "restart"', app: app({ id: 'restart' }), message: RULES, details: [d('/id', APP_MESSAGES.reserved)] },
  { name: 'id that backtracks Marathon\'s regex', app: app({ id: `${'//'.repeat(10_000)}!` }), message: SCHEMA, details: [d('/id', 'error.pattern')] },
  { name: 'dependency that backtracks Marathon\'s regex', app: app({ dependencies: [`${'//'.repeat(10_000)}!`] }), message: SCHEMA, details: [d('/dependencies(0)', 'error.pattern')] },
  { name: '1 MB id', app: app({ id: `/${MB.toUpperCase()}` }), message: SCHEMA, details: [d('/id', 'error.pattern')] },
  // --- command
  { name: 'cmd and args both', app: app({ args: ['a'] }), message: RULES, details: [d('/', APP_MESSAGES.cmdArgsOrContainer)] },
  { name: 'neither cmd nor args', app: { id: '/a' }, message: RULES, details: [d('/', APP_MESSAGES.cmdArgsOrContainer)] },
  { name: 'empty cmd', app: app({ cmd: '' }), message: SCHEMA, details: [d('/cmd', 'error.minLength')] },
  { name: 'one-character cmd (Marathon rule)', app: app({ cmd: 'w' }), message: RULES, details: [d('/', APP_MESSAGES.cmdTooShort)] },
  { name: 'cmd as array', app: app({ cmd: ['sleep', '1'] }), message: SCHEMA, details: [d('/cmd', 'error.expected.jsstring')] },
  { name: 'args not strings', app: { id: '/a', args: ['a', 1, null] }, message: SCHEMA, details: [d('/args(1)', 'error.expected.jsstring'), d('/args(2)', 'error.expected.jsstring')] },
  // --- numbers
  { name: 'negative cpus', app: app({ cpus: -1 }), message: SCHEMA, details: [d('/cpus', 'error.min')] },
  { name: 'zero cpus', app: app({ cpus: 0 }), message: SCHEMA, details: [d('/cpus', 'error.min')] },
  { name: 'cpus as string', app: app({ cpus: '1' }), message: SCHEMA, details: [d('/cpus', 'error.expected.jsnumber')] },
  { name: 'cpus Infinity (1e309)', app: app({ cpus: JSON.parse('1e309') as number }), message: SCHEMA, details: [d('/cpus', 'error.expected.jsnumber')] },
  { name: 'mem NaN', app: app({ mem: Number.NaN }), message: SCHEMA, details: [d('/mem', 'error.expected.jsnumber')] },
  { name: 'negative mem', app: app({ mem: -0.5 }), message: SCHEMA, details: [d('/mem', 'error.min')] },
  { name: 'negative disk', app: app({ disk: -1e-9 }), message: SCHEMA, details: [d('/disk', 'error.min')] },
  { name: 'fractional instances', app: app({ instances: 1.5 }), message: SCHEMA, details: [d('/instances', 'error.expected.int')] },
  { name: 'instances beyond Int', app: app({ instances: 2 ** 31 }), message: SCHEMA, details: [d('/instances', 'error.expected.int')] },
  { name: 'instances 1e309', app: app({ instances: JSON.parse('1e309') as number }), message: SCHEMA, details: [d('/instances', 'error.expected.int')] },
  { name: 'negative instances', app: app({ instances: -1 }), message: SCHEMA, details: [d('/instances', 'error.min')] },
  { name: 'instances as boolean', app: app({ instances: true }), message: SCHEMA, details: [d('/instances', 'error.expected.jsnumber')] },
  { name: 'gpus requested', app: app({ gpus: 1 }), message: RULES, details: [d('/', APP_MESSAGES.gpuFeature)] },
  { name: 'backoffFactor below 1', app: app({ backoffFactor: 0.5 }), message: SCHEMA, details: [d('/backoffFactor', 'error.min')] },
  { name: 'negative backoffSeconds', app: app({ backoffSeconds: -1 }), message: SCHEMA, details: [d('/backoffSeconds', 'error.min')] },
  { name: 'huge maxLaunchDelaySeconds', app: app({ maxLaunchDelaySeconds: 1e12 }), message: SCHEMA, details: [d('/maxLaunchDelaySeconds', 'error.expected.int')] },
  { name: 'negative taskKillGracePeriodSeconds', app: app({ taskKillGracePeriodSeconds: -5 }), message: SCHEMA, details: [d('/taskKillGracePeriodSeconds', 'error.min')] },
  // --- several at once: all are reported
  {
    name: 'many schema errors together',
    app: { id: 7, cmd: 1, cpus: 'x', mem: -1, instances: 0.5, labels: [] },
    message: SCHEMA,
    details: [
      d('/id', 'error.expected.jsstring'),
      d('/cmd', 'error.expected.jsstring'),
      d('/cpus', 'error.expected.jsnumber'),
      d('/instances', 'error.expected.int'),
      d('/labels', 'error.expected.jsobject'),
      d('/mem', 'error.min'),
    ],
  },
  // --- ports
  { name: 'duplicate port names', app: app({ portDefinitions: [{ name: 'http' }, { name: 'http' }] }), message: RULES, details: [d('/portDefinitions', APP_MESSAGES.portNamesUnique)] },
  { name: 'duplicate fixed ports', app: app({ portDefinitions: [{ port: 8000 }, { port: 8000 }] }), message: RULES, details: [d('/portDefinitions', APP_MESSAGES.portsUnique)] },
  { name: 'port above 65535', app: app({ portDefinitions: [{ port: 70000 }] }), message: SCHEMA, details: [d('/portDefinitions(0)/port', 'error.max')] },
  { name: 'negative port', app: app({ portDefinitions: [{ port: -1 }] }), message: SCHEMA, details: [d('/portDefinitions(0)/port', 'error.min')] },
  { name: 'bad port name', app: app({ portDefinitions: [{ name: 'Web_1' }] }), message: SCHEMA, details: [d('/portDefinitions(0)/name', 'error.pattern')] },
  { name: 'unknown port protocol', app: app({ portDefinitions: [{ protocol: 'sctp' }] }), message: SCHEMA, details: [d('/portDefinitions(0)/protocol', 'error.unknown.enum.literal')] },
  { name: 'port labels not strings', app: app({ portDefinitions: [{ labels: { a: 1 } }] }), message: SCHEMA, details: [d('/portDefinitions(0)/labels/a', 'error.expected.jsstring')] },
  { name: 'portDefinitions not an array', app: app({ portDefinitions: { port: 0 } }), message: SCHEMA, details: [d('/portDefinitions', 'error.expected.jsarray')] },
  { name: 'deprecated ports not unique', app: app({ ports: [8080, 8080] }), message: RULES, details: [d('/', APP_MESSAGES.oldPortsUnique)] },
  { name: 'ports and portDefinitions disagree', app: app({ ports: [1], portDefinitions: [{ port: 2 }] }), message: RULES, details: [d('/', APP_MESSAGES.portsAndDefinitions)] },
  // --- constraints
  { name: 'unknown constraint operator', app: app({ constraints: [['hostname', 'SPREAD']] }), message: RULES, details: [d('/constraints(0)', CONSTRAINT_MESSAGES.operatorInvalid)] },
  { name: 'constraint of one field', app: app({ constraints: [['hostname']] }), message: SCHEMA, details: [d('/constraints(0)', 'error.minLength')] },
  { name: 'constraint of four fields', app: app({ constraints: [['a', 'b', 'c', 'd']] }), message: SCHEMA, details: [d('/constraints(0)', 'error.maxLength')] },
  { name: 'constraint value not a string', app: app({ constraints: [['hostname', 'MAX_PER', 2]] }), message: SCHEMA, details: [d('/constraints(0)(2)', 'error.expected.jsstring')] },
  { name: 'constraint with empty field', app: app({ constraints: [['', 'UNIQUE']] }), message: RULES, details: [d('/constraints(0)', CONSTRAINT_MESSAGES.illegal)] },
  { name: 'bad regex in LIKE', app: app({ constraints: [['rack', 'LIKE', 'a[']] }), message: RULES, details: [d('/constraints(0)', CONSTRAINT_MESSAGES.invalidRegex)] },
  { name: 'UNLIKE without value', app: app({ constraints: [['rack', 'UNLIKE']] }), message: RULES, details: [d('/constraints(0)', CONSTRAINT_MESSAGES.likeNeedsRegex)] },
  { name: 'MAX_PER not an integer', app: app({ constraints: [['rack', 'MAX_PER', '1.5']] }), message: RULES, details: [d('/constraints(0)', CONSTRAINT_MESSAGES.maxPerInt)] },
  { name: 'MAX_PER without value', app: app({ constraints: [['rack', 'MAX_PER']] }), message: RULES, details: [d('/constraints(0)', CONSTRAINT_MESSAGES.maxPerInt)] },
  { name: 'GROUP_BY not an integer', app: app({ constraints: [['rack', 'GROUP_BY', 'three']] }), message: RULES, details: [d('/constraints(0)', CONSTRAINT_MESSAGES.groupByInt)] },
  { name: 'UNIQUE with a value', app: app({ constraints: [['hostname', 'UNIQUE', '']] }), message: RULES, details: [d('/constraints(0)', CONSTRAINT_MESSAGES.uniqueNoValue)] },
  { name: 'IS with a range', app: app({ constraints: [['ports', 'IS', '[1-2]']] }), message: RULES, details: [d('/constraints(0)', CONSTRAINT_MESSAGES.isOnlyText)] },
  {
    name: 'every bad constraint reported',
    app: app({ constraints: [['a', 'X'], ['b', 'UNIQUE'], ['c', 'LIKE', '(']] }),
    message: RULES,
    details: [d('/constraints(0)', CONSTRAINT_MESSAGES.operatorInvalid), d('/constraints(2)', CONSTRAINT_MESSAGES.invalidRegex)],
  },
  // --- health checks
  { name: 'portIndex outside the ports', app: app({ healthChecks: [{ protocol: 'HTTP', portIndex: 1 }] }), message: RULES, details: [d('/healthChecks(0)', APP_MESSAGES.healthPortIndex)] },
  { name: 'no port to check with two ports', app: app({ ports: [0, 0], healthChecks: [{ protocol: 'TCP' }] }), message: RULES, details: [d('/healthChecks(0)', APP_MESSAGES.healthPortIndex)] },
  { name: 'unknown health protocol', app: app({ healthChecks: [{ protocol: 'GRPC' }] }), message: SCHEMA, details: [d('/healthChecks(0)/protocol', 'error.unknown.enum.literal')] },
  { name: 'negative grace period', app: app({ healthChecks: [{ gracePeriodSeconds: -1 }] }), message: SCHEMA, details: [d('/healthChecks(0)/gracePeriodSeconds', 'error.min')] },
  { name: 'command without value', app: app({ healthChecks: [{ protocol: 'COMMAND', command: {} }] }), message: SCHEMA, details: [d('/healthChecks(0)/command/value', 'error.path.missing')] },
  { name: 'COMMAND without command', app: app({ healthChecks: [{ protocol: 'COMMAND' }] }), message: RULES, details: [d('/healthChecks(0)/command', 'a COMMAND health check requires "command": {"value": ...}')] },
  { name: 'command with HTTP', app: app({ healthChecks: [{ protocol: 'HTTP', command: { value: 'true' }, portIndex: 0 }] }), message: RULES, details: [d('/healthChecks(0)', 'illegal protocol HTTP specified with command')] },
  { name: 'IPv6 health check', app: app({ healthChecks: [{ protocol: 'MESOS_HTTP', ipProtocol: 'IPv6' }] }), message: RULES, details: [d('/healthChecks(0)', APP_MESSAGES.healthIpProtocol)] },
  { name: 'two Mesos health checks', app: app({ healthChecks: [{ protocol: 'MESOS_TCP' }, { protocol: 'MESOS_HTTP' }] }), message: RULES, details: [d('/', APP_MESSAGES.oneMesosHealthCheck)] },
  { name: 'health check not an object', app: app({ healthChecks: ['HTTP'] }), message: SCHEMA, details: [d('/healthChecks(0)', 'error.expected.jsobject')] },
  // --- fetch / uris
  { name: 'fetch without uri', app: app({ fetch: [{ extract: false }] }), message: SCHEMA, details: [d('/fetch(0)/uri', 'error.path.missing')] },
  { name: 'fetch uri of 1 MB', app: app({ fetch: [{ uri: MB }] }), message: SCHEMA, details: [d('/fetch(0)/uri', 'error.maxLength')] },
  { name: 'fetch uri with a space', app: app({ fetch: [{ uri: 'http://x/a b.tgz' }] }), message: RULES, details: [d('/fetch(0)/uri', APP_MESSAGES.uriSyntax)] },
  { name: 'bad sha256 fragment', app: app({ fetch: [{ uri: 'http://x/a.tgz#sha256=abc' }] }), message: RULES, details: [d('/fetch(0)/uri', APP_MESSAGES.sha256)] },
  { name: 'extract not a boolean', app: app({ fetch: [{ uri: 'http://x/a', extract: 'yes' }] }), message: SCHEMA, details: [d('/fetch(0)/extract', 'error.expected.jsboolean')] },
  { name: 'uris with fetch', app: app({ uris: ['http://x/a'], fetch: [{ uri: 'http://x/b' }] }), message: RULES, details: [d('/uris', APP_MESSAGES.urisWithFetch)] },
  // --- env, labels, secrets
  { name: 'env secret', app: app({ env: { PASSWORD: { secret: 'db' } } }), message: RULES, details: [d('/env', APP_MESSAGES.envSecrets)] },
  { name: 'env value a number', app: app({ env: { PORT: 8080 } }), message: SCHEMA, details: [d('/env/PORT', 'error.expected.jsstring')] },
  { name: 'env secret without name', app: app({ env: { P: {} } }), message: SCHEMA, details: [d('/env/P/secret', 'error.path.missing')] },
  { name: 'env as array', app: app({ env: ['A=1'] }), message: SCHEMA, details: [d('/env', 'error.expected.jsobject')] },
  { name: 'secrets', app: app({ secrets: { s: { source: '/db' } } }), message: RULES, details: [d('/secrets', APP_MESSAGES.secretsFeature)] },
  { name: 'label deeply nested garbage', app: app({ labels: { a: nested(5000) } }), message: SCHEMA, details: [d('/labels/a', 'error.expected.jsstring')] },
  { name: 'single-instance label with 2 instances', app: app({ instances: 2, labels: { MARATHON_SINGLE_INSTANCE_APP: 'true' } }), message: RULES, details: [d('/', APP_MESSAGES.singleInstance)] },
  { name: 'migration label alone', app: app({ labels: { DCOS_MIGRATION_API_VERSION: 'v1' } }), message: RULES, details: [d('/', APP_MESSAGES.migrationApi)] },
  // --- strategies
  { name: 'minimumHealthCapacity above 1', app: app({ upgradeStrategy: { minimumHealthCapacity: 1.2, maximumOverCapacity: 1 } }), message: SCHEMA, details: [d('/upgradeStrategy/minimumHealthCapacity', 'error.max')] },
  { name: 'maximumOverCapacity missing', app: app({ upgradeStrategy: { minimumHealthCapacity: 0.5 } }), message: SCHEMA, details: [d('/upgradeStrategy/maximumOverCapacity', 'error.path.missing')] },
  { name: 'unreachable inactive after expunge', app: app({ unreachableStrategy: { inactiveAfterSeconds: 600, expungeAfterSeconds: 60 } }), message: RULES, details: [d('/unreachableStrategy/inactiveAfterSeconds', 'inactiveAfterSeconds (600) must be less or equal to expungeAfterSeconds, which is 60')] },
  { name: 'unreachable as other string', app: app({ unreachableStrategy: 'never' }), message: SCHEMA, details: [d('/unreachableStrategy', 'error.expected.jsobject')] },
  { name: 'unknown killSelection', app: app({ killSelection: 'RANDOM' }), message: SCHEMA, details: [d('/killSelection', 'error.unknown.enum.literal')] },
  // --- roles
  { name: 'empty acceptedResourceRoles', app: app({ acceptedResourceRoles: [] }), message: RULES, details: [d('/acceptedResourceRoles', APP_MESSAGES.notEmpty)] },
  { name: 'foreign accepted role', app: app({ acceptedResourceRoles: ['public'] }), message: RULES, details: [d('/acceptedResourceRoles', 'acceptedResourceRoles can only contain *')] },
  { name: 'role with a slash', app: app({ role: 'a/b' }), message: RULES, details: [d('/role', 'A role name must not include a slash (\\x2f) character.')] },
  // --- readiness
  { name: 'readiness on a missing port name', app: app({ readinessChecks: [{ portName: 'http' }] }), message: RULES, details: [d('/readinessChecks(0)/portName', 'No port definition reference for portName http')] },
  { name: 'readiness timeout not below interval', app: app({ portDefinitions: [{ name: 'http-api' }], readinessChecks: [{ intervalSeconds: 5, timeoutSeconds: 5 }] }), message: RULES, details: [d('/readinessChecks(0)/timeoutSeconds', 'got 5, expected less than 5')] },
  // --- what cygnet does not run
  { name: 'docker container', app: app({ container: { type: 'DOCKER', docker: { image: 'nginx' } } }), message: RULES, details: [d('/container', 'containers are not supported by cygnet: tasks run as processes on the agent (omit "container")')] },
  { name: 'bridge network', app: app({ networks: [{ mode: 'container/bridge' }] }), message: RULES, details: [d('/networks(0)/mode', APP_MESSAGES.hostNetworkOnly)] },
  { name: 'container network by default mode', app: app({ networks: [{ name: 'dcos' }] }), message: RULES, details: [d('/networks(0)/mode', APP_MESSAGES.hostNetworkOnly)] },
  { name: 'executor with empty segment', app: app({ executor: 'a//b' }), message: SCHEMA, details: [d('/executor', 'error.pattern')] },
  { name: 'bad version timestamp', app: app({ version: 'yesterday' }), message: SCHEMA, details: [d('/version', 'error.expected.date.isoformat')] },
];

describe('framework/app validation: Marathon 422 bodies', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const err = thrownBy(() => parseAppDefinition(c.app));
      expect(err).to.be.instanceOf(AppValidationError);
      const e = err as AppValidationError;
      expect(e.httpStatus).to.equal(422);
      expect(e.body.message).to.equal(c.message);
      expect(e.body.details).to.deep.equal(c.details);
      // The body must survive JSON as is (it is sent verbatim).
      expect(JSON.parse(JSON.stringify(e.body))).to.deep.equal(e.body);
    });
  }

  for (const notObject of [null, 42, 'app', true, [BASE]]) {
    it(`refuses a ${JSON.stringify(notObject)} body as not an object`, () => {
      const e = thrownBy(() => parseAppDefinition(notObject)) as AppValidationError;
      expect(e.body).to.deep.equal({ message: SCHEMA, details: [{ path: '', errors: ['error.expected.jsobject'] }] });
    });
  }

  it('ignores unknown fields anywhere, as Marathon does, without visiting them', () => {
    const def = parseAppDefinition(app({ whatever: nested(100_000), tasks: [], deployments: [{ id: 'x' }] }));
    expect(def.id).to.equal('/shop/web');
  });

  it('answers 400 with Marathon bodies for text that is not JSON', () => {
    const bad = thrownBy(() => parseJsonBody('{"id":"/test"')) as InvalidJsonError;
    expect(bad).to.be.instanceOf(InvalidJsonError);
    expect(bad.httpStatus).to.equal(400);
    expect(bad.body.message).to.equal('Invalid JSON');
    expect(bad.body.details).to.be.a('string').and.not.equal('');
    const empty = thrownBy(() => parseJsonBody('  ')) as InvalidJsonError;
    expect(empty.body.message).to.equal('Please specify data in JSON format');
    expect(parseJsonBody('{"a":1}')).to.deep.equal({ a: 1 });
  });
});
