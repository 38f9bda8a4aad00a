/**
 * Mesos v1 messages (packages mesos.v1, mesos.v1.scheduler, mesos.v1.executor)
 * in their JSON shape: snake_case fields, enums as their value names, `bytes`
 * as base64 strings, 64-bit integers as numbers, an absent field is undefined.
 * This is the in-memory form everywhere in cygnet; `codec.ts` converts it to
 * and from JSON and protobuf at the wire, against the files under `protos/`.
 *
 * Invariants: every enum union here lists exactly the names of the matching
 * enum in the .proto files (the `*_VALUES` tables give their wire numbers and
 * are checked against the loaded protos by the tests). No logic in this file.
 *
 * Names: messages of the Scheduler API are prefixed `Scheduler…`, those of the
 * Executor API `Executor…`; nested messages are `<Outer><Inner>`.
 */

import type { Attribute, Ranges, Resource, ResourceAllocationInfo, Scalar, Text, ValueSet, ValueType } from './resource-types.ts';

export type {
  Attribute,
  Range,
  Ranges,
  Resource,
  ResourceAllocationInfo,
  ResourceReservationInfo,
  Scalar,
  Text,
  ValueSet,
  ValueType,
} from './resource-types.ts';

// ---------------------------------------------------------------------------
// Enums with every value Mesos has (wire numbers beside each name).

export const TASK_STATE_VALUES = {
  TASK_STAGING: 6,
  TASK_STARTING: 0,
  TASK_RUNNING: 1,
  TASK_KILLING: 8,
  TASK_FINISHED: 2,
  TASK_FAILED: 3,
  TASK_KILLED: 4,
  TASK_ERROR: 7,
  TASK_LOST: 5,
  TASK_DROPPED: 9,
  TASK_UNREACHABLE: 10,
  TASK_GONE: 11,
  TASK_GONE_BY_OPERATOR: 12,
  TASK_UNKNOWN: 13,
} as const;
export type TaskState = keyof typeof TASK_STATE_VALUES;

export const SOURCE_VALUES = {
  SOURCE_MASTER: 0,
  SOURCE_AGENT: 1,
  SOURCE_EXECUTOR: 2,
} as const;
export type Source = keyof typeof SOURCE_VALUES;

export const REASON_VALUES = {
  REASON_COMMAND_EXECUTOR_FAILED: 0,
  REASON_CONTAINER_LAUNCH_FAILED: 21,
  REASON_CONTAINER_LIMITATION: 19,
  REASON_CONTAINER_LIMITATION_DISK: 20,
  REASON_CONTAINER_LIMITATION_MEMORY: 8,
  REASON_CONTAINER_PREEMPTED: 17,
  REASON_CONTAINER_UPDATE_FAILED: 22,
  REASON_MAX_COMPLETION_TIME_REACHED: 33,
  REASON_EXECUTOR_REGISTRATION_TIMEOUT: 23,
  REASON_EXECUTOR_REREGISTRATION_TIMEOUT: 24,
  REASON_EXECUTOR_TERMINATED: 1,
  REASON_EXECUTOR_UNREGISTERED: 2,
  REASON_FRAMEWORK_REMOVED: 3,
  REASON_GC_ERROR: 4,
  REASON_INVALID_FRAMEWORKID: 5,
  REASON_INVALID_OFFERS: 6,
  REASON_IO_SWITCHBOARD_EXITED: 27,
  REASON_MASTER_DISCONNECTED: 7,
  REASON_RECONCILIATION: 9,
  REASON_RESOURCES_UNKNOWN: 18,
  REASON_AGENT_DISCONNECTED: 10,
  REASON_AGENT_DRAINING: 34,
  REASON_AGENT_REMOVED: 11,
  REASON_AGENT_REMOVED_BY_OPERATOR: 31,
  REASON_AGENT_REREGISTERED: 32,
  REASON_AGENT_RESTARTED: 12,
  REASON_AGENT_UNKNOWN: 13,
  REASON_TASK_KILLED_DURING_LAUNCH: 30,
  REASON_TASK_CHECK_STATUS_UPDATED: 28,
  REASON_TASK_HEALTH_CHECK_STATUS_UPDATED: 29,
  REASON_TASK_GROUP_INVALID: 25,
  REASON_TASK_GROUP_UNAUTHORIZED: 26,
  REASON_TASK_INVALID: 14,
  REASON_TASK_UNAUTHORIZED: 15,
  REASON_TASK_UNKNOWN: 16,
} as const;
export type Reason = keyof typeof REASON_VALUES;

