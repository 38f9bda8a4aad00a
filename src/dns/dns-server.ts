/**
 * The DNS server as one object: the registry feed drives zone rebuilds,
 * the responder answers, the listener owns the DNS sockets, and an admin
 * HTTP server serves `/health` and `/metrics`.
 *
 * Rebuilds are coalesced: a burst of deltas delivered in one turn of the
 * event loop costs one rebuild, done on the next turn (setImmediate), so
 * a change is visible in DNS a zone build after it arrived. While the feed
 * is disconnected the last zone keeps being served.
 */
import express from 'express';
import type { Server } from 'node:http';
import { systemClock, type Clock } from '../common/clock.ts';
import { describeError } from '../common/errors.ts';
import { componentLogger, type Logger } from '../common/log.ts';
import type { CompiledZone } from './answers.ts';
import { DnsListener, type ListenAddress } from './dns-listener.ts';
import { Forwarder, type Upstream } from './forwarder.ts';
import { DnsMetrics, renderMetrics, type WatchStatus } from './metrics.ts';
import { RecursionAcl } from './recursion-acl.ts';
import { DnsResponder } from './responder.ts';
import { defaultResponseCacheOptions, ResponseCache } from './response-cache.ts';
import { parseIPv4 } from './wire.ts';
import type { RegistryDelta } from '../registry/types.ts';
import type { ZoneSource } from './zone.ts';
import { ZoneCompiler } from './zone-compiler.ts';

/** What the server needs from the registry watch client (src/registry RegistryWatchClient). */
export interface RegistryFeed {
  readonly state: ZoneSource;
  readonly connected: boolean;
  /** Clock time of the last record received, or undefined before the first. */
  readonly lastRecordAt: number | undefined;
  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe(onSnapshot: () => void, onDelta: (delta: RegistryDelta) => void): () => void;
}

/** The app a delta touched; undefined for CLUSTER_UPDATED (the apex is rebuilt on every change anyway). */
function appOfDelta(d: RegistryDelta): string | undefined {
  switch (d.type) {
    case 'APP_UPDATED': return d.app.id;
    case 'APP_REMOVED': return d.appId;
    case 'ENDPOINT_UP': return d.endpoint.appId;
    case 'ENDPOINT_DOWN': return d.appId;
    case 'CLUSTER_UPDATED': return undefined;
  }
}

export interface DnsServerOptions {
  readonly listen: ListenAddress;
  readonly domain: string;
  readonly ttlSec: number;
  readonly negativeTtlSec: number;
  readonly upstreams: readonly Upstream[];
  readonly upstreamTimeoutMs: number;
  readonly allowRecursion: readonly string[];
  readonly admin?: ListenAddress;
  readonly feed: RegistryFeed;
  readonly clock?: Clock;
  readonly log?: Logger;
}

export class DnsServer {
  readonly metrics = new DnsMetrics();
  readonly responder: DnsResponder;
  readonly cache = new ResponseCache(defaultResponseCacheOptions);
  private readonly opts: DnsServerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly listener: DnsListener;
  private readonly forwarder: Forwarder | undefined;
  private readonly compiler: ZoneCompiler;
  private rebuildScheduled = false;
  private admin: Server | undefined;
  private closed = false;
  /** Apps changed since the last rebuild, or 'all' after a snapshot. Bounded by the registry's app count. */
  private changed: Set<string> | 'all' = 'all';
  private unsubscribe: (() => void) | undefined;
  /** A registry snapshot arrived once (before, every cluster name is NXDOMAIN). */
  private snapshotSeen = false;
  /** Listeners told after each rebuild (tests and benchmarks measure propagation with it). */
  readonly rebuildListeners = new Set<(revision: number) => void>();

