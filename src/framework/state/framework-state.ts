/**
 * FrameworkState: the replicated state machine of the app framework. Raft
 * hands it committed commands in log order; it changes apps, versions,
 * instances and deployments, and tells its observer which Marathon events and
 * registry changes that made. Deterministic: no clock, no randomness, no I/O
 * (times and ids come inside the commands).
 *
 * Invariants:
 *  - at most one deployment per app;
 *  - an instance's index is unique among the live instances of its app;
 *  - an instance is a registry endpoint iff it is running and healthy (or its
 *    version has no health checks); every change of that is one registry change;
 *  - a status for a task that is not an instance's current task changes
 *    nothing (the scheduler kills such tasks).
 */
import type { TaskState } from '../../protocol/mesos-types.ts';
import { isTerminalState } from '../sdk/task-helpers.ts';
import type { RegistryApp, RegistryEndpoint } from '../../registry/types.ts';
import type { AppDefinition, AppVersion } from '../app/app-definition.ts';
import type { AppliedEntry, StateMachine } from '../../raft/node.ts';
import { decodeCommand, type CommandResult, type FrameworkCommand, type LaunchDecision, type StatusUpdate } from './commands.ts';
import type { AppRecord, BatchProgress, DeploymentBatch, DeploymentRecord, FrameworkSnapshotData, InstanceRecord } from './model.ts';
import { maxVersionsPerApp, publicDeploymentId } from './model.ts';
import { nullObserver, type MarathonEvent, type StateObserver } from './observer.ts';
import { isInGroup, isRootId, parentGroupId } from '../app/app-id.ts';
import { renderApp, type JsonObjectOut } from '../app/render-app.ts';
import { mergeEventPlans, renderEventPlan, type MarathonEventPlan } from './render-deployment.ts';

/**
 * Mesos' terminal states, plus TASK_UNKNOWN: the master's answer to an
 * explicit reconcile of a task it never heard of, which for an instance means
 * "relaunch" just as a terminal state does.
 */
export function isTerminalTaskState(s: TaskState): boolean {
  return s === 'TASK_UNKNOWN' || isTerminalState(s);
}

/** A terminal state Marathon counts as the task's failure (`lastTaskFailure`): not FINISHED, KILLED or UNKNOWN. */
export function isTaskFailureState(s: TaskState): boolean {
  return s === 'TASK_FAILED' || s === 'TASK_ERROR' || s === 'TASK_LOST' || s === 'TASK_DROPPED' || s === 'TASK_GONE' || s === 'TASK_GONE_BY_OPERATOR';
}

