/**
 * The one place src/executor imports protocol types from: Mesos v1 shapes
 * (src/protocol/mesos-types.ts) and the master↔agent protocol
 * (src/protocol/agent-types.ts), JSON shape (snake_case, enums as names,
 * bytes as base64).
 */
export type {
  AgentInfo,
  Attribute,
  CommandInfo,
  CommandInfoURI as CommandURI,
  DiscoveryInfo,
  DurationInfo,
  Environment,
  EnvironmentVariable,
  FrameworkInfo,
  HealthCheck,
  KillPolicy,
  Label,
  Labels,
  Reason,
  Resource,
  Source,
  TaskInfo,
  TaskState,
  TaskStatus,
} from '../protocol/mesos-types.ts';
export type { AgentCall, AgentEvent } from '../protocol/agent-types.ts';
