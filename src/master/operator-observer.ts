/**
 * What the core tells the Operator API's event stream, at the moment each
 * change happens (after it is made). The core calls these unconditionally;
 * the shell's fan-out (operator-events.ts) does nothing while no operator is
 * subscribed. Pure interface: no I/O here.
 */
import type { AgentRecord } from './agents.ts';
import type { FrameworkRecord } from './frameworks.ts';
import type { TaskRecord } from './tasks.ts';

export interface OperatorObserver {
  taskAdded(t: TaskRecord): void;
  /** The task's state or latest status changed (`t.status` is the new one). */
  taskUpdated(t: TaskRecord): void;
  /** Registered or re-registered. */
  agentAdded(a: AgentRecord): void;
  /** Unreachable or forgotten. */
  agentRemoved(agentId: string): void;
  frameworkAdded(f: FrameworkRecord): void;
  /** Failed over, re-subscribed or disconnected. */
  frameworkUpdated(f: FrameworkRecord): void;
  frameworkRemoved(f: FrameworkRecord): void;
}

export const nullOperatorObserver: OperatorObserver = {
  taskAdded: () => undefined,
  taskUpdated: () => undefined,
  agentAdded: () => undefined,
  agentRemoved: () => undefined,
  frameworkAdded: () => undefined,
  frameworkUpdated: () => undefined,
  frameworkRemoved: () => undefined,
};
