/**
 * Properties over seeded random apps: random valid Marathon JSON (each field
 * present or not, every health protocol, every constraint operator, deprecated
 * fields) must parse; parse → render → parse gives the same definition;
 * rendering is a fixed point; an empty update changes nothing and
 * `{"instances": n}` is a scale. Random mutations of valid apps (a field
 * replaced by garbage) must give a 422 naming that field, never another
 * exception. A failure prints the seed that replays it.
 */
import { expect } from 'chai';
import { type Random, SeededRandom, randomInt } from '../../../../src/common/random.ts';
import { AppValidationError } from '../../../../src/framework/app/app-errors.ts';
import { applyAppUpdate, definitionsEqual, isScaleOnly } from '../../../../src/framework/app/merge-app.ts';
import { parseAppDefinition } from '../../../../src/framework/app/parse-app.ts';
import { renderDefinition } from '../../../../src/framework/app/render-app.ts';

const SEEDS = 200;

function pick<T>(rng: Random, xs: readonly T[]): T {
  return xs[randomInt(rng, 0, xs.length)] as T;
}
function maybe(rng: Random): boolean {
  return rng.next() < 0.5;
}
function label(rng: Random): string {
  return pick(rng, ['web', 'api', 'db', 'a1', 'x-y', 'shop', 'canary', 'v2']);
}

function randomApp(rng: Random): Record<string, unknown> {
  const app: Record<string, unknown> = { id: `/${label(rng)}/${label(rng)}` };
  if (maybe(rng)) app.cmd = pick(rng, ['sleep 100', 'python3 -m http.server $PORT0', 'exec ./run']);
  else app.args = ['/bin/run', '--port', '$PORT0'];
  const portCount = randomInt(rng, 0, 4);
  const usePorts = maybe(rng) && portCount > 0;
  if (usePorts && maybe(rng)) app.ports = Array.from({ length: portCount }, () => 0);
  else if (usePorts) {
    app.portDefinitions = Array.from({ length: portCount }, (_, i) => ({
      port: 0,
      ...(maybe(rng) ? { name: `p${i}` } : {}),
      ...(maybe(rng) ? { protocol: pick(rng, ['tcp', 'udp', 'udp,tcp']) } : {}),
      ...(maybe(rng) ? { labels: { [`k${i}`]: 'v' } } : {}),
    }));
  }
  const ports = usePorts ? portCount : 1;
  if (maybe(rng)) {
    const protocol = pick(rng, ['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP']);
    const hc: Record<string, unknown> = { protocol };
    const target = pick(rng, ['index', 'port', 'none'] as const);
    if (protocol === 'COMMAND') hc.command = { value: 'true' };
    else if (target === 'index') hc.portIndex = randomInt(rng, 0, ports);
    else if (target === 'port') hc.port = 8080;
    else if (ports !== 1 || app.ports !== undefined) hc.portIndex = 0;
    if (protocol.includes('HTTP') && maybe(rng)) hc.path = '/health';
    if (maybe(rng)) hc.gracePeriodSeconds = randomInt(rng, 0, 600);
    if (maybe(rng)) hc.delaySeconds = randomInt(rng, 0, 60);
    app.healthChecks = [hc];
  }
  if (maybe(rng)) {
    app.constraints = [
      pick(rng, [['hostname', 'UNIQUE'], ['rack', 'CLUSTER', 'a'], ['rack', 'GROUP_BY'], ['rack', 'GROUP_BY', '3'], ['hostname', 'LIKE', 'web-.*'],
        ['hostname', 'UNLIKE', 'db.*'], ['hostname', 'MAX_PER', '2'], ['zone', 'IS', 'z1']]),
    ];
  }
  if (maybe(rng)) app.instances = randomInt(rng, 0, 50);
  if (maybe(rng)) app.cpus = pick(rng, [0.001, 0.1, 0.25, 1, 4]);
  if (maybe(rng)) app.mem = pick(rng, [0, 16, 128, 1024.5]);
  if (maybe(rng)) app.disk = pick(rng, [0, 10]);
  if (maybe(rng)) app.env = { A: '1', EMPTY: '' };
  if (maybe(rng)) app.labels = { HAPROXY_0_VHOST: 'a.example.com', owner: 'x' };
  const artifacts = pick(rng, ['fetch', 'uris', 'none'] as const);
  if (artifacts === 'fetch') app.fetch = [{ uri: 'https://x/a.tgz', ...(maybe(rng) ? { cache: true } : {}) }];
  if (artifacts === 'uris') app.uris = ['https://x/b.zip', 'https://x/c.sh'];
  if (maybe(rng)) app.upgradeStrategy = { minimumHealthCapacity: pick(rng, [0, 0.5, 1]), maximumOverCapacity: pick(rng, [0, 0.2, 1]) };
  if (maybe(rng)) app.unreachableStrategy = maybe(rng) ? 'disabled' : { inactiveAfterSeconds: 10, expungeAfterSeconds: 20 };
  if (maybe(rng)) app.killSelection = pick(rng, ['YOUNGEST_FIRST', 'OLDEST_FIRST']);
  if (maybe(rng)) app.taskKillGracePeriodSeconds = randomInt(rng, 0, 60);
  if (maybe(rng)) app.dependencies = ['/infra/db'];
  if (maybe(rng)) app.acceptedResourceRoles = ['*'];
  if (maybe(rng)) app.user = 'nobody';
  if (maybe(rng)) app.requirePorts = false;
  if (maybe(rng)) app.backoffFactor = pick(rng, [1, 1.15, 2]);
  return app;
}

