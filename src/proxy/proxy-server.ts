/**
 * The proxy's data plane in one process: the HTTP listener (forwarder and
 * upgrade tunnel), the TCP listeners, and the routing table they share.
 *
 * `swapTable` replaces the table in one assignment: requests already in
 * progress keep the route (and backend) they were given, new requests see
 * the new table, and no connection is closed by a swap. Per-instance state
 * (in-flight count, ejection) lives in `backendStates`, keyed by task id, so
 * it survives swaps; entries for tasks gone from the table are dropped.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { systemClock, type Clock } from '../common/clock.ts';
import type { WorkerHealth } from './admin-server.ts';
import { componentLogger, type Logger } from '../common/log.ts';
import { defaultEjectBaseMs, defaultEjectMaxMs, defaultMaxAttempts, type FailurePolicy } from './failure-policy.ts';
import { defaultTimeouts, HttpForwarder, type TimeoutOptions } from './forwarder.ts';
import { defaultPool, type PoolOptions } from './upstream-pools.ts';
import { ProxyMetrics } from './metrics.ts';
import { computeRouteTable, emptyRouteTable, newBackendState, type BackendState, type RegistryAppWithEndpoints, type RouteTable } from './route-table.ts';
import { TcpForwarder } from './tcp-forwarder.ts';
import type { TcpHandle } from './raw-tcp.ts';
import { defaultAcceptDescriptors, fanOutListener } from './listen-fanout.ts';
import { acceptStreams, adoptHandle, defaultProxyIo, type ProxyIo } from './tcp-stream.ts';
import { createUpgradeHandler } from './tunnel.ts';

export interface ProxyServerOptions {
  readonly host: string;
  /** 0 = ephemeral. */
  readonly port: number;
  readonly domain: string;
  readonly timeouts?: TimeoutOptions;
  readonly pool?: PoolOptions;
  readonly policy?: FailurePolicy;
  /** Where TCP listeners bind (default: `host`). */
  readonly tcpHost?: string;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Default: raw handles where node has them (defaultProxyIo). */
  readonly io?: ProxyIo;
  /** More descriptors of the listening socket, so bursts of connections are accepted under load (listen-fanout.ts); raw io only. */
  readonly acceptDescriptors?: number;
}

/** node's default listen backlog, which `http.listen` below uses too. */
const listenBacklog = 511;

/** How long `close` lets requests in progress finish before cutting their connections. */
export const closeGraceMs = 2_000;

export const defaultPolicy: FailurePolicy = { maxAttempts: defaultMaxAttempts, ejectBaseMs: defaultEjectBaseMs, ejectMaxMs: defaultEjectMaxMs };

export class ProxyServer {
  readonly metrics = new ProxyMetrics();
  readonly forwarder: HttpForwarder;
  readonly tcp: TcpForwarder;
  readonly http: Server;
  readonly domain: string;
  private table: RouteTable = emptyRouteTable;
  private readonly backendStates = new Map<string, BackendState>();
  private readonly log: Logger;
  readonly io: ProxyIo;
  private extraListeners: TcpHandle[] = [];

  constructor(private readonly options: ProxyServerOptions) {
    const clock = options.clock ?? systemClock;
    const timeouts = options.timeouts ?? defaultTimeouts;
    const policy = options.policy ?? defaultPolicy;
    this.domain = options.domain;
    this.log = options.log ?? componentLogger('proxy');
    this.io = options.io ?? defaultProxyIo();
    const table = (): RouteTable => this.table;
    const dialDeps = { clock, metrics: this.metrics, policy, connectTimeoutMs: timeouts.connectTimeoutMs, io: this.io, table };
    this.forwarder = new HttpForwarder({ clock, metrics: this.metrics, timeouts, pool: options.pool ?? defaultPool, policy, io: this.io, table, onUpgrade: createUpgradeHandler(dialDeps) });
    this.tcp = new TcpForwarder({ ...dialDeps, listenHost: options.tcpHost ?? options.host, log: this.log });
    // allowHalfOpen: a client that half-closes after its request still gets the response (as node:http does).
    this.http = createServer({ allowHalfOpen: true, noDelay: true });
    this.metrics.upstreamSockets = () => this.forwarder.pools.sockets();
  }