export const FRAMEWORK_CAPABILITY_VALUES = {
  UNKNOWN: 0,
  REVOCABLE_RESOURCES: 1,
  TASK_KILLING_STATE: 2,
  GPU_RESOURCES: 3,
  SHARED_RESOURCES: 4,
  PARTITION_AWARE: 5,
  MULTI_ROLE: 6,
  RESERVATION_REFINEMENT: 7,
  REGION_AWARE: 8,
} as const;
export type FrameworkCapabilityType = keyof typeof FRAMEWORK_CAPABILITY_VALUES;

export const OPERATION_TYPE_VALUES = {
  UNKNOWN: 0,
  LAUNCH: 1,
  LAUNCH_GROUP: 6,
  RESERVE: 2,
  UNRESERVE: 3,
  CREATE: 4,
  DESTROY: 5,
} as const;
export type OfferOperationType = keyof typeof OPERATION_TYPE_VALUES;

export const SCHEDULER_CALL_TYPE_VALUES = {
  UNKNOWN: 0,
  SUBSCRIBE: 1,
  TEARDOWN: 2,
  ACCEPT: 3,
  DECLINE: 4,
  ACCEPT_INVERSE_OFFERS: 13,
  DECLINE_INVERSE_OFFERS: 14,
  REVIVE: 5,
  KILL: 6,
  SHUTDOWN: 7,
  ACKNOWLEDGE: 8,
  RECONCILE: 9,
  MESSAGE: 10,
  REQUEST: 11,
  SUPPRESS: 12,
  UPDATE_FRAMEWORK: 17,
} as const;
export type SchedulerCallType = keyof typeof SCHEDULER_CALL_TYPE_VALUES;

export const SCHEDULER_EVENT_TYPE_VALUES = {
  UNKNOWN: 0,
  SUBSCRIBED: 1,
  OFFERS: 2,
  INVERSE_OFFERS: 9,
  RESCIND: 3,
  RESCIND_INVERSE_OFFER: 10,
  UPDATE: 4,
  MESSAGE: 5,
  FAILURE: 6,
  ERROR: 7,
  HEARTBEAT: 8,
} as const;
export type SchedulerEventType = keyof typeof SCHEDULER_EVENT_TYPE_VALUES;

export const EXECUTOR_CALL_TYPE_VALUES = {
  UNKNOWN: 0,
  SUBSCRIBE: 1,
  UPDATE: 2,
  MESSAGE: 3,
} as const;
export type ExecutorCallType = keyof typeof EXECUTOR_CALL_TYPE_VALUES;

export const EXECUTOR_EVENT_TYPE_VALUES = {
  UNKNOWN: 0,
  SUBSCRIBED: 1,
  LAUNCH: 2,
  LAUNCH_GROUP: 8,
  KILL: 3,
  ACKNOWLEDGED: 4,
  MESSAGE: 5,
  ERROR: 6,
  SHUTDOWN: 7,
  HEARTBEAT: 9,
} as const;
export type ExecutorEventType = keyof typeof EXECUTOR_EVENT_TYPE_VALUES;

