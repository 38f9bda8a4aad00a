/**
 * The master↔agent protocol (package `cygnet.agent`, `protos/cygnet/agent.proto`)
 * in its JSON shape, like `mesos-types.ts`. This is the contract between
 * `src/master` and `src/executor`:
 *
 *   agent ──POST /api/v1/agent  Call{SUBSCRIBE}──▶ master
 *         ◀── 200, Mesos-Stream-Id, RecordIO Events: SUBSCRIBED, HEARTBEAT,
 *             LAUNCH, KILL, ACKNOWLEDGE, SHUTDOWN_FRAMEWORK, RECONCILE, ERROR
 *   agent ──POST Call{UPDATE | HEARTBEAT} (+ Mesos-Stream-Id)──▶ master (202)
 *
 * Invariants: the enum tables list exactly the values of the .proto enums; a
 * Call after SUBSCRIBE carries `agent_id`; an UPDATE's status has `uuid` and
 * `agent_id` set; at most one unacknowledged update per task is in flight.
 */

import type {
  AgentID,
  AgentInfo,
  FrameworkID,
  FrameworkInfo,
  KillPolicy,
  TaskID,
  TaskInfo,
  TaskStatus,
} from './mesos-types.ts';

export const AGENT_CALL_TYPE_VALUES = {
  UNKNOWN: 0,
  SUBSCRIBE: 1,
  UPDATE: 2,
  HEARTBEAT: 3,
} as const;
export type AgentCallType = keyof typeof AGENT_CALL_TYPE_VALUES;

export const AGENT_EVENT_TYPE_VALUES = {
  UNKNOWN: 0,
  SUBSCRIBED: 1,
  LAUNCH: 2,
  KILL: 3,
  ACKNOWLEDGE: 4,
  SHUTDOWN_FRAMEWORK: 5,
  HEARTBEAT: 6,
  ERROR: 7,
  RECONCILE: 8,
} as const;
export type AgentEventType = keyof typeof AGENT_EVENT_TYPE_VALUES;

export interface AgentCallSubscribe {
  /** hostname, port (the agent's own HTTP port), resources, attributes; `id` set when re-registering. */
  agent_info: AgentInfo;
  /** Tasks the agent runs or has not finished reporting (re-registration). */
  tasks?: TaskInfo[];
  /** Latest known status of those tasks, matched by (framework id, task id); a task launched but not yet started has none (stays TASK_STAGING). */
  task_statuses?: TaskStatus[];
  /** The framework of each of `tasks`, same order (TaskInfo has no framework id). */
  frameworks?: FrameworkInfo[];
  /** The framework of each of `task_statuses`, same order; absent from older agents (then matched by task id). */
  task_status_framework_ids?: FrameworkID[];
}

export interface AgentCallUpdate {
  /** `uuid` and `agent_id` set. */
  status: TaskStatus;
  /** The task's framework (task ids are unique only within one); absent from older agents. */
  framework_id?: FrameworkID;
}

export interface AgentCall {
  /** Set on every call after SUBSCRIBE. */
  agent_id?: AgentID;
  type: AgentCallType;
  subscribe?: AgentCallSubscribe;
  update?: AgentCallUpdate;
}

export interface AgentEventSubscribed {
  agent_id: AgentID;
  heartbeat_interval_seconds?: number;
}

export interface AgentEventLaunch {
  framework_info: FrameworkInfo;
  /** `task.agent_id` set; `task.resources` are what was allocated (incl. ports). */
  task: TaskInfo;
}

export interface AgentEventKill {
  framework_id: FrameworkID;
  task_id: TaskID;
  kill_policy?: KillPolicy;
}

export interface AgentEventAcknowledge {
  framework_id: FrameworkID;
  task_id: TaskID;
  /** base64, the `uuid` of the acknowledged TaskStatus. */
  uuid: string;
}

export interface AgentEventShutdownFramework {
  framework_id: FrameworkID;
}

export interface AgentEventReconcile {
  /** Empty = re-send the latest status of every task. */
  task_ids?: TaskID[];
  /** Only this framework's tasks; absent = any framework's. */
  framework_id?: FrameworkID;
}

export interface AgentEventError {
  message: string;
}

export interface AgentEvent {
  type: AgentEventType;
  subscribed?: AgentEventSubscribed;
  launch?: AgentEventLaunch;
  kill?: AgentEventKill;
  acknowledge?: AgentEventAcknowledge;
  shutdown_framework?: AgentEventShutdownFramework;
  error?: AgentEventError;
  reconcile?: AgentEventReconcile;
}
