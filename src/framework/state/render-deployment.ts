/**
 * A deployment as Marathon shows it: `/v2/deployments` entries (affected apps,
 * steps, current step) and the `plan` of deployment events, which Marathon
 * writes differently (the root group before and after, and the steps). One
 * step with one action on the app. Pure.
 */
import type { JsonObjectOut } from '../app/render-app.ts';
import type { DeploymentKind, DeploymentRecord } from './model.ts';

export interface MarathonDeploymentAction { readonly action: string; readonly app: string }

export interface MarathonDeploymentPlan {
  readonly id: string;
  readonly version: string;
  readonly affectedApps: readonly string[];
  readonly affectedPods: readonly string[];
  readonly steps: readonly { readonly actions: readonly MarathonDeploymentAction[] }[];
}

const actionByKind: Record<DeploymentKind, string> = {
  start: 'StartApplication',
  scale: 'ScaleApplication',
  update: 'RestartApplication',
  restart: 'RestartApplication',
  rollback: 'RestartApplication',
  canary: 'RestartApplication',
  promote: 'RestartApplication',
  abort: 'RestartApplication',
  delete: 'StopApplication',
};

export function deploymentAction(d: DeploymentRecord): MarathonDeploymentAction {
  return { action: actionByKind[d.kind], app: d.appId };
}

function renderDeploymentPlan(d: DeploymentRecord): MarathonDeploymentPlan {
  return {
    id: d.id,
    version: new Date(d.startedAtMs).toISOString(),
    affectedApps: [d.appId],
    affectedPods: [],
    steps: [{ actions: [deploymentAction(d)] }],
  };
}

/** The `/v2/deployments` entry: the plan plus where it is. */
export function renderDeployment(d: DeploymentRecord): Record<string, unknown> {
  const action = deploymentAction(d);
  return {
    ...renderDeploymentPlan(d),
    currentActions: [{ ...action, readinessCheckResults: [] }],
    currentStep: 1,
    totalSteps: 1,
  };
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
    steps: [{ actions: [deploymentAction(d)] }],
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
