/**
 * Entry point of one proxy worker (forked by main.ts's primary): a
 * ProxyServer on the shared listen port, fed tables by the primary over IPC.
 * It exits when the primary goes away, so no orphan keeps the port.
 */
import { describeError } from '../common/errors.ts';
import { componentLogger } from '../common/log.ts';
import { AcceptBalancer } from './accept-balancer.ts';
import { LoadReporter } from './load-reporter.ts';
import { workerSlotEnv, type ProxyOptions } from './main.ts';
import { isTcpHandle, type TcpHandle } from './raw-tcp.ts';
import { ProxyServer } from './proxy-server.ts';
import { describeRouteTable } from './route-table.ts';
import type { PrimaryMessage, WorkerMessage } from './worker-messages.ts';

const send = (msg: WorkerMessage): void => { process.send?.(msg); };
const noop = (): void => {};

/** See `divert` in runWorker. */
const maxPassesOnTheWay = 32;

async function runWorker(): Promise<void> {
  const options = JSON.parse(process.env.CYGNET_PROXY_WORKER_OPTIONS ?? '{}') as ProxyOptions;
  const log = componentLogger('proxy', { worker: process.pid });
  const proxy = new ProxyServer({ host: options.listen.host, port: options.listen.port, domain: options.domain, timeouts: options.timeouts, pool: options.pool, policy: options.policy, io: options.io, log });
  const balancer = new AcceptBalancer(Number(process.env[workerSlotEnv] ?? '0'));
  const adoptedFrom: Record<string, number> = {};
  const reporter = new LoadReporter(() => ({ connections: proxy.clientCount, adoptedFrom: { ...adoptedFrom } }), (load) => send({ t: 'load', load }));
  proxy.forwarder.onClientClosed = (lifetimeMs) => {
    balancer.noteClosed(lifetimeMs, proxy.forwarder.now);
    reporter.changed();
  };
  process.on('message', (msg: PrimaryMessage, handle: unknown) => {
    if (msg.t === 'table') proxy.applyRegistry(msg.apps, msg.revision);
    else if (msg.t === 'loads') balancer.update(msg.workers);
    else if (msg.t === 'adopt') {
      if (!isTcpHandle(handle)) return;
      adoptedFrom[msg.from] = (adoptedFrom[msg.from] ?? 0) + 1;
      proxy.metrics.connectionsAdopted++;
      proxy.adopt(handle);
      reporter.changed();
    }
    else if (msg.t === 'ask') send({ t: 'reply', id: msg.id, sample: proxy.metrics.sample(), routes: describeRouteTable(proxy.routeTable), routeCount: proxy.metrics.tableRoutes, health: proxy.workerHealth() });
  });
  const stop = (): void => {
    reporter.stop();
    void proxy.close().finally(() => process.exit(0));
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  // Passes on the way are bounded. Node sends the next descriptor only once the last was acknowledged, and
  // a busy process reads its IPC pipe once per pass of its event loop: in a burst of new connections under
  // load, hundreds of passes queued behind each other and their requests waited seconds (wrk -c1000, p99
  // 1-2 s at 2 workers). A connection accepted while the bound is reached stays here.
  let onTheWay = 0;
  // Runs before a byte is read: the connection goes whole, kernel buffers and all.
  const divert = (handle: TcpHandle): boolean => {
    reporter.changed();
    if (onTheWay >= maxPassesOnTheWay) return false;
    const to = balancer.placeNew(proxy.clientCount, proxy.forwarder.now);
    if (to === undefined || process.send === undefined) return false;
    proxy.metrics.connectionsPassed++;
    onTheWay++;
    // Node keeps a passed raw handle open in the sender: ours closes once the message (with its descriptor) is out.
    process.send({ t: 'handoff', to } satisfies WorkerMessage, handle as never, undefined, () => {
      onTheWay--;
      handle.close(noop);
    });
    return true;
  };
  try {
    send({ t: 'listening', port: await proxy.listen(divert) });
  } catch (err) {
    send({ t: 'failed', error: describeError(err) });
    process.exit(1);
  }
}

void runWorker();
