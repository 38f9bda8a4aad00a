/**
 * Messages between a multi-worker proxy's primary and its workers (node
 * IPC, JSON). One union each way; the primary owns the watch, workers
 * forward and answer questions about their figures.
 */
import type { WorkerLoad } from './accept-balancer.ts';
import type { WorkerHealth } from './admin-server.ts';
import type { MetricsSample } from './metrics.ts';
import type { RegistryAppWithEndpoints } from './route-table.ts';

export type PrimaryMessage =
  /** The apps to route now: the worker rebuilds its table from them. */
  | { readonly t: 'table'; readonly revision: number; readonly apps: readonly RegistryAppWithEndpoints[] }
  /** Send your metrics and routing table (answered by `reply` with the same id). */
  | { readonly t: 'ask'; readonly id: number }
  /** Every live worker's last report, by slot (accept-balancer.ts). */
  | { readonly t: 'loads'; readonly workers: Readonly<Record<string, WorkerLoad>> }
  /** Serve the client connection that comes with this message (passed on by the worker in slot `from`). */
  | { readonly t: 'adopt'; readonly from: number };

export type WorkerMessage =
  | { readonly t: 'listening'; readonly port: number }
  | { readonly t: 'failed'; readonly error: string }
  | { readonly t: 'reply'; readonly id: number; readonly sample: MetricsSample; readonly routes: unknown; readonly routeCount: number; readonly health: WorkerHealth }
  /** How many client connections this worker holds now, and has adopted from each slot. */
  | { readonly t: 'load'; readonly load: WorkerLoad }
  /** Pass the connection that comes with this message to the worker in slot `to`. */
  | { readonly t: 'handoff'; readonly to: number };
