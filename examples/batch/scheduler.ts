/**
 * BatchFramework: the I/O shell of examples/batch. It wires the SDK's
 * `SchedulerClient` to the pure planner and the state file:
 *
 *   subscribed → save framework id → reconcile (explicit: our active tasks; implicit: all)
 *   offers     → planOffers → save "launching" → LAUNCH (ACCEPT) / DECLINE the rest
 *   update     → applyStatus → save → ACKNOWLEDGE → all jobs over? → TEARDOWN, done
 *
 * Invariants: events are handled one at a time, in arrival order (one work
 * queue), so a decision always sees the state the previous one saved.
 * Nothing is acted on before it is durable: a job is saved as launching
 * before its LAUNCH is sent, and an update is acknowledged only after the
 * state it produced is saved — a SIGKILLed framework restarted on the same
 * state file fails over with its framework id and misses nothing (the agent
 * re-sends unacknowledged updates; reconciliation answers the rest).
 */
import type { Clock, TimerHandle } from '../../src/common/clock.ts';
import { systemClock } from '../../src/common/clock.ts';
import { describeError } from '../../src/common/errors.ts';
import type { Logger } from '../../src/common/log.ts';
import { componentLogger } from '../../src/common/log.ts';
import type { Random } from '../../src/common/random.ts';
import { systemRandom } from '../../src/common/random.ts';
import { SchedulerClient } from '../../src/framework/sdk/index.ts';
import type { Offer, TaskStatus } from '../../src/protocol/mesos-types.ts';
import type { BatchSpec } from './jobs.ts';
import { activeTasks, applyStatus, initialState, isFinished, planOffers, summarize } from './planner.ts';
import { loadState, saveState } from './state-file.ts';
import type { BatchState } from './state-file.ts';

export interface BatchFrameworkOptions {
  readonly masters: readonly string[];
  readonly spec: BatchSpec;
  readonly stateFile: string;
  readonly name: string;
  /** How long the master keeps our tasks while we are gone (Mesos' failover_timeout). */
  readonly failoverTimeoutSec: number;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly log?: Logger;
}

export interface BatchOutcome {
  readonly done: readonly string[];
  readonly failed: readonly string[];
}

/** Unused offers are declined for this long: soon enough to catch a job whose backoff ends. */
export const DECLINE_REFUSE_SECONDS = 1;
/** Explicit reconciliation of active tasks is repeated this often (an answer can be lost with a connection). */
export const RECONCILE_INTERVAL_MS = 15_000;

export class BatchFramework {
  private state: BatchState;
  private readonly client: SchedulerClient;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: Logger;
  private work: Promise<void> = Promise.resolve();
  private reconcileTimer: TimerHandle | undefined;
  private finished = false;
  private settle!: { resolve: (o: BatchOutcome) => void; reject: (e: unknown) => void };
  /** Resolves when every job is done or failed for good (the framework has torn itself down). */
  readonly outcome: Promise<BatchOutcome>;

