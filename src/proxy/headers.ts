/**
 * Header rewriting between client and backend, on raw header lists
 * (`[name, value, name, value, …]` as node's `rawHeaders`) so the hot path
 * never builds a header object. Pure.
 *
 * Hop-by-hop headers (RFC 9110 §7.6.1: Connection, the headers it names,
 * Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade) belong to one
 * connection and are dropped both ways; each side frames its own body and
 * keeps its own connection alive. An upgrade keeps Connection: upgrade and
 * Upgrade, which are the point of it.
 *
 * Towards the backend: X-Forwarded-For gets the client's address appended
 * (a chain), X-Forwarded-Proto and X-Forwarded-Host are set to what this
 * proxy saw, replacing whatever the client claimed.
 */

/** Lower-case names dropped on every hop. */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Dropped towards the backend only: node's server has already answered
 * `Expect: 100-continue` to the client (its default), so the backend must
 * not wait for a second go-ahead.
 */
const requestOnly = 'expect';

/** Connection tokens that name no extra header to drop. */
const plainConnectionTokens = new Set(['keep-alive', 'close', 'upgrade']);

/** Headers named in Connection (besides the usual tokens), or null when none: the common case allocates nothing. */
function connectionNamed(raw: readonly string[]): Set<string> | null {
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    const value = (raw[i + 1] as string).toLowerCase();
    if (plainConnectionTokens.has(value)) continue;
    for (const token of value.split(',')) {
      const t = token.trim();
      if (t !== '' && !plainConnectionTokens.has(t)) (named ??= new Set()).add(t);
    }
  }
  return named;
}

export interface ForwardedFor {
  readonly clientIp: string;
  readonly proto: 'http' | 'https';
  /** The Host header as the client sent it. */
  readonly host: string;
}

/**
 * The request headers for the backend. `chunked` adds
 * `Transfer-Encoding: chunked` (the client's body had no length, and the
 * backend hop frames it again); `upgrade` keeps Connection/Upgrade.
 */
export function computeUpstreamHeaders(raw: readonly string[], fwd: ForwardedFor, chunked: boolean, upgrade: boolean): string[] {
  const named = connectionNamed(raw);
  const out: string[] = [];
  let xff: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (hopByHop.has(lower)) {
      if (upgrade && (lower === 'upgrade' || lower === 'connection')) {
        out.push(name, lower === 'connection' ? 'Upgrade' : (raw[i + 1] as string));
      }
      continue;
    }
    if ((named !== null && named.has(lower)) || lower === requestOnly) continue;
    if (lower.startsWith('x-forwarded-')) {
      if (lower === 'x-forwarded-for') xff = xff === undefined ? (raw[i + 1] as string) : `${xff}, ${raw[i + 1] as string}`;
      if (lower === 'x-forwarded-for' || lower === 'x-forwarded-proto' || lower === 'x-forwarded-host') continue;
    }
    out.push(name, raw[i + 1] as string);
  }
  out.push('X-Forwarded-For', xff === undefined ? fwd.clientIp : `${xff}, ${fwd.clientIp}`);
  out.push('X-Forwarded-Proto', fwd.proto);
  out.push('X-Forwarded-Host', fwd.host);
  if (chunked) out.push('Transfer-Encoding', 'chunked');
  return out;
}

/** Client address as the backend should see it: `::ffff:1.2.3.4` → `1.2.3.4`. */
export function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return '';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}
