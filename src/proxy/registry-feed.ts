/**
 * Follows the registry watch and keeps the proxy's table in step: on every
 * snapshot or delta the table is rebuilt from the client's state and
 * swapped in. Records that arrive together (a snapshot and its catch-up, a
 * deployment's burst) are coalesced into one rebuild on the next microtask,
 * which costs no latency and spares N-1 rebuilds.
 *
 * While the watch is down the client keeps its last state, so the table
 * stays as it was: routing goes on with what was known.
 */
import type { RegistryApp, RegistryEndpoint } from '../registry/types.ts';
import type { RegistryAppWithEndpoints } from './route-table.ts';

/** What the feed reads from the watch client (RegistryWatchClient fits). */
export interface RegistryView {
  readonly revision: number;
  apps(): Iterable<RegistryApp>;
  endpointsOf(appId: string): readonly RegistryEndpoint[];
}

export interface RegistrySource {
  readonly state: RegistryView;
  on(event: 'snapshot' | 'delta', listener: () => void): unknown;
  on(event: 'connected', listener: () => void): unknown;
  on(event: 'disconnected', listener: () => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
}

export interface TableSink {
  applyRegistry(apps: Iterable<RegistryAppWithEndpoints>, revision: number): unknown;
}

export function* appsWithEndpoints(view: RegistryView): Generator<RegistryAppWithEndpoints> {
  for (const app of view.apps()) yield { ...app, endpoints: view.endpointsOf(app.id) };
}

export class RegistryFeed {
  private scheduled = false;
  private stopped = false;

  constructor(private readonly source: RegistrySource, private readonly sink: TableSink, private readonly onConnectedChange?: (connected: boolean) => void) {
    source.on('snapshot', this.schedule);
    source.on('delta', this.schedule);
    source.on('connected', this.onConnected);
    source.on('disconnected', this.onDisconnected);
  }

  /** Rebuilds now (also the first table, from whatever the client holds). */
  rebuild(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.sink.applyRegistry(appsWithEndpoints(this.source.state), this.source.state.revision);
  }

  stop(): void {
    this.stopped = true;
    this.source.removeListener('snapshot', this.schedule);
    this.source.removeListener('delta', this.schedule);
    this.source.removeListener('connected', this.onConnected);
    this.source.removeListener('disconnected', this.onDisconnected);
  }

  private readonly schedule = (): void => {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => this.rebuild());
  };

  private readonly onConnected = (): void => this.onConnectedChange?.(true);
  private readonly onDisconnected = (): void => this.onConnectedChange?.(false);
}
