/**
 * The commands of the framework's replicated log. The leader decides
 * everything that needs a clock or randomness (ids, timestamps, task ids)
 * and puts it in the command, so applying one is deterministic on every
 * replica. Encoded as JSON (the state is small; entries are read back
 * only on replay).
 *
 * A command that changes the world (Launch, Kill) is committed before the
 * leader sends the matching call to the master; applying reports which parts
 * were accepted (an instance may have moved on meanwhile), and only those
 * are sent.
 */
import type { TaskState } from '../../protocol/mesos-types.ts';
import type { AppVersion, CanaryRecord, DeploymentRecord } from './model.ts';

export interface StatusUpdate {
  readonly taskId: string;
  readonly state: TaskState;
  readonly healthy?: boolean;
  readonly agentId?: string;
  readonly message?: string;
  readonly reason?: string;
  /** The update's own time (TaskStatus.timestamp), epoch ms. */
  readonly timestampMs: number;
}

export interface LaunchDecision {
  readonly instanceId: string;
  /** Must be the instance's incarnation + 1, or the launch is refused (it moved on). */
  readonly incarnation: number;
  readonly taskId: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly hostPorts: readonly number[];
}

export type FrameworkCommand =
  | { readonly type: 'Init'; readonly clusterId: string }
  | { readonly type: 'SetFrameworkId'; readonly frameworkId: string }
  | { readonly type: 'SetCluster'; readonly leader?: string; readonly master?: string }
  | {
      readonly type: 'PutApp';
      readonly atMs: number;
      readonly app: AppVersion;
      readonly deployment: DeploymentRecord;
      /** Supersede a running deployment of the app instead of refusing. */
      readonly force: boolean;
      /** undefined: keep none; a record: start (or keep) a canary. */
      readonly canary?: CanaryRecord;
      /** A version that already exists (rollback): reuse it rather than append. */
      readonly reuseVersion?: boolean;
      /** Instances to kill in the same step (DELETE …/tasks?scale=true names which go). */
      readonly kill?: readonly string[];
      /** Set for app writes through the API (POST/PUT/PATCH): applying it emits Marathon's `api_post_event`. */
      readonly origin?: { readonly clientIp: string; readonly uri: string };
    }
  | { readonly type: 'DeleteApp'; readonly atMs: number; readonly appId: string; readonly deployment: DeploymentRecord; readonly force: boolean }
  | { readonly type: 'FinishDeployment'; readonly atMs: number; readonly deploymentId: string; readonly outcome: 'success' | 'failed'; readonly reason?: string }
  | { readonly type: 'CancelDeployment'; readonly atMs: number; readonly deploymentId: string }
  | { readonly type: 'Schedule'; readonly atMs: number; readonly instances: readonly { readonly instanceId: string; readonly appId: string; readonly version: string }[] }
  | { readonly type: 'Launch'; readonly atMs: number; readonly launches: readonly LaunchDecision[] }
  | { readonly type: 'Kill'; readonly atMs: number; readonly instanceIds: readonly string[]; readonly reason: string }
  | { readonly type: 'TaskStatuses'; readonly atMs: number; readonly updates: readonly StatusUpdate[] }
  | { readonly type: 'ExpireUnreachable'; readonly atMs: number; readonly instanceIds: readonly string[] }
  /** Marathon's DELETE /v2/queue/{app}/delay: the app's launch backoff starts over, and its waiting instances may launch at once. */
  | { readonly type: 'ResetDelay'; readonly atMs: number; readonly appId: string }
  /** POST/PUT /v2/groups: these groups (and the groups they lie in) exist from now on, with or without apps. */
  | { readonly type: 'PutGroups'; readonly atMs: number; readonly groupIds: readonly string[] }
  /** DELETE /v2/groups/{id}: the group and every group below it are gone (their apps are deleted by their own commands first). */
  | { readonly type: 'DeleteGroup'; readonly atMs: number; readonly groupId: string };

export type CommandType = FrameworkCommand['type'];

/** What applying a command answers to its proposer. */
export type CommandResult =
  | { readonly ok: true; readonly accepted?: readonly string[]; readonly deploymentId?: string }
  | { readonly ok: false; readonly code: 'CONFLICT' | 'NOT_FOUND' | 'INVALID'; readonly message: string; readonly deploymentId?: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(cmd: FrameworkCommand): Uint8Array {
  return encoder.encode(JSON.stringify(cmd));
}

const knownTypes: ReadonlySet<string> = new Set<CommandType>([
  'Init', 'SetFrameworkId', 'SetCluster', 'PutApp', 'DeleteApp', 'FinishDeployment', 'CancelDeployment',
  'Schedule', 'Launch', 'Kill', 'TaskStatuses', 'ExpireUnreachable', 'ResetDelay', 'PutGroups', 'DeleteGroup',
]);

/**
 * Decodes a committed entry. Entries were written by our own leaders, so an
 * undecodable one means a corrupt or foreign log: the caller treats it as
 * fatal rather than skipping it (skipping would fork replicas' states).
 */
export function decodeCommand(data: Uint8Array): FrameworkCommand {
  const value: unknown = JSON.parse(decoder.decode(data));
  if (typeof value !== 'object' || value === null || !('type' in value) || typeof value.type !== 'string' || !knownTypes.has(value.type)) {
    throw new Error(`framework log entry is not a known command: ${decoder.decode(data.subarray(0, 200))}`);
  }
  return value as FrameworkCommand;
}

export function describeCommand(cmd: FrameworkCommand): string {
  switch (cmd.type) {
    case 'PutApp': return `PutApp ${cmd.app.definition.id} v=${cmd.app.version} deployment=${cmd.deployment.id} (${cmd.deployment.kind})`;
    case 'DeleteApp': return `DeleteApp ${cmd.appId}`;
    case 'Schedule': return `Schedule ${cmd.instances.length}`;
    case 'Launch': return `Launch ${cmd.launches.map((l) => l.taskId).join(',')}`;
    case 'Kill': return `Kill ${cmd.instanceIds.join(',')} (${cmd.reason})`;
    case 'TaskStatuses': return `TaskStatuses ${cmd.updates.map((u) => `${u.taskId}=${u.state}`).join(',')}`;
    default: return cmd.type;
  }
}
