/**
 * Reliable delivery of task status updates to the master (pure core: no I/O;
 * time only through the injected Clock, sending through the `send` callback).
 *
 * A task is (framework id, task id): two frameworks may use the same task id
 * on one agent, and their streams never mix.
 *
 * Per task: a FIFO of updates. Only the head is ever in flight (at most one
 * unacknowledged update per task on the wire), so a framework sees each
 * task's updates in order. The head is re-sent with exponential backoff
 * (initialBackoffMs, ×2, capped at maxBackoffMs) until an ACKNOWLEDGE with its
 * uuid arrives; then it is dropped and the stream is *held*: the next update
 * is sent only on `release(frameworkId, taskId)`, which the agent calls once the ack is
 * checkpointed. So whenever the master has seen update N+1, the ack of N is
 * durable, and a restarted agent re-sends at most the one update that was in
 * flight (Mesos checkpoints ACK records the same way). An ack with another
 * uuid is ignored (a stale or duplicate ack); uuids are compared as bytes
 * (base64 padding differences tolerated).
 *
 * While disconnected (`pause()`), nothing is sent and retry timers do not
 * fire; `resume()` re-sends every head immediately with the backoff reset.
 *
 * Bound: at most MAX_PENDING_PER_TASK updates are queued per task. At the
 * bound a new non-terminal update replaces the newest queued non-terminal one
 * that is not in flight (latest state wins, e.g. a flapping health check); a
 * terminal update is always accepted.
 */
import type { Clock, TimerHandle } from '../common/clock.ts';
import { sameUuid } from '../protocol/ids.ts';
import type { TaskStatus } from './types.ts';

/** Bounds memory for a task whose updates are never acknowledged. */
export const MAX_PENDING_PER_TASK = 100;
/** Mesos' defaults for status update retries. */
export const DEFAULT_INITIAL_BACKOFF_MS = 10_000;
export const DEFAULT_MAX_BACKOFF_MS = 10 * 60_000;
export const BACKOFF_FACTOR = 2;

export interface PendingUpdate {
  frameworkId: string;
  status: TaskStatus;
}

export type AckOutcome =
  | { kind: 'acked'; update: PendingUpdate; remaining: number }
  | { kind: 'stale' }
  | { kind: 'unknown-task' };

export interface StatusUpdateManagerOptions {
  clock: Clock;
  send: (update: PendingUpdate) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  isTerminal: (state: TaskStatus['state']) => boolean;
}

interface Stream {
  queue: PendingUpdate[];
  backoffMs: number;
  timer: TimerHandle | undefined;
  /** Number of times the head has been sent. */
  sends: number;
  /** An ack was taken but not yet checkpointed: the head waits for `release()`. */
  held: boolean;
}

export function describeUpdate(u: PendingUpdate): string {
  return `${u.status.state} task ${u.status.task_id.value} fw ${u.frameworkId} uuid ${u.status.uuid ?? '-'}`;
}

/** The key of a task's stream: task ids are unique only within their framework. */
export function streamKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

export class StatusUpdateManager {
  private readonly streams = new Map<string, Stream>();
  private readonly opts: Required<StatusUpdateManagerOptions>;
  private paused = true;

  constructor(opts: StatusUpdateManagerOptions) {
    this.opts = {
      ...opts,
      initialBackoffMs: opts.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS,
      maxBackoffMs: opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
    };
  }

  /** Queues an update (already checkpointed by the caller); sends it if its task has none in flight. */
  add(update: PendingUpdate): void {
    const key = streamKey(update.frameworkId, update.status.task_id.value);
    let s = this.streams.get(key);
    if (s === undefined) {
      s = { queue: [], backoffMs: this.opts.initialBackoffMs, timer: undefined, sends: 0, held: false };
      this.streams.set(key, s);
    }
    if (s.queue.length >= MAX_PENDING_PER_TASK && !this.opts.isTerminal(update.status.state)) {
      for (let i = s.queue.length - 1; i >= 1; i--) {
        if (!this.opts.isTerminal(s.queue[i].status.state)) {
          s.queue[i] = update;
          return;
        }
      }
    }
    s.queue.push(update);
    if (s.queue.length === 1 && !s.held) this.sendHead(key, s);
  }