/** Keys the fuzz plants anywhere: the app's own field names, nested names, and prototype names. */
const FUZZ_KEYS = [
  'id', 'cmd', 'args', 'env', 'instances', 'cpus', 'constraints', 'fetch', 'uris', 'ports', 'portDefinitions', 'healthChecks',
  'readinessChecks', 'upgradeStrategy', 'labels', 'unreachableStrategy', 'networks', 'secrets', 'version', 'container', 'tty',
  'port', 'portIndex', 'protocol', 'path', 'command', 'value', 'name', 'uri', 'mode', 'secret', '__proto__', 'constructor',
];
const FUZZ_LEAVES: readonly unknown[] = [
  null, -1, 0, 70000, 0.5, Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 53, '', 'x', 'HTTP', 'unique', '..', 'disabled',
  '2026-01-01T00:00:00Z', '(', '%zz', true, [], {},
];

/** Replaces one random spot (possibly deep inside) of `v` with a leaf, a list or an object of leaves. */
function mutateDeep(rng: Random, v: unknown, depth: number): unknown {
  if (depth > 4 || rng.next() < 0.2) {
    const leaf = pick(rng, FUZZ_LEAVES);
    if (rng.next() < 0.2) return [leaf];
    if (rng.next() < 0.2) return Object.fromEntries([[pick(rng, FUZZ_KEYS), leaf]]);
    return leaf;
  }
  if (Array.isArray(v) && v.length > 0) {
    const copy: unknown[] = [...(v as unknown[])];
    const i = randomInt(rng, 0, copy.length);
    copy[i] = mutateDeep(rng, copy[i], depth + 1);
    return copy;
  }
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    const key = entries.length > 0 && maybe(rng) ? (pick(rng, entries)[0]) : pick(rng, FUZZ_KEYS);
    const old = (v as Record<string, unknown>)[key];
    return Object.fromEntries([...entries.filter(([k]) => k !== key), [key, mutateDeep(rng, old, depth + 1)]]);
  }
  return pick(rng, FUZZ_LEAVES);
}

const GARBAGE: readonly unknown[] = [-1, 1.5, 'x', true, [], {}, [[]], 1e300, { a: { b: [1] } }, '', -0.0001];
const MUTABLE = ['id', 'cmd', 'instances', 'cpus', 'mem', 'disk', 'portDefinitions', 'healthChecks', 'constraints', 'fetch', 'env', 'labels', 'upgradeStrategy', 'unreachableStrategy', 'killSelection', 'backoffFactor', 'requirePorts', 'acceptedResourceRoles'];

describe('framework/app properties over seeded random apps', () => {
  it(`parse, render, merge agree for ${SEEDS} random valid apps`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const json = randomApp(new SeededRandom(seed));
      try {
        const def = parseAppDefinition(json);
        const rendered = renderDefinition(def);
        const again = parseAppDefinition(JSON.parse(JSON.stringify(rendered)));
        expect(again).to.deep.equal(def);
        expect(renderDefinition(again)).to.deep.equal(rendered);
        expect(definitionsEqual(applyAppUpdate(def, {}), def)).to.equal(true);
        expect(isScaleOnly(def, applyAppUpdate(def, { instances: def.instances + 1 }))).to.equal(true);
      } catch (err) {
        const detail = err instanceof AppValidationError ? JSON.stringify(err.body) : String(err);
        throw new Error(`seed ${seed}: ${JSON.stringify(json)} → ${detail}`, { cause: err });
      }
    }
  });

  it(`a field replaced by garbage gives a 422 naming it, for ${SEEDS} mutations`, () => {
    let refused = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const rng = new SeededRandom(seed * 7919);
      const json = randomApp(rng);
      const key = pick(rng, MUTABLE);
      json[key] = pick(rng, GARBAGE);
      try {
        parseAppDefinition(json);
      } catch (err) {
        if (!(err instanceof AppValidationError)) {
          throw new Error(`seed ${seed}: ${key}=${JSON.stringify(json[key])} threw ${String(err)}`, { cause: err });
        }
        const paths = err.body.details.map((d) => d.path);
        // The garbage field, something inside it, or the app as a whole (e.g. `cmd` and `args` both set).
        expect(paths.some((p) => p.startsWith(`/${key}`) || p === '/'), `seed ${seed}: ${key} → ${JSON.stringify(paths)}`).to.equal(true);
        refused++;
      }
    }
    expect(refused).to.be.greaterThan(SEEDS / 2);
  });

  it(`a fuzz of deep mutations never throws anything but a 422 (${SEEDS * 5} bodies, parse and both PUTs)`, () => {
    const current = parseAppDefinition(randomApp(new SeededRandom(1)));
    const outcomes = { accepted: 0, refused: 0 };
    for (let seed = 1; seed <= SEEDS * 5; seed++) {
      const rng = new SeededRandom(seed * 104729);
      let body: unknown = randomApp(rng);
      for (let i = randomInt(rng, 1, 4); i > 0; i--) body = mutateDeep(rng, body, 0);
      const calls = [
        () => parseAppDefinition(body),
        () => applyAppUpdate(current, body),
        () => applyAppUpdate(current, body, { partialUpdate: false }),
      ];
      for (const call of calls) {
        try {
          call();
          outcomes.accepted++;
        } catch (err) {
          if (!(err instanceof AppValidationError)) {
            throw new Error(`seed ${seed}: ${JSON.stringify(body)} threw ${String(err)}`, { cause: err });
          }
          expect(err.body.details.length).to.be.greaterThan(0);
          outcomes.refused++;
        }
      }
    }
    // The fuzz reaches both sides: mutations the rules tolerate, and refusals.
    expect(outcomes.accepted).to.be.greaterThan(100);
    expect(outcomes.refused).to.be.greaterThan(100);
  });
});