export type HealthCheckType = 'UNKNOWN' | 'COMMAND' | 'HTTP' | 'TCP';
export type CheckType = HealthCheckType;
export type ExecutorType = 'UNKNOWN' | 'DEFAULT' | 'CUSTOM';
export type ContainerType = 'DOCKER' | 'MESOS';
export type DockerNetwork = 'HOST' | 'BRIDGE' | 'NONE' | 'USER';
export type EnvironmentVariableType = 'UNKNOWN' | 'VALUE' | 'SECRET';
export type SecretType = 'UNKNOWN' | 'REFERENCE' | 'VALUE';
export type DiscoveryVisibility = 'FRAMEWORK' | 'CLUSTER' | 'EXTERNAL';
export type NetworkProtocol = 'IPv4' | 'IPv6';

// ---------------------------------------------------------------------------
// Identifiers and small values.

export interface FrameworkID {
  value: string;
}
export interface OfferID {
  value: string;
}
export interface AgentID {
  value: string;
}
export interface TaskID {
  value: string;
}
export interface ExecutorID {
  value: string;
}
export interface ContainerID {
  value: string;
  parent?: ContainerID;
}

/**
 * Nanoseconds since the epoch (int64). A real time (~1.8e18) is beyond 2^53:
 * it is carried as the nearest double (sub-microsecond precision lost); on
 * input a numeric string is accepted too (see json-shape.ts).
 */
export interface TimeInfo {
  nanoseconds: number;
}
export interface DurationInfo {
  nanoseconds: number;
}

export interface Address {
  hostname?: string;
  ip?: string;
  port: number;
}

export interface Parameter {
  key: string;
  value: string;
}
export interface Parameters {
  parameter?: Parameter[];
}

export interface URL {
  scheme: string;
  address: Address;
  path?: string;
  query?: Parameter[];
  fragment?: string;
}

export interface Unavailability {
  start: TimeInfo;
  duration?: DurationInfo;
}

export interface Label {
  key: string;
  value?: string;
}
export interface Labels {
  labels?: Label[];
}

export interface DomainInfo {
  fault_domain?: {
    region: { name: string };
    zone: { name: string };
  };
}

/** A full Mesos `Value` (Resource and Attribute inline the same fields). */
export interface Value {
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  text?: Text;
}

// ---------------------------------------------------------------------------
// Cluster members.

export interface MasterInfo {
  id: string;
  /** IPv4 address packed into a uint32 (network byte order, as Mesos). */
  ip: number;
  port: number;
  pid?: string;
  hostname?: string;
  version?: string;
  address?: Address;
  domain?: DomainInfo;
}

export interface FrameworkCapability {
  type?: FrameworkCapabilityType;
}

export interface FrameworkInfo {
  user: string;
  name: string;
  id?: FrameworkID;
  failover_timeout?: number;
  checkpoint?: boolean;
  /** Deprecated by Mesos in favour of `roles` (with MULTI_ROLE); `*` if neither is set. */
  role?: string;
  roles?: string[];
  hostname?: string;
  principal?: string;
  webui_url?: string;
  capabilities?: FrameworkCapability[];
  labels?: Labels;
}

export interface AgentInfo {
  hostname: string;
  /** The agent's own HTTP port (Mesos default 5051). */
  port?: number;
  resources?: Resource[];
  attributes?: Attribute[];
  id?: AgentID;
  domain?: DomainInfo;
}

// ---------------------------------------------------------------------------
// What a task runs.

export interface SecretReference {
  name: string;
  key?: string;
}
export interface SecretValue {
  /** base64 */
  data: string;
}
export interface Secret {
  type?: SecretType;
  reference?: SecretReference;
  value?: SecretValue;
}

export interface EnvironmentVariable {
  name: string;
  type?: EnvironmentVariableType;
  value?: string;
  secret?: Secret;
}
export interface Environment {
  variables?: EnvironmentVariable[];
}

export interface CommandInfoURI {
  value: string;
  executable?: boolean;
  /** Mesos default true. */
  extract?: boolean;
  cache?: boolean;
  output_file?: string;
}

export interface CommandInfo {
  uris?: CommandInfoURI[];
  environment?: Environment;
  /** Mesos default true: `value` runs under `/bin/sh -c`; false: `value` is argv[0] and `arguments` the argv. */
  shell?: boolean;
  value?: string;
  arguments?: string[];
  user?: string;
}