  /** `divert`: see acceptStreams (a multi-worker proxy passes some connections to other workers). */
  async listen(divert?: (handle: TcpHandle) => boolean): Promise<number> {
    const listening = await new Promise<TcpHandle | null>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen({ port: this.options.port, host: this.options.host, backlog: listenBacklog }, () => {
        this.http.removeListener('error', reject);
        resolve(acceptStreams(this.http, this.io, this.forwarder.accept, divert));
      });
    });
    const wanted = this.options.acceptDescriptors ?? defaultAcceptDescriptors;
    if (listening !== null && wanted > 0) {
      this.extraListeners = await fanOutListener(listening, wanted, listenBacklog);
      if (this.extraListeners.length < wanted) this.log.warn({ wanted, got: this.extraListeners.length }, 'fewer listening descriptors than asked: bursts of new connections are accepted more slowly under load');
    }
    return this.port;
  }

  /** Descriptors accepting connections: the listening socket's own and its extra ones. */
  get listenDescriptors(): number {
    return 1 + this.extraListeners.length;
  }

  /** Serves a client connection another worker accepted and passed on. */
  adopt(handle: TcpHandle): void {
    this.forwarder.accept(adoptHandle(handle, this.io));
  }

  /** Client connections open now. */
  get clientCount(): number {
    return this.forwarder.clients.size;
  }

  /** This process's line in the admin port's /health. */
  workerHealth(): WorkerHealth {
    return { pid: process.pid, revision: this.table.revision, responses: this.metrics.totalResponses(), connections: this.clientCount };
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get routeTable(): RouteTable {
    return this.table;
  }

  /** Rebuilds the table from registry apps and swaps it in. */
  applyRegistry(apps: Iterable<RegistryAppWithEndpoints>, revision: number): RouteTable {
    const seen = new Set<string>();
    const stateOf = (taskId: string): BackendState => {
      seen.add(taskId);
      let s = this.backendStates.get(taskId);
      if (s === undefined) {
        s = newBackendState();
        this.backendStates.set(taskId, s);
      }
      return s;
    };
    const table = computeRouteTable(apps, { domain: this.domain, revision, stateOf });
    for (const taskId of this.backendStates.keys()) if (!seen.has(taskId)) this.backendStates.delete(taskId);
    this.swapTable(table);
    return table;
  }

  swapTable(table: RouteTable): void {
    const before = this.table;
    this.table = table;
    const m = this.metrics;
    m.tableSwaps++;
    m.tableRevision = table.revision;
    let routes = 0;
    const backends = new Set<string>();
    for (const list of table.hosts.values()) {
      routes += list.length;
      for (const r of list) for (const b of r.backends) backends.add(b.taskId);
    }
    m.tableRoutes = routes;
    m.tableBackends = backends.size;
    this.tcp.reconcile();
    this.forwarder.pruneAfterSwap(table);
    this.log.debug({ revision: table.revision, routes, backends: backends.size, tcpPorts: table.tcp.size }, 'routing table swapped');
    if (table.problems.join('\n') !== before.problems.join('\n') && table.problems.length > 0) {
      this.log.warn({ revision: table.revision, problems: table.problems }, 'some apps are not routed as their labels ask');
    }
  }

  /** Stops accepting, closes idle keep-alive connections (the rest after a grace period), the pools and the TCP listeners. */
  async close(): Promise<void> {
    for (const h of this.extraListeners.splice(0)) h.close(noop);
    this.tcp.close();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.forwarder.closeClients(false);
    const grace = setTimeout(() => this.forwarder.closeClients(true), closeGraceMs);
    await closed;
    clearTimeout(grace);
    this.forwarder.close();
  }
}

function noop(): void {}
