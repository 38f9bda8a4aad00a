/**
 * The HTTP client behind `cygnet app`: one method per operation of the
 * framework's Marathon `/v2` API (and cygnet's `/v1` canary extension), JSON
 * in and out. Every non-2xx answer becomes an `ApiError` carrying Marathon's
 * `message`, `details` (field paths on 422) and `deployments` (on 409), so
 * the command prints them and exits 1. Knows nothing about output formats.
 */
import { request } from 'undici';
import { CygnetError } from '../common/errors.ts';

/** A request that gets no answer within this long is a failure, not a hang (a deploy returns at once). */
export const requestTimeoutMs = 30_000;

/** Larger answers are cut off rather than held in memory (a 10k-app list is a few MB). */
export const maxAnswerBytes = 64 * 1024 * 1024;

export interface MarathonErrorDetail {
  readonly path: string;
  readonly errors: readonly string[];
}

/** A non-2xx answer from the API, with Marathon's error body taken apart. */
export class ApiError extends CygnetError {
  constructor(
    readonly status: number,
    readonly apiMessage: string,
    readonly details: readonly MarathonErrorDetail[] | string | undefined,
    readonly deploymentIds: readonly string[],
  ) {
    super(status === 404 ? 'CYG_NOT_FOUND' : status === 409 ? 'CYG_CONFLICT' : status >= 500 ? 'CYG_INTERNAL' : 'CYG_BAD_REQUEST', `HTTP ${status}: ${apiMessage}`);
  }

  /** One line for the message, one per detail path, one naming the blocking deployments. */
  describeLines(): string[] {
    const lines = [`error: ${this.apiMessage} (HTTP ${this.status})`];
    if (typeof this.details === 'string') lines.push(`  ${this.details}`);
    else for (const d of this.details ?? []) lines.push(`  ${d.path}: ${d.errors.join('; ')}`);
    if (this.deploymentIds.length > 0) {
      lines.push(`  deployments: ${this.deploymentIds.join(', ')}`);
      // The API's own hint names its query parameter; here it is a flag.
      lines.push('  (--force, on the commands that have it, supersedes them)');
    }
    return lines;
  }
}