  private constructor(private readonly opts: BatchFrameworkOptions, saved: BatchState | undefined) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? systemRandom;
    this.log = opts.log ?? componentLogger('batch');
    this.state = initialState(opts.spec, saved);
    this.outcome = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.client = new SchedulerClient({
      masters: opts.masters,
      frameworkInfo: {
        user: process.env.USER ?? 'nobody',
        name: opts.name,
        failover_timeout: opts.failoverTimeoutSec,
        ...(this.state.frameworkId !== undefined ? { id: { value: this.state.frameworkId } } : {}),
      },
      clock: this.clock,
      random: this.random,
    });
    this.client.on('subscribed', (info) => this.enqueue(() => this.onSubscribed(info.frameworkId, info.failover)));
    this.client.on('offers', (offers) => this.enqueue(() => this.onOffers(offers)));
    this.client.on('update', (status) => this.enqueue(() => this.onUpdate(status)));
    this.client.on('error', (message) => this.fail(new Error(`the master ended this framework: ${message}`)));
  }

  /** Loads the state file (failing over with its framework id when there is one) and subscribes. */
  static async start(opts: BatchFrameworkOptions): Promise<BatchFramework> {
    const saved = await loadState(opts.stateFile);
    const fw = new BatchFramework(opts, saved);
    const summary = summarize(opts.spec, fw.state);
    fw.log.info({ stateFile: opts.stateFile, frameworkId: fw.state.frameworkId, jobs: opts.spec.jobs.length, done: summary.done.length, failed: summary.failed.length }, saved ? 'resuming batch' : 'starting batch');
    await fw.client.subscribe();
    fw.scheduleReconcile();
    return fw;
  }

  get frameworkId(): string | undefined {
    return this.state.frameworkId;
  }

  /** Stops without tearing down: the master keeps our tasks for failoverTimeoutSec, so a restart picks up. */
  async close(): Promise<void> {
    this.reconcileTimer?.cancel();
    await this.client.close();
    await this.work;
  }

  // ---- event handlers (run one at a time on the work queue) ----------------

  private async onSubscribed(frameworkId: string, failover: boolean): Promise<void> {
    if (this.state.frameworkId !== undefined && this.state.frameworkId !== frameworkId) {
      // Our failover timeout passed while we were gone: the master forgot us and our tasks.
      this.log.warn({ old: this.state.frameworkId, new: frameworkId }, 'registered under a new framework id; active tasks of the old one will reconcile as lost');
    }
    if (this.state.frameworkId !== frameworkId) await this.save({ ...this.state, frameworkId });
    const active = activeTasks(this.state);
    this.log.info({ frameworkId, failover, reconciling: active.length }, 'subscribed');
    // Explicit for what we think may run (unknown ones come back LOST); implicit for everything the master has.
    if (active.length > 0) await this.client.reconcile(active);
    await this.client.reconcile([]);
    this.maybeFinish();
  }

  private async onOffers(offers: readonly Offer[]): Promise<void> {
    if (this.finished) return;
    const plan = planOffers(this.opts.spec, this.state, offers, this.clock.nowMs());
    if (plan.launches.length > 0) await this.save(plan.state);
    for (const { offer, tasks } of plan.launches) {
      this.log.info({ agent: offer.agent_id.value, tasks: tasks.map((t) => t.task_id.value) }, 'launching');
      this.client.launch(offer, tasks).catch((err: unknown) => {
        // The LAUNCH may or may not have reached the master: ask rather than guess.
        this.log.warn({ err: describeError(err) }, 'launch call failed; reconciling its tasks');
        this.client.reconcile(tasks.map((t) => ({ taskId: t.task_id.value, agentId: offer.agent_id.value }))).catch(() => undefined);
      });
    }
    if (plan.declines.length > 0) this.client.decline(plan.declines, { refuse_seconds: DECLINE_REFUSE_SECONDS }).catch(() => undefined);
  }

  private async onUpdate(status: TaskStatus): Promise<void> {
    const next = applyStatus(this.opts.spec, this.state, status, this.clock.nowMs(), this.random);
    if (next !== this.state) {
      await this.save(next);
      const [jobId] = Object.entries(next.jobs).find(([, j]) => j.taskId === status.task_id.value) ?? [];
      const job = jobId === undefined ? undefined : next.jobs[jobId];
      this.log.info({ job: jobId, task: status.task_id.value, state: status.state, phase: job?.phase, attempts: job?.attempts }, `job ${jobId} ${job?.phase}`);
    }
    if (status.uuid !== undefined) await this.client.acknowledge(status).catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'acknowledge failed; the agent will re-send'));
    this.maybeFinish();
  }

  // ---- helpers ---------------------------------------------------------------

  private maybeFinish(): void {
    if (this.finished || !isFinished(this.state)) return;
    this.finished = true;
    const outcome = summarize(this.opts.spec, this.state);
    this.log.info(outcome, 'batch finished');
    this.reconcileTimer?.cancel();
    // Everything is over: leave for good so the master forgets us (a restart starts nothing new).
    this.client.teardown().then(
      () => this.settle.resolve(outcome),
      (err: unknown) => {
        this.log.warn({ err: describeError(err) }, 'teardown failed');
        this.settle.resolve(outcome);
      },
    );
  }

  private async save(state: BatchState): Promise<void> {
    await saveState(this.opts.stateFile, state);
    this.state = state;
  }

  private enqueue(fn: () => Promise<void>): void {
    this.work = this.work.then(fn).catch((err: unknown) => this.fail(err));
  }

  private fail(err: unknown): void {
    this.log.error({ err: describeError(err) }, 'batch framework failed');
    this.reconcileTimer?.cancel();
    this.settle.reject(err);
  }

  private scheduleReconcile(): void {
    this.reconcileTimer = this.clock.setTimer(RECONCILE_INTERVAL_MS, () => {
      const active = activeTasks(this.state);
      if (active.length > 0 && this.client.state === 'subscribed') this.client.reconcile(active).catch(() => undefined);
      if (!this.finished) this.scheduleReconcile();
    });
  }
}