  constructor(opts: DnsServerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? componentLogger('dns');
    const nsAddress = parseIPv4(opts.listen.host) !== undefined && opts.listen.host !== '0.0.0.0' ? opts.listen.host : undefined;
    this.compiler = new ZoneCompiler({ domain: opts.domain, ttlSec: opts.ttlSec, negativeTtlSec: opts.negativeTtlSec, ...(nsAddress === undefined ? {} : { nsAddress }) });
    this.forwarder = opts.upstreams.length === 0 ? undefined : new Forwarder({
      upstreams: opts.upstreams, timeoutMs: opts.upstreamTimeoutMs, clock: this.clock, metrics: this.metrics, cache: this.cache, log: this.log,
    });
    this.responder = new DnsResponder(this.compile(), new RecursionAcl(opts.allowRecursion), this.forwarder, this.metrics);
    this.listener = new DnsListener(this.responder, this.log);
  }

  get port(): number {
    return this.listener.port;
  }

  get adminPort(): number {
    const a = this.admin?.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** Revision of the zone being served. */
  get revision(): number {
    return this.responder.currentZone.revision;
  }

  async start(): Promise<void> {
    await this.listener.listen(this.opts.listen);
    this.unsubscribe = this.opts.feed.subscribe(() => {
      this.snapshotSeen = true;
      this.changed = 'all';
      this.scheduleRebuild();
    }, (delta) => {
      const id = appOfDelta(delta);
      if (this.changed !== 'all' && id !== undefined) this.changed.add(id);
      this.scheduleRebuild();
    });
    this.changed = 'all';
    this.rebuild();
    if (this.opts.admin !== undefined) await this.startAdmin(this.opts.admin);
  }

  private compile(): CompiledZone {
    const started = performance.now();
    const changed = this.changed;
    this.changed = new Set();
    const compiled = this.compiler.compile(this.opts.feed.state, changed);
    this.metrics.lastZoneBuildMs = performance.now() - started;
    this.metrics.zoneRebuilds++;
    return compiled;
  }

  private scheduleRebuild(): void {
    if (this.rebuildScheduled || this.closed) return;
    this.rebuildScheduled = true;
    setImmediate(() => {
      this.rebuildScheduled = false;
      if (!this.closed) this.rebuild();
    });
  }

  private rebuild(): void {
    try {
      const compiled = this.compile();
      this.responder.setZone(compiled);
      for (const skipped of compiled.skipped) this.log.warn({ skipped }, 'app left out of DNS');
      for (const l of this.rebuildListeners) l(compiled.revision);
    } catch (err) {
      // Keep serving what we had (the compiler changes nothing for a unit that
      // fails to encode); look at every app again on the next change.
      this.changed = 'all';
      this.log.error({ err: describeError(err) }, 'zone rebuild failed; serving the previous zone');
    }
  }

  watchStatus(): WatchStatus {
    const feed = this.opts.feed;
    const last = feed.lastRecordAt;
    return {
      revision: this.revision,
      connected: feed.connected,
      lagSec: last === undefined ? undefined : Math.max(0, (this.clock.nowMs() - last) / 1000),
    };
  }

  private async startAdmin(addr: ListenAddress): Promise<void> {
    const app = express();
    // 503 until a registry snapshot arrived once: before that every cluster name is NXDOMAIN.
    // Afterwards 200, also while the watch is down (we keep answering from the last state; see watchConnected).
    app.get('/health', (_req, res) => {
      const w = this.watchStatus();
      const ready = this.snapshotSeen;
      res.status(ready ? 200 : 503).json({
        status: ready ? 'ok' : 'waiting for the registry', revision: w.revision, watchConnected: w.connected, watchLagSec: w.lagSec ?? null, zoneNames: this.responder.currentZone.byKey.size,
      });
    });
    app.get('/metrics', (_req, res) => {
      res.type('text/plain; version=0.0.4').send(renderMetrics(this.metrics, this.watchStatus(), { cacheEntries: this.cache.size, zoneNames: this.responder.currentZone.byKey.size }));
    });
    await new Promise<void>((resolve, reject) => {
      const server = app.listen(addr.port, addr.host, (err?: Error) => (err === undefined ? resolve() : reject(err)));
      this.admin = server;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.forwarder?.close();
    await this.listener.close();
    const admin = this.admin;
    if (admin !== undefined) {
      admin.closeAllConnections();
      await new Promise<void>((resolve) => admin.close(() => resolve()));
    }
  }
}