export interface HealthCheckHTTP {
  scheme?: string;
  port: number;
  path?: string;
  statuses?: number[];
}
export interface HealthCheckTCP {
  port: number;
}

/** Mesos defaults: delay 15 s, interval 10 s, timeout 20 s, 3 consecutive failures, grace 10 s. */
export interface HealthCheck {
  delay_seconds?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
  consecutive_failures?: number;
  grace_period_seconds?: number;
  type?: HealthCheckType;
  command?: CommandInfo;
  http?: HealthCheckHTTP;
  tcp?: HealthCheckTCP;
}

export interface CheckInfo {
  type?: CheckType;
  command?: { command: CommandInfo };
  http?: { port: number; path?: string };
  tcp?: { port: number };
  delay_seconds?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
}

export interface KillPolicy {
  grace_period?: DurationInfo;
}

export interface DockerPortMapping {
  host_port: number;
  container_port: number;
  protocol?: string;
}
export interface DockerInfo {
  image: string;
  network?: DockerNetwork;
  port_mappings?: DockerPortMapping[];
  privileged?: boolean;
  parameters?: Parameter[];
  force_pull_image?: boolean;
}

export interface NetworkIPAddress {
  protocol?: NetworkProtocol;
  ip_address?: string;
}
export interface NetworkInfo {
  ip_addresses?: NetworkIPAddress[];
  name?: string;
  groups?: string[];
  labels?: Labels;
  port_mappings?: DockerPortMapping[];
}

/** Minimal: cygnet runs plain processes; the fields are carried, not acted on. */
export interface ContainerInfo {
  type: ContainerType;
  hostname?: string;
  docker?: DockerInfo;
  network_infos?: NetworkInfo[];
}

export interface ContainerStatus {
  container_id?: ContainerID;
  network_infos?: NetworkInfo[];
  executor_pid?: number;
}

export interface Port {
  number: number;
  name?: string;
  protocol?: string;
  visibility?: DiscoveryVisibility;
  labels?: Labels;
}
export interface Ports {
  ports?: Port[];
}
export interface DiscoveryInfo {
  visibility: DiscoveryVisibility;
  name?: string;
  environment?: string;
  location?: string;
  version?: string;
  ports?: Ports;
  labels?: Labels;
}

export interface ExecutorInfo {
  type?: ExecutorType;
  executor_id: ExecutorID;
  framework_id?: FrameworkID;
  command?: CommandInfo;
  container?: ContainerInfo;
  resources?: Resource[];
  name?: string;
  source?: string;
  /** base64 */
  data?: string;
  discovery?: DiscoveryInfo;
  shutdown_grace_period?: DurationInfo;
  labels?: Labels;
}

export interface TaskInfo {
  name: string;
  task_id: TaskID;
  agent_id: AgentID;
  resources?: Resource[];
  executor?: ExecutorInfo;
  command?: CommandInfo;
  container?: ContainerInfo;
  health_check?: HealthCheck;
  check?: CheckInfo;
  kill_policy?: KillPolicy;
  /** base64 */
  data?: string;
  labels?: Labels;
  discovery?: DiscoveryInfo;
}

export interface TaskGroupInfo {
  tasks?: TaskInfo[];
}

export interface CheckStatusInfo {
  type?: CheckType;
  command?: { exit_code?: number };
  http?: { status_code?: number };
  tcp?: { succeeded?: boolean };
}

export interface TaskStatus {
  task_id: TaskID;
  state: TaskState;
  message?: string;
  source?: Source;
  reason?: Reason;
  /** base64 */
  data?: string;
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  /** Seconds since the epoch (fractional). */
  timestamp?: number;
  /** base64 of 16 random bytes; set on every update that needs an acknowledgement. */
  uuid?: string;
  healthy?: boolean;
  check_status?: CheckStatusInfo;
  labels?: Labels;
  container_status?: ContainerStatus;
  unreachable_time?: TimeInfo;
}

