/**
 * Fetches a task's CommandInfo.uris into its sandbox before it starts.
 *
 * Sources: http(s) via undici (header/body timeouts, size cap, up to
 * MAX_REDIRECTS redirects), `file://` URLs and plain absolute paths (copied).
 * Verification: a sha256 is taken from the URI fragment `#sha256=<hex>` (the
 * fragment is never sent), else from a task label `cygnet.sha256.<basename>`;
 * mismatch fails the fetch. Post-processing: `.tar.gz`/`.tgz` are extracted
 * when `extract` is not false (Mesos' default is true) — by the system tar,
 * after a listing proves no entry is absolute, contains `..`, or is a link
 * pointing outside; `executable` sets mode 0755; `output_file` names the file
 * (confined to the sandbox).
 * Every failure is a FetchError (CYG_FETCH) whose message says which URI and why.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { request } from 'undici';
import { CygnetError, describeError } from '../common/errors.ts';
import { confinePath } from './sandbox.ts';
import type { CommandURI, TaskInfo } from './types.ts';

/** Largest artifact accepted (bounds disk use per URI). */
export const DEFAULT_MAX_FETCH_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_FETCH_TIMEOUT_MS = 60_000;
export const MAX_REDIRECTS = 5;
/** Largest archive listing we parse (bounds memory on hostile archives). */
const MAX_TAR_LISTING_BYTES = 16 * 1024 * 1024;
export const SHA256_LABEL_PREFIX = 'cygnet.sha256.';

export class FetchError extends CygnetError {
  constructor(message: string) {
    super('CYG_FETCH', message);
  }
}

export interface FetcherOptions {
  maxBytes?: number;
  timeoutMs?: number;
}

interface ParsedUri {
  kind: 'http' | 'file';
  /** URL without fragment, or a file path. */
  location: string;
  basename: string;
  sha256?: string;
}

/** Pure: where the URI points, what it will be called, and the expected digest. */
export function parseUri(uri: CommandURI, labels: ReadonlyMap<string, string>): ParsedUri {
  const raw = uri.value;
  let location = raw;
  let fragment = '';
  const hash = raw.indexOf('#');
  if (hash >= 0) {
    location = raw.slice(0, hash);
    fragment = raw.slice(hash + 1);
  }
  let kind: ParsedUri['kind'];
  let pathPart: string;
  if (/^https?:\/\//i.test(location)) {
    kind = 'http';
    try {
      pathPart = decodeURIComponent(new URL(location).pathname);
    } catch {
      throw new FetchError(`Failed to fetch '${raw}': not a valid URL`);
    }
  } else if (location.startsWith('file://')) {
    kind = 'file';
    location = decodeURIComponent(location.slice('file://'.length));
    pathPart = location;
  } else if (location.startsWith('/')) {
    kind = 'file';
    pathPart = location;
  } else {
    throw new FetchError(`Failed to fetch '${raw}': unsupported scheme (expected http, https, file:// or an absolute path)`);
  }
  const basename = path.posix.basename(pathPart);
  if (basename === '' || basename === '.' || basename === '..') throw new FetchError(`Failed to fetch '${raw}': URI has no file name`);
  let sha256: string | undefined;
  const m = /(?:^|&)sha256=([0-9a-fA-F]*)/.exec(fragment);
  if (m) {
    if (!/^[0-9a-fA-F]{64}$/.test(m[1])) throw new FetchError(`Failed to fetch '${raw}': sha256 must be 64 hex digits`);
    sha256 = m[1].toLowerCase();
  } else {
    sha256 = labels.get(SHA256_LABEL_PREFIX + basename)?.toLowerCase();
  }
  return sha256 === undefined ? { kind, location, basename } : { kind, location, basename, sha256 };
}

export function isArchive(name: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(name);
}

/** Fetches every URI of `task` into `sandbox`, in order. */
export async function fetchTaskUris(task: TaskInfo, sandbox: string, signal: AbortSignal, opts: FetcherOptions = {}): Promise<void> {
  const labels = new Map<string, string>();
  for (const l of task.labels?.labels ?? []) labels.set(l.key, l.value ?? '');
  for (const uri of task.command?.uris ?? []) {
    await fetchUri(uri, labels, sandbox, signal, opts);
  }
}

