/**
 * The state the master core's handlers share: configuration, registries, the
 * allocator port, counters for /metrics and the effect outbox. Handlers in
 * `scheduler-calls.ts`, `agent-calls.ts` and `core-ops.ts` are functions over
 * this context; `MasterCore` (master-core.ts) owns one and is its only creator.
 * No I/O: `emit` only appends to an outbox the shell drains.
 */
import type { Logger } from '../common/log.ts';
import type { AgentRegistry } from './agents.ts';
import type { AllocatorPort } from './allocator-port.ts';
import type { Effect } from './effects.ts';
import type { FrameworkRegistry } from './frameworks.ts';
import type { IdMinter } from './ids.ts';
import type { OfferBook } from './offers.ts';
import type { OperatorObserver } from './operator-observer.ts';
import type { TaskBook } from './tasks.ts';
import type { MasterInfo } from './wire.ts';

export interface MasterConfig {
  readonly masterInfo: MasterInfo;
  /** HEARTBEAT interval announced to (and used for) schedulers; Mesos: 15 s. */
  readonly heartbeatIntervalSec: number;
  /** Interval announced to agents for their HEARTBEAT calls; default 5 s. */
  readonly agentHeartbeatIntervalSec: number;
  /** An agent silent this long is unreachable; default 15 s. */
  readonly agentPingTimeoutMs: number;
  /** Outstanding offers older than this are rescinded; undefined = never (Mesos default). */
  readonly offerTimeoutMs: number | undefined;
  /** Refusal for declined / unused resources when the call gives no filters; Mesos: 5 s. */
  readonly defaultRefuseSeconds: number;
  /**
   * After the master starts, agents that knew a previous master are still
   * re-registering for this long: reconciliation stays silent about tasks it
   * does not know yet instead of declaring them lost (Mesos does the same for
   * agents that have not re-registered after a failover). Default agentPingTimeoutMs.
   */
  readonly reregistrationWindowMs: number;
  readonly startedAtMs: number;
}

export interface MasterCounters {
  statusUpdatesReceived: number;
  statusUpdatesForwarded: number;
  statusUpdatesAutoAcked: number;
  offersSent: number;
  offersAccepted: number;
  offersDeclined: number;
  offersRescinded: number;
  tasksLaunched: number;
  tasksInvalid: number;
  tasksDropped: number;
  agentsLost: number;
  frameworksRemoved: number;
  callsBySchedulerType: Map<string, number>;
  callsByAgentType: Map<string, number>;
}

export function newCounters(): MasterCounters {
  return {
    statusUpdatesReceived: 0,
    statusUpdatesForwarded: 0,
    statusUpdatesAutoAcked: 0,
    offersSent: 0,
    offersAccepted: 0,
    offersDeclined: 0,
    offersRescinded: 0,
    tasksLaunched: 0,
    tasksInvalid: 0,
    tasksDropped: 0,
    agentsLost: 0,
    frameworksRemoved: 0,
    callsBySchedulerType: new Map(),
    callsByAgentType: new Map(),
  };
}

export interface CoreContext {
  readonly config: MasterConfig;
  readonly ids: IdMinter;
  readonly frameworks: FrameworkRegistry;
  readonly agents: AgentRegistry;
  readonly offers: OfferBook;
  readonly tasks: TaskBook;
  readonly allocator: AllocatorPort;
  readonly counters: MasterCounters;
  readonly log: Logger;
  /** Told of every task, agent and framework change (the operator event stream); set by the shell. */
  operator: OperatorObserver;
  emit(effect: Effect): void;
}