/** A task as the master reports it (operator API / state). */
export interface Task {
  name: string;
  task_id: TaskID;
  framework_id: FrameworkID;
  executor_id?: ExecutorID;
  agent_id: AgentID;
  state: TaskState;
  resources?: Resource[];
  statuses?: TaskStatus[];
  status_update_state?: TaskState;
  /** base64 */
  status_update_uuid?: string;
  labels?: Labels;
  discovery?: DiscoveryInfo;
  container?: ContainerInfo;
  user?: string;
}

// ---------------------------------------------------------------------------
// Offers.

export interface Filters {
  /** Mesos default 5 s. */
  refuse_seconds?: number;
}

export interface Request {
  agent_id?: AgentID;
  resources?: Resource[];
}

export interface OfferOperationLaunch {
  task_infos?: TaskInfo[];
}
export interface OfferOperationLaunchGroup {
  executor: ExecutorInfo;
  task_group: TaskGroupInfo;
}
export interface OfferOperationResources {
  resources?: Resource[];
}
export interface OfferOperationVolumes {
  volumes?: Resource[];
}

export interface OfferOperation {
  type?: OfferOperationType;
  launch?: OfferOperationLaunch;
  launch_group?: OfferOperationLaunchGroup;
  reserve?: OfferOperationResources;
  unreserve?: OfferOperationResources;
  create?: OfferOperationVolumes;
  destroy?: OfferOperationVolumes;
}

export interface Offer {
  id: OfferID;
  framework_id: FrameworkID;
  agent_id: AgentID;
  hostname: string;
  url?: URL;
  domain?: DomainInfo;
  resources?: Resource[];
  attributes?: Attribute[];
  executor_ids?: ExecutorID[];
  unavailability?: Unavailability;
  allocation_info?: ResourceAllocationInfo;
}

export interface InverseOffer {
  id: OfferID;
  url?: URL;
  framework_id: FrameworkID;
  agent_id?: AgentID;
  unavailability: Unavailability;
  resources?: Resource[];
}

// ---------------------------------------------------------------------------
// Scheduler API (mesos.v1.scheduler).

export interface SchedulerCallSubscribe {
  framework_info: FrameworkInfo;
  suppressed_roles?: string[];
}
export interface SchedulerCallAccept {
  offer_ids?: OfferID[];
  operations?: OfferOperation[];
  filters?: Filters;
}
export interface SchedulerCallDecline {
  offer_ids?: OfferID[];
  filters?: Filters;
}
export interface SchedulerCallAcceptInverseOffers {
  inverse_offer_ids?: OfferID[];
  filters?: Filters;
}
export interface SchedulerCallDeclineInverseOffers {
  inverse_offer_ids?: OfferID[];
  filters?: Filters;
}
export interface SchedulerCallRevive {
  roles?: string[];
}
export interface SchedulerCallKill {
  task_id: TaskID;
  agent_id?: AgentID;
  kill_policy?: KillPolicy;
}
export interface SchedulerCallShutdown {
  executor_id: ExecutorID;
  agent_id: AgentID;
}
export interface SchedulerCallAcknowledge {
  agent_id: AgentID;
  task_id: TaskID;
  /** base64, the `uuid` of the TaskStatus being acknowledged. */
  uuid: string;
}
export interface SchedulerCallReconcileTask {
  task_id: TaskID;
  agent_id?: AgentID;
}
export interface SchedulerCallReconcile {
  /** Empty = implicit reconciliation (all of the framework's tasks). */
  tasks?: SchedulerCallReconcileTask[];
}
export interface SchedulerCallMessage {
  agent_id: AgentID;
  executor_id: ExecutorID;
  /** base64 */
  data: string;
}
export interface SchedulerCallRequest {
  requests?: Request[];
}
export interface SchedulerCallSuppress {
  roles?: string[];
}
export interface SchedulerCallUpdateFramework {
  framework_info: FrameworkInfo;
  suppressed_roles?: string[];
}

