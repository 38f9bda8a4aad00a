/**
 * The deployment planner's contract: (targets, observed instances, strategy)
 * → the next actions. One function does start, scale, rolling update,
 * restart, canary, promote, abort and rollback, because each is only a
 * different set of targets per version:
 *
 *   start / scale        [{v1, n}]                    (from whatever runs)
 *   rolling update       [{v2, n}]                    (v1 instances running)
 *   restart              [{v1', n}]                   (a fresh version id, same definition)
 *   canary of k          [{v1, n-k}, {v2, k}]
 *   promote              [{v2, n}]
 *   abort / rollback     [{v1, n}]
 *   suspend              [{v1, 0}]
 *
 * This file is types only: no I/O, no logic.
 */

/**
 * An instance's lifecycle as the planner sees it:
 *  - `scheduled`: created in state, waiting for an offer (no task yet);
 *  - `staging`: launched, not yet running;
 *  - `running`: running, health unknown (or the app has no health checks);
 *  - `healthy` / `unhealthy`: running with a health verdict;
 *  - `killing`: a kill was issued; still holds resources until it is gone.
 * Gone instances (finished, failed, killed, lost) are not passed in at all.
 */
export type InstanceStatus = 'scheduled' | 'staging' | 'running' | 'healthy' | 'unhealthy' | 'killing';

export interface PlannerInstance {
  readonly instanceId: string;
  readonly version: string;
  readonly status: InstanceStatus;
  /** When its task started running (for killSelection); absent if not yet. */
  readonly startedAtMs?: number;
}

export interface VersionTarget {
  readonly version: string;
  readonly count: number;
}

export interface UpgradeStrategy {
  /** [0, 1]: the share of the target count that must stay healthy. */
  readonly minimumHealthCapacity: number;
  /** [0, 1]: how far above the target count the total may go. */
  readonly maximumOverCapacity: number;
}

export type KillSelection = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';

export interface PlannerInput {
  /** Desired count per version; versions absent here must go. Versions are distinct. */
  readonly targets: readonly VersionTarget[];
  /** Every live instance of the app (gone ones are not passed). */
  readonly instances: readonly PlannerInstance[];
  readonly strategy: UpgradeStrategy;
  /** What counts as ready: `healthy` with health checks, `running` without. */
  readonly healthCounts: 'healthy' | 'running';
  readonly killSelection: KillSelection;
}

export interface LaunchAction {
  readonly version: string;
  readonly count: number;
}

export interface PlannerStep {
  /** New instances to create (status `scheduled`), per version. */
  readonly launch: readonly LaunchAction[];
  /**
   * Instance ids to kill (they become `killing`). A `scheduled` one has no
   * task yet: the shell simply drops it (Marathon decommissions it).
   */
  readonly kill: readonly string[];
  /** Every target version has exactly its count ready and nothing else is alive. */
  readonly done: boolean;
  /** One stable line for logs and transcripts. */
  readonly describe: string;
}

/** Progress for `/v2/deployments` and the CLI. */
export interface DeploymentProgress {
  /** Per target version: how many are ready (healthy or running, per `healthCounts`) of the count wanted. */
  readonly versions: readonly { readonly version: string; readonly ready: number; readonly target: number }[];
  /** Live instances that must still go (other versions, or surplus). */
  readonly toStop: number;
  /** Units of work left: target instances not yet ready + instances still to stop. */
  readonly remainingUnits: number;
  /** 1-based, Marathon-like: `totalSteps - remainingUnits + 1` capped at `totalSteps` (0 of 0 when there is nothing to do). */
  readonly currentStep: number;
  /** The remaining units at the deployment's start (`baselineUnits`), at least the current remaining units. */
  readonly totalSteps: number;
  /** One stable line, e.g. `v2 3/5 ready, 2 to stop (step 4 of 7)`. */
  readonly describe: string;
}
