/**
 * A deployment as Marathon shows it: `/v2/deployments` entries (affected apps,
 * steps, current step) and the `plan` of deployment events, which Marathon
 * writes differently (the root group before and after, and the steps). The
 * steps are Marathon's (DeploymentPlan.apply): the apps to stop, then the new
 * apps started at 0 instances, then every app scaled (a new one to its
 * instances) or restarted; a step with no action is left out. A new app's
 * first step is done at once, so its deployment is at step 2 of 2. Pure.
 */
import type { JsonObjectOut } from '../app/render-app.ts';
import { publicDeploymentId, type DeploymentKind, type DeploymentRecord } from './model.ts';

export interface MarathonDeploymentAction { readonly action: string; readonly app: string }

export interface MarathonDeploymentPlan {
  readonly id: string;
  readonly version: string;
  readonly affectedApps: readonly string[];
  readonly affectedPods: readonly string[];
  readonly steps: readonly { readonly actions: readonly MarathonDeploymentAction[] }[];
}

/** What each kind of deployment is doing while open: a new app's start step is done at once, so it is being scaled. */
const actionByKind: Record<DeploymentKind, string> = {
  start: 'ScaleApplication',
  scale: 'ScaleApplication',
  update: 'RestartApplication',
  restart: 'RestartApplication',
  rollback: 'RestartApplication',
  canary: 'RestartApplication',
  promote: 'RestartApplication',
  abort: 'RestartApplication',
  delete: 'StopApplication',
};

type Member = Pick<DeploymentRecord, 'appId' | 'kind'>;
type Step = { readonly actions: readonly MarathonDeploymentAction[] };

/** What the deployment is doing now. */
export function deploymentAction(d: Member): MarathonDeploymentAction {
  return { action: actionByKind[d.kind], app: d.appId };
}

/** Marathon's steps for these deployments: stops, then starts, then scales and restarts. */
export function planSteps(members: readonly Member[]): Step[] {
  return regroup(members.flatMap((d) => (d.kind === 'start' ? [{ action: 'StartApplication', app: d.appId }, deploymentAction(d)] : [deploymentAction(d)])));
}

function regroup(actions: readonly MarathonDeploymentAction[]): Step[] {
  const rank = (a: MarathonDeploymentAction): number => (a.action === 'StopApplication' ? 0 : a.action === 'StartApplication' ? 1 : 2);
  return [0, 1, 2].map((r) => actions.filter((a) => rank(a) === r)).filter((a) => a.length > 0).map((a) => ({ actions: a }));
}

/** The step the open deployments are at: stopping while any stops, else the last (starts are done at once). */
function currentStepOf(open: readonly Member[], steps: readonly Step[]): number {
  return open.some((d) => d.kind === 'delete') ? 1 : steps.length;
}

/** The `/v2/deployments` entry: the plan plus where it is. */
export function renderDeployment(d: DeploymentRecord): Record<string, unknown> {
  const steps = planSteps([d]);
  return {
    id: d.id,
    version: new Date(d.startedAtMs).toISOString(),
    affectedApps: [d.appId],
    affectedPods: [],
    steps,
    currentActions: [{ ...deploymentAction(d), readinessCheckResults: [] }],
    currentStep: currentStepOf([d], steps),
    totalSteps: steps.length,
  };
}

/**
 * `/v2/deployments`: one entry per deployment; a batch's members together
 * under its id, every member's action in its one step (`endedOf`: the
 * members that are done) and the open ones' as its current actions.
 */
