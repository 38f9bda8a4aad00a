/**
 * Progress of a deployment for `/v2/deployments` and the CLI, counted in
 * units of work: each target instance still to become ready is one unit,
 * each instance still to go (excess, or being killed) is one. Marathon shows
 * `currentStep` / `totalSteps` over its plan's steps; a one-app deployment is
 * one step there, which says nothing, so here the steps are these units: the
 * shell records the units at the deployment's start (`baselineUnits`) and
 * passes them back on every call.
 *
 * Pure; no I/O.
 */

import { computePlannerView, isReady } from './planner.ts';
import type { DeploymentProgress, PlannerInput } from './types.ts';

export function computeProgress(input: PlannerInput, baselineUnits?: number): DeploymentProgress {
  const view = computePlannerView(input);
  const versions = input.targets.map((t) => {
    const active = view.activeByVersion.get(t.version) ?? [];
    const ready = Math.min(Math.max(0, t.count), active.filter((i) => isReady(i, input.healthCounts)).length);
    return { version: t.version, ready, target: Math.max(0, t.count) };
  });
  const toStop = view.excess.length + view.killing;
  const remainingUnits = versions.reduce((s, v) => s + (v.target - v.ready), 0) + toStop;
  const totalSteps = Math.max(baselineUnits ?? remainingUnits, remainingUnits);
  const currentStep = totalSteps === 0 ? 0 : Math.min(totalSteps, totalSteps - remainingUnits + 1);
  const perVersion = versions.map((v) => `${v.version} ${v.ready}/${v.target} ready`).join(', ');
  const describe = `${perVersion === '' ? 'no target' : perVersion}, ${toStop} to stop (step ${currentStep} of ${totalSteps})`;
  return { versions, toStop, remainingUnits, currentStep, totalSteps, describe };
}
