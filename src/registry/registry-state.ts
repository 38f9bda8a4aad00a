/**
 * The registry as one consumer (or the publisher) currently knows it:
 * cluster info, apps, their healthy endpoints (by app and by task id), the
 * cluster id and the revision of the last delta applied. Shared by the
 * publisher (server side) and the watch client.
 *
 * Rules of `apply(delta)` (the contract's, made strict):
 *   - the delta's revision must be greater than the current one (gaps are
 *     allowed: the contract promises growth, not density);
 *   - ENDPOINT_UP for an app the registry does not know is REJECTED: an
 *     endpoint without its app's ports and labels cannot be routed or named,
 *     so the producer must send APP_UPDATED first. Creating a placeholder app
 *     would hide that producer bug and show consumers an app with no ports;
 *   - ENDPOINT_UP for a known task id replaces that endpoint; a task id that
 *     already belongs to another app is rejected (task ids are cluster-unique);
 *   - ENDPOINT_DOWN / APP_REMOVED of something unknown are accepted no-ops
 *     (idempotent: "it is gone" is already true), but ENDPOINT_DOWN naming the
 *     wrong app for a known task is rejected;
 *   - APP_UPDATED keeps the app's endpoints; APP_REMOVED drops them with it.
 * A rejected delta leaves the state untouched (all checks run before any
 * change) and throws RegistryDeltaRejectedError.
 *
 * `apply` trusts the *shape* of its input (record-validation.ts checks that
 * at the boundaries); it checks only what needs the current state.
 * `loadSnapshot` replaces everything, whatever the revisions: a snapshot is
 * the server saying "this is the truth now".
 *
 * Pure: no I/O, no time.
 */
import { ValidationError } from '../common/errors.ts';
import type { RegistryApp, RegistryCluster, RegistryDelta, RegistryEndpoint, SnapshotRecord } from './types.ts';

/** Why a delta was refused, as a stable value callers can switch on. */
export type DeltaRejection = 'stale-revision' | 'unknown-app' | 'task-of-other-app';

export class RegistryDeltaRejectedError extends ValidationError {
  readonly rejection: DeltaRejection;
  constructor(rejection: DeltaRejection, path: string, expected: string, got: string) {
    super(path, expected, got);
    this.rejection = rejection;
  }
}

/** What consumers may read; the client exposes only this. */
export interface ReadonlyRegistryState {
  /** '' until the first snapshot is loaded. */
  readonly clusterId: string;
  /** Revision of the last delta or snapshot applied; 0 when nothing was. */
  readonly revision: number;
  readonly cluster: RegistryCluster;
  readonly appCount: number;
  readonly endpointCount: number;
  app(appId: string): RegistryApp | undefined;
  apps(): IterableIterator<RegistryApp>;
  /** Healthy endpoints of an app, in the order they came up (empty for an unknown app). */
  endpointsOf(appId: string): readonly RegistryEndpoint[];
  endpoint(taskId: string): RegistryEndpoint | undefined;
  snapshot(): SnapshotRecord;
  describe(): string;
}

export class RegistryState implements ReadonlyRegistryState {
  private currentClusterId: string;
  private currentRevision: number;
  private currentCluster: RegistryCluster = {};
  private readonly appsById = new Map<string, RegistryApp>();
  /** appId → taskId → endpoint; an entry exists for every known app (maybe empty). */
  private readonly endpointsByApp = new Map<string, Map<string, RegistryEndpoint>>();
  private readonly endpointsByTask = new Map<string, RegistryEndpoint>();

  constructor(clusterId = '', revision = 0) {
    this.currentClusterId = clusterId;
    this.currentRevision = revision;
  }

  /** A state holding exactly what `record` says. */
  static fromSnapshot(record: SnapshotRecord): RegistryState {
    const state = new RegistryState();
    state.loadSnapshot(record);
    return state;
  }

  get clusterId(): string {
    return this.currentClusterId;
  }

  get revision(): number {
    return this.currentRevision;
  }

  get cluster(): RegistryCluster {
    return this.currentCluster;
  }

  get appCount(): number {
    return this.appsById.size;
  }

  get endpointCount(): number {
    return this.endpointsByTask.size;
  }

  app(appId: string): RegistryApp | undefined {
    return this.appsById.get(appId);
  }

  apps(): IterableIterator<RegistryApp> {
    return this.appsById.values();
  }

  endpointsOf(appId: string): readonly RegistryEndpoint[] {
    const byTask = this.endpointsByApp.get(appId);
    return byTask === undefined ? [] : [...byTask.values()];
  }

  endpoint(taskId: string): RegistryEndpoint | undefined {
    return this.endpointsByTask.get(taskId);
  }

