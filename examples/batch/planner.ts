/**
 * The batch framework's decisions, as pure functions of (spec, state, input,
 * now): which offers to use for which jobs, what a status update means for a
 * job, which tasks to reconcile, and whether the batch is over. The shell
 * (scheduler.ts) saves the returned state before it acts on it.
 *
 *   waiting ──offer fits, under the concurrency limit──▶ launching ──STAGING/RUNNING──▶ running
 *      ▲                                                     │                             │
 *      └──── failed attempt, retries left (after backoff) ◀──┴──────── FAILED/LOST/... ◀───┤
 *   failed ◀── failed attempt, no retries left                   done ◀── FINISHED ◀──────┘
 *
 * A task id is `<job>.<attempt>`, so an update about an earlier attempt is
 * recognised as stale and only acknowledged. No I/O here; randomness (backoff
 * jitter) comes in as a `Random`.
 */
import type { Random } from '../../src/common/random.ts';
import { computeBackoffMs, commandTask, offerScalar } from '../../src/framework/sdk/index.ts';
import type { Offer, TaskInfo, TaskState, TaskStatus } from '../../src/protocol/mesos-types.ts';
import type { BatchSpec, JobSpec } from './jobs.ts';
import type { BatchState, JobState } from './state-file.ts';

export interface Launch {
  readonly offer: Offer;
  readonly tasks: readonly TaskInfo[];
}

export interface OfferPlan {
  readonly state: BatchState;
  readonly launches: readonly Launch[];
  /** Offers with nothing to run on them. */
  readonly declines: readonly string[];
}

/** The saved state with every job of `spec` present (new jobs waiting). */
export function initialState(spec: BatchSpec, saved: BatchState | undefined): BatchState {
  const jobs: Record<string, JobState> = {};
  for (const j of spec.jobs) jobs[j.id] = saved?.jobs[j.id] ?? { phase: 'waiting', attempts: 0 };
  return { version: 1, ...(saved?.frameworkId !== undefined ? { frameworkId: saved.frameworkId } : {}), jobs };
}

export function taskIdOf(jobId: string, attempt: number): string {
  return `${jobId}.${attempt}`;
}

function jobIdOf(taskId: string): string {
  const dot = taskId.lastIndexOf('.');
  return dot < 0 ? taskId : taskId.slice(0, dot);
}

const isActive = (j: JobState): boolean => j.phase === 'launching' || j.phase === 'running';

function offerAttribute(offer: Offer, name: string): string | undefined {
  const a = offer.attributes?.find((x) => x.name === name);
  if (a === undefined) return undefined;
  return a.text?.value ?? (a.scalar !== undefined ? String(a.scalar.value) : undefined);
}

/** Placement: every attribute the job asks for, with the same value. */
export function offerMatches(job: JobSpec, offer: Offer): boolean {
  return Object.entries(job.attributes).every(([name, value]) => offerAttribute(offer, name) === value);
}

/** Places eligible waiting jobs on `offers`, at most `concurrency` active at once. */
export function planOffers(spec: BatchSpec, state: BatchState, offers: readonly Offer[], nowMs: number): OfferPlan {
  const jobs: Record<string, JobState> = { ...state.jobs };
  let active = Object.values(jobs).filter(isActive).length;
  const waiting = spec.jobs.filter((j) => jobs[j.id].phase === 'waiting' && (jobs[j.id].notBeforeMs ?? 0) <= nowMs);
  const launches: Launch[] = [];
  const declines: string[] = [];
  for (const offer of offers) {
    let cpus = offerScalar(offer, 'cpus');
    let mem = offerScalar(offer, 'mem');
    const tasks: TaskInfo[] = [];
    for (let i = 0; i < waiting.length && active < spec.concurrency; ) {
      const job = waiting[i];
      if (job.cpus > cpus || job.memMb > mem || !offerMatches(job, offer)) {
        i++;
        continue;
      }
      const attempts = jobs[job.id].attempts + 1;
      const taskId = taskIdOf(job.id, attempts);
      tasks.push(commandTask(offer, { taskId, name: `batch ${job.id}`, command: job.command, cpus: job.cpus, memMb: job.memMb }));
      jobs[job.id] = { phase: 'launching', attempts, taskId, agentId: offer.agent_id.value };
      cpus -= job.cpus;
      mem -= job.memMb;
      active++;
      waiting.splice(i, 1);
    }
    if (tasks.length > 0) launches.push({ offer, tasks });
    else declines.push(offer.id.value);
  }
  return { state: { ...state, jobs }, launches, declines };
}

const runningStates: ReadonlySet<TaskState> = new Set<TaskState>(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE']);

/**
 * What `status` means for its job: running, done, or a failed attempt (retried after
 * backoff, or failed for good). TASK_UNKNOWN — the master never heard of the task, e.g.
 * the framework died between saving "launching" and sending the LAUNCH — is a failed
 * attempt too. Returns the same state object when nothing changed.
 */
export function applyStatus(spec: BatchSpec, state: BatchState, status: TaskStatus, nowMs: number, rng: Random): BatchState {
  const taskId = status.task_id.value;
  const jobId = jobIdOf(taskId);
  const job = state.jobs[jobId];
  const jobSpec = spec.jobs.find((j) => j.id === jobId);
  if (job === undefined || jobSpec === undefined || job.taskId !== taskId || !isActive(job)) return state;
  let next: JobState;
  if (runningStates.has(status.state)) {
    if (job.phase === 'running' && job.agentId === status.agent_id?.value) return state;
    next = { ...job, phase: 'running', ...(status.agent_id !== undefined ? { agentId: status.agent_id.value } : {}) };
  } else if (status.state === 'TASK_FINISHED') {
    next = { ...job, phase: 'done', lastState: status.state };
  } else {
    const outcome = { lastState: status.state, ...(status.message !== undefined ? { lastMessage: status.message } : {}) };
    next = job.attempts > jobSpec.retries
      ? { ...job, ...outcome, phase: 'failed' }
      : { ...job, ...outcome, phase: 'waiting', notBeforeMs: nowMs + computeBackoffMs(job.attempts - 1, spec.backoff, rng) };
  }
  return { ...state, jobs: { ...state.jobs, [jobId]: next } };
}

/** Tasks that may exist in the cluster: what explicit reconciliation asks about. */
export function activeTasks(state: BatchState): { taskId: string; agentId?: string }[] {
  return Object.values(state.jobs)
    .filter((j) => isActive(j) && j.taskId !== undefined)
    .map((j) => ({ taskId: j.taskId as string, ...(j.agentId !== undefined ? { agentId: j.agentId } : {}) }));
}

/** Every job done or failed for good. */
export function isFinished(state: BatchState): boolean {
  return Object.values(state.jobs).every((j) => j.phase === 'done' || j.phase === 'failed');
}

/** One line per job, for the end of the run. */
export function summarize(spec: BatchSpec, state: BatchState): { done: string[]; failed: string[] } {
  const done = spec.jobs.filter((j) => state.jobs[j.id].phase === 'done').map((j) => j.id);
  const failed = spec.jobs.filter((j) => state.jobs[j.id].phase === 'failed').map((j) => j.id);
  return { done, failed };
}
