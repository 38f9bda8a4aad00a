/**
 * The master's single import point for wire message shapes (Mesos v1 JSON
 * form: snake_case, enums as names, bytes as base64), re-exported from the
 * protocol layer. No logic here.
 */
export type {
  AgentID,
  AgentInfo,
  Attribute,
  ExecutorID,
  Filters,
  FrameworkID,
  FrameworkInfo,
  KillPolicy,
  MasterInfo,
  Offer,
  OfferID,
  OfferOperation,
  Reason,
  Resource,
  SchedulerCall,
  SchedulerEvent,
  Source,
  TaskID,
  TaskInfo,
  TaskState,
  TaskStatus,
} from '../protocol/mesos-types.ts';
export type { AgentCall, AgentEvent, AgentCallSubscribe } from '../protocol/agent-types.ts';
