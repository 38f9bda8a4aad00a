/**
 * Ports and readiness for integration tests: a free ephemeral port on
 * 127.0.0.1 (for a server that must be restarted on the same port), and a
 * wait until something accepts connections or answers HTTP.
 */
import { createServer, connect } from 'node:net';
import { request } from 'undici';

/** Asks the kernel for a free port on 127.0.0.1 and releases it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A free port p with p+1 … p+extra free too (`cygnet local` numbers its agents after its base port). */
export async function freeBasePort(extra: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await freePort();
    let ok = p + extra <= 65535;
    for (let k = 1; ok && k <= extra; k++) ok = await portFree(p + k);
    if (ok) return p;
  }
  throw new Error(`no ${extra + 1} consecutive free ports found`);
}

const pollIntervalMs = 50;

/** Resolves once 127.0.0.1:port accepts a TCP connection. */
export async function waitForPort(port: number, timeoutMs = 30_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
}

/** GETs `url` until `accept(status, json)` holds; returns the last JSON body. */
export async function pollJson<T = unknown>(url: string, accept: (body: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const res = await request(url, { headersTimeout: 5_000, bodyTimeout: 5_000 });
      const text = await res.body.text();
      if (res.statusCode === 200) {
        last = JSON.parse(text) as unknown;
        if (accept(last as T)) return last as T;
      } else {
        last = `${res.statusCode} ${text}`;
      }
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} at ${url}; last: ${JSON.stringify(last).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, pollIntervalMs * 2));
  }
}
