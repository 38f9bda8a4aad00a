/**
 * The typed events a SchedulerClient emits, and a tiny typed listener registry.
 *
 * Invariants: a listener that throws never breaks the stream (the error is
 * logged and swallowed); every `on()` returns its own unsubscribe function.
 */
import type { Logger } from '../../common/log.ts';
import type {
  MasterInfo,
  Offer,
  SchedulerEventFailure,
  SchedulerEventMessage,
  TaskStatus,
} from '../../protocol/mesos-types.ts';

export interface SubscribedInfo {
  readonly frameworkId: string;
  readonly streamId: string;
  readonly heartbeatIntervalSeconds: number;
  readonly masterInfo?: MasterInfo;
  /** The master this subscription lives on, as `http://host:port`. */
  readonly masterUrl: string;
  /** True when this SUBSCRIBE carried an existing framework id (failover / resubscribe). */
  readonly failover: boolean;
}

/** Why the subscription stream ended (the client reconnects unless closed or rejected). */
export interface DisconnectInfo {
  readonly reason: string;
  /** Delay before the next attempt, undefined when the client will not reconnect. */
  readonly retryInMs: number | undefined;
}

export interface SchedulerEventMap {
  subscribed: (info: SubscribedInfo) => void;
  offers: (offers: readonly Offer[]) => void;
  rescind: (offerId: string) => void;
  update: (status: TaskStatus) => void;
  message: (message: SchedulerEventMessage) => void;
  failure: (failure: SchedulerEventFailure) => void;
  /** Mesos ERROR event (e.g. framework removed), or a SUBSCRIBE the master rejected for good. */
  error: (message: string) => void;
  heartbeat: () => void;
  disconnected: (info: DisconnectInfo) => void;
}

export type SchedulerEventName = keyof SchedulerEventMap;

export class SchedulerListeners {
  private readonly byName = new Map<SchedulerEventName, Set<(...args: never[]) => void>>();

  constructor(private readonly log: Logger) {}

  on<K extends SchedulerEventName>(name: K, fn: SchedulerEventMap[K]): () => void {
    let set = this.byName.get(name);
    if (set === undefined) {
      set = new Set();
      this.byName.set(name, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  emit<K extends SchedulerEventName>(name: K, ...args: Parameters<SchedulerEventMap[K]>): void {
    const set = this.byName.get(name);
    if (set === undefined) return;
    for (const fn of [...set]) {
      try {
        (fn as (...a: Parameters<SchedulerEventMap[K]>) => void)(...args);
      } catch (err) {
        this.log.error({ err, event: name }, 'scheduler event listener threw');
      }
    }
  }

  clear(): void {
    this.byName.clear();
  }
}
