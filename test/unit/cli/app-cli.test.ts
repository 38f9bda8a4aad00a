/**
 * `cygnet app`: which request each command sends (checked against a small
 * recording HTTP server on 127.0.0.1:0 that answers like Marathon), its exit
 * codes (usage 2, API error 1), how API errors print, and the pure table
 * formatting. The end-to-end run against a real cluster is in
 * test/integration/framework/app-cli.test.ts.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main.ts';
import { errorOf } from '../../../src/cli/app-client.ts';
import { parseWeight, previousConfigVersion, readJsonFile } from '../../../src/cli/app-command.ts';
import { formatAppList, formatDeployments, formatEvent, formatTable, formatTasks, formatWrite } from '../../../src/cli/app-format.ts';

interface Seen { method: string; url: string; body: string }

/** Answers every request with the next scripted reply (default 200 `{}`) and records what came in. */
class RecordingServer {
  readonly seen: Seen[] = [];
  replies: { status: number; body: unknown }[] = [];
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      const r = this.replies.shift() ?? { status: 200, body: { version: 'v9', deploymentId: 'd-1' } };
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
    });
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('cli: cygnet app', () => {
  const srv = new RecordingServer();
  let dir = '';
  before(async () => {
    await srv.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cygnet-appcli-'));
  });
  after(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    srv.seen.length = 0;
    srv.replies = [];
  });

  async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['app', '--url', srv.url, ...argv], (l) => err.push(l), { out: (l) => out.push(l) });
    return { code, out, err };
  }

  function file(name: string, content: string): string {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  }

  it('sends each command as Marathon\'s request (method, path, query, body)', async () => {
    const app = file('app.json', '{"id": "/shop/web", "cmd": "sleep 100"}');
    const patch = file('patch.json', '{"cmd": "sleep 200"}');
    srv.replies.push({ status: 201, body: { id: '/shop/web', version: 'v1', deployments: [{ id: 'd-0' }] } });
    const cases: [string[], string, string, unknown][] = [
      [['create', '-f', app], 'POST', '/v2/apps', { id: '/shop/web', cmd: 'sleep 100' }],
      [['create', '-f', app, '--force'], 'POST', '/v2/apps?force=true', { id: '/shop/web', cmd: 'sleep 100' }],
      [['list'], 'GET', '/v2/apps?embed=apps.counts', undefined],
      [['show', 'shop/web'], 'GET', '/v2/apps/shop/web?embed=app.tasks', undefined],
      [['scale', '/shop/web', '5'], 'PUT', '/v2/apps/shop/web', { instances: 5 }],
      [['scale', '/shop/web', '0', '--force'], 'PUT', '/v2/apps/shop/web?force=true', { instances: 0 }],
      [['update', '/shop/web', '-f', patch], 'PUT', '/v2/apps/shop/web', { cmd: 'sleep 200' }],
      [['rollback', '/shop/web', '--version', '2026-01-01T00:00:00.000Z'], 'PUT', '/v2/apps/shop/web', { version: '2026-01-01T00:00:00.000Z' }],
      [['canary', '/shop/web', '-f', patch, '--instances', '2', '--weight', '0.25'], 'POST', '/v1/apps/shop/web/canary', { app: { cmd: 'sleep 200' }, instances: 2, weight: 0.25 }],
      [['canary', 'promote', '/shop/web'], 'POST', '/v1/apps/shop/web/canary/promote', undefined],
      [['canary', 'abort', '/shop/web'], 'POST', '/v1/apps/shop/web/canary/abort', undefined],
      [['restart', '/shop/web', '--force'], 'POST', '/v2/apps/shop/web/restart?force=true', undefined],
      [['delete', '/shop/web'], 'DELETE', '/v2/apps/shop/web?force=false', undefined],
      [['delete', '/shop/web', '--force'], 'DELETE', '/v2/apps/shop/web?force=true', undefined],
      [['tasks', '/shop/web'], 'GET', '/v2/apps/shop/web/tasks', undefined],
      [['deployments'], 'GET', '/v2/deployments', undefined],
    ];
    for (const [argv, method, url, body] of cases) {
      srv.seen.length = 0;
      if (argv[0] === 'deployments') srv.replies.push({ status: 200, body: [] });
      const r = await run(...argv);
      expect(r, argv.join(' ')).to.include({ code: 0 });
      const sent = srv.seen.filter((s) => !(s.method === 'GET' && (argv[0] === 'scale' || argv[0] === 'update')));
      expect(sent.map((s) => [s.method, s.url]), argv.join(' ')).to.deep.equal([[method, url]]);
      expect(sent[0]?.body === '' ? undefined : JSON.parse(sent[0]?.body ?? ''), argv.join(' ')).to.deep.equal(body);
    }
  });

  it('rollback without --version goes to the version before the last configuration change', async () => {
    srv.replies.push(
      { status: 200, body: { app: { id: '/a', version: '2026-01-03T00:00:00.000Z', versionInfo: { lastConfigChangeAt: '2026-01-02T00:00:00.000Z' } } } },
      { status: 200, body: { versions: ['2026-01-03T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-01T00:00:00.000Z'] } },
    );
    const r = await run('rollback', 'a');
    expect(r.code).to.equal(0);
    expect(srv.seen.at(-1)).to.deep.include({ method: 'PUT', url: '/v2/apps/a' });
    expect(JSON.parse(srv.seen.at(-1)?.body ?? '')).to.deep.equal({ version: '2026-01-01T00:00:00.000Z' });
    expect(r.out).to.deep.equal(['rolled back to 2026-01-01T00:00:00.000Z: a: deployment d-1, version v9']);
  });

  it('prints the raw JSON with --json', async () => {
    srv.replies.push({ status: 200, body: { apps: [{ id: '/x', instances: 1 }] } });
    const r = await run('list', '--json');
    expect(JSON.parse(r.out.join('\n'))).to.deep.equal({ apps: [{ id: '/x', instances: 1 }] });
  });

  it("an API error prints Marathon's message and field paths and exits 1", async () => {
    srv.replies.push({ status: 422, body: { message: 'Object is not valid', details: [{ path: '/cpus', errors: ['error.min'] }, { path: '/id', errors: ['error.pattern'] }] } });
    const r = await run('create', '-f', file('bad.json', '{"id": "/Bad", "cpus": -1}'));
    expect(r).to.deep.equal({ code: 1, out: [], err: ['error: Object is not valid (HTTP 422)', '  /cpus: error.min', '  /id: error.pattern'] });
  });

  it('scale and update look the app up first: Marathon\'s PUT would create a missing one', async () => {
    srv.replies.push({ status: 404, body: { message: "App '/a' does not exist" } });
    const r = await run('scale', 'a', '3');
    expect(r).to.deep.equal({ code: 1, out: [], err: ["error: App '/a' does not exist (HTTP 404)"] });
    expect(srv.seen.map((s) => s.method)).to.deep.equal(['GET']);
  });

  it('a 409 names the deployment that holds the app', async () => {
    srv.replies.push({ status: 200, body: { app: { id: '/a' } } });
    srv.replies.push({ status: 409, body: { message: 'App is locked by one or more deployments.', deployments: [{ id: 'dep-7' }] } });
    const r = await run('scale', 'a', '3');
    expect(r.code).to.equal(1);
    expect(r.err).to.deep.equal(['error: App is locked by one or more deployments. (HTTP 409)', '  deployments: dep-7', '  (--force, on the commands that have it, supersedes them)']);
  });

  it('usage errors exit 2 with one line and send nothing', async () => {
    const bad: [string[], RegExp][] = [
      [['scale', 'a', 'three'], /expected a whole number of instances/],
      [['scale', 'a', '-1'], /unknown option '-1'|expected a whole number/],
      [['scale', 'a'], /missing required argument 'instances'/],
      [['create'], /required option '-f, --file <file>' not specified/],
      [['create', '-f', path.join(dir, 'missing.json')], /-f .*missing\.json: cannot read/],
      [['create', '-f', file('notjson.json', '{nope')], /not JSON/],
      [['create', '-f', file('array.json', '[1]')], /expected a JSON object/],
      [['canary', 'a', '-f', file('c.json', '{}'), '--instances', '1', '--weight', '2'], /expected a traffic share from 0 to 1/],
      [['canary', 'a', '-f', file('c2.json', '{}'), '--weight', '0.5'], /--instances <k> \(1 or more\) is required/],
      [['frob'], /unknown command 'frob'/],
    ];
    for (const [argv, pattern] of bad) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).to.equal(2);
      expect(r.err, argv.join(' ')).to.have.length(1);
      expect(r.err[0], argv.join(' ')).to.match(pattern);
    }
    const r = await main(['app', '--url', 'ftp://x', 'list'], () => undefined);
    expect(r).to.equal(2);
    expect(srv.seen).to.deep.equal([]);
  });

  it('follows the event stream, one line per event, until stopped', async () => {
    const sse = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: event_stream_attached\ndata: {"eventType":"event_stream_attached","timestamp":"t0"}\n\n`);
      res.write(`id: 1.0\nevent: status_update_event\ndata: {"eventType":"status_update_event","timestamp":"t1","appId":"/a","taskId":"a.1","taskStatus":"TASK_RUNNING"}\n\n`);
      res.write(`: keep-alive\n\nevent: deployment_success\ndata: {"timestamp":"t2","id":"d1"}\n\n`);
      res.write(`event: x\ndata: ${req.url ?? ''}\n\n`);
    });
    await new Promise<void>((resolve) => sse.listen(0, '127.0.0.1', resolve));
    const stop = new AbortController();
    const out: string[] = [];
    const done = main(['app', '--url', `http://127.0.0.1:${(sse.address() as AddressInfo).port}`, 'events', '--type', 'status_update_event', 'deployment_success'], () => undefined, {
      out: (l) => {
        out.push(l);
        if (out.length === 3) stop.abort();
      },
      stopSignal: stop.signal,
    });
    expect(await done).to.equal(0);
    sse.closeAllConnections();
    sse.close();
    expect(out).to.deep.equal([
      't1 status_update_event /a a.1 TASK_RUNNING',
      't2 deployment_success deployment d1',
      '- x /v2/events?event_type=status_update_event&event_type=deployment_success',
    ]);
  });

  it('an unreachable framework is exit 1 with the address', async () => {
    const err: string[] = [];
    const code = await main(['app', '--url', 'http://127.0.0.1:1', 'list'], (l) => err.push(l), { out: () => undefined });
    expect(code).to.equal(1);
    expect(err[0]).to.match(/^error: cannot reach http:\/\/127\.0\.0\.1:1: /);
  });
});

