/**
 * The OpenAPI document (`apiOperations`) and the routes the framework serves
 * agree, both ways:
 * - every route in the express app that `createFrameworkApp` builds (its
 *   router stack, walked) is covered by a documented operation;
 * - the app-path routes dispatch inside one catch-all, so a grid of methods ×
 *   `/v2/apps/<id>/…` and `/v1/apps/<id>/canary/…` suffixes is probed on the
 *   live replica: whatever it serves (not 404 "No such endpoint", not 405) is
 *   documented;
 * - every documented operation is served: probed, it answers something other
 *   than 404 "No such endpoint" or 405.
 * One replica runs in this process (its master address goes nowhere: the API
 * does not need one).
 */
import { expect } from 'chai';
import path from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { createFrameworkApp } from '../../../src/framework/api/server.ts';
import { apiOperations, openApiDocument, type ApiOperation } from '../../../src/framework/api/openapi.ts';
import { FrameworkNode } from '../../../src/framework/framework-node.ts';
import { freePort } from '../../helpers/net.ts';
import { api, waitFor } from '../../helpers/framework-api.ts';
import { makeTempDir, removeTempDirs } from '../../helpers/tmp.ts';

interface ExpressRoute {
  readonly path: string;
  /** Lower-case methods; `_all` for `router.all`. */
  readonly methods: readonly string[];
}

interface StackLayer {
  readonly rawPath?: unknown;
  readonly route?: { readonly path: string; readonly methods: Record<string, boolean> };
  readonly handle?: { readonly stack?: readonly StackLayer[] };
}

/** Every route in an express 5 app, nested routers included (mount prefixes prepended). */
function expressRoutes(stack: readonly StackLayer[], prefix = ''): ExpressRoute[] {
  const out: ExpressRoute[] = [];
  for (const layer of stack) {
    if (layer.route !== undefined) {
      out.push({ path: `${prefix}${layer.route.path}`, methods: Object.keys(layer.route.methods).filter((m) => layer.route?.methods[m] === true) });
    } else if (layer.handle?.stack !== undefined) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      out.push(...expressRoutes(layer.handle.stack, `${prefix}${mount}`));
    }
  }
  return out;
}

/** An express path as a regex: `*name` is one or more segments, `:name` one segment. */
function expressPathRegex(p: string): RegExp {
  const body = p.split('/').map((seg) => {
    if (seg.startsWith('*')) return '.+';
    if (seg.startsWith(':')) return '[^/]+';
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('/');
  return new RegExp(`^${body}$`);
}

/** A documented path as a regex: `{appId}` may span segments (Marathon's ids have slashes), other params one. */
function documentedPathRegex(p: string): RegExp {
  const body = p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace('{appId}', '.+').replace(/\{\w+\}/g, '[^/]+');
  return new RegExp(`^${body}$`);
}

const sample: Record<string, string> = { appId: 'openapi/probe', taskId: 'openapi_probe.instance-x._app.1', version: '2026-01-01T00:00:00.000Z', deploymentId: 'no-such-deployment' };

function concretePath(op: ApiOperation): string {
  return op.path.replace(/\{(\w+)\}/g, (_m, name: string) => sample[name] ?? 'x');
}

function documentedFor(method: string, concrete: string): ApiOperation | undefined {
  return apiOperations.find((op) => op.method === method.toLowerCase() && documentedPathRegex(op.path).test(concrete));
}

const STREAMING = new Set(['/v2/events', '/v1/registry/watch']);

/** Status and body of one request; a stream is closed once its status is known. */
async function probe(base: string, method: string, p: string): Promise<{ status: number; text: string }> {
  const abort = new AbortController();
  const res = await request(`${base}${p}`, { method: method as 'GET', signal: abort.signal, headers: { 'content-type': 'application/json' }, ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }) });
  if (STREAMING.has(p)) {
    abort.abort();
    return { status: res.statusCode, text: '' };
  }
  return { status: res.statusCode, text: await res.body.text() };
}

function isUnserved(r: { status: number; text: string }): boolean {
  return r.status === 405 || (r.status === 404 && r.text.includes('No such endpoint'));
}

describe('OpenAPI document agrees with the routes served', function () {
  this.timeout(60_000);
  let node: FrameworkNode;
  let base = '';

  before(async () => {
    const dir = await makeTempDir();
    node = await FrameworkNode.start({
      id: 1,
      peers: new Map([[1, `127.0.0.1:${await freePort()}`]]),
      apiListen: '127.0.0.1:0',
      dataDir: path.join(dir, 'framework'),
      masters: [`127.0.0.1:${await freePort()}`],
      log: pino({ level: 'silent' }),
    });
    base = `http://${node.apiAddress}`;
    await waitFor('a framework leader', async () => ((await api(base, 'GET', '/v2/apps')).status === 200 ? true : undefined));
  });

  after(async () => {
    await node.close();
    await removeTempDirs();
  });

  it('documents every route of the express app', () => {
    const app = createFrameworkApp(node, pino({ level: 'silent' }));
    const routes = expressRoutes((app as unknown as { router: { stack: readonly StackLayer[] } }).router.stack);
    expect(routes.length).to.be.greaterThan(10);
    const undocumented: string[] = [];
    for (const route of routes) {
      const re = expressPathRegex(route.path);
      const methods = route.methods.includes('_all') ? ['get', 'post', 'put', 'patch', 'delete'] : route.methods.filter((m) => m !== 'head');
      const covered = methods.filter((m) => apiOperations.some((op) => op.method === m && re.test(concretePath(op))));
      if (covered.length === 0) undocumented.push(`${route.methods.join(',')} ${route.path}`);
    }
    expect(undocumented, 'express routes with no documented operation').to.deep.equal([]);
  });

  it('documents every method and path the app-path dispatchers serve', async () => {
    const undocumented: string[] = [];
    const prefixes = ['/v2/apps/openapi/probe', '/v1/apps/openapi/probe'];
    const suffixes = ['', '/restart', '/tasks', '/tasks/t1', '/versions', '/versions/v1', '/canary', '/canary/promote', '/canary/abort'];
    for (const prefix of prefixes) {
      for (const suffix of suffixes) {
        for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
          const p = `${prefix}${suffix}`;
          const r = await probe(base, method, p);
          if (!isUnserved(r) && documentedFor(method, p) === undefined) undocumented.push(`${method} ${p} → ${r.status} ${r.text.slice(0, 120)}`);
        }
      }
    }
    expect(undocumented, 'served but not documented').to.deep.equal([]);
  });

  it('serves every documented operation', async () => {
    const unserved: string[] = [];
    for (const op of apiOperations) {
      const r = await probe(base, op.method.toUpperCase(), concretePath(op));
      if (isUnserved(r)) unserved.push(`${op.method.toUpperCase()} ${op.path} → ${r.status} ${r.text.slice(0, 120)}`);
    }
    expect(unserved, 'documented but not served').to.deep.equal([]);
  });

  it('serves the document itself, one entry per operation', async () => {
    const r = await api(base, 'GET', '/openapi.json');
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.equal(JSON.parse(JSON.stringify(openApiDocument())));
    const paths = (r.body as { paths: Record<string, Record<string, unknown>> }).paths;
    const count = Object.values(paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
    expect(count).to.equal(apiOperations.length);
  });
});