  /** Checks and applies one delta; throws RegistryDeltaRejectedError (state unchanged) if it cannot apply. */
  apply(delta: RegistryDelta): void {
    if (delta.revision <= this.currentRevision) {
      throw new RegistryDeltaRejectedError('stale-revision', 'revision', `a revision > ${this.currentRevision}`, String(delta.revision));
    }
    switch (delta.type) {
      case 'APP_UPDATED': {
        this.appsById.set(delta.app.id, delta.app);
        if (!this.endpointsByApp.has(delta.app.id)) this.endpointsByApp.set(delta.app.id, new Map());
        break;
      }
      case 'APP_REMOVED': {
        const byTask = this.endpointsByApp.get(delta.appId);
        for (const taskId of byTask?.keys() ?? []) this.endpointsByTask.delete(taskId);
        this.endpointsByApp.delete(delta.appId);
        this.appsById.delete(delta.appId);
        break;
      }
      case 'ENDPOINT_UP': {
        const ep = delta.endpoint;
        const byTask = this.endpointsByApp.get(ep.appId);
        if (byTask === undefined) {
          throw new RegistryDeltaRejectedError('unknown-app', 'endpoint.appId', 'an app announced by APP_UPDATED', JSON.stringify(ep.appId));
        }
        const existing = this.endpointsByTask.get(ep.taskId);
        if (existing !== undefined && existing.appId !== ep.appId) {
          throw new RegistryDeltaRejectedError('task-of-other-app', 'endpoint.taskId', `a task id not used by another app`, `${JSON.stringify(ep.taskId)} of ${existing.appId}`);
        }
        byTask.set(ep.taskId, ep);
        this.endpointsByTask.set(ep.taskId, ep);
        break;
      }
      case 'ENDPOINT_DOWN': {
        const existing = this.endpointsByTask.get(delta.taskId);
        if (existing !== undefined && existing.appId !== delta.appId) {
          throw new RegistryDeltaRejectedError('task-of-other-app', 'appId', JSON.stringify(existing.appId), JSON.stringify(delta.appId));
        }
        this.endpointsByApp.get(delta.appId)?.delete(delta.taskId);
        this.endpointsByTask.delete(delta.taskId);
        break;
      }
      case 'CLUSTER_UPDATED':
        this.currentCluster = delta.cluster;
        break;
      default:
        return assertNever(delta);
    }
    this.currentRevision = delta.revision;
  }

  /** The whole state as one record (fresh arrays; the app and endpoint objects are shared, treat them as immutable). */
  snapshot(): SnapshotRecord {
    const apps = [...this.appsById.values()].map((app) => ({ ...app, endpoints: [...(this.endpointsByApp.get(app.id)?.values() ?? [])] }));
    return { type: 'SNAPSHOT', clusterId: this.currentClusterId, revision: this.currentRevision, cluster: this.currentCluster, apps };
  }

  /** Replaces everything with `record` (already validated: see parseSnapshot). */
  loadSnapshot(record: SnapshotRecord): void {
    this.appsById.clear();
    this.endpointsByApp.clear();
    this.endpointsByTask.clear();
    for (const { endpoints, ...app } of record.apps) {
      this.appsById.set(app.id, app);
      const byTask = new Map<string, RegistryEndpoint>();
      for (const ep of endpoints) {
        byTask.set(ep.taskId, ep);
        this.endpointsByTask.set(ep.taskId, ep);
      }
      this.endpointsByApp.set(app.id, byTask);
    }
    this.currentCluster = record.cluster;
    this.currentClusterId = record.clusterId;
    this.currentRevision = record.revision;
  }

  describe(): string {
    return `registry cluster=${this.currentClusterId || '-'} rev=${this.currentRevision} apps=${this.appsById.size} endpoints=${this.endpointsByTask.size}`;
  }
}

/** One stable line per delta, for logs and test expectations. */
export function describeDelta(delta: RegistryDelta): string {
  switch (delta.type) {
    case 'APP_UPDATED':
      return `#${delta.revision} APP_UPDATED ${delta.app.id}`;
    case 'APP_REMOVED':
      return `#${delta.revision} APP_REMOVED ${delta.appId}`;
    case 'ENDPOINT_UP':
      return `#${delta.revision} ENDPOINT_UP ${delta.endpoint.appId} ${delta.endpoint.taskId} ${delta.endpoint.ip}:${delta.endpoint.ports.join(',')}`;
    case 'ENDPOINT_DOWN':
      return `#${delta.revision} ENDPOINT_DOWN ${delta.appId} ${delta.taskId}`;
    case 'CLUSTER_UPDATED':
      return `#${delta.revision} CLUSTER_UPDATED leader=${delta.cluster.leader ?? '-'} master=${delta.cluster.master ?? '-'}`;
    default:
      return assertNever(delta);
  }
}

function assertNever(x: never): never {
  throw new Error(`impossible registry delta ${JSON.stringify(x)}`);
}
