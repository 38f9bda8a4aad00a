/**
 * A deployment as Marathon shows it (`/v2/deployments` entries and the
 * `plan` of deployment events): one step with one action on the app. Pure.
 */
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

export function renderDeploymentPlan(d: DeploymentRecord): MarathonDeploymentPlan {
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
