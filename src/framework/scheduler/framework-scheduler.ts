/**
 * FrameworkScheduler: the shell that makes the replicated state true in the
 * cluster. It runs only on the Raft leader (the FrameworkNode starts and stops
 * it), subscribes to the master with the framework id kept in the state, and:
 *
 *   status update ──▶ batch ──▶ commit TaskStatuses ──▶ acknowledge
 *   step (timer, kick) ──▶ planner per app ──▶ commit Schedule / Kill /
 *                          FinishDeployment ──▶ send KILLs, REVIVE/SUPPRESS
 *   offers ──▶ placement ──▶ commit Launch ──▶ ACCEPT the launched, DECLINE the rest
 *
 * Invariants:
 *  - nothing is sent to the master before the decision it carries is committed
 *    (Launch before ACCEPT, Kill before KILL); a status is acknowledged only
 *    after it is committed, so a crash re-delivers it rather than losing it;
 *  - one step and one offer round at a time; both are idempotent (re-running
 *    either on the same state issues nothing new);
 *  - a task the state does not know as an instance's current task is killed.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../../common/clock.ts';
import { systemClock } from '../../common/clock.ts';
import { CygnetError, describeError } from '../../common/errors.ts';
import { componentLogger, type Logger } from '../../common/log.ts';
import type { Random } from '../../common/random.ts';
import { systemRandom } from '../../common/random.ts';
import type { Offer, TaskStatus } from '../../protocol/mesos-types.ts';
import { SchedulerClient } from '../sdk/client.ts';
import type { SubscribedInfo } from '../sdk/events.ts';
import type { CommandResult, FrameworkCommand, LaunchDecision, StatusUpdate } from '../state/commands.ts';
import type { FrameworkState } from '../state/framework-state.ts';
import { isTerminalTaskState } from '../state/framework-state.ts';
import type { AppRecord, InstanceRecord } from '../state/model.ts';
import { computePlacement, computeSpreadKillOrder, OfferStatsAccumulator } from '../placement/index.ts';
import type { ConstraintTriple, InstanceRequest, PlacedInstance, ProcessedOffersSummary } from '../placement/types.ts';
import type { Constraint } from '../app/app-definition.ts';
import { computeDeploymentStep } from '../deploy/index.ts';
import type { InstanceStatus, PlannerInstance } from '../deploy/types.ts';
import { constraintToTriple } from '../app/constraints.ts';
import { newInstanceId, taskIdFor } from './ids.ts';
import { buildTaskInfo } from './task-builder.ts';

export interface FrameworkSchedulerOptions {
  readonly state: FrameworkState;
  readonly propose: (cmd: FrameworkCommand) => Promise<CommandResult>;
  readonly masters: readonly string[];
  readonly frameworkName?: string;
  readonly user?: string;
  readonly role?: string;
  /** How long the master keeps our tasks while no replica is subscribed. */
  readonly failoverTimeoutSeconds?: number;
  readonly stepIntervalMs?: number;
  readonly reconcileIntervalMs?: number;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly log?: Logger;
  readonly newUuid?: () => string;
  /** host:port of this replica's API, recorded as the leader for `leader.<domain>`. */
  readonly apiAddress?: string;
}

/** Status updates committed in one TaskStatuses entry at most (a 1,000-instance deploy makes 3,000). */
export const maxStatusBatch = 512;
/** A KILL for an instance still alive is re-sent this often (the master may have lost it). */
export const killResendMs = 5_000;
/** Launched but no status for this long: ask the master (explicit reconcile). */
export const launchReconcileAfterMs = 30_000;
/** Offers declined while nothing waits are refused for this long (Marathon's decline_offer_duration). */
export const idleDeclineSeconds = 120;
/** Offers declined while instances wait (for the wrong agent, say) come back this soon. */
export const busyDeclineSeconds = 1;
/** Explicit reconcile calls carry at most this many tasks. */
const reconcileChunk = 1_000;

export interface QueueEntry {
  readonly appId: string;
  readonly waiting: number;
  readonly delayUntilMs?: number;
  readonly unplacedReasons?: unknown;
}

