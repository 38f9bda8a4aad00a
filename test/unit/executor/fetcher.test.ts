/**
 * Fetcher against a local HTTP server on 127.0.0.1: sha256 ok and mismatch,
 * 404, tgz extraction, a tarball with a `..` entry refused, file:// copy,
 * executable bit, output_file.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { FetchError, fetchTaskUris, findUnsafeTarEntry, parseUri } from '../../../src/executor/fetcher.ts';
import type { TaskInfo } from '../../../src/executor/types.ts';

describe('executor/fetcher', function () {
  this.timeout(10000);
  let dir: string;
  let server: Server;
  let base: string;
  const files = new Map<string, Buffer>();
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cygnet-fetch-'));
    const src = path.join(dir, 'src');
    await mkdir(path.join(src, 'app'), { recursive: true });
    await writeFile(path.join(src, 'app', 'run.sh'), 'echo hi\n');
    execFileSync('tar', ['-czf', path.join(dir, 'good.tgz'), '-C', src, 'app']);
    execFileSync('tar', ['-czf', path.join(dir, 'evil.tar.gz'), '-C', src, '--transform', 's,^app,../../escape,', 'app/run.sh']);
    files.set('/hello.txt', Buffer.from('hello world'));
    files.set('/good.tgz', await readFile(path.join(dir, 'good.tgz')));
    files.set('/evil.tar.gz', await readFile(path.join(dir, 'evil.tar.gz')));
    server = createServer((req, res) => {
      if (req.url === '/moved') { res.writeHead(302, { location: '/hello.txt' }); res.end(); return; }
      const body = files.get(req.url ?? '');
      if (body === undefined) { res.writeHead(404); res.end('nope'); return; }
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  let n = 0;
  async function fetchInto(uris: NonNullable<TaskInfo['command']>['uris'], labels: { key: string; value: string }[] = []) {
    const sandbox = path.join(dir, `sb${n++}`);
    await mkdir(sandbox);
    const t: TaskInfo = { name: 't', task_id: { value: 't' }, agent_id: { value: 'a' }, command: { value: 'true', uris }, labels: { labels } };
    await fetchTaskUris(t, sandbox, new AbortController().signal);
    return sandbox;
  }
  async function failure(p: Promise<unknown>): Promise<FetchError> {
    try { await p; } catch (e) { if (e instanceof FetchError) return e; throw e; }
    throw new Error('expected a FetchError');
  }

  it('downloads over http and verifies a sha256 fragment', async () => {
    const sb = await fetchInto([{ value: `${base}/hello.txt#sha256=${sha('hello world')}` }]);
    expect(await readFile(path.join(sb, 'hello.txt'), 'utf8')).to.equal('hello world');
  });

  it('verifies a sha256 label and follows a redirect, naming the output file', async () => {
    const sb = await fetchInto([{ value: `${base}/moved`, output_file: 'greeting', executable: true }], [{ key: 'cygnet.sha256.moved', value: sha('hello world') }]);
    expect(await readFile(path.join(sb, 'greeting'), 'utf8')).to.equal('hello world');
    expect((await stat(path.join(sb, 'greeting'))).mode & 0o111).to.equal(0o111);
  });

  it('fails on a checksum mismatch, saying expected and got', async () => {
    const wrong = '0'.repeat(64);
    const err = await failure(fetchInto([{ value: `${base}/hello.txt#sha256=${wrong}` }]));
    expect(err.message).to.contain(`expected sha256 ${wrong}, got ${sha('hello world')}`);
  });

  it('fails on HTTP 404', async () => {
    const err = await failure(fetchInto([{ value: `${base}/missing.bin` }]));
    expect(err.message).to.equal(`Failed to fetch '${base}/missing.bin': HTTP 404`);
  });

  it('extracts a .tgz into the sandbox', async () => {
    const sb = await fetchInto([{ value: `${base}/good.tgz` }]);
    expect(await readFile(path.join(sb, 'app', 'run.sh'), 'utf8')).to.equal('echo hi\n');
  });

  it('refuses a tarball with a path escaping the sandbox', async () => {
    const err = await failure(fetchInto([{ value: `${base}/evil.tar.gz` }]));
    expect(err.message).to.match(/unsafe entry '\.\.\/\.\.\/escape\/run\.sh'/);
    let escaped = true;
    await access(path.join(dir, 'escape')).catch(() => { escaped = false; });
    expect(escaped).to.equal(false);
  });

  it('copies file:// and absolute paths', async () => {
    const sb = await fetchInto([{ value: `file://${path.join(dir, 'good.tgz')}`, extract: false }, { value: path.join(dir, 'src', 'app', 'run.sh') }]);
    expect((await stat(path.join(sb, 'good.tgz'))).size).to.equal(files.get('/good.tgz')!.length);
    expect(await readFile(path.join(sb, 'run.sh'), 'utf8')).to.equal('echo hi\n');
  });

  it('rejects bad URIs and unsafe listings (pure parts)', () => {
    expect(() => parseUri({ value: 'ftp://x/y' }, new Map())).to.throw(FetchError, /unsupported scheme/);
    expect(() => parseUri({ value: 'http://x/y#sha256=abc' }, new Map())).to.throw(FetchError, /64 hex/);
    expect(findUnsafeTarEntry('lrwxrwxrwx u/g 0 2024-01-01 00:00 a/link -> ../../etc\n')).to.equal('a/link -> ../../etc');
    expect(findUnsafeTarEntry('lrwxrwxrwx u/g 0 2024-01-01 00:00 a/link -> ../b\n')).to.equal(undefined);
    expect(findUnsafeTarEntry('-rw-r--r-- u/g 5 2024-01-01 00:00 /etc/passwd\n')).to.equal('/etc/passwd');
  });
});
