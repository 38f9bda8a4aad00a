/**
 * The framework's replicated state, as plain JSON-serializable records: apps
 * with their immutable versions, instances (stable ids, one Mesos task per
 * incarnation), the one deployment each app may have, and the Mesos framework
 * id. Lives inside `FrameworkState` (framework-state.ts), changed only by
 * applying committed commands (commands.ts), so every replica holds the same.
 *
 * Times are epoch milliseconds chosen by the proposer and carried in the
 * command: applying never reads a clock.
 */
import type { TaskState } from '../../protocol/mesos-types.ts';
import type { AppDefinition, AppVersion } from '../app/app-definition.ts';

/**
 * Where an instance is in its life.
 *   scheduled ──LaunchInstances──▶ launched ──TASK_RUNNING──▶ running
 *       ▲                              │                        │
 *       └──── terminal, goal run ◀─────┴────────────────────────┘
 *   any ──KillInstances──▶ killing ──terminal──▶ (removed)
 *   launched/running ──TASK_UNREACHABLE──▶ unreachable ──RUNNING──▶ running
 *   unreachable ──ExpireUnreachable──▶ scheduled (the old task, if it returns, is killed)
 */
export type InstancePhase = 'scheduled' | 'launched' | 'running' | 'unreachable' | 'killing';

export interface InstanceRecord {
  /** `<app path with / as _>.instance-<uuid>`, as Marathon's; stable across relaunches. */
  readonly instanceId: string;
  readonly appId: string;
  /** Small number unique among the app's live instances: `<index>.<app>.<domain>` in DNS. */
  readonly index: number;
  /** The app version it was launched for (Marathon's task `version`). */
  readonly version: string;
  /**
   * That version's `lastConfigChangeAt`: versions that differ only in
   * `instances` share it, so a scale never replaces running instances.
   */
  readonly configVersion: string;
  phase: InstancePhase;
  /** Launches so far; the current task is `<instanceId>._app.<incarnation>`. */
  incarnation: number;
  taskId?: string;
  agentId?: string;
  hostname?: string;
  hostPorts: number[];
  mesosState?: TaskState;
  /** From the agent's health checks; undefined when the app has none (or no result yet). */
  healthy?: boolean;
  stagedAtMs?: number;
  startedAtMs?: number;
  healthySinceMs?: number;
  unreachableSinceMs?: number;
  /** Not launched again before this time (the app's backoff after a failure). */
  notBeforeMs?: number;
  lastMessage?: string;
}

export interface AppRecord {
  readonly id: string;
  /** The version that is the app's definition now (GET /v2/apps/{id}). */
  current: AppVersion;
  /** Every version ever stored, oldest first (bounded: see maxVersionsPerApp). */
  versions: AppVersion[];
  /** Launch failures in a row since the last config change, for the backoff. */
  failures: number;
  /** A canary in place: `base` keeps `instances - count`, `current` runs `count`. */
  canary?: CanaryRecord;
  /** The app's last task that ended in failure (Marathon's `lastTaskFailure`); kept until the app is deleted. */
  lastTaskFailure?: TaskFailureRecord;
}

export interface TaskFailureRecord {
  readonly taskId: string;
  /** The Mesos state it ended in: TASK_FAILED, TASK_ERROR, TASK_LOST, TASK_DROPPED, TASK_GONE or TASK_GONE_BY_OPERATOR. */
  readonly state: string;
  readonly message: string;
  readonly host: string;
  readonly agentId?: string;
  /** The app version the task ran. */
  readonly version: string;
  /** The status update's own time, epoch ms. */
  readonly timestampMs: number;
}

export interface CanaryRecord {
  /** The app version the canary started from; its config version keeps `instances - count`. */
  readonly baseVersion: string;
  readonly count: number;
  /** Share of traffic for the canary version, 0..1. */
  readonly weight: number;
}

export type DeploymentKind = 'start' | 'scale' | 'update' | 'restart' | 'rollback' | 'canary' | 'promote' | 'abort' | 'delete';

export interface DeploymentRecord {
  readonly id: string;
  readonly appId: string;
  readonly kind: DeploymentKind;
  /** The app version this deployment moves to (for delete: the last one). */
  readonly version: string;
  /** The version the app had before; the target of a revert or rollback on deadline. */
  readonly fromVersion?: string;
  readonly startedAtMs: number;
  /** Fails if not finished by then (cygnet's extension); undefined = no deadline. */
  readonly deadlineAtMs?: number;
  readonly rollbackOnDeadline: boolean;
  /**
   * A write of several apps (a PUT /v2/apps array, a group write) answers
   * with one deployment id, as Marathon runs one deployment for it: its
   * members show under `id` and it ends when all `size` of them have.
   */
  readonly batch?: DeploymentBatch;
}

export interface DeploymentBatch {
  readonly id: string;
  readonly size: number;
}

/** How far a batch is: its members that ended (app, kind), the first failure, when the last one ended. */
export interface BatchProgress {
  readonly id: string;
  readonly ended: readonly Pick<DeploymentRecord, 'appId' | 'kind'>[];
  readonly failure?: string;
  readonly atMs: number;
}

export interface FrameworkSnapshotData {
  readonly formatVersion: 1;
  readonly frameworkId?: string;
  readonly apps: AppRecord[];
  readonly instances: InstanceRecord[];
  readonly deployments: DeploymentRecord[];
  /** Batches with members ended and others still to end (absent in snapshots from before batches). */
  readonly batches?: BatchProgress[];
  readonly registryRevision: number;
  readonly clusterId: string;
  /** Groups (id, version of their last change); absent in snapshots from before groups were kept, when the apps' groups are taken. */
  readonly groups?: [string, string][];
}

/** The id clients know a deployment by: its batch's, if it has one. */
export function publicDeploymentId(d: DeploymentRecord): string {
  return d.batch?.id ?? d.id;
}

/** Versions kept per app; Marathon keeps 50 by default (`--zk_max_versions`). */
export const maxVersionsPerApp = 50;

export type { AppDefinition, AppVersion };