/** The framework could not be reached at all (refused, reset, timed out). */
export class ApiUnreachableError extends CygnetError {
  constructor(url: string, cause: unknown) {
    super('CYG_FETCH', `cannot reach ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** What every write answers (a type, not an interface, so it is also a `Json`). */
export type WriteAnswer = { readonly version: string; readonly deploymentId: string };

export interface CanaryRequest {
  readonly app: Record<string, unknown>;
  readonly instances: number;
  readonly weight: number;
}

export type Json = Record<string, unknown>;

/** Marathon app ids always start with '/'; `web` and `/web` name the same app. */
export function appPath(id: string): string {
  const clean = id.replace(/^\/+/, '').replace(/\/+$/, '');
  return `/${clean.split('/').map(encodeURIComponent).join('/')}`;
}

function query(params: Record<string, string | boolean | undefined>): string {
  const parts = Object.entries(params).filter(([, v]) => v !== undefined && v !== false).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

export class AppApiClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  listApps(): Promise<Json> {
    return this.call('GET', '/v2/apps?embed=apps.counts');
  }

  getApp(id: string): Promise<Json> {
    return this.call('GET', `/v2/apps${appPath(id)}?embed=app.tasks`);
  }

  createApp(app: unknown, force: boolean): Promise<Json> {
    return this.call('POST', `/v2/apps${query({ force })}`, app);
  }

  updateApp(id: string, patch: unknown, force: boolean): Promise<WriteAnswer> {
    return this.call<WriteAnswer>('PUT', `/v2/apps${appPath(id)}${query({ force })}`, patch);
  }

  versions(id: string): Promise<{ versions: string[] }> {
    return this.call<{ versions: string[] }>('GET', `/v2/apps${appPath(id)}/versions`);
  }

  restartApp(id: string, force: boolean): Promise<WriteAnswer> {
    return this.call<WriteAnswer>('POST', `/v2/apps${appPath(id)}/restart${query({ force })}`);
  }

  deleteApp(id: string, force: boolean): Promise<WriteAnswer> {
    // Explicit either way: Marathon (and cygnet) force a DELETE that says nothing, and the CLI deletes a locked app only with --force.
    return this.call<WriteAnswer>('DELETE', `/v2/apps${appPath(id)}?force=${String(force)}`);
  }

  tasks(id: string): Promise<{ tasks: Json[] }> {
    return this.call<{ tasks: Json[] }>('GET', `/v2/apps${appPath(id)}/tasks`);
  }

  async deployments(): Promise<Json[]> {
    const body = await this.call<unknown>('GET', '/v2/deployments');
    if (!Array.isArray(body)) throw new ApiError(200, 'answer to GET /v2/deployments is not a list', undefined, []);
    return body as Json[];
  }

  startCanary(id: string, body: CanaryRequest, force: boolean): Promise<WriteAnswer> {
    return this.call<WriteAnswer>('POST', `/v1/apps${appPath(id)}/canary${query({ force })}`, body);
  }

  promoteCanary(id: string): Promise<WriteAnswer> {
    return this.call<WriteAnswer>('POST', `/v1/apps${appPath(id)}/canary/promote`);
  }

  abortCanary(id: string): Promise<WriteAnswer> {
    return this.call<WriteAnswer>('POST', `/v1/apps${appPath(id)}/canary/abort`);
  }

  /** Streams `/v2/events` and hands each event to `onEvent` until `signal` aborts or the server ends it. */
  async events(onEvent: (type: string, data: unknown) => void, signal: AbortSignal, eventTypes: readonly string[] = []): Promise<void> {
    const url = `${this.baseUrl}/v2/events${eventTypes.length === 0 ? '' : `?${eventTypes.map((t) => `event_type=${encodeURIComponent(t)}`).join('&')}`}`;
    let res;
    try {
      res = await request(url, { method: 'GET', headers: { accept: 'text/event-stream' }, signal });
    } catch (err) {
      if (signal.aborted) return;
      throw new ApiUnreachableError(this.baseUrl, err);
    }
    if (res.statusCode >= 300) throw errorOf(res.statusCode, await res.body.text());
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += (chunk as Buffer).toString('utf8');
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const parsed = parseSseBlock(block);
          if (parsed !== undefined) onEvent(parsed.type, parsed.data);
        }
      }
    } catch (err) {
      if (!signal.aborted) throw new ApiUnreachableError(this.baseUrl, err);
    }
  }

  /** One request; the answer's JSON is trusted to be `T` (the API's documented shape), a non-2xx throws ApiError. */
  async call<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
    let res;
    try {
      res = await request(`${this.baseUrl}${path}`, {
        method: method as 'GET',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        headersTimeout: requestTimeoutMs,
        bodyTimeout: requestTimeoutMs,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new ApiUnreachableError(this.baseUrl, err);
    }
    const text = await readLimited(res.body);
    if (res.statusCode === 307 || res.statusCode === 302) {
      const loc = res.headers.location;
      throw new ApiError(res.statusCode, `not the leader; try --url at ${String(loc)}`, undefined, []);
    }
    if (res.statusCode >= 300) throw errorOf(res.statusCode, text);
    if (text === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.statusCode, `answer is not JSON: ${text.slice(0, 200)}`, undefined, []);
    }
  }
}

async function readLimited(body: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    const b = c as Buffer;
    size += b.length;
    if (size > maxAnswerBytes) throw new CygnetError('CYG_FETCH', `answer larger than ${maxAnswerBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Marathon's error body: `{"message", "details"?, "deployments"?}`; anything else is shown as text. */
export function errorOf(status: number, text: string): ApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new ApiError(status, text.trim().slice(0, 500) || `HTTP ${status}`, undefined, []);
  }
  if (typeof body !== 'object' || body === null) return new ApiError(status, text.slice(0, 500), undefined, []);
  const b = body as { message?: unknown; details?: unknown; deployments?: unknown };
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  let details: MarathonErrorDetail[] | string | undefined;
  if (typeof b.details === 'string') details = b.details;
  else if (Array.isArray(b.details)) {
    details = b.details.filter((d): d is { path: unknown; errors: unknown } => typeof d === 'object' && d !== null).map((d) => ({
      path: typeof d.path === 'string' ? d.path : '?',
      errors: Array.isArray(d.errors) ? d.errors.map(String) : [String(d.errors)],
    }));
  }
  const deployments = Array.isArray(b.deployments)
    ? b.deployments.map((d: unknown) => (typeof d === 'object' && d !== null && 'id' in d ? String(d.id) : String(d)))
    : [];
  return new ApiError(status, message, details, deployments);
}

function parseSseBlock(block: string): { type: string; data: unknown } | undefined {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return undefined;
  const text = data.join('\n');
  try {
    return { type, data: JSON.parse(text) as unknown };
  } catch {
    return { type, data: text };
  }
}
