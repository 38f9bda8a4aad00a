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
 *   3. kill excess ready instances, as many as are
 *        - replaced: ready excess beyond the T − (ready target instances)
 *          still covering for target instances not ready yet, or
 *        - in the way: needed to make room for missing target instances that
 *          the maximum does not leave room for (slots already being freed
 *          count), whichever is more,
 *      but never so many that fewer than minReady stay ready; a deployment
 *      that starts below minReady kills no ready instance until
 *      replacements lift it;
 *   4. launch each target version's missing instances (count − active),
 *      in target order, while live + launched ≤ maxLive.
 *   Marathon kills `ready − minReady` old instances at once when the update
 *   starts; here a ready old instance goes only when it is replaced or in
 *   the way, so when the maximum leaves room the app keeps its full ready
 *   count during the update (and finishes about as soon: the end waits for
 *   the last new instance to be ready either way, then one kill).
 *   Which excess to kill first: other versions before a targeted version's
 *   surplus; then scheduled, staging, unhealthy, running-but-not-ready,
 *   ready; then the shell's killPriority (GROUP_BY balance); then per
 *   killSelection (YOUNGEST_FIRST: latest start first, never
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
  /** Ready instances within their version's count (not excess). */
  readonly readyInTarget: number;
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
  const order = killOrder(input.killSelection, input.healthCounts, input.killPriority);
  const surplus: PlannerInstance[] = [];
  let readyInTarget = 0;
  for (const [version, list] of activeByVersion) {
    const count = targetCount.get(version)!;
    const readyOfVersion = list.filter((i) => isReady(i, input.healthCounts)).length;
    readyInTarget += Math.min(count, readyOfVersion);
    // Not-ready instances rank first in kill order, so the surplus keeps the ready ones.
    if (list.length > count) surplus.push(...[...list].sort(order).slice(0, list.length - count));
  }
  const excess = [...obsolete.sort(order), ...surplus.sort(order)];
  return { total, bounds: computeCapacity(total, input.strategy, ready), live: input.instances.length, ready, activeByVersion, excess, readyInTarget, killing };
}

/** One planning step. See the file comment. */
export function computeDeploymentStep(input: PlannerInput): PlannerStep {
  const view = computePlannerView(input);
  const excessReady = view.excess.filter((i) => isReady(i, input.healthCounts));
  const kill = view.excess.filter((i) => !isReady(i, input.healthCounts)).map((i) => i.instanceId);
  let missing = 0;
  for (const t of input.targets) missing += Math.max(0, Math.max(0, t.count) - view.activeByVersion.get(t.version)!.length);
  const room = Math.max(0, view.bounds.maxLive - view.live);
  // Slots that free up without a further kill: instances being killed, and the not-ready excess killed now.
  const shortfall = Math.max(0, missing - room - view.killing - kill.length);
  // Ready excess still covering for target instances that are not ready yet.
  const keep = Math.max(0, view.total - view.readyInTarget);
  const replaced = Math.max(0, excessReady.length - keep);
  const readyKills = Math.min(excessReady.length, Math.max(shortfall, replaced), Math.max(0, view.ready - view.bounds.minReady));
  for (const i of excessReady.slice(0, readyKills)) kill.push(i.instanceId);

  const launch: LaunchAction[] = [];
  let left = room;
  for (const t of input.targets) {
    const n = Math.min(Math.max(0, t.count) - view.activeByVersion.get(t.version)!.length, left);
    if (n > 0) {
      launch.push({ version: t.version, count: n });
      left -= n;
    }
  }
  const done = isDone(input, view);
  return { launch, kill, done, describe: describeStep(view, launch, kill, done, view.ready - readyKills) };
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

/** Sort comparator: first in the array is killed first (status, then `priority`, then killSelection, then id). */
export function killOrder(
  selection: KillSelection,
  healthCounts: PlannerInput['healthCounts'],
  priority: readonly string[] = [],
): (a: PlannerInstance, b: PlannerInstance) => number {
  const rank = (i: PlannerInstance): number => (isReady(i, healthCounts) ? STATUS_KILL_RANK.healthy : Math.min(STATUS_KILL_RANK[i.status], STATUS_KILL_RANK.running));
  const position = new Map(priority.map((id, k) => [id, k]));
  const pos = (i: PlannerInstance): number => position.get(i.instanceId) ?? Number.MAX_SAFE_INTEGER;
  return (a, b) => {
    const r = rank(a) - rank(b);
    if (r !== 0) return r;
    const p = pos(a) - pos(b);
    if (p !== 0) return p;
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
