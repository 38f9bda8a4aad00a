/**
 * A small client for examples/kv that follows leader redirects and classifies
 * every call's outcome the way a linearizability check needs it:
 *   'ok'      — the server answered (200/404/409): the outcome is known;
 *   'failed'  — the call certainly had no effect (refused connection, 307 loop,
 *               503 before proposing or with `applied: false`): safe to retry;
 *   'unknown' — it may or may not have taken effect (timeout, reset, 5xx).
 */
import { Agent } from 'undici';

export type KvOutcome =
  | { readonly kind: 'ok'; readonly status: number; readonly body: Buffer }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'unknown'; readonly reason: string };

/** Redirect hops per call: more than the cluster size means leadership is churning; give up and retry later. */
export const MAX_REDIRECTS = 5;

export interface KvClientOptions {
  readonly timeoutMs?: number;
  readonly dispatcher?: Agent;
}

export class KvClient {
  private readonly addrs: readonly string[];
  private readonly timeoutMs: number;
  private readonly dispatcher: Agent;
  private preferred: string;

  constructor(httpAddrs: readonly string[], opts: KvClientOptions = {}) {
    if (httpAddrs.length === 0) throw new Error('KvClient needs at least one address');
    this.addrs = httpAddrs;
    this.preferred = httpAddrs[0] as string;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.dispatcher = opts.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  }

  put(key: string, value: string | Buffer): Promise<KvOutcome> {
    return this.call('PUT', `/kv/${encodeURIComponent(key)}`, value, 'application/octet-stream');
  }

  /** `via`: ask this member first instead of the last known leader (a follower redirects). */
  get(key: string, via?: string): Promise<KvOutcome> {
    return this.call('GET', `/kv/${encodeURIComponent(key)}`, undefined, undefined, via);
  }

  cas(key: string, from: string, to: string): Promise<KvOutcome> {
    return this.call('POST', `/kv/${encodeURIComponent(key)}/cas`, JSON.stringify({ from, to }), 'application/json');
  }

  /** Moves on to the next member (after a 'failed' call). */
  rotate(): void {
    const i = this.addrs.indexOf(this.preferred);
    this.preferred = this.addrs[(i + 1) % this.addrs.length] as string;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async call(method: 'GET' | 'PUT' | 'POST', requestPath: string, body?: string | Buffer, contentType?: string, via?: string): Promise<KvOutcome> {
    let origin = `http://${via ?? this.preferred}`;
    let path = requestPath;
    let target = `${origin}${path}`;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      let res;
      try {
        // Origin and path given apart: no URL parse per call (a fifth of the client's CPU per write).
        res = await this.dispatcher.request({
          origin,
          path,
          method,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          ...(body !== undefined ? { body, headers: { 'content-type': contentType ?? 'application/octet-stream' } } : {}),
        });
      } catch (err) {
        const code = errorCode(err);
        // A refused connection never reached a server: certainly no effect.
        if (code === 'ECONNREFUSED') return { kind: 'failed', reason: `${code} ${target}` };
        return { kind: 'unknown', reason: `${code ?? 'error'} ${target}` };
      }
      let buf: Buffer;
      try {
        buf = Buffer.from(await res.body.arrayBuffer());
      } catch (err) {
        return { kind: 'unknown', reason: `body ${errorCode(err) ?? 'error'}` };
      }
      if (res.statusCode === 307) {
        const loc = res.headers.location;
        if (typeof loc !== 'string') return { kind: 'failed', reason: '307 without Location' };
        let url: URL;
        try {
          url = new URL(loc);
        } catch {
          return { kind: 'failed', reason: `307 with a bad Location ${loc.slice(0, 120)}` };
        }
        target = loc;
        origin = url.origin;
        path = `${url.pathname}${url.search}`;
        this.preferred = url.host;
        continue;
      }
      if (res.statusCode === 200 || res.statusCode === 404 || res.statusCode === 409) return { kind: 'ok', status: res.statusCode, body: buf };
      if (res.statusCode === 503 || res.statusCode === 400 || res.statusCode === 413) {
        const info = parseJson(buf);
        if (info.code === 'CYG_NO_LEADER' || info.code === 'CYG_OVERLOADED' || info.applied === false || res.statusCode !== 503) {
          return { kind: 'failed', reason: `${res.statusCode} ${info.code ?? ''}` };
        }
      }
      return { kind: 'unknown', reason: `${res.statusCode} ${buf.toString('utf8').slice(0, 120)}` };
    }
    return { kind: 'failed', reason: 'too many redirects' };
  }
}

function parseJson(buf: Buffer): { code?: string; applied?: boolean } {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as { code?: string; applied?: boolean }) : {};
  } catch {
    return {};
  }
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  if (typeof e?.code === 'string') return e.code;
  return undefined;
}
