/**
 * The agent: wires the master link, task runners, checkpoint store, status
 * update manager and HTTP server together. `startAgent(options)` is the
 * entry point (the CLI and src/executor/main.ts call it).
 *
 * Flow of a status: runner decides (StatusDraft) → agent stamps it (uuid,
 * agent id, timestamp) → checkpoint (fsync) → StatusUpdateManager → UPDATE
 * call. Per task these steps are chained, so updates reach the master in the
 * order the task went through them, and never before they are durable: a
 * failed status (or ack) checkpoint is retried with backoff and counted in
 * /metrics, and the status waits. A task whose launch checkpoint fails is
 * never started; its framework gets TASK_FAILED saying why.
 *
 * An unreadable checkpoint (EACCES, EIO, corrupt) stops the agent at start
 * with an error naming the file, unless `discardUnreadableCheckpoints`.
 *
 * Recovery (`startAgent` on a work dir with meta/): tasks whose supervisor is
 * alive are re-attached; those that exited meanwhile report their real exit
 * (from the supervisor's exit file) or TASK_FAILED/REASON_EXECUTOR_TERMINATED;
 * unacknowledged updates are re-queued with their original uuids and re-sent
 * once the master answers SUBSCRIBED.
 *
 * A task is (framework id, task id): two frameworks may launch the same task
 * id here. The task table, the update streams, the checkpoints
 * (meta/frameworks/<fw>/tasks/<task>.json) and the UPDATE call all carry both.
 *
 * Acks: an ACKNOWLEDGE is checkpointed before the task's next update is sent
 * (StatusUpdateManager holds the stream until `release`), so after a restart
 * only the update that was in flight is re-sent. The SUBSCRIBE call carries
 * tasks[i], task_statuses[i] and frameworks[i] for the same task (TaskInfo
 * has no framework id). Supervisor starts go through a LaunchGate.
 */