export interface SchedulerCall {
  framework_id?: FrameworkID;
  type?: SchedulerCallType;
  subscribe?: SchedulerCallSubscribe;
  accept?: SchedulerCallAccept;
  decline?: SchedulerCallDecline;
  accept_inverse_offers?: SchedulerCallAcceptInverseOffers;
  decline_inverse_offers?: SchedulerCallDeclineInverseOffers;
  revive?: SchedulerCallRevive;
  kill?: SchedulerCallKill;
  shutdown?: SchedulerCallShutdown;
  acknowledge?: SchedulerCallAcknowledge;
  reconcile?: SchedulerCallReconcile;
  message?: SchedulerCallMessage;
  request?: SchedulerCallRequest;
  suppress?: SchedulerCallSuppress;
  update_framework?: SchedulerCallUpdateFramework;
}

export interface SchedulerEventSubscribed {
  framework_id: FrameworkID;
  heartbeat_interval_seconds?: number;
  master_info?: MasterInfo;
}
export interface SchedulerEventOffers {
  offers?: Offer[];
}
export interface SchedulerEventInverseOffers {
  inverse_offers?: InverseOffer[];
}
export interface SchedulerEventRescind {
  offer_id: OfferID;
}
export interface SchedulerEventRescindInverseOffer {
  inverse_offer_id: OfferID;
}
export interface SchedulerEventUpdate {
  status: TaskStatus;
}
export interface SchedulerEventMessage {
  agent_id: AgentID;
  executor_id: ExecutorID;
  /** base64 */
  data: string;
}
export interface SchedulerEventFailure {
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  status?: number;
}
export interface SchedulerEventError {
  message: string;
}

export interface SchedulerEvent {
  type?: SchedulerEventType;
  subscribed?: SchedulerEventSubscribed;
  offers?: SchedulerEventOffers;
  inverse_offers?: SchedulerEventInverseOffers;
  rescind?: SchedulerEventRescind;
  rescind_inverse_offer?: SchedulerEventRescindInverseOffer;
  update?: SchedulerEventUpdate;
  message?: SchedulerEventMessage;
  failure?: SchedulerEventFailure;
  error?: SchedulerEventError;
}

// ---------------------------------------------------------------------------
// Executor API (mesos.v1.executor).

export interface ExecutorCallUpdate {
  status: TaskStatus;
}
export interface ExecutorCallSubscribe {
  unacknowledged_tasks?: TaskInfo[];
  unacknowledged_updates?: ExecutorCallUpdate[];
}
export interface ExecutorCallMessage {
  /** base64 */
  data: string;
}

export interface ExecutorCall {
  executor_id: ExecutorID;
  framework_id: FrameworkID;
  type?: ExecutorCallType;
  subscribe?: ExecutorCallSubscribe;
  update?: ExecutorCallUpdate;
  message?: ExecutorCallMessage;
}

export interface ExecutorEventSubscribed {
  executor_info: ExecutorInfo;
  framework_info: FrameworkInfo;
  agent_info: AgentInfo;
  container_id?: ContainerID;
}
export interface ExecutorEventLaunch {
  task: TaskInfo;
}
export interface ExecutorEventLaunchGroup {
  task_group: TaskGroupInfo;
}
export interface ExecutorEventKill {
  task_id: TaskID;
  kill_policy?: KillPolicy;
}
export interface ExecutorEventAcknowledged {
  task_id: TaskID;
  /** base64 */
  uuid: string;
}
export interface ExecutorEventMessage {
  /** base64 */
  data: string;
}
export interface ExecutorEventError {
  message: string;
}

export interface ExecutorEvent {
  type?: ExecutorEventType;
  subscribed?: ExecutorEventSubscribed;
  acknowledged?: ExecutorEventAcknowledged;
  launch?: ExecutorEventLaunch;
  launch_group?: ExecutorEventLaunchGroup;
  kill?: ExecutorEventKill;
  message?: ExecutorEventMessage;
  error?: ExecutorEventError;
}
