/**
 * The framework's API against hostile input, on a live replica (a master and
 * no agents, so every deployment stays open):
 * - property: seeded random and mutated requests to every documented route
 *   (mutations of a valid app: wrong types, huge numbers, deep nesting,
 *   invalid UTF-8, huge strings, random and prototype-polluting keys; odd ids,
 *   methods and paths) are answered below 500, the process stays up and
 *   `/ping` answers after; a failure prints the seed and the request
 *   (`CYGNET_FUZZ_SEED=<n>` replays it);
 * - precise 422s: one invalid field at a time → Marathon's message and path;
 * - 404 for an unknown app on every app route;
 * - 409 naming the open deployment for a second write, 200 with force=true
 *   (also spelled `True`, as Python's requests sends it).
 */
import { expect } from 'chai';
import path from 'node:path';
import { request } from 'undici';
import { randomInt, SeededRandom, type Random } from '../../../src/common/random.ts';
import { apiOperations } from '../../../src/framework/api/openapi.ts';
import { registerClusterCleanup, startFramework, startMaster, type FrameworkHandle } from '../../helpers/cluster.ts';
import { api, waitFor } from '../../helpers/framework-api.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

const SEED = Number(process.env.CYGNET_FUZZ_SEED ?? 20261206);
/** Enough to hit every route with every kind of mutation many times, in a few seconds. */
const CASES = Number(process.env.CYGNET_FUZZ_CASES ?? 1200);
/** Requests in flight at once: enough to interleave writes, few enough for a shared 2-core box. */
const CONCURRENCY = 8;
/** Below the server's 1 MB body limit, so the big bodies reach the parsers. */
const HUGE_STRING_CHARS = 600_000;

type Json = Record<string, unknown>;

const validApp = (id: string): Json => ({
  id,
  cmd: 'sleep 600',
  cpus: 0.1,
  mem: 32,
  disk: 0,
  instances: 1,
  portDefinitions: [{ port: 0, name: 'http', protocol: 'tcp' }],
  requirePorts: false,
  env: { MODE: 'fuzz' },
  labels: { CYGNET_VHOST: 'fuzz.example' },
  constraints: [['hostname', 'UNIQUE'], ['rack', 'LIKE', 'a|b']],
  healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 5, intervalSeconds: 2, timeoutSeconds: 1, maxConsecutiveFailures: 3 }],
  upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0.5 },
  fetch: [{ uri: 'http://127.0.0.1/x.tgz', extract: true, executable: false, cache: false }],
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 300,
  killSelection: 'YOUNGEST_FIRST',
  taskKillGracePeriodSeconds: 3,
  unreachableStrategy: { inactiveAfterSeconds: 60, expungeAfterSeconds: 120 },
  role: '*',
  acceptedResourceRoles: ['*'],
});

function pick<T>(rng: Random, xs: readonly T[]): T {
  return xs[randomInt(rng, 0, xs.length)] as T;
}

