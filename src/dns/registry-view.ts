/**
 * The DNS server's copy of the registry: apps with their healthy endpoints
 * and the cluster's control-plane addresses, built from watch records
 * (src/registry/types.ts). Pure: records in, state out; no I/O.
 *
 * Invariants: `revision` only grows within one `clusterId`; a SNAPSHOT
 * replaces everything; a delta at or below the current revision is ignored
 * (a resumed stream may repeat one); an ENDPOINT_UP for an app we do not
 * know creates a bare app entry so the endpoint is not lost.
 */
import type { RegistryApp, RegistryCluster, RegistryEndpoint, WatchRecord } from '../registry/types.ts';
import type { ZoneSource } from './zone.ts';

export interface ViewApp {
  readonly app: RegistryApp;
  /** taskId → endpoint. */
  readonly endpoints: Map<string, RegistryEndpoint>;
}

export class RegistryView implements ZoneSource {
  clusterId: string | undefined;
  revision = 0;
  cluster: RegistryCluster = {};
  private readonly byId = new Map<string, ViewApp>();

  *apps(): IterableIterator<RegistryApp> {
    for (const a of this.byId.values()) yield a.app;
  }

  endpointsOf(appId: string): readonly RegistryEndpoint[] {
    return [...(this.byId.get(appId)?.endpoints.values() ?? [])];
  }

  /** Applies one record; says whether the registry's content changed. */
  apply(record: WatchRecord): boolean {
    switch (record.type) {
      case 'SNAPSHOT':
        this.byId.clear();
        this.clusterId = record.clusterId;
        this.revision = record.revision;
        this.cluster = record.cluster;
        for (const a of record.apps) {
          const { endpoints, ...app } = a;
          this.byId.set(a.id, { app, endpoints: new Map(endpoints.map((e) => [e.taskId, e])) });
        }
        return true;
      case 'RESUMED':
        if (this.clusterId !== undefined && record.clusterId !== this.clusterId) {
          this.byId.clear();
          this.cluster = {};
        }
        this.clusterId = record.clusterId;
        this.revision = Math.max(this.revision, record.revision);
        return false;
      case 'HEARTBEAT':
        return false;
      default:
        break;
    }
    if (record.revision <= this.revision) return false;
    this.revision = record.revision;
    switch (record.type) {
      case 'APP_UPDATED': {
        const prev = this.byId.get(record.app.id);
        this.byId.set(record.app.id, { app: record.app, endpoints: prev?.endpoints ?? new Map() });
        return true;
      }
      case 'APP_REMOVED':
        return this.byId.delete(record.appId);
      case 'ENDPOINT_UP': {
        const e = record.endpoint;
        let entry = this.byId.get(e.appId);
        if (entry === undefined) {
          entry = { app: { id: e.appId, labels: {}, ports: [] }, endpoints: new Map() };
          this.byId.set(e.appId, entry);
        }
        entry.endpoints.set(e.taskId, e);
        return true;
      }
      case 'ENDPOINT_DOWN':
        return this.byId.get(record.appId)?.endpoints.delete(record.taskId) ?? false;
      case 'CLUSTER_UPDATED':
        this.cluster = record.cluster;
        return true;
    }
  }
}
