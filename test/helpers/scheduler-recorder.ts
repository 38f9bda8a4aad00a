/**
 * Records everything a SchedulerClient emits and lets a test await a
 * condition on it ("an update for task t with state TASK_RUNNING") without
 * sleeping: waiters are re-checked on every event, with a generous deadline.
 */
import type { SchedulerClient } from '../../src/framework/sdk/index.ts';
import type { DisconnectInfo, SubscribedInfo } from '../../src/framework/sdk/index.ts';
import type { Offer, SchedulerEventFailure, TaskState, TaskStatus } from '../../src/protocol/mesos-types.ts';

export class SchedulerRecorder {
  readonly subscribed: SubscribedInfo[] = [];
  readonly offers: Offer[] = [];
  readonly rescinded: string[] = [];
  readonly updates: TaskStatus[] = [];
  readonly failures: SchedulerEventFailure[] = [];
  readonly errors: string[] = [];
  readonly disconnects: DisconnectInfo[] = [];
  heartbeats = 0;
  private waiters = new Set<() => void>();

  constructor(client: SchedulerClient) {
    client.on('subscribed', (i) => this.push(() => this.subscribed.push(i)));
    client.on('offers', (o) => this.push(() => this.offers.push(...o)));
    client.on('rescind', (id) => this.push(() => this.rescinded.push(id)));
    client.on('update', (s) => this.push(() => this.updates.push(s)));
    client.on('failure', (f) => this.push(() => this.failures.push(f)));
    client.on('error', (m) => this.push(() => this.errors.push(m)));
    client.on('disconnected', (d) => this.push(() => this.disconnects.push(d)));
    client.on('heartbeat', () => this.push(() => { this.heartbeats++; }));
  }

  /** Resolves with `probe()`'s first non-undefined result; rejects after `timeoutMs` naming `what`. */
  waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const v = probe();
        if (v === undefined) return false;
        cleanup();
        resolve(v);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; updates seen: ${this.describeUpdates()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      if (!check()) this.waiters.add(check);
    });
  }

  /** The first update for `taskId` in `state` received after index `from`. */
  waitForState(taskId: string, state: TaskState, timeoutMs = 30_000, from = 0): Promise<TaskStatus> {
    return this.waitFor(`${taskId} ${state}`, () => this.updates.slice(from).find((u) => u.task_id.value === taskId && u.state === state), timeoutMs);
  }

  /** Offers that arrived and are not rescinded, optionally only after index `from`. */
  takeOffer(what = 'an offer', from = 0, timeoutMs = 30_000): Promise<Offer> {
    return this.waitFor(what, () => this.offers.slice(from).find((o) => !this.rescinded.includes(o.id.value)), timeoutMs);
  }

  describeUpdates(): string {
    return this.updates.map((u) => `${u.task_id.value}:${u.state}`).join(' ') || '(none)';
  }

  private push(record: () => void): void {
    record();
    for (const w of [...this.waiters]) w();
  }
}