  /**
   * Handles an ACKNOWLEDGE: drops the head if `uuid` matches and holds the
   * stream; the next update goes out on `release(frameworkId, taskId)`.
   */
  acknowledge(frameworkId: string, taskId: string, uuid: string): AckOutcome {
    const key = streamKey(frameworkId, taskId);
    const s = this.streams.get(key);
    if (s === undefined) return { kind: 'unknown-task' };
    const head = s.queue[0];
    if (head === undefined || s.held || !sameUuid(head.status.uuid, uuid)) return { kind: 'stale' };
    s.timer?.cancel();
    s.timer = undefined;
    s.queue.shift();
    s.backoffMs = this.opts.initialBackoffMs;
    s.sends = 0;
    if (s.queue.length === 0) this.streams.delete(key);
    else s.held = true;
    return { kind: 'acked', update: head, remaining: s.queue.length };
  }

  /** The ack taken for the task is durable: sends the next update (if any, and not paused). */
  release(frameworkId: string, taskId: string): void {
    const key = streamKey(frameworkId, taskId);
    const s = this.streams.get(key);
    if (s === undefined || !s.held) return;
    s.held = false;
    this.sendHead(key, s);
  }

  /** Stops sending (the master link is down). */
  pause(): void {
    this.paused = true;
    for (const s of this.streams.values()) {
      s.timer?.cancel();
      s.timer = undefined;
    }
  }

  /** Link is up (re-subscribed): re-sends every head now, backoff reset. */
  resume(): void {
    this.paused = false;
    for (const [key, s] of this.streams) {
      s.backoffMs = this.opts.initialBackoffMs;
      if (!s.held) this.sendHead(key, s);
    }
  }

  /** Re-sends the task's head now (e.g. on RECONCILE); false if nothing is pending. */
  resend(frameworkId: string, taskId: string): boolean {
    const key = streamKey(frameworkId, taskId);
    const s = this.streams.get(key);
    if (s === undefined || s.queue.length === 0) return false;
    if (s.held) return true;
    s.timer?.cancel();
    this.sendHead(key, s);
    return true;
  }

  pendingFor(frameworkId: string, taskId: string): readonly PendingUpdate[] {
    return this.streams.get(streamKey(frameworkId, taskId))?.queue ?? [];
  }

  /** Pending updates of every task (for /metrics and checkpoint checks). */
  pendingCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.queue.length;
    return n;
  }

  /** Times the task's head has been sent (0 if none). */
  sendsOfHead(frameworkId: string, taskId: string): number {
    return this.streams.get(streamKey(frameworkId, taskId))?.sends ?? 0;
  }

  /** Drops everything for the task (it is forgotten). */
  forget(frameworkId: string, taskId: string): void {
    const key = streamKey(frameworkId, taskId);
    this.streams.get(key)?.timer?.cancel();
    this.streams.delete(key);
  }

  /** Cancels all timers. */
  stop(): void {
    this.pause();
  }

  private sendHead(key: string, s: Stream): void {
    s.timer?.cancel();
    s.timer = undefined;
    if (this.paused) return;
    const head = s.queue[0];
    if (head === undefined) return;
    s.sends++;
    this.opts.send(head);
    const delay = s.backoffMs;
    s.backoffMs = Math.min(this.opts.maxBackoffMs, s.backoffMs * BACKOFF_FACTOR);
    s.timer = this.opts.clock.setTimer(delay, () => {
      s.timer = undefined;
      if (this.streams.get(key) === s && s.queue[0] === head) this.sendHead(key, s);
    });
  }
}