export async function fetchUri(uri: CommandURI, labels: ReadonlyMap<string, string>, sandbox: string, signal: AbortSignal, opts: FetcherOptions = {}): Promise<string> {
  const parsed = parseUri(uri, labels);
  const name = uri.output_file ? uri.output_file : parsed.basename;
  const target = confinePathOrFail(sandbox, name, uri.value);
  await mkdir(path.dirname(target), { recursive: true });
  const part = `${target}.part`;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_FETCH_BYTES;
  const digest = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > maxBytes) return cb(new FetchError(`Failed to fetch '${uri.value}': larger than ${maxBytes} bytes`));
      digest.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    if (parsed.kind === 'http') await downloadHttp(parsed.location, uri.value, meter, part, signal, opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS);
    else await pipeline(createReadStream(parsed.location), meter, createWriteStream(part), { signal });
  } catch (err) {
    await unlink(part).catch(() => undefined);
    if (err instanceof FetchError) throw err;
    throw new FetchError(`Failed to fetch '${uri.value}': ${describeError(err)}`);
  }
  const got = digest.digest('hex');
  if (parsed.sha256 !== undefined && got !== parsed.sha256) {
    await unlink(part).catch(() => undefined);
    throw new FetchError(`Failed to fetch '${uri.value}': checksum mismatch: expected sha256 ${parsed.sha256}, got ${got}`);
  }
  await rename(part, target);
  if (uri.executable) await chmod(target, 0o755);
  else if (uri.extract !== false && isArchive(name)) await extractTarGz(target, path.dirname(target), uri.value, signal);
  return target;
}

function confinePathOrFail(sandbox: string, name: string, raw: string): string {
  try {
    const p = confinePath(sandbox, name);
    if (p === path.resolve(sandbox)) throw new Error('names the sandbox itself');
    return p;
  } catch {
    throw new FetchError(`Failed to fetch '${raw}': output file '${name}' is outside the sandbox`);
  }
}

async function downloadHttp(url: string, raw: string, meter: Transform, part: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await request(current, { method: 'GET', signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof res.headers.location === 'string') {
      await res.body.dump();
      current = new URL(res.headers.location, current).toString();
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new FetchError(`Failed to fetch '${raw}': HTTP ${res.statusCode}`);
    }
    await pipeline(res.body, meter, createWriteStream(part), { signal });
    return;
  }
  throw new FetchError(`Failed to fetch '${raw}': more than ${MAX_REDIRECTS} redirects`);
}

/** Runs tar, collecting stdout (bounded); rejects with stderr on failure. */
function runTar(args: string[], signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let out = '';
    let errText = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.length > MAX_TAR_LISTING_BYTES) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { errText = (errText + c).slice(-2000); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(errText.trim() || `tar exited with status ${code}`));
    });
  });
}

/** Pure: the first unsafe entry of a `tar -tvzf` listing, or undefined. */
export function findUnsafeTarEntry(verboseListing: string): string | undefined {
  for (const line of verboseListing.split('\n')) {
    if (line.trim() === '') continue;
    // mode owner size date time name[ -> target | link to target]
    const m = /^(\S)\S*\s+\S+\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(line);
    if (!m) return line;
    const type = m[1];
    let name = m[2];
    let target: string | undefined;
    if (type === 'l') [name, target] = splitOnce(name, ' -> ');
    else if (type === 'h') [name, target] = splitOnce(name, ' link to ');
    if (unsafeRelative(name)) return name;
    if (target !== undefined && (type === 'h' ? unsafeRelative(target) : unsafeLinkTarget(name, target))) return `${name} -> ${target}`;
  }
  return undefined;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)];
}

function unsafeRelative(p: string): boolean {
  return p.startsWith('/') || p.split('/').includes('..');
}

function unsafeLinkTarget(name: string, target: string): boolean {
  if (target.startsWith('/')) return true;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(name), target));
  return resolved === '..' || resolved.startsWith('../');
}

async function extractTarGz(archive: string, dir: string, raw: string, signal: AbortSignal): Promise<void> {
  let listing: string;
  try {
    listing = await runTar(['-tvzf', archive], signal);
  } catch (err) {
    throw new FetchError(`Failed to extract '${raw}': ${describeError(err)}`);
  }
  const bad = findUnsafeTarEntry(listing);
  if (bad !== undefined) throw new FetchError(`Failed to extract '${raw}': unsafe entry '${bad}' (absolute path, '..' or a link out of the sandbox)`);
  try {
    await runTar(['-xzf', archive, '-C', dir, '--no-same-owner', '--no-same-permissions'], signal);
  } catch (err) {
    throw new FetchError(`Failed to extract '${raw}': ${describeError(err)}`);
  }
  await stat(dir);
}
