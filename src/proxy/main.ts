/**
 * `cygnet proxy` as a daemon: the registry watch client feeding the routing
 * table, the data plane (one process, or `workers` processes sharing the
 * listen port through node:cluster), and the admin port.
 *
 * With one worker everything runs in this process. With more, this process
 * is the primary: it alone follows the watch and serves the admin port, and
 * pushes each new set of apps to every worker over IPC (a worker that
 * (re)starts gets the latest at once); the workers only forward. Workers
 * accept on the shared socket themselves (SCHED_NONE: the kernel spreads
 * connections, the primary never touches a request). A worker that dies is
 * replaced after `workerRestartDelayMs`.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import { componentLogger, type Logger } from '../common/log.ts';
import type { WorkerLoad } from './accept-balancer.ts';
import { RegistryWatchClient } from '../registry/watch-client.ts';
import { startAdminServer, type AdminSource, type HealthInfo, type WorkerHealth } from './admin-server.ts';
import type { FailurePolicy } from './failure-policy.ts';
import type { TimeoutOptions } from './forwarder.ts';
import type { ProxyIo } from './tcp-stream.ts';
import type { PoolOptions } from './upstream-pools.ts';
import { mergeSamples, type MetricsSample } from './metrics.ts';
import { ProxyServer } from './proxy-server.ts';
import { isTcpHandle } from './raw-tcp.ts';
import { RegistryFeed } from './registry-feed.ts';
import { describeRouteTable, type RegistryAppWithEndpoints } from './route-table.ts';
import type { PrimaryMessage, WorkerMessage } from './worker-messages.ts';

export interface ProxyOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly adminListen: { readonly host: string; readonly port: number };
  readonly domain: string;
  readonly registryUrls: readonly string[];
  readonly workers: number;
  /** Raw libuv handles or net sockets (default: raw where node has them). */
  readonly io?: ProxyIo;
  readonly timeouts: TimeoutOptions;
  readonly pool: PoolOptions;
  readonly policy: FailurePolicy;
}

export interface RunningProxy {
  readonly port: number;
  readonly adminPort: number;
  close(): Promise<void>;
}

/** Pause before replacing a dead worker: a crash loop costs a log line a second, not a fork storm. */
export const workerRestartDelayMs = 1_000;

/** How long the admin port waits for a worker's figures before answering without them. */
export const workerReplyTimeoutMs = 1_000;

/** Environment variable carrying ProxyOptions (JSON) to a worker. */
export const workerOptionsEnv = 'CYGNET_PROXY_WORKER_OPTIONS';

/** Environment variable naming a worker's slot (0…workers-1), how the primary and the other workers refer to it. */
export const workerSlotEnv = 'CYGNET_PROXY_WORKER_SLOT';

const noop = (): void => {};

export async function startProxy(options: ProxyOptions, log: Logger = componentLogger('proxy')): Promise<RunningProxy> {
  return options.workers <= 1 ? startSingle(options, log) : startPrimary(options, log);
}

async function startSingle(options: ProxyOptions, log: Logger): Promise<RunningProxy> {
  const proxy = new ProxyServer({ host: options.listen.host, port: options.listen.port, domain: options.domain, timeouts: options.timeouts, pool: options.pool, policy: options.policy, io: options.io, log });
  const port = await proxy.listen();
  const watch = new RegistryWatchClient({ urls: options.registryUrls, log: log.child({ part: 'watch' }) });
  const feed = new RegistryFeed(watch, proxy, (up) => { proxy.metrics.watchConnected = up ? 1 : 0; });
  feed.rebuild();
  watch.start();
  const source: AdminSource = {
    health: async () => health(watch.connected, proxy.metrics.tableRoutes, [proxy.workerHealth()]),
    metrics: async () => proxy.metrics.sample(),
    routes: async () => describeRouteTable(proxy.routeTable),
  };
  const admin = await startAdminServer(source, options.adminListen.host, options.adminListen.port, log);
  log.info({ port, adminPort: admin.port, registry: options.registryUrls }, 'proxy listening');
  return {
    port,
    adminPort: admin.port,
    async close() {
      feed.stop();
      await watch.close();
      await closeServer(admin.server);
      await proxy.close();
    },
  };
}