describe('cli: cygnet app output', () => {
  it('aligns a table and leaves the last column unpadded', () => {
    expect(formatTable(['A', 'BB'], [['xyz', '1'], ['q', '22']])).to.deep.equal(['A    BB', 'xyz  1', 'q    22']);
  });

  it('lists apps with running/instances, health only when checked, and cuts long commands', () => {
    const lines = formatAppList({ apps: [
      { id: '/a', instances: 3, tasksRunning: 2, tasksHealthy: 0, cpus: 0.5, mem: 64, deployments: [{ id: 'd' }], version: 'v1', cmd: 'x'.repeat(100), healthChecks: [{}] },
      { id: '/b', instances: 0, args: ['run', '--fast'], deployments: [] },
    ] });
    expect(lines[0]).to.match(/^ID\s+RUNNING\s+HEALTHY\s+CPUS\s+MEM\s+DEPLOYING\s+VERSION\s+CMD$/);
    expect(lines[1]?.split(/\s{2,}/)).to.deep.equal(['/a', '2/3', '0', '0.5', '64', 'yes', 'v1', `${'x'.repeat(47)}…`]);
    expect(lines[2]?.split(/\s{2,}/)).to.deep.equal(['/b', '0/0', '-', '-', '-', 'no', '-', 'run --fast']);
    expect(formatAppList({ apps: [] })).to.deep.equal(['no apps']);
    expect(formatAppList({})).to.deep.equal(['no apps']);
  });

  it('lists tasks with health and ports', () => {
    const lines = formatTasks({ tasks: [{ id: 't1', host: '127.0.0.2', ports: [31001, 31002], state: 'TASK_RUNNING', healthCheckResults: [{ alive: true }], version: 'v', startedAt: 's' }] });
    expect(lines[1]?.split(/\s{2,}/)).to.deep.equal(['t1', '127.0.0.2', '31001,31002', 'TASK_RUNNING', 'healthy', 'v', 's']);
    expect(formatTasks({ tasks: [] })).to.deep.equal(['no tasks']);
  });

  it('lists deployments with their current actions', () => {
    const lines = formatDeployments([{ id: 'd1', affectedApps: ['/a'], currentStep: 1, totalSteps: 1, currentActions: [{ action: 'ScaleApplication', app: '/a' }], version: 'v' }]);
    expect(lines[1]?.split(/\s{2,}/)).to.deep.equal(['d1', '/a', '1/1', 'ScaleApplication /a', 'v']);
  });

  it('prints one line per write and per event', () => {
    expect(formatWrite('scaled', '/a', { version: 'v2', deploymentId: 'd2' })).to.equal('scaled /a: deployment d2, version v2');
    expect(formatEvent('status_update_event', { timestamp: 't', appId: '/a', taskId: 'a.1', taskStatus: 'TASK_RUNNING' })).to.equal('t status_update_event /a a.1 TASK_RUNNING');
    expect(formatEvent('deployment_success', { timestamp: 't', id: 'd3' })).to.equal('t deployment_success deployment d3');
  });

  it('takes Marathon error bodies apart, and survives ones that are not', () => {
    expect(errorOf(400, '{"message":"Invalid JSON","details":"Unexpected token"}').describeLines()).to.deep.equal(['error: Invalid JSON (HTTP 400)', '  Unexpected token']);
    expect(errorOf(502, 'Bad gateway').describeLines()).to.deep.equal(['error: Bad gateway (HTTP 502)']);
    expect(errorOf(500, '"odd"').describeLines()).to.deep.equal(['error: "odd" (HTTP 500)']);
  });

  it('parses weights and JSON files strictly', () => {
    expect(parseWeight('0.2')).to.equal(0.2);
    expect(() => parseWeight('')).to.throw(/traffic share/);
    expect(() => parseWeight('NaN')).to.throw(/traffic share/);
    expect(readJsonFile('x', () => '{"a":1}')).to.deep.equal({ a: 1 });
    expect(() => readJsonFile('x', () => 'null')).to.throw(/expected a JSON object/);
  });

  it('picks the version before the current configuration for a rollback', () => {
    const versions = ['2026-01-04T00:00:00.000Z', '2026-01-03T00:00:00.000Z', '2026-01-02T00:00:00.000Z'];
    expect(previousConfigVersion(versions, { versionInfo: { lastConfigChangeAt: '2026-01-03T00:00:00.000Z' } })).to.equal('2026-01-02T00:00:00.000Z');
    expect(previousConfigVersion(versions, { versionInfo: { lastConfigChangeAt: '2026-01-02T00:00:00.000Z' } })).to.equal(undefined);
    expect(previousConfigVersion(versions, {})).to.equal('2026-01-03T00:00:00.000Z');
  });
});
