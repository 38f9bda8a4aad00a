/**
 * Starts the DNS daemon from parsed flags: a registry watch client on the
 * framework replicas (it reconnects and resumes by itself, and keeps its
 * last state while the framework is unreachable) feeding a DnsServer.
 * `close()` stops both.
 */
import { componentLogger } from '../common/log.ts';
import { RegistryWatchClient, type RegistryWatchClientOptions } from '../registry/watch-client.ts';
import { DnsServer, type RegistryFeed } from './dns-server.ts';
import type { DnsFlags } from './flags.ts';

export interface RunningDns {
  readonly server: DnsServer;
  readonly watch: RegistryWatchClient;
  close(): Promise<void>;
}

/** The watch client seen through the narrow interface the server needs. */
export function feedOf(client: RegistryWatchClient): RegistryFeed {
  return {
    get state() { return client.state; },
    get connected() { return client.connected; },
    get lastRecordAt() { return client.lastRecordAt; },
    subscribe(onSnapshot, onDelta) {
      client.on('snapshot', onSnapshot);
      client.on('delta', onDelta);
      return () => {
        client.off('snapshot', onSnapshot);
        client.off('delta', onDelta);
      };
    },
  };
}

/** `watch`: extra watch-client options (tests shorten the heartbeat and backoff). */
export async function startDns(flags: DnsFlags, watchOptions: Partial<RegistryWatchClientOptions> = {}): Promise<RunningDns> {
  const log = componentLogger('dns');
  const watch = new RegistryWatchClient({ log: componentLogger('dns-registry-watch'), ...watchOptions, urls: flags.registry });
  const server = new DnsServer({
    listen: flags.listen,
    domain: flags.domain,
    ttlSec: flags.ttlSec,
    negativeTtlSec: flags.negativeTtlSec,
    upstreams: flags.upstreams,
    upstreamTimeoutMs: flags.upstreamTimeoutMs,
    allowRecursion: flags.allowRecursion,
    admin: flags.admin,
    feed: feedOf(watch),
    log,
  });
  await server.start();
  watch.start();
  if (flags.upstreams.length === 0) log.warn('no upstream resolvers (none given and none in /etc/resolv.conf): names outside the zone get REFUSED');
  return {
    server,
    watch,
    async close() {
      await watch.close();
      await server.close();
    },
  };
}