function health(watchConnected: boolean, routes: number, workers: readonly WorkerHealth[]): HealthInfo {
  const revision = workers.length === 0 ? 0 : Math.min(...workers.map((w) => w.revision));
  return { status: 'ok', revision, watchConnected, routes, workers };
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/** The primary of a multi-worker proxy. */
async function startPrimary(options: ProxyOptions, log: Logger): Promise<RunningProxy> {
  const workers = new Map<number, Worker>();
  const pending = new Map<number, (msg: WorkerMessage) => void>();
  let latest: PrimaryMessage | undefined;
  let nextRequestId = 1;
  let closing = false;

  /** Each worker slot's last report (accept-balancer.ts). */
  const loads = new Map<number, WorkerLoad>();
  const broadcastLoads = (): void => {
    const msg: PrimaryMessage = { t: 'loads', workers: Object.fromEntries(loads) };
    for (const w of workers.values()) if (w.isConnected()) w.send(msg);
  };
  /** Relays a connection one worker passed on to the worker it named (another live one if that one is gone). */
  const passOn = (from: number, to: number, handle: unknown): void => {
    if (!isTcpHandle(handle)) return;
    const live = (w: Worker | undefined): w is Worker => w !== undefined && w.isConnected();
    const named = workers.get(to);
    const dest = live(named) ? named : [...workers.values()].find((w) => live(w) && w !== workers.get(from)) ?? workers.get(from);
    if (!live(dest)) {
      handle.close(noop);
      return;
    }
    dest.send({ t: 'adopt', from } satisfies PrimaryMessage, handle as never, undefined, () => handle.close(noop));
  };

  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ exec: new URL(`./worker-main${extensionOf(import.meta.url)}`, import.meta.url).pathname, execArgv: workerExecArgv(), args: [], silent: false });
  const fork = (slot: number): Promise<number> => new Promise((resolve, reject) => {
    const worker = cluster.fork({ [workerOptionsEnv]: JSON.stringify(options), [workerSlotEnv]: String(slot) });
    workers.set(slot, worker);
    worker.on('message', (msg: WorkerMessage, handle: unknown) => {
      if (msg.t === 'listening') {
        if (latest !== undefined) worker.send(latest);
        loads.set(slot, { connections: 0, adoptedFrom: {} });
        broadcastLoads();
        resolve(msg.port);
      } else if (msg.t === 'reply') pending.get(msg.id)?.(msg);
      else if (msg.t === 'load') {
        loads.set(slot, msg.load);
        broadcastLoads();
      } else if (msg.t === 'handoff') passOn(slot, msg.to, handle);
      else if (msg.t === 'failed') reject(new Error(msg.error));
    });
    // A send to a worker whose channel just broke (it is exiting) fails with EPIPE: its exit handles the rest.
    worker.on('error', (err: Error) => log.debug({ slot, err: err.message }, 'proxy worker channel error'));
    worker.on('exit', (code, signal) => {
      if (workers.get(slot) === worker) {
        workers.delete(slot);
        loads.delete(slot);
        if (!closing) broadcastLoads();
      }
      if (closing) return;
      log.error({ slot, code, signal }, 'proxy worker exited; replacing it');
      setTimeout(() => { if (!closing) fork(slot).catch((err: unknown) => log.error({ err: String(err) }, 'proxy worker failed to start')); }, workerRestartDelayMs).unref();
    });
  });

  const port = await fork(0);
  await Promise.all(Array.from({ length: options.workers - 1 }, (_, i) => fork(i + 1)));

  const sink = {
    applyRegistry(apps: Iterable<RegistryAppWithEndpoints>, revision: number) {
      latest = { t: 'table', revision, apps: [...apps] };
      for (const w of workers.values()) if (w.isConnected()) w.send(latest);
    },
  };
  const watch = new RegistryWatchClient({ urls: options.registryUrls, log: log.child({ part: 'watch' }) });
  const feed = new RegistryFeed(watch, sink);
  watch.start();

  const ask = (): Promise<Extract<WorkerMessage, { t: 'reply' }>[]> => Promise.all([...workers.values()].map((w) => new Promise<Extract<WorkerMessage, { t: 'reply' }> | undefined>((resolve) => {
    const id = nextRequestId++;
    const timer = setTimeout(() => { pending.delete(id); resolve(undefined); }, workerReplyTimeoutMs);
    pending.set(id, (msg) => {
      clearTimeout(timer);
      pending.delete(id);
      resolve(msg.t === 'reply' ? msg : undefined);
    });
    w.send({ t: 'ask', id } satisfies PrimaryMessage);
  }))).then((replies) => replies.filter((r): r is Extract<WorkerMessage, { t: 'reply' }> => r !== undefined));

  const source: AdminSource = {
    health: async () => {
      const replies = await ask();
      return health(watch.connected, replies[0]?.routeCount ?? 0, replies.map((r) => r.health));
    },
    metrics: async () => {
      const merged: MetricsSample = mergeSamples((await ask()).map((r) => r.sample));
      merged.cygnet_proxy_watch_connected_max = watch.connected ? 1 : 0;
      merged.cygnet_proxy_workers_max = workers.size;
      return merged;
    },
    routes: async () => (await ask())[0]?.routes ?? { revision: 0, http: [], tcp: [], problems: [] },
  };
  const admin = await startAdminServer(source, options.adminListen.host, options.adminListen.port, log);
  log.info({ port, adminPort: admin.port, workers: options.workers, registry: options.registryUrls }, 'proxy listening');
  return {
    port,
    adminPort: admin.port,
    async close() {
      closing = true;
      feed.stop();
      await watch.close();
      await closeServer(admin.server);
      await Promise.all([...workers.values()].map((w) => new Promise<void>((resolve) => {
        if (w.isDead()) return resolve();
        w.once('exit', () => resolve());
        w.kill('SIGTERM');
      })));
    },
  };
}

/**
 * Node flags for a worker. From the TypeScript sources the worker needs tsx as
 * well: `node --import tsx` passes it on by itself, but bin/cygnet.js loads tsx
 * through its API, which a forked process does not inherit.
 */
function workerExecArgv(): string[] {
  if (extensionOf(import.meta.url) !== '.ts' || process.execArgv.some((a) => a.includes('tsx'))) return process.execArgv;
  return [...process.execArgv, '--import', import.meta.resolve('tsx')];
}

function extensionOf(url: string): string {
  return url.endsWith('.ts') ? '.ts' : '.js';
}
