/**
 * A proxy under test, fed the way production feeds it: a real registry
 * watch server (the framework's publisher behind `RegistryWatchServer`, on
 * port 0) and the `cygnet proxy` daemon (`startProxy`, one process) following
 * it over HTTP. Tests publish APP_UPDATED / ENDPOINT_UP / ENDPOINT_DOWN and
 * wait until the proxy's admin port reports that revision.
 */
import { request } from 'undici';
import { defaultEjectBaseMs, defaultEjectMaxMs, defaultMaxAttempts } from '../../src/proxy/failure-policy.ts';
import { defaultTimeouts, type TimeoutOptions } from '../../src/proxy/forwarder.ts';
import { defaultPool } from '../../src/proxy/upstream-pools.ts';
import { startProxy, type ProxyOptions, type RunningProxy } from '../../src/proxy/main.ts';
import { rawTcpAvailable, type ProxyIo } from '../../src/proxy/tcp-stream.ts';
import type { RegistryApp, RegistryEndpoint } from '../../src/registry/types.ts';
import { startReplica, type Replica } from './registry-harness.ts';

export interface ProxyHarness {
  readonly replica: Replica;
  readonly proxy: RunningProxy;
  readonly url: string;
  readonly adminUrl: string;
  /** Publishes the app (APP_UPDATED) and waits until the proxy routes that revision. */
  app(app: RegistryApp): Promise<void>;
  up(endpoint: RegistryEndpoint): Promise<void>;
  down(appId: string, taskId: string): Promise<void>;
  /** Waits until the proxy's table is at `revision` or later. */
  waitRevision(revision: number): Promise<void>;
  close(): Promise<void>;
}

/** Both stream layers when this node has the raw bindings: the engine must behave the same on either. */
export const proxyIos: readonly ProxyIo[] = rawTcpAvailable ? ['raw', 'net'] : ['net'];

export function endpointOf(appId: string, n: number, port: number, version = '2026-01-01T00:00:00.000Z'): RegistryEndpoint {
  return { appId, taskId: `${appId.slice(1).replace(/\//g, '_')}.task-${n}`, index: n, host: 'localhost', ip: '127.0.0.1', ports: [port], version, healthySince: '2026-01-01T00:00:00.000Z' };
}

export function appOf(id: string, labels: Record<string, string> = {}, versionWeights?: Record<string, number>): RegistryApp {
  return { id, labels, ports: [{ protocol: 'tcp', servicePort: 0, labels: {} }], ...(versionWeights === undefined ? {} : { versionWeights }) };
}

export async function startProxyHarness(opts: { timeouts?: Partial<TimeoutOptions>; replica?: Replica; io?: ProxyIo } = {}): Promise<ProxyHarness> {
  const replica = opts.replica ?? await startReplica({ heartbeatIntervalMs: 200 });
  const options: ProxyOptions = {
    listen: { host: '127.0.0.1', port: 0 },
    adminListen: { host: '127.0.0.1', port: 0 },
    domain: 'cygnet',
    registryUrls: [replica.url],
    workers: 1,
    timeouts: { ...defaultTimeouts, ...opts.timeouts },
    pool: defaultPool,
    policy: { maxAttempts: defaultMaxAttempts, ejectBaseMs: defaultEjectBaseMs, ejectMaxMs: defaultEjectMaxMs },
    ...(opts.io === undefined ? {} : { io: opts.io }),
  };
  const proxy = await startProxy(options);
  const adminUrl = `http://127.0.0.1:${proxy.adminPort}`;
  const waitRevision = async (revision: number): Promise<void> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await request(`${adminUrl}/health`);
      const health = await res.body.json() as { revision: number };
      if (health.revision >= revision) return;
      if (Date.now() > deadline) throw new Error(`proxy stuck at revision ${health.revision}, waiting for ${revision}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const publish = async (change: Parameters<Replica['publisher']['publish']>[0]): Promise<void> => {
    await waitRevision(replica.publisher.publish(change).revision);
  };
  return {
    replica,
    proxy,
    url: `http://127.0.0.1:${proxy.port}`,
    adminUrl,
    app: (app) => publish({ type: 'APP_UPDATED', app }),
    up: (endpoint) => publish({ type: 'ENDPOINT_UP', endpoint }),
    down: (appId, taskId) => publish({ type: 'ENDPOINT_DOWN', appId, taskId }),
    waitRevision,
    async close() {
      await proxy.close();
      await replica.stop();
    },
  };
}
