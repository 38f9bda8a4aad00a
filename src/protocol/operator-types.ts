/**
 * The Mesos v1 Operator API's master Call and Response (package
 * `mesos.v1.master`, `protos/master/master.proto`) in their JSON shape, like
 * `mesos-types.ts`. Only the read-only calls cygnet answers have payloads
 * here; the enum tables list every value of the .proto enums.
 */
import type {
  AgentID,
  AgentInfo,
  DurationInfo,
  ExecutorInfo,
  FrameworkID,
  FrameworkInfo,
  InverseOffer,
  MasterInfo,
  Offer,
  Resource,
  Task,
  TaskState,
  TaskStatus,
  TimeInfo,
} from './mesos-types.ts';

export const MASTER_CALL_TYPE_VALUES = {
  UNKNOWN: 0, GET_HEALTH: 1, GET_FLAGS: 2, GET_VERSION: 3, GET_METRICS: 4, GET_LOGGING_LEVEL: 5,
  SET_LOGGING_LEVEL: 6, LIST_FILES: 7, READ_FILE: 8, GET_STATE: 9, GET_AGENTS: 10, GET_FRAMEWORKS: 11,
  GET_EXECUTORS: 12, GET_TASKS: 13, GET_ROLES: 14, GET_WEIGHTS: 15, UPDATE_WEIGHTS: 16, GET_MASTER: 17,
  SUBSCRIBE: 18, RESERVE_RESOURCES: 19, UNRESERVE_RESOURCES: 20, CREATE_VOLUMES: 21, DESTROY_VOLUMES: 22,
  GET_MAINTENANCE_STATUS: 23, GET_MAINTENANCE_SCHEDULE: 24, UPDATE_MAINTENANCE_SCHEDULE: 25,
  START_MAINTENANCE: 26, STOP_MAINTENANCE: 27, GET_QUOTA: 28, SET_QUOTA: 29, REMOVE_QUOTA: 30,
} as const;
export type MasterCallType = keyof typeof MASTER_CALL_TYPE_VALUES;

export const MASTER_RESPONSE_TYPE_VALUES = {
  UNKNOWN: 0, GET_HEALTH: 1, GET_FLAGS: 2, GET_VERSION: 3, GET_METRICS: 4, GET_LOGGING_LEVEL: 5,
  LIST_FILES: 6, READ_FILE: 7, GET_STATE: 8, GET_AGENTS: 9, GET_FRAMEWORKS: 10, GET_EXECUTORS: 11,
  GET_TASKS: 12, GET_ROLES: 13, GET_WEIGHTS: 14, GET_MASTER: 15, GET_MAINTENANCE_STATUS: 16,
  GET_MAINTENANCE_SCHEDULE: 17, GET_QUOTA: 18,
} as const;
export type MasterResponseType = keyof typeof MASTER_RESPONSE_TYPE_VALUES;

export interface MasterCall {
  type?: MasterCallType;
  get_metrics?: { timeout?: DurationInfo };
}

export interface VersionInfo {
  version: string;
  build_date?: string;
  build_time?: number;
  build_user?: string;
  git_sha?: string;
  git_branch?: string;
  git_tag?: string;
}

export interface OperatorAgent {
  agent_info: AgentInfo;
  active: boolean;
  version: string;
  pid?: string;
  registered_time?: TimeInfo;
  reregistered_time?: TimeInfo;
  total_resources?: Resource[];
  allocated_resources?: Resource[];
  offered_resources?: Resource[];
}

export interface OperatorFramework {
  framework_info: FrameworkInfo;
  active: boolean;
  connected: boolean;
  recovered: boolean;
  registered_time?: TimeInfo;
  reregistered_time?: TimeInfo;
  unregistered_time?: TimeInfo;
  offers?: Offer[];
  inverse_offers?: InverseOffer[];
  allocated_resources?: Resource[];
  offered_resources?: Resource[];
}

export interface GetAgents { agents?: OperatorAgent[]; recovered_agents?: AgentInfo[] }
export interface GetFrameworks { frameworks?: OperatorFramework[]; completed_frameworks?: OperatorFramework[]; recovered_frameworks?: FrameworkInfo[] }
export interface GetExecutors { executors?: { executor_info: ExecutorInfo; agent_id: AgentID }[]; orphan_executors?: { executor_info: ExecutorInfo; agent_id: AgentID }[] }
export interface GetTasks { pending_tasks?: Task[]; tasks?: Task[]; unreachable_tasks?: Task[]; completed_tasks?: Task[]; orphan_tasks?: Task[] }

export interface MasterResponse {
  type?: MasterResponseType;
  get_health?: { healthy: boolean };
  get_flags?: { flags?: { name: string; value?: string }[] };
  get_version?: { version_info: VersionInfo };
  get_metrics?: { metrics?: { name: string; value?: number }[] };
  get_state?: { get_tasks?: GetTasks; get_executors?: GetExecutors; get_frameworks?: GetFrameworks; get_agents?: GetAgents };
  get_agents?: GetAgents;
  get_frameworks?: GetFrameworks;
  get_executors?: GetExecutors;
  get_tasks?: GetTasks;
  get_roles?: { roles?: { name: string; weight: number; frameworks?: FrameworkID[]; resources?: Resource[] }[] };
  get_weights?: { weight_infos?: { weight: number; role?: string }[] };
  get_master?: { master_info?: MasterInfo };
}

export const MASTER_EVENT_TYPE_VALUES = {
  UNKNOWN: 0, SUBSCRIBED: 1, TASK_ADDED: 2, TASK_UPDATED: 3, AGENT_ADDED: 4, AGENT_REMOVED: 5,
  FRAMEWORK_ADDED: 6, FRAMEWORK_UPDATED: 7, FRAMEWORK_REMOVED: 8, HEARTBEAT: 9,
} as const;
export type MasterEventType = keyof typeof MASTER_EVENT_TYPE_VALUES;

/** One record of the operator event stream (Call SUBSCRIBE). */
export interface MasterEvent {
  type?: MasterEventType;
  subscribed?: { get_state?: NonNullable<MasterResponse['get_state']>; heartbeat_interval_seconds?: number };
  task_added?: { task: Task };
  task_updated?: { framework_id: FrameworkID; status: TaskStatus; state: TaskState };
  agent_added?: { agent: OperatorAgent };
  agent_removed?: { agent_id: AgentID };
  framework_added?: { framework: OperatorFramework };
  framework_updated?: { framework: OperatorFramework };
  framework_removed?: { framework_info: FrameworkInfo };
}
