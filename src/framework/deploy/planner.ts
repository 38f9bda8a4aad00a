/**
 * `computeDeploymentStep`: the deployment planner. Given the versions wanted
 * and the instances observed, it answers what to launch and what to kill
 * *now*; the shell issues that, observes, and asks again. It keeps no state:
 * everything it needs is in its input, so a new leader resumes a deployment
 * by calling it.
 *
 * Vocabulary:
 *   ready      healthy (or running, for an app without health checks)
 *   active     live and not `killing`
 *   excess     active instances that must go: every instance of a version
 *              not targeted, and a targeted version's instances beyond its
 *              count (its not-ready ones first)
 *   live       every instance passed in, `killing` ones included: they hold
 *              resources until they are gone, so they count toward the
 *              maximum (Marathon counts an old instance until it is terminal)
 *
 * One step:
 *   1. bounds: minReady = ⌈T × minimumHealthCapacity⌉,
 *              maxLive  = ⌊T × (1 + maximumOverCapacity)⌋ (+1 exception),
 *      T = the sum of the target counts (capacity.ts)
 *   2. kill every excess instance that is not ready (it serves nothing);
 *   3. kill excess ready instances while the ready count stays ≥ minReady;
 *      a deployment that starts below minReady kills no ready instance until
 *      replacements bring it above (Marathon's `healthy - minHealthy`);
 *   4. launch each target version's missing instances (count − active),
 *      in target order, while live + launched ≤ maxLive.
 *   Which excess to kill first: other versions before a targeted version's
 *   surplus; then scheduled, staging, unhealthy, running-but-not-ready,
 *   ready; then per killSelection (YOUNGEST_FIRST: latest start first, never
 *   started counting as youngest); then instance id, for determinism.
 *
 * Idempotent: launched instances come back `scheduled` (active, so not
 * launched again) and killed ones `killing` (neither active nor ready, so not
 * killed again, and ready counts already exclude them).
 *
 * Done: every target version has exactly its count active and all of them
 * ready, and nothing else is alive (no excess, no `killing` instance).
 *
 * Not here: replacing an instance that stays unhealthy within its count is
 * the health monitor's job (it kills it; the planner then sees it missing
 * and launches); deadlines and rollback are the shell's (it changes targets).
 *
 * Pure; no I/O, no clock.
 */

import { computeCapacity, type CapacityBounds } from './capacity.ts';
import type { InstanceStatus, KillSelection, LaunchAction, PlannerInput, PlannerInstance, PlannerStep } from './types.ts';

/** Whether an instance counts as ready under the app's health mode. */
export function isReady(i: PlannerInstance, healthCounts: PlannerInput['healthCounts']): boolean {
  if (i.status === 'healthy') return true;
  return healthCounts === 'running' && i.status === 'running';
}

/** Kill order among not-ready statuses: cheapest and least useful first. */
const STATUS_KILL_RANK: Readonly<Record<InstanceStatus, number>> = {
  scheduled: 0,
  staging: 1,
  unhealthy: 2,
  running: 3,
  healthy: 4,
  killing: 5,
};

/** What the planner derived from its input; exposed for progress and tests. */
export interface PlannerView {
  readonly total: number;
  readonly bounds: CapacityBounds;
  readonly live: number;
  readonly ready: number;
  /** Active instances per target version, in target order. */
  readonly activeByVersion: ReadonlyMap<string, readonly PlannerInstance[]>;
  /** Excess active instances, in kill order. */
  readonly excess: readonly PlannerInstance[];
  readonly killing: number;
}