export class FrameworkScheduler {
  private readonly o: FrameworkSchedulerOptions;
  private readonly state: FrameworkState;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly uuid: () => string;
  private client: SchedulerClient | undefined;
  private stopped = true;
  private subscribed = false;
  private reconciled = false;
  private stepTimer: TimerHandle | undefined;
  private reconcileTimer: TimerHandle | undefined;
  private stepRunning = false;
  private stepAgain = false;
  private offerChain: Promise<void> = Promise.resolve();
  private pendingStatuses: { update: StatusUpdate; raw: TaskStatus }[] = [];
  private statusFlushScheduled = false;
  private statusChain: Promise<void> = Promise.resolve();
  private readonly killSentAt = new Map<string, number>();
  /** When a stuck launch was last asked about (explicit reconcile), per task; pruned with the instance. */
  private readonly reconcileAskedAt = new Map<string, number>();
  private suppressed = false;
  /**
   * Offers were declined with the long idle filter (or we suppressed) since the
   * last REVIVE: new demand must REVIVE, or those agents stay filtered for
   * idleDeclineSeconds.
   */
  private filtersOutstanding = false;
  /**
   * Calls that set or clear the master's offer filters (ACCEPT and DECLINE
   * with refuse_seconds, REVIVE, SUPPRESS) go out in the order they were
   * decided, each batch after the previous one was answered. Sent at once on
   * separate connections, a REVIVE could reach the master before a DECLINE
   * decided earlier: the DECLINE's 120 s filter then stayed, and since the
   * REVIVE had cleared `filtersOutstanding`, nothing revived again (a CI run
   * saw an app wait 60 s+ for its first offer).
   */
  private filterCalls: Promise<void> = Promise.resolve();
  /** Per app with instances waiting: what offers were seen and why they did not fit. */
  private readonly offerStats = new Map<string, OfferStatsAccumulator>();

  constructor(opts: FrameworkSchedulerOptions) {
    this.o = opts;
    this.state = opts.state;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? systemRandom;
    this.log = opts.log ?? componentLogger('framework-scheduler');
    this.uuid = opts.newUuid ?? randomUUID;
  }

  get isSubscribed(): boolean { return this.subscribed; }
  /** Subscribed and the first reconciliation since has been asked: this leader acts. */
  get isReconciled(): boolean { return this.subscribed && this.reconciled; }

  /** Starts acting: subscribes (failover with the stored framework id), then steps. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.subscribed = false;
    this.reconciled = false;
    const fwId = this.state.frameworkId;
    const client = new SchedulerClient({
      masters: this.o.masters,
      frameworkInfo: {
        user: this.o.user ?? 'root',
        name: this.o.frameworkName ?? 'cygnet',
        failover_timeout: this.o.failoverTimeoutSeconds ?? 7 * 24 * 3600,
        checkpoint: true,
        ...(this.o.role !== undefined ? { roles: [this.o.role], capabilities: [{ type: 'PARTITION_AWARE' }, { type: 'MULTI_ROLE' }] } : { capabilities: [{ type: 'PARTITION_AWARE' }] }),
        ...(fwId !== undefined ? { id: { value: fwId } } : {}),
      },
      clock: this.clock,
      random: this.random,
      logger: this.log.child({ sub: 'sdk' }),
    });
    this.client = client;
    client.on('subscribed', (info) => { void this.onSubscribed(info); });
    client.on('offers', (offers) => { this.offerChain = this.offerChain.then(() => this.onOffers(offers)).catch((err: unknown) => this.log.error({ err: describeError(err) }, 'offer round failed')); });
    client.on('update', (s) => this.onUpdate(s));
    client.on('disconnected', (info) => {
      this.subscribed = false;
      this.log.warn({ reason: info.reason }, 'lost master subscription');
    });
    client.on('error', (message) => this.log.error({ message }, 'master refused the framework'));
    client.subscribe().catch((err: unknown) => this.log.error({ err: describeError(err) }, 'subscribe failed'));
    this.scheduleStep(0);
  }

  /** Stops acting (no TEARDOWN: the tasks stay for the next leader). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.subscribed = false;
    this.stepTimer?.cancel();
    this.reconcileTimer?.cancel();
    const c = this.client;
    this.client = undefined;
    await c?.close();
  }

  /** Something changed (an API write): plan soon rather than at the next interval. */
  kick(): void {
    if (!this.stopped) this.scheduleStep(0);
  }