export function renderDeployments(open: Iterable<DeploymentRecord>, endedOf: (batch: string) => readonly Pick<DeploymentRecord, 'appId' | 'kind'>[]): Record<string, unknown>[] {
  const byId = new Map<string, DeploymentRecord[]>();
  for (const d of open) {
    const id = publicDeploymentId(d);
    const members = byId.get(id);
    if (members === undefined) byId.set(id, [d]);
    else members.push(d);
  }
  return [...byId].map(([id, members]) => {
    if (members.length === 1 && members[0]?.batch === undefined) return renderDeployment(members[0]);
    const current = members.map(deploymentAction);
    const all = [...endedOf(id), ...members];
    const steps = planSteps(all);
    return {
      id,
      version: new Date(Math.min(...members.map((d) => d.startedAtMs))).toISOString(),
      affectedApps: all.map((d) => d.appId),
      affectedPods: [],
      steps,
      currentActions: current.map((a) => ({ ...a, readinessCheckResults: [] })),
      currentStep: currentStepOf(members, steps),
      totalSteps: steps.length,
    };
  });
}

/** A group as Marathon's events print it (raml `Group`), without the cygnet-free `enforceRole` some clients reject. */
export interface MarathonGroupOut {
  readonly id: string;
  readonly apps: readonly JsonObjectOut[];
  readonly groups: readonly MarathonGroupOut[];
  readonly pods: readonly never[];
  readonly dependencies: readonly string[];
  readonly version: string;
}

/** The `plan` of `deployment_*` events: Marathon's `DeploymentPlanWrites` (id, original, target, steps, version). */
export interface MarathonEventPlan {
  readonly id: string;
  readonly original: MarathonGroupOut;
  readonly target: MarathonGroupOut;
  readonly steps: readonly { readonly actions: readonly MarathonDeploymentAction[] }[];
  readonly version: string;
}

/**
 * `original` / `target`: the app's JSON before and after (undefined: absent,
 * as before a start or after a delete). The groups hold only this
 * deployment's app, nested under its parent groups: a whole root group per
 * event would cost every app's JSON on every deployment.
 */
export function renderEventPlan(d: DeploymentRecord, original: JsonObjectOut | undefined, target: JsonObjectOut | undefined): MarathonEventPlan {
  const version = new Date(d.startedAtMs).toISOString();
  return {
    id: d.id,
    original: rootGroupWith(d.appId, original, version),
    target: rootGroupWith(d.appId, target, version),
    steps: planSteps([d]),
    version,
  };
}

function rootGroupWith(appId: string, app: JsonObjectOut | undefined, version: string): MarathonGroupOut {
  const parents = appId.split('/').filter((p) => p !== '').slice(0, -1);
  let group: MarathonGroupOut = { id: `/${parents.join('/')}`, apps: app === undefined ? [] : [app], groups: [], pods: [], dependencies: [], version };
  for (let depth = parents.length - 1; depth >= 0; depth--) {
    group = { id: `/${parents.slice(0, depth).join('/')}`, apps: [], groups: [group], pods: [], dependencies: [], version };
  }
  return group;
}

/** A batch's event plan: its members' plans as one, their apps' groups merged and their actions in Marathon's steps. */
export function mergeEventPlans(id: string, plans: readonly MarathonEventPlan[]): MarathonEventPlan {
  return {
    id,
    original: mergeGroups(plans.map((p) => p.original)),
    target: mergeGroups(plans.map((p) => p.target)),
    steps: regroup(plans.flatMap((p) => p.steps.flatMap((s) => s.actions))),
    version: plans.map((p) => p.version).sort()[0] ?? new Date(0).toISOString(),
  };
}

/** Groups with the same id (each plan's root) as one: their apps together, their subgroups merged by id. */
function mergeGroups(groups: readonly MarathonGroupOut[]): MarathonGroupOut {
  const subgroups = new Map<string, MarathonGroupOut[]>();
  for (const g of groups) {
    for (const sub of g.groups) subgroups.set(sub.id, [...(subgroups.get(sub.id) ?? []), sub]);
  }
  const first = groups[0];
  return {
    id: first?.id ?? '/',
    apps: groups.flatMap((g) => g.apps),
    groups: [...subgroups.values()].map(mergeGroups),
    pods: [],
    dependencies: [],
    version: first?.version ?? new Date(0).toISOString(),
  };
}
