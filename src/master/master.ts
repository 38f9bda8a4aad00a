/**
 * startMaster(options): a running master — MasterCore + DRF allocator +
 * MasterNode (streams, timers) + the express app on an HTTP server.
 * Options are validated once here (ConfigError with the option name).
 *
 *   const m = await startMaster({ port: 0, ip: '127.0.0.1' });
 *   // m.url === 'http://127.0.0.1:<port>' ; await m.close();
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../common/clock.ts';
import { ConfigError } from '../common/errors.ts';
import { componentLogger, type Logger } from '../common/log.ts';
import { systemRandom, type Random } from '../common/random.ts';
import { AllocatorAdapter } from './allocator-adapter.ts';
import { MasterCore } from './master-core.ts';
import { MasterNode } from './master-node.ts';
import { createMasterApp } from './server.ts';
import { keepIdleConnections } from '../common/keep-alive.ts';
import { MESOS_API_VERSION } from '../common/version.ts';

export interface MasterOptions {
  /** 0 = ephemeral. Mesos' default is 5050. */
  port: number;
  ip: string;
  hostname?: string;
  /** Scheduler HEARTBEAT interval (Mesos: 15 s). */
  heartbeatIntervalSec?: number;
  /** Interval agents are told to heartbeat at (default 5 s). */
  agentHeartbeatIntervalSec?: number;
  /** Silence after which an agent is unreachable (default 15000). */
  agentPingTimeoutMs?: number;
  /** Periodic allocation (default 1000); changes also trigger one at once. */
  allocationIntervalMs?: number;
  /** Rescind offers older than this; off by default (Mesos). */
  offerTimeoutMs?: number;
  /** Refusal for declined/unused resources without filters (Mesos: 5). */
  defaultRefuseSeconds?: number;
  /** After start, reconciliation stays silent about unknown tasks this long (default agentPingTimeoutMs). */
  agentReregisterTimeoutMs?: number;
  roleWeights?: Record<string, number>;
  /** Mesos' min_allocatable_resources (default cpus 0.01 or mem 32). */
  minOffer?: { cpus: number; memMb: number };
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

export interface MasterHandle {
  readonly port: number;
  readonly url: string;
  readonly masterId: string;
  readonly node: MasterNode;
  close(): Promise<void>;
}

interface ResolvedOptions {
  port: number;
  ip: string;
  hostname: string;
  heartbeatIntervalSec: number;
  agentHeartbeatIntervalSec: number;
  agentPingTimeoutMs: number;
  allocationIntervalMs: number;
  offerTimeoutMs: number | undefined;
  defaultRefuseSeconds: number;
  agentReregisterTimeoutMs: number;
}

export function resolveMasterOptions(o: MasterOptions): ResolvedOptions {
  const num = (name: string, v: number | undefined, dflt: number, min: number, integer = false): number => {
    const x = v ?? dflt;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || (integer && !Number.isInteger(x))) {
      throw new ConfigError(`${name}: expected ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(v)}`);
    }
    return x;
  };
  const port = num('port', o.port, 5050, 0, true);
  if (port > 65535) throw new ConfigError(`port: expected 0..65535, got ${port}`);
  if (typeof o.ip !== 'string' || o.ip === '') throw new ConfigError(`ip: expected an address, got ${String(o.ip)}`);
  const agentHeartbeatIntervalSec = num('agentHeartbeatIntervalSec', o.agentHeartbeatIntervalSec, 5, 0.001);
  const agentPingTimeoutMs = num('agentPingTimeoutMs', o.agentPingTimeoutMs, 15_000, 1);
  // Agents heartbeat at the interval the master gives them in SUBSCRIBED; a
  // timeout no longer than that interval declares an idle, healthy agent lost.
  if (agentPingTimeoutMs <= agentHeartbeatIntervalSec * 1000) {
    throw new ConfigError(`agentPingTimeoutMs: expected more than the agent heartbeat interval (${agentHeartbeatIntervalSec * 1000} ms), got ${agentPingTimeoutMs}`);
  }
  return {
    port,
    ip: o.ip,
    hostname: o.hostname ?? o.ip,
    heartbeatIntervalSec: num('heartbeatIntervalSec', o.heartbeatIntervalSec, 15, 0.001),
    agentHeartbeatIntervalSec,
    agentPingTimeoutMs,
    allocationIntervalMs: num('allocationIntervalMs', o.allocationIntervalMs, 1000, 1),
    offerTimeoutMs: o.offerTimeoutMs === undefined || o.offerTimeoutMs === 0 ? undefined : num('offerTimeoutMs', o.offerTimeoutMs, 0, 1),
    defaultRefuseSeconds: num('defaultRefuseSeconds', o.defaultRefuseSeconds, 5, 0),
    agentReregisterTimeoutMs: num('agentReregisterTimeoutMs', o.agentReregisterTimeoutMs, o.agentPingTimeoutMs ?? 15_000, 0),
  };
}

function ipToUint32(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return 0;
  // Mesos packs the address in network byte order into a uint32 read as little-endian.
  return ((parts[3] << 24) | (parts[2] << 16) | (parts[1] << 8) | parts[0]) >>> 0;
}

export async function startMaster(options: MasterOptions): Promise<MasterHandle> {
  const o = resolveMasterOptions(options);
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? componentLogger('master');
  const server: Server = createServer();
  keepIdleConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.ip, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const allocator = new AllocatorAdapter({ roleWeights: options.roleWeights, minOffer: options.minOffer, random: options.random });
  const core = new MasterCore({
    config: {
      masterInfo: { ip: ipToUint32(o.ip), port, pid: `master@${o.ip}:${port}`, hostname: o.hostname, version: MESOS_API_VERSION, address: { hostname: o.hostname, ip: o.ip, port } },
      heartbeatIntervalSec: o.heartbeatIntervalSec,
      agentHeartbeatIntervalSec: o.agentHeartbeatIntervalSec,
      agentPingTimeoutMs: o.agentPingTimeoutMs,
      offerTimeoutMs: o.offerTimeoutMs,
      defaultRefuseSeconds: o.defaultRefuseSeconds,
      reregistrationWindowMs: o.agentReregisterTimeoutMs,
    },
    allocator,
    nowMs: clock.nowMs(),
    random: options.random ?? systemRandom,
    log,
  });
  const node = new MasterNode({
    core,
    clock,
    allocationIntervalMs: o.allocationIntervalMs,
    tickIntervalMs: Math.max(10, Math.min(1000, Math.floor(o.agentPingTimeoutMs / 5))),
    log,
  });
  server.on('request', createMasterApp(node, log, options.roleWeights));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  node.start();
  log.info({ masterId: core.masterId, url: `http://${o.ip}:${port}` }, 'master started');
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${o.ip}:${port}`,
    masterId: core.masterId,
    node,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        node.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
