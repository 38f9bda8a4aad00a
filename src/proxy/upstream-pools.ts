/**
 * The keep-alive pools to backends: one undici Pool per backend address,
 * created on first use and closed gracefully (in-flight requests finish)
 * once the address is gone from the routing table. undici's HTTP/1.1
 * client costs about half the CPU per request of node:http's (measured,
 * see notes/proxy.md), which is most of the proxy's hot path.
 *
 * Invariant: a pool is never shared by two addresses, and `prune` never
 * closes a pool whose address is still routed.
 */
import { Pool } from 'undici';
import type { TimeoutOptions } from './forwarder.ts';

export interface PoolOptions {
  /** An idle pooled socket is closed after this; keep it under the backends' own keep-alive timeout. */
  readonly poolIdleMs: number;
  /** Sockets per backend at most: bounds fds per backend; requests beyond it queue in the pool. */
  readonly poolMaxSocketsPerBackend: number;
}

/** node's default server keepAliveTimeout is 5 s: close ours first, so a reused socket is rarely one the backend just closed. */
export const defaultPool: PoolOptions = { poolIdleMs: 4_000, poolMaxSocketsPerBackend: 1_024 };

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly timeouts: TimeoutOptions, private readonly options: PoolOptions) {}

  get(address: string, port: number): Pool {
    const key = `${address}:${port}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Pool(`http://${key}`, {
        connections: this.options.poolMaxSocketsPerBackend,
        pipelining: 1,
        keepAliveTimeout: this.options.poolIdleMs,
        keepAliveMaxTimeout: this.options.poolIdleMs,
        connectTimeout: this.timeouts.connectTimeoutMs,
        headersTimeout: this.timeouts.headerTimeoutMs,
        bodyTimeout: this.timeouts.idleTimeoutMs,
        // The proxy relays whatever the backend sends; its own limits are the client's.
        maxResponseSize: -1,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Closes (gracefully) the pools of addresses not in `live`. */
  prune(live: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      if (live.has(key)) continue;
      this.pools.delete(key);
      pool.close().catch(() => undefined);
    }
  }

  /** Sockets open to backends, busy and idle. */
  sockets(): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.stats.connected;
    return n;
  }

  async destroy(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}