import { mkdir } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { isIPv6, type AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../common/clock.ts';
import { describeError } from '../common/errors.ts';
import { keepIdleConnections } from '../common/keep-alive.ts';
import { componentLogger, type Logger } from '../common/log.ts';
import { systemRandom, type Random } from '../common/random.ts';
import type { AgentCallSubscribe, AgentEvent } from '../protocol/agent-types.ts';
import { describeEvent, describeTaskStatus } from '../protocol/describe.ts';
import { newUuid } from '../protocol/ids.ts';
import type { MediaType } from '../protocol/media.ts';
import { isTerminal } from '../protocol/task-states.ts';
import { computeAgentAttributes, computeAgentResources, detectHostFacts } from './agent-resources.ts';
import { createAgentApp, type AgentView } from './agent-server.ts';
import type { CheckpointFs } from './checkpoint-fs.ts';
import { CheckpointStore, type TaskCheckpoint } from './checkpoint-store.ts';
import { fetchTaskUris } from './fetcher.ts';
import { HealthMonitor } from './health-monitor.ts';
import { LaunchGate } from './launch-gate.ts';
import { MasterLink } from './master-link.ts';
import { checkIdComponent, sandboxDir } from './sandbox.ts';
import { StatusUpdateManager, streamKey } from './status-update-manager.ts';
import { TaskRunner, killGraceMs, type StatusDraft } from './task-runner.ts';
import type { ProcessIdentity } from './task-process.ts';
import type { AgentInfo, Attribute, FrameworkInfo, KillPolicy, Resource, TaskInfo, TaskStatus } from './types.ts';

export interface AgentOptions {
  /** host:port of the master. */
  master: string;
  /** HTTP port of the agent (0 = ephemeral). */
  port: number;
  /** Address the HTTP server binds to and advertises. */
  ip: string;
  /** Address advertised to the master and used by health checks when `ip` is a wildcard (default: `ip`). */
  advertiseIp?: string;
  /** Hostname advertised in AgentInfo and given to tasks as HOST (default: advertiseIp, else ip, else os.hostname()). */
  hostname?: string;
  workDir: string;
  /** Mesos syntax overrides, e.g. `cpus:4;mem:2048;ports:[31000-32000]`. */
  resources?: string;
  attributes?: string;
  /** Interval of HEARTBEAT calls unless the master asks for another (default 5000). */
  heartbeatIntervalMs?: number;
  /** First status-update retry delay (default 10000, Mesos' default). */
  statusRetryInitialMs?: number;
  statusRetryMaxMs?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** Wire format towards the master (default protobuf). */
  media?: MediaType;
  /** Cap of each stdout/stderr file per task (default 10 MiB). */
  logCapBytes?: number;
  /** Supervisor starts allowed at once (default DEFAULT_MAX_CONCURRENT_LAUNCHES); later launches queue FIFO. */
  maxConcurrentLaunches?: number;
  /** Skip (and log) checkpoints that cannot be read instead of refusing to start. Default false. */
  discardUnreadableCheckpoints?: boolean;
  /** First delay before retrying a failed checkpoint write (default CHECKPOINT_RETRY_INITIAL_MS). */
  checkpointRetryInitialMs?: number;
  /** The disk under the checkpoints (tests inject one that fails). Default node:fs. */
  checkpointFs?: CheckpointFs;
  clock?: Clock;
  random?: Random;
}

export interface AgentHandle {
  readonly port: number;
  agentId(): string | undefined;
  /** Stops the server and the master link; tasks keep running (like a killed agent). */
  close(): Promise<void>;
  /** Kills every task (waiting for them to exit), then closes. */
  shutdown(): Promise<void>;
}

interface TaskEntry {
  frameworkId: string;
  task: TaskInfo;
  runUuid: string;
  sandbox: string;
  runner?: TaskRunner;
  health?: HealthMonitor;
  killedByHealthCheck?: boolean;
  process?: ProcessIdentity;
  latest?: TaskStatus;
  /** The latest status known to be checkpointed: the only one a re-SUBSCRIBE may report. */
  durableLatest?: TaskStatus;
  /** Serializes checkpoint-then-enqueue per task. */
  chain: Promise<void>;
}

export const DEFAULT_AGENT_HEARTBEAT_MS = 5000;
/**
 * A failed checkpoint write is retried for as long as the agent runs — reporting without it
 * would break "a restarted agent knows every status it reported" — backing off from this…
 */
export const CHECKPOINT_RETRY_INITIAL_MS = 100;
/** …doubling up to this, so a disk that stays broken costs one attempt per task every few seconds. */
export const CHECKPOINT_RETRY_MAX_MS = 5000;
/** shutdown() gives each task at most this long between SIGTERM and SIGKILL (bounds Ctrl-C of a local cluster). */
export const SHUTDOWN_MAX_GRACE_MS = 2000;

export async function startAgent(options: AgentOptions): Promise<AgentHandle> {
  const agent = new AgentNode(options);
  await agent.start();
  return agent;
}

class AgentNode implements AgentHandle, AgentView {
  private readonly opts: AgentOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly store: CheckpointStore;
  private readonly sum: StatusUpdateManager;
  private readonly link: MasterLink;
  private readonly launchGate: LaunchGate;
  /** By streamKey(frameworkId, taskId). */
  readonly tasks = new Map<string, TaskEntry>();
  readonly frameworks = new Map<string, FrameworkInfo>();
  /** Last FrameworkInfo checkpointed per framework id, so each launch does not rewrite it. */
  private readonly frameworkWrites = new Map<string, { json: string; done: Promise<void> }>();
  private id: string | undefined;
  private closed = false;
  private checkpointFailureCount = 0;
  /** Wakes checkpoint retries that are waiting out their backoff (close() ends them at once). */
  private readonly retryWakeups = new Set<() => void>();
  private server: Server | undefined;
  private portValue = 0;
  resources: Resource[] = [];
  attributes: Attribute[] = [];
  readonly hostname: string;
  readonly startedAtMs: number;

  constructor(opts: AgentOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.log = componentLogger('agent');
    this.hostname = opts.hostname ?? opts.advertiseIp ?? (opts.ip === '0.0.0.0' ? osHostname() : opts.ip);
    this.startedAtMs = this.clock.nowMs();
    this.store = new CheckpointStore(opts.workDir, opts.checkpointFs);
    this.launchGate = new LaunchGate(opts.maxConcurrentLaunches);
    this.sum = new StatusUpdateManager({
      clock: this.clock,
      initialBackoffMs: opts.statusRetryInitialMs,
      maxBackoffMs: opts.statusRetryMaxMs,
      isTerminal,
      send: (u) => { void this.link.sendUpdate(u.frameworkId, u.status); },
    });
    this.link = new MasterLink({
      master: opts.master,
      media: opts.media ?? 'application/x-protobuf',
      clock: this.clock,
      random: opts.random ?? systemRandom,
      log: this.log,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? DEFAULT_AGENT_HEARTBEAT_MS,
      reconnectInitialMs: opts.reconnectInitialMs,
      reconnectMaxMs: opts.reconnectMaxMs,
      buildSubscribe: () => this.buildSubscribe(),
      onEvent: (e) => this.handleEvent(e),
      onSubscribed: (id) => this.handleSubscribed(id),
      onDisconnected: () => this.sum.pause(),
    });
  }

  get port(): number {
    return this.portValue;
  }

  agentId(): string | undefined {
    return this.id;
  }

  connected(): boolean {
    return this.link.state === 'subscribed';
  }

  pendingUpdates(): number {
    return this.sum.pendingCount();
  }

  checkpointFailures(): number {
    return this.checkpointFailureCount;
  }

  async start(): Promise<void> {
    await mkdir(this.opts.workDir, { recursive: true });
    this.resources = computeAgentResources(await detectHostFacts(this.opts.workDir).catch(() => ({ cpus: 1, memTotalMb: 0, diskTotalMb: 0 })), this.opts.resources);
    this.attributes = computeAgentAttributes(this.opts.attributes);
    await this.recover();
    const app = createAgentApp(this, this.opts.workDir);
    try {
      await new Promise<void>((resolve, reject) => {
        const server = app.listen(this.opts.port, this.opts.ip, (err?: Error) => (err ? reject(err) : resolve()));
        keepIdleConnections(server);
        this.server = server;
        server.once('error', reject);
      });
    } catch (err) {
      await this.close();
      throw err;
    }
    this.portValue = (this.server!.address() as AddressInfo).port;
    this.link.start();
    this.log.info({ port: this.portValue, master: this.opts.master, tasks: this.tasks.size }, 'agent started');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.retryWakeups) wake();
    await this.link.close();
    this.sum.stop();
    for (const e of this.tasks.values()) {
      e.health?.stop();
      e.runner?.detach();
    }
    await Promise.allSettled([...this.tasks.values()].map((e) => e.chain));
    await this.store.idle();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  async shutdown(): Promise<void> {
    const runners = [...this.tasks.values()].flatMap((e) => (e.runner ? [e.runner] : []));
    for (const r of runners) {
      const graceMs = Math.min(killGraceMs(r.task.kill_policy), SHUTDOWN_MAX_GRACE_MS);
      r.kill({ grace_period: { nanoseconds: graceMs * 1e6 } }, 'agent shut down');
    }
    await Promise.allSettled(runners.map((r) => r.done));
    await this.close();
  }

  // ---- recovery -------------------------------------------------------

  private async recover(): Promise<void> {
    const state = await this.store.recover({ discardUnreadable: this.opts.discardUnreadableCheckpoints === true });
    for (const p of state.problems) this.log.error({ problem: p }, 'unreadable checkpoint discarded (--discard-unreadable-checkpoints)');
    this.id = state.agentId;
    for (const [id, fw] of state.frameworks) {
      this.frameworks.set(id, fw);
      this.frameworkWrites.set(id, { json: JSON.stringify(fw), done: Promise.resolve() });
    }
    for (const cp of state.tasks) this.recoverTask(cp);
  }

  private recoverTask(cp: TaskCheckpoint): void {
    const entry: TaskEntry = { frameworkId: cp.frameworkId, task: cp.task, runUuid: cp.runUuid, sandbox: cp.sandbox, process: cp.process, latest: cp.latest, durableLatest: cp.latest, chain: Promise.resolve() };
    const taskId = cp.task.task_id.value;
    this.tasks.set(streamKey(cp.frameworkId, taskId), entry);
    for (const status of cp.pending) this.sum.add({ frameworkId: cp.frameworkId, status });
    if (cp.latest !== undefined && isTerminal(cp.latest.state)) {
      if (cp.pending.length === 0) this.forget(entry);
      return;
    }
    const runner = this.newRunner(entry);
    if (cp.process !== undefined && cp.process.taskPid > 0) {
      this.log.info({ taskId, frameworkId: cp.frameworkId, pid: cp.process.taskPid }, 'recovering task');
      runner.recover(cp.process);
      if (cp.latest?.state === 'TASK_RUNNING') this.startHealth(entry);
    } else {
      runner.recoverWithoutProcess();
    }
  }

  // ---- events from the master -------------------------------------------

  private handleSubscribed(agentId: string): void {
    if (this.id !== agentId) {
      this.id = agentId;
      void this.store.writeAgentId(agentId).catch((err: unknown) => this.log.error({ err: describeError(err) }, 'cannot checkpoint agent id'));
    }
    this.sum.resume();
  }

  private handleEvent(event: AgentEvent): void {
    if (event.type !== 'HEARTBEAT' && event.type !== 'ACKNOWLEDGE') this.log.info({ event: describeEvent(event) }, 'event from master');
    switch (event.type) {
      case 'LAUNCH': return this.handleLaunch(event);
      case 'KILL': return this.handleKill(event);
      case 'ACKNOWLEDGE': return this.handleAcknowledge(event);
      case 'SHUTDOWN_FRAMEWORK': return this.handleShutdownFramework(event);
      case 'RECONCILE': return this.handleReconcile(event);
      case 'HEARTBEAT': return;
      case 'ERROR': this.log.error({ message: event.error?.message }, 'master sent ERROR'); return;
      default: this.log.warn({ type: event.type }, 'unexpected event ignored');
    }
  }

  private handleLaunch(event: AgentEvent): void {
    const launch = event.launch;
    const task = launch?.task;
    const frameworkId = launch?.framework_info?.id?.value;
    if (task === undefined || frameworkId === undefined || typeof task.task_id?.value !== 'string') {
      this.log.warn('LAUNCH without task or framework id ignored');
      return;
    }
    const taskId = task.task_id.value;
    const key = streamKey(frameworkId, taskId);
    if (this.tasks.has(key)) {
      this.log.info({ taskId, frameworkId }, 'duplicate LAUNCH ignored');
      return;
    }
    try {
      checkIdComponent('launch.task.task_id.value', taskId);
      checkIdComponent('launch.framework_info.id.value', frameworkId);
    } catch (err) {
      this.sendUncheckpointed(frameworkId, { task_id: task.task_id, state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID', source: 'SOURCE_AGENT', message: describeError(err) });
      return;
    }
    // A Docker task is not run as a process on the host with its image ignored: it fails as on a Mesos agent
    // whose only containerizer is `mesos` (the composing containerizer's words).
    const docker = task.container?.type === 'DOCKER' ? task.container : task.executor?.container?.type === 'DOCKER' ? task.executor.container : undefined;
    if (docker !== undefined) {
      this.sendUncheckpointed(frameworkId, {
        task_id: task.task_id, state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', source: 'SOURCE_AGENT',
        message: `Failed to launch container: None of the enabled containerizers (mesos) could create a container for the provided TaskInfo/ExecutorInfo message: cygnet agents run tasks as processes, not Docker images${docker.docker?.image !== undefined ? ` (${docker.docker.image})` : ''}`,
      });
      return;
    }
    const runUuid = randomUUID();
    const entry: TaskEntry = { frameworkId, task, runUuid, sandbox: sandboxDir(this.opts.workDir, frameworkId, taskId, runUuid), chain: Promise.resolve() };
    this.tasks.set(key, entry);
    this.frameworks.set(frameworkId, launch!.framework_info);
    const runner = this.newRunner(entry);
    // Not started unless durable: a task the agent would forget on restart must not run.
    entry.chain = this.persistFramework(launch!.framework_info).then(() => this.checkpoint(entry)).then(
      () => { void runner.start(); },
      (err: unknown) => this.failLaunch(entry, err),
    );
  }

  /** The launch could not be checkpointed: the task never starts and its framework hears why. */
  private failLaunch(entry: TaskEntry, err: unknown): void {
    const taskId = entry.task.task_id.value;
    this.checkpointFailureCount++;
    this.log.error({ err: describeError(err), taskId, frameworkId: entry.frameworkId }, 'cannot checkpoint launched task; not starting it');
    entry.runner?.detach();
    this.tasks.delete(streamKey(entry.frameworkId, taskId));
    this.sum.forget(entry.frameworkId, taskId);
    this.sendUncheckpointed(entry.frameworkId, {
      task_id: entry.task.task_id, state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', source: 'SOURCE_AGENT',
      message: `Task not started: the agent could not checkpoint it: ${describeError(err)}`,
    });
  }

  /** Checkpoints a FrameworkInfo unless the same one is already written (or being written). */
  private persistFramework(info: FrameworkInfo): Promise<void> {
    const id = info.id?.value ?? '';
    const json = JSON.stringify(info);
    const prev = this.frameworkWrites.get(id);
    if (prev?.json === json) return prev.done;
    const done = this.store.writeFramework(info);
    this.frameworkWrites.set(id, { json, done });
    done.catch(() => { if (this.frameworkWrites.get(id)?.done === done) this.frameworkWrites.delete(id); });
    return done;
  }

  private handleKill(event: AgentEvent): void {
    const taskId = event.kill?.task_id?.value;
    const frameworkId = event.kill?.framework_id?.value;
    if (taskId === undefined || frameworkId === undefined) return;
    const entry = this.tasks.get(streamKey(frameworkId, taskId));
    if (entry?.runner !== undefined && entry.runner.phase !== 'terminated') {
      entry.runner.kill(event.kill?.kill_policy as KillPolicy | undefined);
      return;
    }
    if (entry === undefined) {
      this.sendUncheckpointed(frameworkId, {
        task_id: { value: taskId }, state: 'TASK_LOST', reason: 'REASON_TASK_UNKNOWN', source: 'SOURCE_AGENT', message: 'Attempted to kill an unknown task',
      });
    }
  }

  private handleAcknowledge(event: AgentEvent): void {
    const ack = event.acknowledge;
    const frameworkId = ack?.framework_id?.value;
    if (ack?.task_id?.value === undefined || frameworkId === undefined || typeof ack.uuid !== 'string') return;
    const out = this.sum.acknowledge(frameworkId, ack.task_id.value, ack.uuid);
    if (out.kind !== 'acked') return;
    const entry = this.tasks.get(streamKey(frameworkId, ack.task_id.value));
    if (entry === undefined) return;
    if (out.remaining === 0 && isTerminal(out.update.status.state)) {
      this.forget(entry);
      return;
    }
    // The ack is made durable before the next update goes out (see StatusUpdateManager).
    const taskId = ack.task_id.value;
    entry.chain = entry.chain
      .then(() => this.durably(entry, 'acknowledgement', () => this.checkpoint(entry)))
      .then(() => this.sum.release(frameworkId, taskId), () => undefined);
  }

  private handleShutdownFramework(event: AgentEvent): void {
    const fw = event.shutdown_framework?.framework_id?.value;
    for (const e of this.tasks.values()) {
      if (e.frameworkId === fw) e.runner?.kill(undefined, 'framework shut down');
    }
  }

  /** Re-sends the latest status of the named tasks (all when none) of one framework (any when none given). */
  private handleReconcile(event: AgentEvent): void {
    const fw = event.reconcile?.framework_id?.value;
    const ids = event.reconcile?.task_ids?.map((t) => t.value) ?? [];
    const ofFramework = [...this.tasks.values()].filter((e) => fw === undefined || e.frameworkId === fw);
    const wanted = ids.length > 0 ? ids.map((id) => ({ id, entries: ofFramework.filter((e) => e.task.task_id.value === id) })) : ofFramework.map((e) => ({ id: e.task.task_id.value, entries: [e] }));
    for (const { id, entries } of wanted) {
      if (entries.length === 0) {
        this.sendUncheckpointed(fw ?? '', { task_id: { value: id }, state: 'TASK_LOST', reason: 'REASON_RECONCILIATION', source: 'SOURCE_AGENT', message: 'Task unknown to the agent' });
      }
      for (const entry of entries) {
        if (!this.sum.resend(entry.frameworkId, id) && entry.latest !== undefined) {
          const { state, message, reason, source, healthy } = entry.latest;
          this.report(entry, { state, message, reason, source, healthy });
        }
      }
    }
  }

  // ---- statuses -----------------------------------------------------------

  private newRunner(entry: TaskEntry): TaskRunner {
    const runner = new TaskRunner({
      task: entry.task,
      frameworkId: entry.frameworkId,
      agentId: this.id ?? '',
      sandbox: entry.sandbox,
      host: this.hostname,
      clock: this.clock,
      logCapBytes: this.opts.logCapBytes,
      fetch: (task, sandbox, signal) => fetchTaskUris(task, sandbox, signal),
      onStatus: (draft) => {
        if (isTerminal(draft.state)) {
          entry.health?.stop();
          if (entry.killedByHealthCheck) draft = { ...draft, healthy: false };
        }
        this.report(entry, draft);
      },
      onProcess: (identity) => { entry.process = identity; },
      onRunning: () => this.startHealth(entry),
      launchGate: (fn) => this.launchGate.run(fn),
    });
    entry.runner = runner;
    return runner;
  }

  /** The address tasks are reached at: they share the agent's network. */
  private get taskIp(): string {
    return this.opts.advertiseIp ?? (this.opts.ip === '0.0.0.0' ? '127.0.0.1' : this.opts.ip);
  }

  private startHealth(entry: TaskEntry): void {
    const check = entry.task.health_check;
    if (check === undefined || entry.health !== undefined) return;
    entry.health = new HealthMonitor({
      check,
      host: this.taskIp,
      sandbox: entry.sandbox,
      clock: this.clock,
      env: entry.runner?.taskEnv() ?? {},
      onHealthChanged: (healthy) => {
        if (entry.runner?.phase === 'running') this.report(entry, { state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', healthy });
      },
      onKill: (message) => {
        entry.killedByHealthCheck = true;
        entry.runner?.kill(undefined, message);
      },
    });
    entry.health.start();
  }

  /** Stamps, checkpoints, then queues a status for delivery (in order per task). */
  private report(entry: TaskEntry, draft: StatusDraft): void {
    if (this.closed) return;
    const status: TaskStatus = {
      task_id: entry.task.task_id,
      state: draft.state,
      source: draft.source ?? 'SOURCE_AGENT',
      agent_id: { value: this.id ?? entry.task.agent_id?.value ?? '' },
      // A command task's executor is named after the task, as Mesos' command executor is.
      executor_id: entry.task.executor?.executor_id ?? { value: entry.task.task_id.value },
      timestamp: this.clock.nowMs() / 1000,
      uuid: newUuid(),
      // Mesos' agent adds the container's network to every executor update, the agent's address when the
      // task shares its network (as all of cygnet's do): DNS and balancers that read task IPs from it ("netinfo").
      container_status: { network_infos: [{ ip_addresses: [{ protocol: isIPv6(this.taskIp) ? 'IPv6' : 'IPv4', ip_address: this.taskIp }] }] },
    };
    if (draft.message !== undefined) status.message = draft.message;
    if (draft.reason !== undefined) status.reason = draft.reason;
    if (draft.healthy !== undefined) status.healthy = draft.healthy;
    else if (entry.latest?.healthy !== undefined && !isTerminal(draft.state)) status.healthy = entry.latest.healthy;
    entry.latest = status;
    this.log.info({ status: describeTaskStatus(status) }, 'status');
    entry.chain = entry.chain
      .then(() => this.durably(entry, `status ${status.state}`, () => this.checkpoint(entry, status)))
      .then(() => {
        entry.durableLatest = status;
        this.sum.add({ frameworkId: entry.frameworkId, status });
      }, () => undefined);
  }

  /**
   * Runs a checkpoint write until it succeeds, retrying with backoff (CHECKPOINT_RETRY_*);
   * each failure is logged and counted. Rejects only if the agent closes first: then what
   * it was to make durable is not reported at all.
   */
  private async durably(entry: TaskEntry, what: string, write: () => Promise<void>): Promise<void> {
    let delayMs = this.opts.checkpointRetryInitialMs ?? CHECKPOINT_RETRY_INITIAL_MS;
    for (;;) {
      try {
        return await write();
      } catch (err) {
        this.checkpointFailureCount++;
        this.log.error({ err: describeError(err), taskId: entry.task.task_id.value, frameworkId: entry.frameworkId, retryInMs: delayMs }, `cannot checkpoint ${what}; not reporting it until it is durable`);
      }
      if (this.closed) throw new Error('agent closed before the checkpoint succeeded');
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          timer.cancel();
          this.retryWakeups.delete(wake);
          resolve();
        };
        const timer = this.clock.setTimer(delayMs, wake);
        this.retryWakeups.add(wake);
      });
      if (this.closed) throw new Error('agent closed before the checkpoint succeeded');
      delayMs = Math.min(CHECKPOINT_RETRY_MAX_MS, delayMs * 2);
    }
  }

  private checkpoint(entry: TaskEntry, extra?: TaskStatus): Promise<void> {
    const pending = this.sum.pendingFor(entry.frameworkId, entry.task.task_id.value).map((u) => u.status);
    if (extra !== undefined) pending.push(extra);
    const cp: TaskCheckpoint = { frameworkId: entry.frameworkId, task: entry.task, runUuid: entry.runUuid, sandbox: entry.sandbox, pending };
    if (entry.process !== undefined) cp.process = entry.process;
    if (entry.latest !== undefined) cp.latest = entry.latest;
    return this.store.writeTask(cp);
  }

  private sendUncheckpointed(frameworkId: string, draft: TaskStatus): void {
    this.sum.add({ frameworkId, status: { ...draft, agent_id: { value: this.id ?? '' }, timestamp: this.clock.nowMs() / 1000, uuid: newUuid() } });
  }

  private forget(entry: TaskEntry): void {
    const taskId = entry.task.task_id.value;
    entry.health?.stop();
    this.tasks.delete(streamKey(entry.frameworkId, taskId));
    this.sum.forget(entry.frameworkId, taskId);
    entry.chain = entry.chain.then(() => this.store.removeTask(entry.frameworkId, taskId)).catch((err: unknown) => {
      this.log.error({ err: describeError(err), taskId }, 'cannot remove task checkpoint');
    });
  }

  private buildSubscribe(): AgentCallSubscribe {
    const info: AgentInfo = { hostname: this.hostname, port: this.portValue, resources: this.resources, attributes: this.attributes };
    if (this.id !== undefined) info.id = { value: this.id };
    // TaskInfo carries no framework id: tasks[i] and frameworks[i] describe one task.
    const tasks: TaskInfo[] = [];
    const statuses: TaskStatus[] = [];
    const statusFrameworks: { value: string }[] = [];
    const frameworks: FrameworkInfo[] = [];
    // A task launched but not yet STARTING has no status: it is still reported
    // (the master matches statuses by framework and task id and keeps it STAGING), otherwise
    // the master would think it gone and mark it lost.
    for (const e of this.tasks.values()) {
      tasks.push(e.task);
      if (e.durableLatest !== undefined) {
        statuses.push(e.durableLatest);
        statusFrameworks.push({ value: e.frameworkId });
      }
      frameworks.push(this.frameworks.get(e.frameworkId) ?? { user: '', name: '', id: { value: e.frameworkId } });
    }
    return { agent_info: info, tasks, task_statuses: statuses, frameworks, task_status_framework_ids: statusFrameworks };
  }
}