function deepNest(depth: number, leaf: unknown, asObject: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

const WEIRD_VALUES = (rng: Random): unknown[] => [
  null, true, false, 0, -1, 0.5, -0.0, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e21,
  '', ' ', '0', 'true', 'null', '\u0000', '\ud800', '\uffff', '𝕏'.repeat(50), '%s%n', '../../etc/passwd', '<script>',
  [], {}, [null], [[]], { '': '' }, { __proto__: { polluted: true } }, { constructor: { prototype: { x: 1 } } },
  'x'.repeat(randomInt(rng, 1000, 20_000)),
];

const WEIRD_KEYS = ['__proto__', 'constructor', 'prototype', '', ' ', 'id', 'instances', 'version', 'tasks', 'toString', 'hasOwnProperty', '\u0000', '🦆', 'x'.repeat(3000)];

/** A copy of `v` with one random leaf or key changed. */
function mutate(rng: Random, v: unknown, depth = 0): unknown {
  if (Array.isArray(v)) {
    if (v.length === 0 || rng.next() < 0.2) return pick(rng, WEIRD_VALUES(rng));
    const i = randomInt(rng, 0, v.length);
    const copy = [...v];
    copy[i] = mutate(rng, copy[i], depth + 1);
    return copy;
  }
  if (typeof v === 'object' && v !== null) {
    const copy: Json = { ...(v as Json) };
    const keys = Object.keys(copy);
    const r = rng.next();
    if (r < 0.1 || keys.length === 0) {
      Object.defineProperty(copy, pick(rng, WEIRD_KEYS), { value: pick(rng, WEIRD_VALUES(rng)), enumerable: true, configurable: true, writable: true });
    } else if (r < 0.2) {
      delete copy[pick(rng, keys)];
    } else {
      const k = pick(rng, keys);
      copy[k] = rng.next() < 0.6 || depth > 3 ? mutateLeaf(rng, copy[k]) : mutate(rng, copy[k], depth + 1);
    }
    return copy;
  }
  return mutateLeaf(rng, v);
}

function mutateLeaf(rng: Random, v: unknown): unknown {
  switch (randomInt(rng, 0, 6)) {
    case 0: return pick(rng, WEIRD_VALUES(rng));
    case 1: return typeof v === 'number' ? v * pick(rng, [-1, 1e6, 1e300, 0, 1.5]) : randomInt(rng, -1e9, 1e9);
    case 2: return typeof v === 'string' ? v + pick(rng, ['/', '..', ' ', '\n', '#sha256=zz', '%00']) : String(v);
    case 3: return deepNest(randomInt(rng, 50, 3000), v, rng.next() < 0.5);
    case 4: return 'y'.repeat(randomInt(rng, 10_000, HUGE_STRING_CHARS));
    default: return [v, v];
  }
}

/** JSON bytes of `v`; a value nested too deep for this process's own stringify is sent as raw nesting instead. */
function jsonBytes(v: unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(v));
  } catch {
    return Buffer.from(`{"id": "/deep", "cmd": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
  }
}

/** A body as bytes: JSON of a mutated app (or canary/task-kill body), or raw bytes that are not JSON / not UTF-8. */
function randomBody(rng: Random, id: string): Buffer | undefined {
  const r = rng.next();
  if (r < 0.08) return undefined;
  if (r < 0.62) return jsonBytes(mutate(rng, rng.next() < 0.5 ? validApp(id) : mutate(rng, validApp(id))));
  if (r < 0.7) return jsonBytes(mutate(rng, { app: { cmd: 'sleep 700' }, instances: 1, weight: 0.2 }));
  if (r < 0.74) return jsonBytes(mutate(rng, { ids: ['a.1', 'b.2'] }));
  switch (randomInt(rng, 0, 9)) {
    case 0: return Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0xe2, 0x82, 0x7d]); // invalid UTF-8 inside JSON-ish bytes
    case 1: return Buffer.concat([Buffer.from('{"id":"/a","cmd":"'), Buffer.from([0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80]), Buffer.from('"}')]);
    case 2: return Buffer.from(JSON.stringify(validApp(id)).slice(0, randomInt(rng, 1, 200)));
    case 3: return Buffer.from(`${'['.repeat(randomInt(rng, 1000, 200_000))}${']'.repeat(randomInt(rng, 0, 1000))}`);
    case 4: return Buffer.from(`{"instances": 1${'0'.repeat(randomInt(rng, 20, 5000))}, "id": "/n", "cmd": "sleep 1"}`);
    case 5: return Buffer.from('{"id": 1e999999, "cpus": -1e999999}');
    case 6: return Buffer.from(Array.from({ length: randomInt(rng, 1, 2000) }, () => randomInt(rng, 0, 256)));
    case 7: return Buffer.from(pick(rng, ['null', 'true', '[]', '""', '0', '{}', '{"__proto__": {"admin": true}}', ' ', '\u0000']));
    default: return Buffer.from(`{"id": "/${'a'.repeat(randomInt(rng, 100, 60_000))}", "cmd": "sleep 1"}`);
  }
}

const ODD_IDS = ['fuzz/base', 'fuzz/other', 'a', '%00', '%ff', '%E0%A4%A', '..', '.', '%2e%2e', '%2F', 'A_B', 'ü', '%F0%9F%A6%86', 'a/b/c/d/e/f/g/h', 'a//b', 'x'.repeat(5000), 'restart', 'tasks', 'versions', '-', 'a?b=c', 'a#b', '%20'];

function fillPath(rng: Random, template: string): string {
  return template
    .replace('{appId}', pick(rng, ODD_IDS))
    .replace('{taskId}', pick(rng, ['none', 'fuzz_base.instance-x._app.1', '%ff', 'x'.repeat(3000)]))
    .replace('{version}', pick(rng, ['2026-01-01T00:00:00.000Z', 'latest', '%00', '0', '']))
    .replace('{deploymentId}', pick(rng, ['00000000-0000-0000-0000-000000000000', 'x', '%ff']));
}

function randomQuery(rng: Random): string {
  if (rng.next() < 0.6) return '';
  const params = ['force=true', 'force=True', 'force=%00', 'scale=true', 'embed=apps.tasks', 'embed=app.counts&embed=x', 'partialUpdate=false', 'label=a==b,c!=d,,', 'id=%ff', 'status=running', 'host=*', 'since=-1', 'event_type=x', 'a[b][c]=1', 'force[]=1'];
  return `?${Array.from({ length: randomInt(rng, 1, 4) }, () => pick(rng, params)).join('&')}`;
}

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly body: Buffer | undefined;
  readonly contentType: string | undefined;
}

/** Routes that stream: only the status line is checked. */
const STREAMING = new Set(['/v2/events', '/v1/registry/watch']);

function randomRequest(rng: Random): FuzzRequest {
  const op = pick(rng, apiOperations);
  const r = rng.next();
  const method = r < 0.75 ? op.method.toUpperCase() : pick(rng, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
  const p = r < 0.95 ? fillPath(rng, op.path) : `/${Array.from({ length: randomInt(rng, 0, 6) }, () => pick(rng, ['v2', 'v1', 'apps', '%ff', '..', 'x', '', 'canary', 'promote'])).join('/')}`;
  const body = method === 'GET' || method === 'HEAD' ? undefined : randomBody(rng, `/${pick(rng, ODD_IDS)}`);
  const contentType = pick(rng, ['application/json', 'application/json', 'text/plain', undefined, 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']);
  return { method, path: `${p}${randomQuery(rng)}`, body, contentType };
}

async function send(base: string, req: FuzzRequest): Promise<number> {
  const abort = new AbortController();
  const res = await request(`${base}${req.path}`, {
    method: req.method as 'GET',
    headers: req.contentType === undefined ? {} : { 'content-type': req.contentType },
    ...(req.body !== undefined ? { body: req.body } : {}),
    signal: abort.signal,
    headersTimeout: 30_000,
  });
  if (STREAMING.has(req.path.split('?')[0] ?? '')) abort.abort();
  else await res.body.dump({ limit: 8 * 1024 * 1024 });
  return res.statusCode;
}

function describeRequest(req: FuzzRequest): string {
  const body = req.body === undefined ? '(none)' : `${req.body.length} bytes: ${JSON.stringify(req.body.subarray(0, 160).toString('latin1'))}`;
  return `${req.method} ${req.path.slice(0, 200)} content-type=${req.contentType ?? '(none)'} body=${body}`;
}

describe('framework API: fuzz and precise errors', function () {
  this.timeout(180_000);
  registerClusterCleanup();
  let fw: FrameworkHandle;
  let base = '';

  before(async () => {
    const root = await makeTempDir();
    const master = await startMaster({ workDir: path.join(root, 'master') });
    fw = await startFramework({ master: master.address, dataDir: path.join(root, 'framework') });
    base = fw.url;
    await waitFor('a framework leader', async () => ((await api(base, 'GET', '/v2/apps')).status === 200 ? true : undefined));
    expect((await api(base, 'POST', '/v2/apps', validApp('/fuzz/base'))).status).to.equal(201);
  });

  it(`answers ${CASES} seeded random requests below 500 and stays up (seed ${SEED})`, async () => {
    const rng = new SeededRandom(SEED);
    const requests = Array.from({ length: CASES }, () => randomRequest(rng));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length && failures.length < 5) {
        const i = next++;
        const req = requests[i] as FuzzRequest;
        try {
          const status = await send(base, req);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500) failures.push(`case ${i}: HTTP ${status} for ${describeRequest(req)}`);
        } catch (err) {
          failures.push(`case ${i}: ${err instanceof Error ? err.message : String(err)} for ${describeRequest(req)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (process.env.CYGNET_FUZZ_VERBOSE !== undefined) process.stderr.write(`statuses ${JSON.stringify([...statuses].sort((a, b) => a[0] - b[0]))}\n`);
    expect(failures, `seed ${SEED} (CYGNET_FUZZ_SEED=${SEED} replays)`).to.deep.equal([]);
    expect(fw.proc.running, 'framework process alive').to.equal(true);
    expect((await api(base, 'GET', '/ping')).text).to.equal('pong');
    // The run exercised the parsers, not just the 404 path.
    expect([...statuses.keys()].filter((s) => s === 422 || s === 400).length, JSON.stringify([...statuses])).to.be.greaterThan(0);
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).to.be.greaterThan(0);
  });

  // One invalid field at a time on an otherwise valid app: Marathon's message, the field's path, its error.
  const invalidFields: [string, Json, string, string, string][] = [
    ['id (pattern)', { id: '/Bad_Id' }, 'Invalid JSON', '/id', 'error.pattern'],
    ['id (type)', { id: 5 }, 'Invalid JSON', '/id', 'error.expected.jsstring'],
    ['id (empty)', { id: '' }, 'Invalid JSON', '/id', 'error.minLength'],
    // Regression (seed 77, 8000 cases): a 40,000-character id was accepted; its URL then exceeded the
    // server's header limit (the app could not be read or deleted) and the 201's Location header overflowed clients.
    ['id (beyond cygnet bound)', { id: `/${'a'.repeat(1024)}` }, 'Invalid JSON', '/id', 'error.maxLength'],
    ['id (reserved segment)', { id: '/a/restart' }, 'Object is not valid', '/id', 'must not end with any of the following reserved keywords: restart, tasks, versions, ., ..'],
    ['cmd and args missing', { cmd: undefined }, 'Object is not valid', '/', "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."],
    ['cmd (type)', { cmd: ['sleep'] }, 'Invalid JSON', '/cmd', 'error.expected.jsstring'],
    ['args (item type)', { cmd: undefined, args: ['a', 1] }, 'Invalid JSON', '/args(1)', 'error.expected.jsstring'],
    ['cpus (below min)', { cpus: 0 }, 'Invalid JSON', '/cpus', 'error.min'],
    ['cpus (type)', { cpus: '1' }, 'Invalid JSON', '/cpus', 'error.expected.jsnumber'],
    ['mem (negative)', { mem: -1 }, 'Invalid JSON', '/mem', 'error.min'],
    ['disk (negative)', { disk: -5 }, 'Invalid JSON', '/disk', 'error.min'],
    ['instances (negative)', { instances: -1 }, 'Invalid JSON', '/instances', 'error.min'],
    ['instances (fraction)', { instances: 1.5 }, 'Invalid JSON', '/instances', 'error.expected.int'],
    ['instances (beyond int)', { instances: 3_000_000_000 }, 'Invalid JSON', '/instances', 'error.expected.int'],
    ['instances (beyond cygnet bound)', { instances: 10_001 }, 'Invalid JSON', '/instances', 'error.max'],
    ['portDefinitions port (range)', { portDefinitions: [{ port: 70000 }] }, 'Invalid JSON', '/portDefinitions(0)/port', 'error.max'],
    ['portDefinitions protocol', { portDefinitions: [{ port: 0, protocol: 'sctp2' }] }, 'Invalid JSON', '/portDefinitions(0)/protocol', 'error.unknown.enum.literal'],
    ['portDefinitions names unique', { portDefinitions: [{ port: 80, name: 'a' }, { port: 81, name: 'a' }] }, 'Object is not valid', '/portDefinitions', 'Port names must be unique.'],
    ['portDefinitions ports unique', { portDefinitions: [{ port: 80 }, { port: 80 }] }, 'Object is not valid', '/portDefinitions', 'Ports must be unique.'],
    ['requirePorts (type)', { requirePorts: 'yes' }, 'Invalid JSON', '/requirePorts', 'error.expected.jsboolean'],
    ['env value (type)', { env: { A: 1 } }, 'Invalid JSON', '/env/A', 'error.expected.jsstring'],
    ['labels value (type)', { labels: { A: true } }, 'Invalid JSON', '/labels/A', 'error.expected.jsstring'],
    ['constraints (too short)', { constraints: [['hostname']] }, 'Invalid JSON', '/constraints(0)', 'error.minLength'],
    ['constraints (operator)', { constraints: [['hostname', 'FOO']] }, 'Object is not valid', '/constraints(0)', 'operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS'],
    ['constraints (LIKE without value)', { constraints: [['hostname', 'LIKE']] }, 'Object is not valid', '/constraints(0)', 'LIKE and UNLIKE require a non-empty, regular expression value'],
    ['healthChecks protocol', { healthChecks: [{ protocol: 'FOO' }] }, 'Invalid JSON', '/healthChecks(0)/protocol', 'error.unknown.enum.literal'],
    ['healthChecks interval', { healthChecks: [{ protocol: 'HTTP', intervalSeconds: -1 }] }, 'Invalid JSON', '/healthChecks(0)/intervalSeconds', 'error.min'],
    ['healthChecks portIndex', { healthChecks: [{ protocol: 'HTTP', portIndex: 3 }] }, 'Object is not valid', '/healthChecks(0)', 'Health check port indices must address an element of the ports array or container port mappings.'],
    ['upgradeStrategy minimumHealthCapacity', { upgradeStrategy: { minimumHealthCapacity: 2, maximumOverCapacity: 1 } }, 'Invalid JSON', '/upgradeStrategy/minimumHealthCapacity', 'error.max'],
    ['backoffFactor', { backoffFactor: 0.5 }, 'Invalid JSON', '/backoffFactor', 'error.min'],
    ['backoffSeconds', { backoffSeconds: -1 }, 'Invalid JSON', '/backoffSeconds', 'error.min'],
    ['maxLaunchDelaySeconds', { maxLaunchDelaySeconds: -1 }, 'Invalid JSON', '/maxLaunchDelaySeconds', 'error.min'],
    ['killSelection', { killSelection: 'RANDOM' }, 'Invalid JSON', '/killSelection', 'error.unknown.enum.literal'],
    ['taskKillGracePeriodSeconds', { taskKillGracePeriodSeconds: -1 }, 'Invalid JSON', '/taskKillGracePeriodSeconds', 'error.min'],
    ['unreachableStrategy', { unreachableStrategy: { inactiveAfterSeconds: -1, expungeAfterSeconds: 1 } }, 'Invalid JSON', '/unreachableStrategy/inactiveAfterSeconds', 'error.min'],
    ['fetch uri (empty)', { fetch: [{ uri: '' }] }, 'Invalid JSON', '/fetch(0)/uri', 'error.minLength'],
    ['fetch sha256 fragment', { fetch: [{ uri: 'http://x/a.tgz#sha256=zz' }] }, 'Object is not valid', '/fetch(0)/uri', 'the #sha256= fragment must be 64 hexadecimal digits'],
    ['acceptedResourceRoles (empty)', { acceptedResourceRoles: [] }, 'Object is not valid', '/acceptedResourceRoles', 'must not be empty'],
    ['role (empty)', { role: '' }, 'Invalid JSON', '/role', 'error.minLength'],
    ['user (type)', { user: 5 }, 'Invalid JSON', '/user', 'error.expected.jsstring'],
  ];

  it('answers 422 with the field path and Marathon\'s message, one invalid field at a time', async () => {
    const wrong: string[] = [];
    for (const [name, change, message, fieldPath, error] of invalidFields) {
      const body = { id: '/fuzz/valid', cmd: 'sleep 600', cpus: 0.1, mem: 16, ...change };
      const r = await api(base, 'POST', '/v2/apps', JSON.parse(JSON.stringify(body)) as unknown);
      const want = { message, details: [{ path: fieldPath, errors: [error] }] };
      if (r.status !== 422 || JSON.stringify(r.body) !== JSON.stringify(want)) wrong.push(`${name}: HTTP ${r.status} ${r.text.slice(0, 300)}\n   expected 422 ${JSON.stringify(want)}`);
    }
    expect(wrong, wrong.join('\n')).to.deep.equal([]);
    expect((await api(base, 'GET', '/v2/apps/fuzz/valid')).status, 'no invalid app was created').to.equal(404);
  });

  it('answers 404 for an unknown app on every app route', async () => {
    const probes: [string, string, unknown?][] = [
      ['GET', '/v2/apps/fuzz/never'],
      ['PATCH', '/v2/apps/fuzz/never', { instances: 2 }],
      ['DELETE', '/v2/apps/fuzz/never'],
      ['GET', '/v2/apps/fuzz/never/tasks'],
      ['DELETE', '/v2/apps/fuzz/never/tasks'],
      ['DELETE', '/v2/apps/fuzz/never/tasks/fuzz_never.instance-1._app.1'],
      ['GET', '/v2/apps/fuzz/never/versions'],
      ['GET', '/v2/apps/fuzz/never/versions/2026-01-01T00:00:00.000Z'],
      ['POST', '/v2/apps/fuzz/never/restart'],
      ['POST', '/v1/apps/fuzz/never/canary/promote'],
      ['POST', '/v1/apps/fuzz/never/canary/abort'],
    ];
    for (const [method, p, body] of probes) {
      const r = await api(base, method, p, body);
      expect([r.status, r.body], `${method} ${p}`).to.deep.equal([404, { message: "App '/fuzz/never' does not exist" }]);
    }
    // PUT is Marathon's upsert: for a missing app it validates the body as a new app (here: no cmd).
    const put = await api(base, 'PUT', '/v2/apps/fuzz/never', { instances: 2 });
    expect(put.status).to.equal(422);
    // A valid one creates the app: 201 Created with where it is, as Marathon answers; the next PUT updates it (200).
    const created = await api(base, 'PUT', '/v2/apps/fuzz/upserted', { cmd: 'sleep 600', cpus: 0.1, mem: 16, instances: 0 });
    expect([created.status, created.headers.location]).to.deep.equal([201, '/v2/apps/fuzz/upserted']);
    expect(created.body).to.have.keys('version', 'deploymentId');
    const updated = await api(base, 'PUT', '/v2/apps/fuzz/upserted?force=true', { cmd: 'sleep 601' });
    expect([updated.status, updated.headers.location]).to.deep.equal([200, undefined]);
    // Its own app: the fuzz above may have sent DELETE /v2/groups, which deletes every app.
    expect((await api(base, 'POST', '/v2/apps', validApp('/fuzz/versioned'))).status).to.equal(201);
    const version = await api(base, 'GET', '/v2/apps/fuzz/versioned/versions/2000-01-01T00:00:00.000Z');
    expect([version.status, version.body]).to.deep.equal([404, { message: "App '/fuzz/versioned' does not exist in version 2000-01-01T00:00:00.000Z" }]);
  });

  it('answers 409 with the open deployment for a second write, and 200 with force=true', async () => {
    // No agents: the deployment that starts the app cannot finish.
    const created = await api(base, 'POST', '/v2/apps', { id: '/fuzz/locked', cmd: 'sleep 600', cpus: 0.1, mem: 16, instances: 2 });
    expect(created.status).to.equal(201);
    const deploymentId = created.headers['marathon-deployment-id'];
    expect(deploymentId).to.be.a('string');
    const writes: [string, string, unknown?][] = [
      ['PUT', '/v2/apps/fuzz/locked', { instances: 3 }],
      ['PATCH', '/v2/apps/fuzz/locked', { cmd: 'sleep 700' }],
      ['POST', '/v2/apps/fuzz/locked/restart'],
      ['DELETE', '/v2/apps/fuzz/locked?force=false'],
    ];
    for (const [method, p, body] of writes) {
      const r = await api(base, method, p, body);
      expect(r.status, `${method} ${p}`).to.equal(409);
      expect((r.body as { deployments: unknown }).deployments, `${method} ${p}`).to.deep.equal([{ id: deploymentId }]);
      expect((r.body as { message: string }).message).to.contain(`/v2/deployments/${String(deploymentId)}`);
    }
    const forced = await api(base, 'PUT', '/v2/apps/fuzz/locked?force=true', { instances: 3 });
    expect(forced.status).to.equal(200);
    const next = (forced.body as { deploymentId: string }).deploymentId;
    expect(next).to.not.equal(deploymentId);
    // Python's requests writes booleans as `True`; Marathon (Java's Boolean.valueOf) reads that as true.
    const blocked = await api(base, 'PUT', '/v2/apps/fuzz/locked', { instances: 1 });
    expect((blocked.body as { deployments: unknown }).deployments).to.deep.equal([{ id: next }]);
    expect((await api(base, 'PUT', '/v2/apps/fuzz/locked?force=True', { instances: 1 })).status).to.equal(200);
    // Marathon forces a DELETE that says nothing of force (@DefaultValue("true")).
    expect((await api(base, 'DELETE', '/v2/apps/fuzz/locked')).status).to.equal(200);
  });
});