export function computePlannerView(input: PlannerInput): PlannerView {
  const versions = new Set(input.targets.map((t) => t.version));
  if (versions.size !== input.targets.length) {
    throw new Error(`invalid planner input: a version is targeted twice in [${input.targets.map((t) => t.version).join(', ')}]`);
  }
  const total = input.targets.reduce((s, t) => s + Math.max(0, t.count), 0);
  const targetCount = new Map(input.targets.map((t) => [t.version, Math.max(0, t.count)]));
  const activeByVersion = new Map<string, PlannerInstance[]>(input.targets.map((t) => [t.version, []]));
  const obsolete: PlannerInstance[] = [];
  let killing = 0;
  let ready = 0;
  for (const i of input.instances) {
    if (i.status === 'killing') {
      killing++;
      continue;
    }
    if (isReady(i, input.healthCounts)) ready++;
    const list = activeByVersion.get(i.version);
    if (list === undefined) obsolete.push(i);
    else list.push(i);
  }
  const order = killOrder(input.killSelection, input.healthCounts);
  const surplus: PlannerInstance[] = [];
  for (const [version, list] of activeByVersion) {
    const extra = list.length - targetCount.get(version)!;
    if (extra > 0) surplus.push(...[...list].sort(order).slice(0, extra));
  }
  const excess = [...obsolete.sort(order), ...surplus.sort(order)];
  return { total, bounds: computeCapacity(total, input.strategy, ready), live: input.instances.length, ready, activeByVersion, excess, killing };
}

/** One planning step. See the file comment. */
export function computeDeploymentStep(input: PlannerInput): PlannerStep {
  const view = computePlannerView(input);
  const kill: string[] = [];
  let ready = view.ready;
  for (const i of view.excess) {
    if (!isReady(i, input.healthCounts)) {
      kill.push(i.instanceId);
    } else if (ready - 1 >= view.bounds.minReady) {
      kill.push(i.instanceId);
      ready--;
    }
  }
  const launch: LaunchAction[] = [];
  let room = view.bounds.maxLive - view.live;
  for (const t of input.targets) {
    const missing = Math.max(0, t.count) - view.activeByVersion.get(t.version)!.length;
    const n = Math.min(missing, Math.max(0, room));
    if (n > 0) {
      launch.push({ version: t.version, count: n });
      room -= n;
    }
  }
  const done = isDone(input, view);
  return { launch, kill, done, describe: describeStep(view, launch, kill, done, ready) };
}

function isDone(input: PlannerInput, view: PlannerView): boolean {
  if (view.excess.length > 0 || view.killing > 0) return false;
  for (const t of input.targets) {
    const active = view.activeByVersion.get(t.version)!;
    if (active.length !== Math.max(0, t.count)) return false;
    if (!active.every((i) => isReady(i, input.healthCounts))) return false;
  }
  return true;
}

/** Sort comparator: first in the array is killed first. */
export function killOrder(selection: KillSelection, healthCounts: PlannerInput['healthCounts']): (a: PlannerInstance, b: PlannerInstance) => number {
  const rank = (i: PlannerInstance): number => (isReady(i, healthCounts) ? STATUS_KILL_RANK.healthy : Math.min(STATUS_KILL_RANK[i.status], STATUS_KILL_RANK.running));
  return (a, b) => {
    const r = rank(a) - rank(b);
    if (r !== 0) return r;
    const sa = a.startedAtMs ?? Number.POSITIVE_INFINITY;
    const sb = b.startedAtMs ?? Number.POSITIVE_INFINITY;
    if (sa !== sb) return selection === 'YOUNGEST_FIRST' ? (sb > sa ? 1 : -1) : sa > sb ? 1 : -1;
    return a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0;
  };
}

function describeStep(view: PlannerView, launch: readonly LaunchAction[], kill: readonly string[], done: boolean, readyAfter: number): string {
  if (done) return `done: ${view.ready} ready of ${view.total}`;
  const parts: string[] = [];
  if (launch.length > 0) parts.push(`launch ${launch.map((l) => `${l.version}×${l.count}`).join(', ')}`);
  if (kill.length > 0) parts.push(`kill ${kill.join(', ')}`);
  if (parts.length === 0) parts.push('wait');
  const b = view.bounds;
  const over = b.overCapacityException ? ' (+1)' : '';
  return `${parts.join('; ')} | ready ${view.ready}→${readyAfter} min ${b.minReady}, live ${view.live} max ${b.maxLive}${over}, excess ${view.excess.length}, killing ${view.killing}`;
}