  /** Why the app's waiting instances are not placed, as of the last offer round. */
  unplacedOf(appId: string): unknown[] {
    // Marathon's `lastUnusedOffers` entry, plus which constraints refused the offer.
    return (this.offerStats.get(appId)?.lastUnusedByAgent() ?? []).map((u) => ({
      offer: { id: u.offerId, agentId: u.agentId, hostname: u.hostname },
      reason: u.reasons,
      failedConstraints: u.failedConstraints,
    }));
  }

  /** Marathon's processedOffersSummary for the app, if it has waited for offers. */
  offerSummaryOf(appId: string): ProcessedOffersSummary | undefined {
    return this.offerStats.get(appId)?.summary();
  }

  // ---- subscription ------------------------------------------------------

  private async onSubscribed(info: SubscribedInfo): Promise<void> {
    this.subscribed = true;
    this.suppressed = false;
    this.log.info({ frameworkId: info.frameworkId, failover: info.failover, master: info.masterUrl }, 'subscribed to master');
    try {
      if (this.state.frameworkId !== info.frameworkId) await this.o.propose({ type: 'SetFrameworkId', frameworkId: info.frameworkId });
      const master = info.masterUrl.replace(/^https?:\/\//, '');
      const c = this.state.clusterInfo;
      if (c.master !== master || (this.o.apiAddress !== undefined && c.leader !== this.o.apiAddress)) {
        await this.o.propose({ type: 'SetCluster', master, ...(this.o.apiAddress !== undefined ? { leader: this.o.apiAddress } : {}) });
      }
      await this.reconcileAll();
    } catch (err) {
      this.log.error({ err: describeError(err) }, 'post-subscribe work failed; the periodic reconciliation retries');
    } finally {
      // Launching waits for the first reconciliation to have been asked, not for it to succeed:
      // a master that refuses RECONCILE must not stop every deployment.
      this.reconciled = true;
    }
    this.scheduleReconcile();
    this.kick();
  }

  /** Explicit reconcile of every task we know, then implicit (the master tells of tasks we do not know). */
  private async reconcileAll(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    const tasks: { taskId: string; agentId?: string }[] = [];
    for (const inst of this.state.allInstances()) {
      if (inst.taskId === undefined || inst.phase === 'scheduled') continue;
      tasks.push({ taskId: inst.taskId, ...(inst.agentId !== undefined ? { agentId: inst.agentId } : {}) });
    }
    for (let i = 0; i < tasks.length; i += reconcileChunk) await client.reconcile(tasks.slice(i, i + reconcileChunk));
    await client.reconcile([]);
  }

  private scheduleReconcile(): void {
    this.reconcileTimer?.cancel();
    this.reconcileTimer = this.clock.setTimer(this.o.reconcileIntervalMs ?? 60_000, () => {
      if (this.stopped || !this.subscribed) return;
      this.reconcileAll().catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'periodic reconcile failed'));
      this.scheduleReconcile();
    });
  }

  // ---- status updates ----------------------------------------------------

  private onUpdate(s: TaskStatus): void {
    const update: StatusUpdate = {
      taskId: s.task_id.value,
      state: s.state,
      ...(s.healthy !== undefined ? { healthy: s.healthy } : {}),
      ...(s.agent_id !== undefined ? { agentId: s.agent_id.value } : {}),
      ...(s.message !== undefined ? { message: s.message } : {}),
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      timestampMs: s.timestamp !== undefined ? Math.round(s.timestamp * 1000) : this.clock.nowMs(),
    };
    this.pendingStatuses.push({ update, raw: s });
    if (!this.statusFlushScheduled) {
      this.statusFlushScheduled = true;
      // One microtask of batching: every update of the same stream chunk goes into one entry.
      queueMicrotask(() => {
        this.statusFlushScheduled = false;
        this.statusChain = this.statusChain.then(() => this.flushStatuses()).catch((err: unknown) => this.log.error({ err: describeError(err) }, 'status flush failed'));
      });
    }
  }

  private async flushStatuses(): Promise<void> {
    while (this.pendingStatuses.length > 0 && !this.stopped) {
      const batch = this.pendingStatuses.splice(0, maxStatusBatch);
      const known: typeof batch = [];
      for (const b of batch) {
        const inst = this.state.instanceOfTask(b.update.taskId);
        if (inst !== undefined && inst.taskId === b.update.taskId) known.push(b);
        else if (!isTerminalTaskState(b.update.state)) this.killUnknown(b.update.taskId, b.update.agentId);
      }
      if (known.length > 0) {
        try {
          await this.o.propose({ type: 'TaskStatuses', atMs: this.clock.nowMs(), updates: known.map((b) => b.update) });
        } catch (err) {
          // Not committed: do not acknowledge; the agent re-sends the update.
          this.log.warn({ err: describeError(err), n: known.length }, 'status updates not committed; they will be re-sent');
          continue;
        }
      }
      for (const b of batch) this.client?.acknowledge(b.raw).catch((err: unknown) => this.log.debug({ err: describeError(err) }, 'acknowledge failed'));
      this.kick();
    }
  }

  private killUnknown(taskId: string, agentId: string | undefined): void {
    const last = this.killSentAt.get(taskId);
    const now = this.clock.nowMs();
    if (last !== undefined && now - last < killResendMs) return;
    this.killSentAt.set(taskId, now);
    this.log.info({ taskId }, 'killing a task the state does not know');
    this.client?.kill(taskId, agentId).catch((err: unknown) => this.log.debug({ err: describeError(err) }, 'kill failed'));
  }

  // ---- the step: deployments, replacements, kills ------------------------

  private scheduleStep(delayMs: number): void {
    this.stepTimer?.cancel();
    this.stepTimer = this.clock.setTimer(delayMs, () => { void this.runStep(); });
  }

  private async runStep(): Promise<void> {
    if (this.stopped) return;
    if (this.stepRunning) {
      this.stepAgain = true;
      return;
    }
    this.stepRunning = true;
    try {
      do {
        this.stepAgain = false;
        await this.step();
      } while (this.stepAgain && !this.stopped);
    } catch (err) {
      // A step whose commands could not be committed (leadership lost or in doubt, as in a partition)
      // is expected of a replicated scheduler, and the next step (or the next leader) does it again.
      const uncommitted = err instanceof CygnetError && (err.httpStatus === 503 || err.httpStatus === 504 || err.code === 'CYG_NOT_LEADER');
      if (uncommitted) this.log.warn({ err: describeError(err) }, 'scheduler step failed');
      else this.log.error({ err: describeError(err) }, 'scheduler step failed');
    } finally {
      this.stepRunning = false;
      if (!this.stopped) this.scheduleStep(this.o.stepIntervalMs ?? 1_000);
    }
  }

  private async step(): Promise<void> {
    const now = this.clock.nowMs();
    const schedule: { instanceId: string; appId: string; version: string }[] = [];
    const kill: string[] = [];
    const finished: string[] = [];
    const failed: { id: string; reason: string }[] = [];
    const expire: string[] = [];
    for (const app of this.state.apps()) {
      const instances = this.state.instancesOf(app.id);
      const def = app.current.definition;
      const targets = this.state.targetsOf(app);
      const triples = def.constraints.map(tripleOf);
      // GROUP_BY apps scale down evenly across their groups, as Marathon does.
      const groupBy = triples.some((c) => c[1] === 'GROUP_BY');
      const plan = computeDeploymentStep({
        targets: targets.map((t) => ({ version: t.version, count: t.count })),
        instances: instances.map((i) => this.plannerInstance(i)),
        strategy: def.upgradeStrategy,
        healthCounts: def.healthChecks.length > 0 ? 'healthy' : 'running',
        killSelection: def.killSelection,
        ...(groupBy ? { killPriority: computeSpreadKillOrder(triples, this.placedOf(app.id)) } : {}),
      });
      for (const l of plan.launch) {
        const version = targets.find((t) => t.version === l.version)?.launchVersion;
        if (version === undefined) continue;
        for (let n = 0; n < l.count; n++) schedule.push({ instanceId: newInstanceId(app.id, this.uuid()), appId: app.id, version });
      }
      kill.push(...plan.kill);
      const d = this.state.deploymentOf(app.id);
      if (d !== undefined && plan.done) finished.push(d.id);
      else if (d?.deadlineAtMs !== undefined && now > d.deadlineAtMs) failed.push({ id: d.id, reason: 'deadline exceeded' });
      expire.push(...this.expiredUnreachable(app, instances, now));
    }
    // A deleted app's deployment ends when its last instance is gone.
    for (const d of this.state.deployments()) {
      if (d.kind === 'delete' && this.state.instancesOf(d.appId).length === 0) finished.push(d.id);
    }
    if (schedule.length > 0) await this.o.propose({ type: 'Schedule', atMs: now, instances: schedule });
    if (kill.length > 0) await this.o.propose({ type: 'Kill', atMs: now, instanceIds: kill, reason: 'deployment' });
    if (expire.length > 0) await this.o.propose({ type: 'ExpireUnreachable', atMs: now, instanceIds: expire });
    for (const id of finished) await this.o.propose({ type: 'FinishDeployment', atMs: now, deploymentId: id, outcome: 'success' });
    for (const f of failed) await this.failDeployment(f.id, f.reason, now);
    if (this.subscribed) {
      this.sendKills(now);
      await this.reviveOrSuppress();
      await this.reconcileStuckLaunches(now);
    }
  }

  private async failDeployment(id: string, reason: string, now: number): Promise<void> {
    const d = this.state.deployment(id);
    if (d === undefined) return;
    await this.o.propose({ type: 'FinishDeployment', atMs: now, deploymentId: id, outcome: 'failed', reason });
    const app = this.state.app(d.appId);
    if (!d.rollbackOnDeadline || app === undefined || d.fromVersion === undefined) return;
    const back = app.versions.find((v) => v.version === d.fromVersion);
    if (back === undefined) return;
    this.log.warn({ app: d.appId, to: back.version }, 'deployment missed its deadline; rolling back');
    await this.o.propose({
      type: 'PutApp',
      atMs: now,
      app: { ...back, versionInfo: { ...back.versionInfo } },
      reuseVersion: true,
      force: true,
      deployment: { id: this.uuid(), appId: d.appId, kind: 'rollback', version: back.version, fromVersion: d.version, startedAtMs: now, rollbackOnDeadline: false },
    });
  }

  private plannerInstance(i: InstanceRecord): PlannerInstance {
    let status: InstanceStatus;
    switch (i.phase) {
      case 'scheduled': status = 'scheduled'; break;
      case 'launched': status = 'staging'; break;
      case 'killing': status = 'killing'; break;
      case 'unreachable': status = 'unhealthy'; break;
      case 'running': status = i.healthy === true ? 'healthy' : i.healthy === false ? 'unhealthy' : 'running'; break;
    }
    return { instanceId: i.instanceId, version: i.configVersion, status, ...(i.startedAtMs !== undefined ? { startedAtMs: i.startedAtMs } : {}) };
  }

  private expiredUnreachable(app: AppRecord, instances: readonly InstanceRecord[], now: number): string[] {
    const strategy = app.current.definition.unreachableStrategy;
    if (strategy === 'disabled') return [];
    return instances
      .filter((i) => i.phase === 'unreachable' && i.unreachableSinceMs !== undefined && now - i.unreachableSinceMs >= strategy.inactiveAfterSeconds * 1000)
      .map((i) => i.instanceId);
  }

  private sendKills(now: number): void {
    const client = this.client;
    if (client === undefined) return;
    for (const inst of this.state.allInstances()) {
      if (inst.phase !== 'killing' || inst.taskId === undefined) continue;
      const last = this.killSentAt.get(inst.taskId);
      if (last !== undefined && now - last < killResendMs) continue;
      this.killSentAt.set(inst.taskId, now);
      client.kill(inst.taskId, inst.agentId).catch((err: unknown) => this.log.debug({ err: describeError(err), task: inst.taskId }, 'kill failed'));
    }
    // Forget kill times of tasks that are gone, so the map stays bounded by live tasks.
    for (const taskId of this.killSentAt.keys()) {
      const inst = this.state.instanceOfTask(taskId);
      if ((inst === undefined || inst.taskId !== taskId) && now - (this.killSentAt.get(taskId) ?? 0) > 10 * killResendMs) this.killSentAt.delete(taskId);
    }
  }

  /** Instances that may be launched now: waiting for an offer and past their backoff. */
  private launchable(now: number): InstanceRecord[] {
    const out: InstanceRecord[] = [];
    for (const inst of this.state.allInstances()) {
      if (inst.phase !== 'scheduled' || !this.state.app(inst.appId)) continue;
      if (inst.notBeforeMs !== undefined && inst.notBeforeMs > now) continue;
      out.push(inst);
    }
    return out;
  }

  private async reviveOrSuppress(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    const demand = this.launchable(this.clock.nowMs()).length > 0;
    try {
      if (demand && (this.suppressed || this.filtersOutstanding)) {
        this.suppressed = false;
        this.filtersOutstanding = false;
        await this.inOrder([() => client.revive()]).catch((err: unknown) => {
          // Not revived: the next step tries again rather than waiting out the filters.
          this.filtersOutstanding = true;
          throw err;
        });
      } else if (!demand && !this.suppressed && this.reconciled) {
        this.suppressed = true;
        this.filtersOutstanding = true;
        await this.inOrder([() => client.suppress()]).catch((err: unknown) => {
          this.suppressed = false;
          throw err;
        });
      }
    } catch (err) {
      this.log.debug({ err: describeError(err) }, 'revive/suppress failed');
    }
  }

  /** Runs `calls` together once every filter call decided before them was answered (see `filterCalls`); rejects as the first of them does. */
  private inOrder(calls: readonly (() => Promise<void>)[]): Promise<void> {
    const batch = this.filterCalls.then(() => Promise.all(calls.map((c) => c()))).then(() => undefined);
    this.filterCalls = batch.catch(() => undefined);
    return batch;
  }

  private async reconcileStuckLaunches(now: number): Promise<void> {
    const stuck: { taskId: string; agentId?: string }[] = [];
    for (const inst of this.state.allInstances()) {
      if (inst.phase !== 'launched' || inst.taskId === undefined || inst.stagedAtMs === undefined) continue;
      if (now - inst.stagedAtMs < launchReconcileAfterMs) continue;
      const last = this.reconcileAskedAt.get(inst.taskId);
      if (last !== undefined && now - last < launchReconcileAfterMs) continue;
      this.reconcileAskedAt.set(inst.taskId, now);
      stuck.push({ taskId: inst.taskId, ...(inst.agentId !== undefined ? { agentId: inst.agentId } : {}) });
    }
    for (const taskId of this.reconcileAskedAt.keys()) if (this.state.instanceOfTask(taskId)?.phase !== 'launched') this.reconcileAskedAt.delete(taskId);
    if (stuck.length > 0) await this.client?.reconcile(stuck).catch((err: unknown) => this.log.debug({ err: describeError(err) }, 'reconcile failed'));
  }

  // ---- offers --------------------------------------------------------------

  private async onOffers(offers: readonly Offer[]): Promise<void> {
    const client = this.client;
    if (client === undefined || this.stopped) return;
    const now = this.clock.nowMs();
    const waiting = this.reconciled ? this.launchable(now) : [];
    if (waiting.length === 0) {
      this.filtersOutstanding = true;
      await this.inOrder([() => client.decline(offers.map((o) => o.id.value), { refuse_seconds: idleDeclineSeconds }).catch(() => undefined)]);
      // Demand may have appeared while we declined: the next step revives.
      this.kick();
      return;
    }
    const requests: InstanceRequest[] = [];
    const appIds = new Set<string>();
    for (const inst of waiting) {
      const def = this.state.definitionOf(inst.appId, inst.version);
      if (def === undefined) continue;
      appIds.add(inst.appId);
      requests.push({
        appId: inst.appId,
        instanceId: inst.instanceId,
        cpus: def.cpus,
        memMb: def.mem,
        diskMb: def.disk,
        portCount: def.portDefinitions.length,
        ...(def.requirePorts ? { requiredPorts: def.portDefinitions.map((p) => p.port) } : {}),
        constraints: def.constraints.map(tripleOf),
        role: def.role ?? this.o.role ?? '*',
        acceptedResourceRoles: def.acceptedResourceRoles ?? [],
        // Constraints count only instances of the same configuration (Marathon's rule), so a rolling
        // update of a hostname:UNIQUE app on a full cluster can put new instances beside old ones.
        configVersion: inst.configVersion,
        instances: def.instances,
      });
    }
    for (const o of offers) this.knownAttributes.set(o.agent_id.value, o.attributes ?? []);
    const placed: PlacedInstance[] = [];
    for (const appId of appIds) placed.push(...this.placedOf(appId));
    const result = computePlacement({ offers, requests, placed, nowMs: now, random: this.random });
    for (const round of result.summary.apps) {
      let acc = this.offerStats.get(round.appId);
      if (acc === undefined) {
        acc = new OfferStatsAccumulator();
        this.offerStats.set(round.appId, acc);
      }
      acc.record(round, now);
    }
    // Apps with nobody waiting any more start from nothing next time (Marathon resets it too).
    for (const appId of this.offerStats.keys()) if (!appIds.has(appId)) this.offerStats.delete(appId);

    const decisions: LaunchDecision[] = [];
    for (const l of result.launches) {
      const inst = this.state.instance(l.instanceId);
      if (inst === undefined) continue;
      decisions.push({ instanceId: l.instanceId, incarnation: inst.incarnation + 1, taskId: taskIdFor(l.instanceId, inst.incarnation + 1), agentId: l.agentId, hostname: l.hostname, hostPorts: l.hostPorts });
    }
    let accepted = new Set<string>();
    if (decisions.length > 0) {
      const r = await this.o.propose({ type: 'Launch', atMs: now, launches: decisions });
      accepted = new Set(r.ok ? (r.accepted ?? []) : []);
    }
    const byOffer = new Map<string, { offer: Offer; tasks: ReturnType<typeof buildTaskInfo>[] }>();
    const offerById = new Map(offers.map((o) => [o.id.value, o]));
    for (const l of result.launches) {
      if (!accepted.has(l.instanceId)) continue;
      const inst = this.state.instance(l.instanceId);
      const def = inst && this.state.definitionOf(inst.appId, inst.version);
      const offer = offerById.get(l.offerId);
      if (inst === undefined || def === undefined || offer === undefined || inst.taskId === undefined) continue;
      let entry = byOffer.get(l.offerId);
      if (entry === undefined) {
        entry = { offer, tasks: [] };
        byOffer.set(l.offerId, entry);
      }
      entry.tasks.push(buildTaskInfo(def, { taskId: inst.taskId, agentId: l.agentId, hostname: l.hostname, version: inst.version, resources: l.resources, hostPorts: l.hostPorts }));
    }
    const sends: (() => Promise<void>)[] = [];
    for (const { offer, tasks } of byOffer.values()) {
      sends.push(() => client.launch(offer, tasks, { refuse_seconds: busyDeclineSeconds }).catch((err: unknown) => {
        // The launch is committed; reconciliation finds the tasks lost and they are scheduled again.
        this.log.warn({ err: describeError(err), offer: offer.id.value }, 'ACCEPT failed');
      }));
    }
    const unused = offers.filter((o) => !byOffer.has(o.id.value)).map((o) => o.id.value);
    const stillWaiting = this.launchable(this.clock.nowMs()).length > 0;
    if (!stillWaiting && unused.length > 0) this.filtersOutstanding = true;
    sends.push(() => client.decline(unused, { refuse_seconds: stillWaiting ? busyDeclineSeconds : idleDeclineSeconds }).catch(() => undefined));
    await this.inOrder(sends);
  }

  /** Agent attributes as last offered: constraints on attributes need them for instances placed earlier. */
  private readonly knownAttributes = new Map<string, NonNullable<Offer['attributes']>>();

  /** The app's instances that hold (or held until a relaunch) a place on an agent. */
  private placedOf(appId: string): PlacedInstance[] {
    const out: PlacedInstance[] = [];
    for (const i of this.state.instancesOf(appId)) {
      if (i.agentId === undefined || i.phase === 'scheduled') continue;
      out.push({ appId, instanceId: i.instanceId, agentId: i.agentId, hostname: i.hostname ?? '', attributes: this.knownAttributes.get(i.agentId) ?? [], configVersion: i.configVersion });
    }
    return out;
  }
}

function tripleOf(c: Constraint): ConstraintTriple {
  const [field, operator, value] = constraintToTriple(c);
  return value === undefined ? [field ?? '', operator ?? ''] : [field ?? '', operator ?? '', value];
}
