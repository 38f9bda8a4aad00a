/**
 * Entry point of one proxy worker (forked by main.ts's primary): a
 * ProxyServer on the shared listen port, fed tables by the primary over IPC.
 * It exits when the primary goes away, so no orphan keeps the port.
 */
import { describeError } from '../common/errors.ts';
import { componentLogger } from '../common/log.ts';
import type { ProxyOptions } from './main.ts';
import { ProxyServer } from './proxy-server.ts';
import { describeRouteTable } from './route-table.ts';
import type { PrimaryMessage, WorkerMessage } from './worker-messages.ts';

const send = (msg: WorkerMessage): void => { process.send?.(msg); };

async function runWorker(): Promise<void> {
  const options = JSON.parse(process.env.CYGNET_PROXY_WORKER_OPTIONS ?? '{}') as ProxyOptions;
  const log = componentLogger('proxy', { worker: process.pid });
  const proxy = new ProxyServer({ host: options.listen.host, port: options.listen.port, domain: options.domain, timeouts: options.timeouts, pool: options.pool, policy: options.policy, io: options.io, log });
  process.on('message', (msg: PrimaryMessage) => {
    if (msg.t === 'table') proxy.applyRegistry(msg.apps, msg.revision);
    else if (msg.t === 'ask') send({ t: 'reply', id: msg.id, sample: proxy.metrics.sample(), routes: describeRouteTable(proxy.routeTable), routeCount: proxy.metrics.tableRoutes, health: { pid: process.pid, revision: proxy.routeTable.revision, responses: proxy.metrics.totalResponses() } });
  });
  process.on('disconnect', () => { void proxy.close().finally(() => process.exit(0)); });
  process.on('SIGTERM', () => { void proxy.close().finally(() => process.exit(0)); });
  try {
    send({ t: 'listening', port: await proxy.listen() });
  } catch (err) {
    send({ t: 'failed', error: describeError(err) });
    process.exit(1);
  }
}

void runWorker();