/** An agent host name that is an IPv4 address literal. */
export function isIPv4Literal(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

const ok: CommandResult = { ok: true };
const iso = (ms: number): string => new Date(ms).toISOString();

/** Marathon's 409 text for a write to an app a deployment holds. */
export function appLockedMessage(deploymentId: string): string {
  return `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/${deploymentId}'.`;
}

/** See forgetStaleBatches. */
const staleBatchMs = 60 * 60 * 1000;

export class FrameworkState implements StateMachine<CommandResult> {
  private observer: StateObserver = nullObserver;
  private frameworkIdValue: string | undefined;
  private clusterIdValue = '';
  private readonly appsById = new Map<string, AppRecord>();
  private readonly instancesById = new Map<string, InstanceRecord>();
  private readonly instancesByApp = new Map<string, Set<string>>();
  private readonly instanceByTask = new Map<string, string>();
  private readonly deploymentsById = new Map<string, DeploymentRecord>();
  private readonly deploymentByApp = new Map<string, string>();
  /** Event plans of open deployments, by deployment id (not state: rebuilt from the apps after a restore). */
  private readonly eventPlans = new Map<string, MarathonEventPlan>();
  /** Per batch with members ended and others still to end, how far it is (state: in snapshots). */
  private readonly batchProgress = new Map<string, BatchProgress>();
  /** The event plans of a batch's ended members, for the batch's own event (not state: after a restore that event covers the members left). */
  private readonly batchPlans = new Map<string, MarathonEventPlan[]>();
  /**
   * Marathon's groups, by id, with the version of their last change: every
   * group an app was created in and every group POST/PUT /v2/groups named,
   * until DELETE /v2/groups removes it. As in Marathon, a group outlives its
   * last app. The root is implied, never stored.
   */
  private readonly groupVersions = new Map<string, string>();
  private registryRevisionValue = 0;
  private cluster: { leader?: string; master?: string } = {};
  private index = 0;
  /** Bumped on every applied command: readers use it to cache renderings. */
  private generationValue = 0;
  /** Per app, bumped whenever the app, its deployment or any of its instances changes (render caches key on it). */
  private readonly appSeqs = new Map<string, number>();
  private restoreEpoch = 0;

  setObserver(o: StateObserver): void {
    this.observer = o;
  }

  // ---- reads -------------------------------------------------------------

  get frameworkId(): string | undefined { return this.frameworkIdValue; }
  get clusterId(): string { return this.clusterIdValue; }
  get appliedIndex(): number { return this.index; }
  get generation(): number { return this.generationValue; }
  /** Changes whenever anything an app's rendering depends on changes. */
  appChangeKey(appId: string): string { return `${this.restoreEpoch}:${this.appSeqs.get(appId) ?? 0}`; }
  get clusterInfo(): { readonly leader?: string; readonly master?: string } { return this.cluster; }

  apps(): IterableIterator<AppRecord> { return this.appsById.values(); }
  /** Every group but the root, with the version of its last change. */
  groups(): ReadonlyMap<string, string> { return this.groupVersions; }
  /** Whether `id` names a group (every group an app lies in is kept: see addGroups' callers). */
  isGroup(id: string): boolean {
    return isRootId(id) || this.groupVersions.has(id);
  }
  /**
   * Why an app may not have this id, or undefined: Marathon keeps groups and
   * apps apart, so an app can neither be a group nor lie inside another app.
   */
  appIdClash(id: string): string | undefined {
    if (this.isGroup(id)) return 'Groups and Applications may not have the same identifier.';
    for (let g = parentGroupId(id); !isRootId(g); g = parentGroupId(g)) {
      if (this.appsById.has(g)) return `Groups and Applications may not have the same identifier: ${g} is an app.`;
    }
    return undefined;
  }
  app(id: string): AppRecord | undefined { return this.appsById.get(id); }
  instance(id: string): InstanceRecord | undefined { return this.instancesById.get(id); }
  allInstances(): IterableIterator<InstanceRecord> { return this.instancesById.values(); }
  instanceOfTask(taskId: string): InstanceRecord | undefined {
    const id = this.instanceByTask.get(taskId);
    return id === undefined ? undefined : this.instancesById.get(id);
  }
  instancesOf(appId: string): InstanceRecord[] {
    const ids = this.instancesByApp.get(appId);
    if (ids === undefined) return [];
    const out: InstanceRecord[] = [];
    for (const id of ids) {
      const r = this.instancesById.get(id);
      if (r !== undefined) out.push(r);
    }
    return out;
  }
  deployments(): IterableIterator<DeploymentRecord> { return this.deploymentsById.values(); }
  deployment(id: string): DeploymentRecord | undefined { return this.deploymentsById.get(id); }
  /** The open deployments of a batch (see DeploymentRecord.batch). */
  deploymentsOfBatch(batch: string): DeploymentRecord[] {
    return [...this.deploymentsById.values()].filter((d) => d.batch?.id === batch);
  }
  /** The members of a batch that ended while others are open. */
  endedOfBatch(batch: string): BatchProgress['ended'] {
    return this.batchProgress.get(batch)?.ended ?? [];
  }
  deploymentOf(appId: string): DeploymentRecord | undefined {
    const id = this.deploymentByApp.get(appId);
    return id === undefined ? undefined : this.deploymentsById.get(id);
  }
  /** The definition an instance runs (its version may be older than the app's current one). */
  definitionOf(appId: string, version: string): AppDefinition | undefined {
    return this.versionOf(appId, version)?.definition;
  }

  /** An app version's config version (its lastConfigChangeAt), if the version is known. */
  configVersionOf(appId: string, version: string): string | undefined {
    return this.versionOf(appId, version)?.versionInfo.lastConfigChangeAt;
  }

  /** One version of an app, if the app and that version are still kept. */
  private versionOf(appId: string, version: string): AppVersion | undefined {
    const app = this.appsById.get(appId);
    if (app === undefined) return undefined;
    if (app.current.version === version) return app.current;
    return app.versions.find((v) => v.version === version);
  }

  /**
   * The desired count per config version, and the app version new instances
   * of it are launched with: what the planner converges the app to.
   */
  targetsOf(app: AppRecord): { version: string; count: number; launchVersion: string }[] {
    const n = app.current.definition.instances;
    const cur = { version: app.current.versionInfo.lastConfigChangeAt, launchVersion: app.current.version };
    if (app.canary === undefined) return [{ ...cur, count: n }];
    const base = app.versions.find((v) => v.version === app.canary?.baseVersion);
    if (base === undefined) return [{ ...cur, count: n }];
    const k = Math.min(app.canary.count, n);
    return [
      { version: base.versionInfo.lastConfigChangeAt, launchVersion: base.version, count: n - k },
      { ...cur, count: k },
    ].filter((t) => t.count > 0);
  }

  // ---- registry view -----------------------------------------------------

  registryApp(app: AppRecord): RegistryApp {
    const def = app.current.definition;
    return {
      id: def.id,
      labels: def.labels,
      ports: def.portDefinitions.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), protocol: p.protocol, servicePort: p.port, labels: p.labels })),
      ...(app.canary !== undefined
        ? { versionWeights: { [this.configVersionOf(app.id, app.canary.baseVersion) ?? app.canary.baseVersion]: 1 - app.canary.weight, [app.current.versionInfo.lastConfigChangeAt]: app.canary.weight } }
        : {}),
    };
  }

  isEndpoint(inst: InstanceRecord): boolean {
    if (inst.phase !== 'running') return false;
    const def = this.definitionOf(inst.appId, inst.version);
    if (def === undefined) return false;
    return def.healthChecks.length === 0 ? true : inst.healthy === true;
  }

  registryEndpoint(inst: InstanceRecord): RegistryEndpoint {
    const host = inst.hostname ?? '';
    return {
      appId: inst.appId,
      taskId: inst.taskId ?? '',
      index: inst.index,
      host,
      ip: isIPv4Literal(host) ? host : host === 'localhost' ? '127.0.0.1' : host,
      ports: inst.hostPorts,
      version: inst.configVersion,
      healthySince: iso(inst.healthySinceMs ?? inst.startedAtMs ?? 0),
    };
  }

  registryRevision(): number { return this.registryRevisionValue; }

  // ---- StateMachine ------------------------------------------------------

  apply(entry: AppliedEntry): CommandResult {
    this.index = entry.index;
    this.generationValue++;
    if (entry.data.length === 0) return ok; // the empty entry a new leader appends
    const cmd = decodeCommand(entry.data);
    return this.applyCommand(cmd);
  }

  applyCommand(cmd: FrameworkCommand): CommandResult {
    switch (cmd.type) {
      case 'Init':
        if (this.clusterIdValue !== '') return ok;
        this.clusterIdValue = cmd.clusterId;
        this.observer.restored(); // the registry gets its cluster id: consumers start over
        return ok;
      case 'SetFrameworkId':
        this.frameworkIdValue = cmd.frameworkId;
        return ok;
      case 'SetCluster':
        this.cluster = { ...(cmd.leader !== undefined ? { leader: cmd.leader } : {}), ...(cmd.master !== undefined ? { master: cmd.master } : {}) };
        this.registryChange({ type: 'CLUSTER_UPDATED', cluster: this.cluster });
        return ok;
      case 'PutApp': return this.applyPutApp(cmd);
      case 'DeleteApp': return this.applyDeleteApp(cmd);
      case 'FinishDeployment': return this.applyFinishDeployment(cmd);
      case 'CancelDeployment': return this.applyCancelDeployment(cmd);
      case 'Schedule': return this.applySchedule(cmd);
      case 'Launch': return this.applyLaunch(cmd.atMs, cmd.launches);
      case 'Kill': return this.applyKill(cmd.atMs, cmd.instanceIds, cmd.reason);
      case 'TaskStatuses':
        for (const u of cmd.updates) this.applyStatus(u, cmd.atMs);
        return ok;
      case 'ExpireUnreachable': return this.applyExpireUnreachable(cmd.instanceIds);
      case 'ResetDelay': return this.applyResetDelay(cmd.appId);
      case 'PutGroups': return this.applyPutGroups(cmd);
      case 'DeleteGroup': return this.applyDeleteGroup(cmd);
    }
  }

  snapshot(): Uint8Array {
    const data: FrameworkSnapshotData = {
      formatVersion: 1,
      ...(this.frameworkIdValue !== undefined ? { frameworkId: this.frameworkIdValue } : {}),
      apps: [...this.appsById.values()],
      instances: [...this.instancesById.values()],
      deployments: [...this.deploymentsById.values()],
      batches: [...this.batchProgress.values()],
      registryRevision: this.registryRevisionValue,
      clusterId: this.clusterIdValue,
      groups: [...this.groupVersions],
    };
    return new TextEncoder().encode(JSON.stringify({ ...data, cluster: this.cluster, index: this.index }));
  }

  restore(bytes: Uint8Array): void {
    const data = JSON.parse(new TextDecoder().decode(bytes)) as FrameworkSnapshotData & { cluster?: { leader?: string; master?: string }; index?: number };
    if (data.formatVersion !== 1) throw new Error(`framework snapshot: unknown formatVersion ${String(data.formatVersion)}`);
    this.frameworkIdValue = data.frameworkId;
    this.clusterIdValue = data.clusterId;
    this.registryRevisionValue = data.registryRevision;
    this.cluster = data.cluster ?? {};
    this.index = data.index ?? 0;
    this.appsById.clear();
    this.instancesById.clear();
    this.instancesByApp.clear();
    this.instanceByTask.clear();
    this.deploymentsById.clear();
    this.deploymentByApp.clear();
    this.eventPlans.clear();
    this.batchProgress.clear();
    this.batchPlans.clear();
    for (const b of data.batches ?? []) this.batchProgress.set(b.id, b);
    for (const a of data.apps) this.appsById.set(a.id, a);
    this.groupVersions.clear();
    if (data.groups !== undefined) for (const [id, version] of data.groups) this.groupVersions.set(id, version);
    else for (const a of data.apps) this.addGroups([parentGroupId(a.id)], a.current.version);
    for (const i of data.instances) this.addInstance(i);
    for (const d of data.deployments) {
      this.deploymentsById.set(d.id, d);
      this.deploymentByApp.set(d.appId, d.id);
    }
    this.generationValue++;
    this.restoreEpoch++;
    this.appSeqs.clear();
    this.observer.restored();
  }

  // ---- apps and deployments ----------------------------------------------

  private applyPutApp(cmd: Extract<FrameworkCommand, { type: 'PutApp' }>): CommandResult {
    const id = cmd.app.definition.id;
    this.touch(id);
    const running = this.deploymentOf(id);
    if (running !== undefined && !cmd.force) {
      return { ok: false, code: 'CONFLICT', message: appLockedMessage(publicDeploymentId(running)), deploymentId: publicDeploymentId(running) };
    }
    if (running !== undefined) this.endDeployment(running, 'superseded', cmd.atMs);
    const existing = this.appsById.get(id);
    // The API refuses an app id that clashes with a group (appIdClash) before proposing; applying does not
    // check again, so a log written before that rule replays to the same state.
    if (existing === undefined) this.addGroups([parentGroupId(id)], cmd.app.version);
    this.touchGroups(id, cmd.app.version);
    const configChanged = existing === undefined || existing.current.versionInfo.lastConfigChangeAt !== cmd.app.versionInfo.lastConfigChangeAt;
    if (existing === undefined) {
      this.appsById.set(id, { id, current: cmd.app, versions: [cmd.app], failures: 0, ...(cmd.canary !== undefined ? { canary: cmd.canary } : {}) });
    } else {
      existing.current = cmd.app;
      if (!cmd.reuseVersion || !existing.versions.some((v) => v.version === cmd.app.version)) {
        existing.versions.push(cmd.app);
        if (existing.versions.length > maxVersionsPerApp) existing.versions.splice(0, existing.versions.length - maxVersionsPerApp);
      }
      if (configChanged) existing.failures = 0;
      if (cmd.canary !== undefined) existing.canary = cmd.canary;
      else delete existing.canary;
      // A config change lifts the backoff of instances waiting to be relaunched.
      if (configChanged) for (const inst of this.instancesOf(id)) delete inst.notBeforeMs;
    }
    const app = this.appsById.get(id) as AppRecord;
    if (cmd.kill !== undefined) this.applyKill(cmd.atMs, cmd.kill, 'killed and scaled through the API');
    if (cmd.origin !== undefined) {
      this.emit({ eventType: 'api_post_event', timestamp: iso(cmd.atMs), clientIp: cmd.origin.clientIp, uri: cmd.origin.uri, appDefinition: renderApp(cmd.app) });
    }
    this.emit({ eventType: 'group_change_success', timestamp: iso(cmd.atMs), groupId: parentGroupId(id), version: cmd.app.version });
    this.startDeployment(cmd.deployment, cmd.atMs);
    this.registryChange({ type: 'APP_UPDATED', app: this.registryApp(app) });
    // Instances of the app whose endpoint status depends on the app (weights) are unchanged.
    return { ok: true, deploymentId: cmd.deployment.id };
  }

  private applyDeleteApp(cmd: Extract<FrameworkCommand, { type: 'DeleteApp' }>): CommandResult {
    const app = this.appsById.get(cmd.appId);
    if (app === undefined) return { ok: false, code: 'NOT_FOUND', message: `App '${cmd.appId}' does not exist` };
    const running = this.deploymentOf(cmd.appId);
    if (running !== undefined && !cmd.force) {
      return { ok: false, code: 'CONFLICT', message: appLockedMessage(publicDeploymentId(running)), deploymentId: publicDeploymentId(running) };
    }
    if (running !== undefined) this.endDeployment(running, 'superseded', cmd.atMs);
    this.startDeployment(cmd.deployment, cmd.atMs);
    this.appsById.delete(cmd.appId);
    this.touchGroups(cmd.appId, iso(cmd.atMs));
    const victims = this.instancesOf(cmd.appId).map((i) => i.instanceId);
    this.applyKill(cmd.atMs, victims, 'app deleted');
    this.registryChange({ type: 'APP_REMOVED', appId: cmd.appId });
    this.emit({ eventType: 'group_change_success', timestamp: iso(cmd.atMs), groupId: parentGroupId(cmd.appId), version: iso(cmd.atMs) });
    this.emit({ eventType: 'app_terminated_event', timestamp: iso(cmd.atMs), appId: cmd.appId });
    return { ok: true, deploymentId: cmd.deployment.id };
  }

  private applyPutGroups(cmd: Extract<FrameworkCommand, { type: 'PutGroups' }>): CommandResult {
    for (const id of cmd.groupIds) {
      if (this.appsById.has(id)) return { ok: false, code: 'INVALID', message: 'Groups and Applications may not have the same identifier.' };
    }
    this.addGroups(cmd.groupIds, iso(cmd.atMs));
    this.emit({ eventType: 'group_change_success', timestamp: iso(cmd.atMs), groupId: cmd.groupIds[0] ?? '/', version: iso(cmd.atMs) });
    return ok;
  }

  private applyDeleteGroup(cmd: Extract<FrameworkCommand, { type: 'DeleteGroup' }>): CommandResult {
    for (const id of [...this.groupVersions.keys()]) {
      if (isRootId(cmd.groupId) || id === cmd.groupId || isInGroup(id, cmd.groupId)) this.groupVersions.delete(id);
    }
    // An app created inside meanwhile (after the group's apps were deleted) keeps the groups it lies in.
    for (const app of this.appsById.values()) this.addGroups([parentGroupId(app.id)], app.current.version);
    this.emit({ eventType: 'group_change_success', timestamp: iso(cmd.atMs), groupId: isRootId(cmd.groupId) ? '/' : parentGroupId(cmd.groupId), version: iso(cmd.atMs) });
    return ok;
  }

  /** A change to an app is a change to every group it lies in (Marathon's group versions). */
  private touchGroups(appId: string, version: string): void {
    for (let g = parentGroupId(appId); !isRootId(g); g = parentGroupId(g)) if (this.groupVersions.has(g)) this.groupVersions.set(g, version);
  }

  /** Keeps the groups and every group they lie in; one already kept keeps its version. */
  private addGroups(ids: readonly string[], version: string): void {
    for (const id of ids) {
      for (let g = id; !isRootId(g) && !this.groupVersions.has(g); g = parentGroupId(g)) this.groupVersions.set(g, version);
    }
  }

  private startDeployment(d: DeploymentRecord, atMs: number): void {
    this.touch(d.appId);
    this.deploymentsById.set(d.id, d);
    this.deploymentByApp.set(d.appId, d.id);
    const plan = this.eventPlan(d);
    this.eventPlans.set(d.id, plan);
    this.emit({ eventType: 'deployment_info', timestamp: iso(atMs), plan, currentStep: plan.steps[0] });
    // Marathon reports each step as it ends and the next as it begins; a new app's start step ends at once.
    if (d.kind === 'start') {
      this.emit({ eventType: 'deployment_step_success', timestamp: iso(atMs), plan, currentStep: plan.steps[0] });
      this.emit({ eventType: 'deployment_info', timestamp: iso(atMs), plan, currentStep: plan.steps[1] });
    }
  }

  /** The plan events carry, with the app's JSON before and after (kept from the start: a deleted app's versions are gone by the end). */
  private eventPlan(d: DeploymentRecord): MarathonEventPlan {
    const cached = this.eventPlans.get(d.id);
    if (cached !== undefined) return cached;
    const json = (version: string | undefined): JsonObjectOut | undefined => {
      const v = version === undefined ? undefined : this.versionOf(d.appId, version);
      return v === undefined ? undefined : renderApp(v);
    };
    return renderEventPlan(d, d.kind === 'start' ? undefined : json(d.fromVersion), d.kind === 'delete' ? undefined : json(d.version));
  }

  private endDeployment(d: DeploymentRecord, outcome: 'success' | 'failed' | 'superseded' | 'canceled', atMs: number, reason?: string): void {
    this.touch(d.appId);
    this.deploymentsById.delete(d.id);
    if (this.deploymentByApp.get(d.appId) === d.id) this.deploymentByApp.delete(d.appId);
    const plan = this.eventPlan(d);
    this.eventPlans.delete(d.id);
    if (outcome === 'success') this.emit({ eventType: 'deployment_success', timestamp: iso(atMs), id: d.id, plan });
    else this.emit({ eventType: 'deployment_failed', timestamp: iso(atMs), id: d.id, plan, ...(reason !== undefined ? { reason } : { reason: outcome }) });
    if (d.batch !== undefined) this.endBatchMember(d.batch, d, plan, outcome === 'success' ? undefined : reason ?? outcome, atMs);
  }

  /**
   * A batch ends with the last of its members (counted: one may end before the
   * next is written): one event for the batch, failed if any member failed.
   */
  private endBatchMember(batch: DeploymentBatch, d: DeploymentRecord, plan: MarathonEventPlan, failure: string | undefined, atMs: number): void {
    this.forgetStaleBatches(atMs);
    const before = this.batchProgress.get(batch.id);
    const progress: BatchProgress = {
      id: batch.id,
      ended: [...(before?.ended ?? []), { appId: d.appId, kind: d.kind }],
      atMs,
      ...(before?.failure !== undefined ? { failure: before.failure } : failure !== undefined ? { failure } : {}),
    };
    const plans = [...(this.batchPlans.get(batch.id) ?? []), plan];
    if (progress.ended.length < batch.size) {
      this.batchProgress.set(batch.id, progress);
      this.batchPlans.set(batch.id, plans);
      return;
    }
    this.batchProgress.delete(batch.id);
    this.batchPlans.delete(batch.id);
    const merged = mergeEventPlans(batch.id, plans);
    if (progress.failure === undefined) this.emit({ eventType: 'deployment_success', timestamp: iso(atMs), id: batch.id, plan: merged });
    else this.emit({ eventType: 'deployment_failed', timestamp: iso(atMs), id: batch.id, plan: merged, reason: progress.failure });
  }

  /** A batch whose write stopped before all its members were written never ends: forget it an hour after its last member ended. */
  private forgetStaleBatches(atMs: number): void {
    for (const b of this.batchProgress.values()) {
      if (atMs - b.atMs < staleBatchMs || this.deploymentsOfBatch(b.id).length > 0) continue;
      this.batchProgress.delete(b.id);
      this.batchPlans.delete(b.id);
    }
  }

  private applyFinishDeployment(cmd: Extract<FrameworkCommand, { type: 'FinishDeployment' }>): CommandResult {
    const d = this.deploymentsById.get(cmd.deploymentId);
    if (d === undefined) return { ok: false, code: 'NOT_FOUND', message: `deployment ${cmd.deploymentId} is not running` };
    if (cmd.outcome === 'success') {
      const plan = this.eventPlan(d);
      this.emit({ eventType: 'deployment_step_success', timestamp: iso(cmd.atMs), plan, currentStep: plan.steps[plan.steps.length - 1] });
    }
    this.endDeployment(d, cmd.outcome, cmd.atMs, cmd.reason);
    return ok;
  }

  private applyCancelDeployment(cmd: Extract<FrameworkCommand, { type: 'CancelDeployment' }>): CommandResult {
    const d = this.deploymentsById.get(cmd.deploymentId);
    if (d === undefined) return { ok: false, code: 'NOT_FOUND', message: `DeploymentPlan ${cmd.deploymentId} does not exist` };
    this.endDeployment(d, 'canceled', cmd.atMs, 'canceled');
    return ok;
  }

  // ---- instances ------------------------------------------------------------

  private touch(appId: string): void {
    this.appSeqs.set(appId, (this.appSeqs.get(appId) ?? 0) + 1);
  }

  private addInstance(inst: InstanceRecord): void {
    this.touch(inst.appId);
    this.instancesById.set(inst.instanceId, inst);
    let set = this.instancesByApp.get(inst.appId);
    if (set === undefined) {
      set = new Set();
      this.instancesByApp.set(inst.appId, set);
    }
    set.add(inst.instanceId);
    if (inst.taskId !== undefined) this.instanceByTask.set(inst.taskId, inst.instanceId);
  }

  private removeInstance(inst: InstanceRecord): void {
    this.touch(inst.appId);
    this.instancesById.delete(inst.instanceId);
    const set = this.instancesByApp.get(inst.appId);
    set?.delete(inst.instanceId);
    if (set !== undefined && set.size === 0) this.instancesByApp.delete(inst.appId);
    if (inst.taskId !== undefined && this.instanceByTask.get(inst.taskId) === inst.instanceId) this.instanceByTask.delete(inst.taskId);
  }

  private applySchedule(cmd: Extract<FrameworkCommand, { type: 'Schedule' }>): CommandResult {
    const accepted: string[] = [];
    // Indexes in use, per app, computed once per command: a 10,000-instance scale is one command.
    const usedByApp = new Map<string, { used: Set<number>; next: number }>();
    for (const s of cmd.instances) {
      const configVersion = this.configVersionOf(s.appId, s.version);
      if (this.instancesById.has(s.instanceId) || configVersion === undefined) continue;
      let slot = usedByApp.get(s.appId);
      if (slot === undefined) {
        slot = { used: new Set(this.instancesOf(s.appId).map((i) => i.index)), next: 0 };
        usedByApp.set(s.appId, slot);
      }
      while (slot.used.has(slot.next)) slot.next++;
      const index = slot.next;
      slot.used.add(index);
      this.addInstance({ instanceId: s.instanceId, appId: s.appId, index, version: s.version, configVersion, phase: 'scheduled', incarnation: 0, hostPorts: [] });
      accepted.push(s.instanceId);
    }
    return { ok: true, accepted };
  }

  private applyLaunch(atMs: number, launches: readonly LaunchDecision[]): CommandResult {
    const accepted: string[] = [];
    for (const l of launches) {
      const inst = this.instancesById.get(l.instanceId);
      if (inst === undefined || inst.phase !== 'scheduled' || l.incarnation !== inst.incarnation + 1) continue;
      this.touch(inst.appId);
      if (inst.taskId !== undefined) this.instanceByTask.delete(inst.taskId);
      inst.incarnation = l.incarnation;
      inst.taskId = l.taskId;
      inst.agentId = l.agentId;
      inst.hostname = l.hostname;
      inst.hostPorts = [...l.hostPorts];
      inst.phase = 'launched';
      inst.mesosState = 'TASK_STAGING';
      inst.stagedAtMs = atMs;
      delete inst.startedAtMs;
      delete inst.healthy;
      delete inst.healthySinceMs;
      delete inst.unreachableSinceMs;
      this.instanceByTask.set(l.taskId, inst.instanceId);
      accepted.push(l.instanceId);
      this.emitInstanceChanged(inst, 'Provisioned', atMs);
    }
    return { ok: true, accepted };
  }

  private applyKill(atMs: number, instanceIds: readonly string[], reason: string): CommandResult {
    const accepted: string[] = [];
    for (const id of instanceIds) {
      const inst = this.instancesById.get(id);
      if (inst === undefined) continue;
      this.touch(inst.appId);
      const wasEndpoint = this.isEndpoint(inst);
      accepted.push(id);
      if (inst.phase === 'scheduled') {
        // Never launched (or between incarnations): nothing to kill, it just goes.
        this.removeInstance(inst);
        continue;
      }
      inst.phase = 'killing';
      inst.lastMessage = reason;
      if (wasEndpoint) this.registryChange({ type: 'ENDPOINT_DOWN', appId: inst.appId, taskId: inst.taskId ?? '' });
      this.emitInstanceChanged(inst, 'Killing', atMs);
    }
    return { ok: true, accepted };
  }

  private applyExpireUnreachable(instanceIds: readonly string[]): CommandResult {
    const accepted: string[] = [];
    for (const id of instanceIds) {
      const inst = this.instancesById.get(id);
      if (inst === undefined || inst.phase !== 'unreachable') continue;
      this.touch(inst.appId);
      inst.phase = 'scheduled';
      accepted.push(id);
    }
    return { ok: true, accepted };
  }

  /** The app's waiting instances launch without waiting out their backoff, and the next failure backs off from the start. NOT_FOUND: nothing of the app waits. */
  private applyResetDelay(appId: string): CommandResult {
    const app = this.appsById.get(appId);
    const waiting = app === undefined ? [] : this.instancesOf(appId).filter((i) => i.phase === 'scheduled');
    if (app === undefined || waiting.length === 0) return { ok: false, code: 'NOT_FOUND', message: `Application ${appId} not found in tasks queue.` };
    this.touch(appId);
    app.failures = 0;
    for (const inst of waiting) delete inst.notBeforeMs;
    return { ok: true };
  }

  private applyStatus(u: StatusUpdate, atMs: number): void {
    const inst = this.instanceOfTask(u.taskId);
    if (inst === undefined || inst.taskId !== u.taskId) return;
    this.touch(inst.appId);
    const def = this.definitionOf(inst.appId, inst.version);
    const wasEndpoint = this.isEndpoint(inst);
    const wasHealthy = inst.healthy;
    const wasState = inst.mesosState;
    inst.mesosState = u.state;
    if (u.agentId !== undefined) inst.agentId = u.agentId;
    if (u.message !== undefined) inst.lastMessage = u.message;
    const app = this.appsById.get(inst.appId);
    if (isTerminalTaskState(u.state)) {
      this.emitStatus(inst, u);
      if (app !== undefined && isTaskFailureState(u.state)) {
        app.lastTaskFailure = {
          taskId: u.taskId,
          state: u.state,
          message: u.message ?? '',
          host: inst.hostname ?? '',
          ...(inst.agentId !== undefined ? { agentId: inst.agentId } : {}),
          version: inst.version,
          timestampMs: u.timestampMs,
        };
      }
      if (inst.phase === 'killing' || app === undefined) {
        this.emitInstanceChanged(inst, 'Killed', u.timestampMs);
        this.removeInstance(inst);
      } else {
        // Goal is still "run": back to the queue under the same instance id, after the backoff.
        const failed = u.state !== 'TASK_FINISHED';
        if (failed && def !== undefined) {
          const delayS = Math.min(def.maxLaunchDelaySeconds, def.backoffSeconds * def.backoffFactor ** app.failures);
          app.failures++;
          inst.notBeforeMs = u.timestampMs + delayS * 1000;
        }
        inst.phase = 'scheduled';
        delete inst.healthy;
        this.emitInstanceChanged(inst, u.state === 'TASK_FINISHED' ? 'Finished' : 'Failed', u.timestampMs);
      }
    } else if (u.state === 'TASK_UNREACHABLE') {
      if (inst.phase !== 'killing') inst.phase = 'unreachable';
      inst.unreachableSinceMs ??= u.timestampMs;
      this.emitStatus(inst, u);
    } else {
      if (u.state === 'TASK_RUNNING') {
        if (inst.phase !== 'killing') inst.phase = 'running';
        inst.startedAtMs ??= u.timestampMs;
        delete inst.unreachableSinceMs;
      } else if (inst.phase !== 'killing') {
        inst.phase = 'launched';
      }
      if (u.healthy !== undefined) inst.healthy = u.healthy;
      if (wasHealthy !== inst.healthy || u.state !== wasState) this.emitStatus(inst, u);
      if (inst.healthy === true && wasHealthy !== true) inst.healthySinceMs = u.timestampMs;
      if (inst.healthy !== undefined && wasHealthy !== inst.healthy) {
        this.emit({ eventType: 'health_status_changed_event', timestamp: iso(atMs), appId: inst.appId, instanceId: inst.instanceId, taskId: inst.taskId, version: inst.version, alive: inst.healthy });
        // A healthy instance ends the app's run of failures: the next failure backs off from the start.
        if (inst.healthy && app !== undefined) app.failures = 0;
      }
      if (u.state === 'TASK_RUNNING' && inst.phase === 'running' && inst.startedAtMs === u.timestampMs) this.emitInstanceChanged(inst, 'Running', u.timestampMs);
    }
    const isEndpoint = this.instancesById.has(inst.instanceId) && this.isEndpoint(inst);
    if (!wasEndpoint && isEndpoint) {
      inst.healthySinceMs ??= u.timestampMs;
      this.registryChange({ type: 'ENDPOINT_UP', endpoint: this.registryEndpoint(inst) });
    } else if (wasEndpoint && !isEndpoint) {
      this.registryChange({ type: 'ENDPOINT_DOWN', appId: inst.appId, taskId: inst.taskId ?? '' });
    }
  }

  // ---- outputs -----------------------------------------------------------

  private registryChange(c: Parameters<StateObserver['registry']>[0]): void {
    this.registryRevisionValue++;
    this.observer.registry(c);
  }

  private emit(e: MarathonEvent): void {
    this.observer.event(e, this.index);
  }

  private emitStatus(inst: InstanceRecord, u: StatusUpdate): void {
    this.emit({
      eventType: 'status_update_event',
      timestamp: iso(u.timestampMs),
      slaveId: inst.agentId ?? '',
      taskId: u.taskId,
      taskStatus: u.state,
      message: u.message ?? '',
      appId: inst.appId,
      host: inst.hostname ?? '',
      ipAddresses: [],
      ports: inst.hostPorts,
      version: inst.version,
      ...(u.healthy !== undefined ? { healthy: u.healthy } : {}),
      instanceId: inst.instanceId,
    });
  }

  private emitInstanceChanged(inst: InstanceRecord, condition: string, atMs: number): void {
    this.emit({
      eventType: 'instance_changed_event',
      timestamp: iso(atMs),
      instanceId: inst.instanceId,
      condition,
      runSpecId: inst.appId,
      agentId: inst.agentId ?? '',
      host: inst.hostname ?? '',
      runSpecVersion: inst.version,
    });
  }
}
