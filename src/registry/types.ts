/**
 * The registry watch: the contract between the app framework (which serves
 * it) and its consumers (the DNS server, the HTTP load balancer, anyone).
 *
 * What it carries: every app's *healthy* endpoints plus the app metadata a
 * router or resolver needs (labels, port definitions, per-version traffic
 * weights), and where the leader and the master are.
 *
 * Wire: `GET /v1/registry/watch[?since=<revision>]` on any framework replica
 * answers `200`, `Content-Type: application/recordio`,
 * `Message-Content-Type: application/json`: a long-lived stream of RecordIO
 * records (`<decimal length>\n<JSON bytes>`), one `WatchRecord` each.
 *   - Without `since`, or when `since` is older than the server's delta
 *     window (or newer than what it has applied), the first record is a
 *     `SNAPSHOT` and the consumer replaces everything it had.
 *   - With a `since` the server can serve from its window, the first record
 *     is `RESUMED` (its `revision` = `since`), followed by every delta after
 *     `since`, in order; the consumer keeps its state.
 *   - Then deltas as they are applied, and a `HEARTBEAT` every
 *     `heartbeatIntervalMs` when nothing else was sent, so a consumer can tell
 *     a dead stream (no record for 3 intervals) from a quiet one.
 * `GET /v1/registry` answers the current snapshot as one JSON document
 * (a `SnapshotRecord`), for people and scripts.
 *
 * Revisions are positive integers that only grow within one `clusterId`.
 * Every replica derives the registry from the same committed log, so a
 * revision means the same state on every replica, and a consumer may resume
 * on any of them. A consumer that sees a different `clusterId` in a snapshot
 * drops its state.
 *
 * This file is types only: no I/O, no logic.
 */

/** Path of the watch stream and of the one-shot snapshot. */
export const registryWatchPath = '/v1/registry/watch';
export const registrySnapshotPath = '/v1/registry';

/** A consumer treats a stream with no record for this many heartbeat intervals as dead. */
export const deadStreamHeartbeats = 3;

/**
 * The servers' heartbeat interval unless configured otherwise; a consumer
 * must be told (or assume) the same interval to judge a stream dead.
 */
export const defaultHeartbeatIntervalMs = 5_000;

export type PortProtocol = 'tcp' | 'udp' | 'udp,tcp';

/** An app's port as declared in its `portDefinitions` (Marathon's names). */
export interface RegistryPort {
  /** `portDefinitions[i].name`, if any (SRV records use it: `_<name>._tcp`). */
  readonly name?: string;
  readonly protocol: PortProtocol;
  /** The app's service port (`portDefinitions[i].port`); 0 when none was asked for. */
  readonly servicePort: number;
  /** `portDefinitions[i].labels`, e.g. marathon-lb's `VIP_0`. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Everything about an app except its endpoints. */
export interface RegistryApp {
  /** Marathon app id, absolute: `/shop/web`. */
  readonly id: string;
  /** The app's labels: `CYGNET_VHOST`, `HAPROXY_0_VHOST`, `CYGNET_BALANCE`, … */
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly RegistryPort[];
  /**
   * Share of traffic per app version (ISO timestamp → weight ≥ 0). Absent:
   * every endpoint weighs the same. Present (a canary): a version's share is
   * its weight over the sum of the weights of versions that have at least one
   * endpoint; within a version endpoints share equally. Versions not listed
   * get weight 0 while a listed version has endpoints.
   */
  readonly versionWeights?: Readonly<Record<string, number>>;
}

/** One healthy running instance of an app. */
export interface RegistryEndpoint {
  readonly appId: string;
  /** Mesos task id: unique in the cluster, the key of the endpoint. */
  readonly taskId: string;
  /**
   * Small stable number of the instance within its app (0, 1, 2, …):
   * `<index>.<app>.<domain>` in DNS. Reused only after the instance is gone.
   */
  readonly index: number;
  /** The agent's hostname as it registered. */
  readonly host: string;
  /** The agent's IPv4 address (the hostname when it is an address). */
  readonly ip: string;
  /** Host ports, in the order of the app's `ports`. */
  readonly ports: readonly number[];
  /** The app version this instance runs. */
  readonly version: string;
  /** `Date.parse`-able time the instance became healthy (running, if no health checks). */
  readonly healthySince: string;
}

/** Where the control plane is, for `leader.<domain>` and `master.<domain>`. */
export interface RegistryCluster {
  /** host:port of the framework leader's API, if known. */
  readonly leader?: string;
  /** host:port of the master the leader is subscribed to, if known. */
  readonly master?: string;
}

export interface SnapshotRecord {
  readonly type: 'SNAPSHOT';
  readonly clusterId: string;
  readonly revision: number;
  readonly cluster: RegistryCluster;
  readonly apps: readonly (RegistryApp & { readonly endpoints: readonly RegistryEndpoint[] })[];
}

export interface ResumedRecord {
  readonly type: 'RESUMED';
  readonly clusterId: string;
  readonly revision: number;
}

/** An app appeared or its metadata changed (its endpoints are unchanged). */
export interface AppUpdatedRecord {
  readonly type: 'APP_UPDATED';
  readonly revision: number;
  readonly app: RegistryApp;
}

/** The app and all its endpoints are gone. */
export interface AppRemovedRecord {
  readonly type: 'APP_REMOVED';
  readonly revision: number;
  readonly appId: string;
}

/** An endpoint is healthy (new, or replaces the one with the same taskId). */
export interface EndpointUpRecord {
  readonly type: 'ENDPOINT_UP';
  readonly revision: number;
  readonly endpoint: RegistryEndpoint;
}

/** An endpoint is no longer healthy (unhealthy, killed, lost, finished). */
export interface EndpointDownRecord {
  readonly type: 'ENDPOINT_DOWN';
  readonly revision: number;
  readonly appId: string;
  readonly taskId: string;
}

export interface ClusterUpdatedRecord {
  readonly type: 'CLUSTER_UPDATED';
  readonly revision: number;
  readonly cluster: RegistryCluster;
}

export interface HeartbeatRecord {
  readonly type: 'HEARTBEAT';
  readonly revision: number;
}

export type RegistryDelta =
  | AppUpdatedRecord
  | AppRemovedRecord
  | EndpointUpRecord
  | EndpointDownRecord
  | ClusterUpdatedRecord;

export type WatchRecord = SnapshotRecord | ResumedRecord | RegistryDelta | HeartbeatRecord;
