/**
 * AppService: what the REST API asks of the framework, as typed operations
 * (create, update, scale, restart, rollback, delete, kill tasks, canary,
 * cancel a deployment). It validates against the current state, makes the
 * new immutable version (ids and timestamps come from here, the proposer),
 * and commits one command through Raft; it answers only after the commit.
 * It knows nothing of HTTP: failures are typed errors the edge maps once.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/clock.ts';
import { ConflictError, CygnetError, NotFoundError, ValidationError } from '../common/errors.ts';
import type { AppDefinition, AppVersion } from './app/app-definition.ts';
import { AppValidationError, atJsonPath } from './app/app-errors.ts';
import { parseAppDefinition } from './app/parse-app.ts';
import { applyAppUpdate, definitionsEqual, isScaleOnly, readRollbackVersion } from './app/merge-app.ts';
import { normalizeAppId } from './app/app-id.ts';
import type { CommandResult, FrameworkCommand } from './state/commands.ts';
import { appLockedMessage, type FrameworkState } from './state/framework-state.ts';
import { publicDeploymentId, type AppRecord, type CanaryRecord, type DeploymentBatch, type DeploymentKind, type DeploymentRecord } from './state/model.ts';

/** A write refused because a deployment holds the app (HTTP 409 with the deployment's id). */
export class DeploymentConflictError extends ConflictError {
  constructor(message: string, readonly deploymentIds: readonly string[]) {
    super(message);
  }
}

/** Who asked, for Marathon's `api_post_event` (the HTTP client's address and the request path). */
export interface ApiOrigin {
  readonly clientIp: string;
  readonly uri: string;
}

export interface WriteOutcome {
  readonly version: string;
  readonly deploymentId: string;
  readonly app?: AppVersion;
}

/** One app's write, validated and ready to commit (AppService.prepare). */
export interface PreparedWrite {
  readonly v: AppVersion;
  readonly kind: DeploymentKind;
  readonly from: AppRecord | undefined;
}

export interface AppServiceOptions {
  readonly state: FrameworkState;
  readonly propose: (cmd: FrameworkCommand) => Promise<CommandResult>;
  readonly clock: Clock;
  readonly newUuid?: () => string;
  /** Called after every committed write, so the scheduler plans at once. */
  readonly onWrite?: () => void;
}

/** Marathon's `local_port_min`/`local_port_max`: where service ports for `port: 0` come from. */
export const servicePortRange = { min: 10_000, max: 20_000 } as const;

/** Label naming a deadline in seconds for this app's deployments (cygnet's extension). */
export const deadlineLabel = 'CYGNET_DEPLOYMENT_DEADLINE_SECONDS';
/** Label asking for a rollback when a deployment misses its deadline. */
export const rollbackLabel = 'CYGNET_ROLLBACK_ON_DEADLINE';

export class AppService {
  private readonly state: FrameworkState;
  private readonly propose: AppServiceOptions['propose'];
  private readonly clock: Clock;
  private readonly uuid: () => string;
  private readonly onWrite: () => void;
  private lastVersionMs = 0;

  constructor(o: AppServiceOptions) {
    this.state = o.state;
    this.propose = o.propose;
    this.clock = o.clock;
    this.uuid = o.newUuid ?? randomUUID;
    this.onWrite = o.onWrite ?? (() => undefined);
  }

  /** POST /v2/apps */
  async create(body: unknown, opts: { force?: boolean; origin?: ApiOrigin } = {}): Promise<WriteOutcome> {
    const def = parseAppDefinition(body);
    if (this.state.app(def.id) !== undefined) throw new ConflictError(`An app with id [${def.id}] already exists.`);
    this.checkAppIdFree(def.id);
    const v = this.newVersion(def, undefined);
    return this.put(v, 'start', undefined, opts.force ?? false, undefined, undefined, opts.origin);
  }

  /** PUT/PATCH /v2/apps/{id}: merge (Marathon's partialUpdate=true), replace, or roll back with `{"version": …}`. */
  async update(rawId: string, body: unknown, opts: { force?: boolean; partial?: boolean; origin?: ApiOrigin } = {}): Promise<WriteOutcome> {
    const w = this.prepare(rawId, body, opts);
    return this.put(w.v, w.kind, w.from, opts.force ?? false, undefined, undefined, opts.origin);
  }

  /**
   * PUT / PATCH /v2/apps: an array of app updates, each with its `id`. Every
   * element is validated, and every app's lock checked, before anything is
   * written (422 with `/<index>/…` paths, or 409). Each app then gets its own
   * deployment, in array order, and the answer names the batch they form:
   * clients see one deployment, as Marathon runs for the whole array.
   */
  async updateMany(body: unknown, opts: { force?: boolean; partial?: boolean; allowCreation?: boolean; origin?: ApiOrigin } = {}): Promise<WriteOutcome> {
    if (!Array.isArray(body)) throw new AppValidationError('schema', [{ path: '/', errors: ['error.expected.jsarray'] }]);
    if (body.length === 0) throw new AppValidationError('schema', [{ path: '/', errors: ['error.minLength'] }]);
    const seen = new Set<string>();
    // Service ports given out in this batch: two new apps must not both get the first free one.
    const ports = new Set<number>();
    const writes = body.map((element: unknown, i) => {
      const rawId = typeof element === 'object' && element !== null && !Array.isArray(element) ? (element as { id?: unknown }).id : undefined;
      if (typeof rawId !== 'string') throw new AppValidationError('schema', [{ path: `/${i}/id`, errors: [rawId === undefined ? 'error.path.missing' : 'error.expected.jsstring'] }]);
      if (opts.allowCreation === false && this.state.app(atJsonPath(`/${i}`, () => normalizeAppId(rawId))) === undefined) throw new NotFoundError(`App '${rawId}' does not exist`);
      const w = atJsonPath(`/${i}`, () => this.prepare(rawId, element, opts, ports));
      if (seen.has(w.v.definition.id)) throw new AppValidationError('semantic', [{ path: `/${i}/id`, errors: [`${w.v.definition.id} appears more than once`] }]);
      seen.add(w.v.definition.id);
      return w;
    });
    this.checkLocks(writes.map((w) => w.v.definition.id), opts.force ?? false);
    return this.commitAll(writes, [], opts.force ?? false, opts.origin);
  }

  /** 409 naming the deployments that hold any of `ids`, unless forced. */
  checkLocks(ids: Iterable<string>, force: boolean): void {
    if (force) return;
    const locked = [...new Set([...ids].flatMap((id) => { const d = this.state.deploymentOf(id); return d === undefined ? [] : [publicDeploymentId(d)]; }))];
    if (locked.length > 0) throw new DeploymentConflictError(appLockedMessage(locked[0] as string), locked);
  }

  /**
   * Writes what `prepare` made, then deletes `removals`, each app with its
   * own deployment. Several form one batch (DeploymentRecord.batch) and the
   * answer names it; nothing to write answers as Marathon's empty plan does.
   */
  async commitAll(writes: readonly PreparedWrite[], removals: readonly string[], force: boolean, origin?: ApiOrigin): Promise<WriteOutcome> {
    const size = writes.length + removals.length;
    if (size === 0) return this.emptyOutcome();
    const batch: DeploymentBatch | undefined = size > 1 ? { id: this.uuid(), size } : undefined;
    let last: WriteOutcome | undefined;
    for (const w of writes) last = await this.put(w.v, w.kind, w.from, force, undefined, undefined, origin, batch);
    for (const id of removals) last = await this.remove(id, { force, ...(batch !== undefined ? { batch } : {}) });
    return batch === undefined ? last as WriteOutcome : { version: (last as WriteOutcome).version, deploymentId: batch.id };
  }

  /** What an update writes: the new version, what kind of deployment it is, and the app before. Throws on invalid input. */
  prepare(rawId: string, body: unknown, opts: { partial?: boolean }, batchPorts?: Set<number>): PreparedWrite {
    const id = normalizeAppId(rawId);
    const app = this.state.app(id);
    // `{"version": v}` (with at most the app's `id` beside it) is a rollback; readRollbackVersion 422s other mixes.
    const rollbackTo = readRollbackVersion(body);
    if (rollbackTo !== undefined) return this.prepareRollback(id, rollbackTo);
    if (app === undefined) {
      // Marathon's PUT creates the app when it does not exist.
      const def = this.withServicePorts(parseAppDefinition(withId(body, id)), batchPorts);
      this.checkAppIdFree(def.id);
      return { v: this.newVersion(def, undefined), kind: 'start', from: undefined };
    }
    // A full replace takes the id from the URL, as Marathon does; a merge keeps the body's id to check it.
    // Service ports first: a full replace asking for `port: 0` again keeps the app's ports, so is no change of them.
    const next = this.withServicePorts(opts.partial === false ? parseAppDefinition(withPathId(body, id)) : applyAppUpdate(app.current.definition, withId(body, id)), batchPorts);
    if (next.id !== id) throw new ValidationError('id', `the app's own id ${id}`, next.id);
    // An unchanged definition is no upgrade either (Marathon restarts only on a config change).
    const scale = isScaleOnly(app.current.definition, next) || definitionsEqual(app.current.definition, next);
    return { v: this.newVersion(next, scale ? app.current : undefined), kind: scale ? 'scale' : 'update', from: app };
  }

  /** POST /v2/apps/{id}/restart: a new config version with the same definition (rolling restart). */
  async restart(rawId: string, opts: { force?: boolean } = {}): Promise<WriteOutcome> {
    const app = this.mustApp(rawId);
    return this.put(this.newVersion(app.current.definition, undefined), 'restart', app, opts.force ?? false);
  }

  /** PUT {"version": v}: the definition of v, keeping v's config version so its instances stay. */
  async rollback(rawId: string, version: string, opts: { force?: boolean } = {}): Promise<WriteOutcome> {
    const w = this.prepareRollback(rawId, version);
    return this.put(w.v, w.kind, w.from, opts.force ?? false);
  }

  private prepareRollback(rawId: string, version: string): PreparedWrite {
    const app = this.mustApp(rawId);
    const target = app.versions.find((x) => x.version === version);
    if (target === undefined) throw new NotFoundError(`App '${app.id}' does not exist in version ${version}`);
    const now = this.nextVersionTime();
    const v: AppVersion = { definition: target.definition, version: now, versionInfo: { lastScalingAt: now, lastConfigChangeAt: target.versionInfo.lastConfigChangeAt } };
    return { v, kind: 'rollback', from: app };
  }

  /** DELETE /v2/apps/{id} */
  async remove(rawId: string, opts: { force?: boolean; batch?: DeploymentBatch } = {}): Promise<WriteOutcome> {
    const app = this.mustApp(rawId);
    const now = this.clock.nowMs();
    const deployment = this.deployment(app.id, 'delete', app.current, app, now, opts.batch);
    const r = await this.propose({ type: 'DeleteApp', atMs: now, appId: app.id, deployment, force: opts.force ?? false });
    this.check(r);
    this.onWrite();
    return { version: new Date(now).toISOString(), deploymentId: deployment.id };
  }

  /** Kills instances by task id; with `scale`, lowers `instances` too (one scale deployment per app). */
  async killTasks(taskIds: readonly string[], opts: { scale?: boolean; force?: boolean; appId?: string } = {}): Promise<{ killed: string[]; deployment?: WriteOutcome }> {
    const byApp = new Map<string, string[]>();
    const killed: string[] = [];
    for (const t of taskIds) {
      const inst = this.state.instanceOfTask(t);
      if (inst === undefined || inst.taskId !== t) continue;
      if (opts.appId !== undefined && inst.appId !== opts.appId) continue;
      const list = byApp.get(inst.appId) ?? [];
      list.push(inst.instanceId);
      byApp.set(inst.appId, list);
      killed.push(t);
    }
    let deployment: WriteOutcome | undefined;
    if (opts.scale === true) {
      for (const [appId, ids] of byApp) {
        const app = this.state.app(appId);
        if (app === undefined) continue;
        const def = { ...app.current.definition, instances: Math.max(0, app.current.definition.instances - ids.length) };
        deployment = await this.put(this.newVersion(def, app.current), 'scale', app, opts.force ?? false, ids);
      }
      return { killed, ...(deployment !== undefined ? { deployment } : {}) };
    }
    const all = [...byApp.values()].flat();
    if (all.length > 0) {
      this.check(await this.propose({ type: 'Kill', atMs: this.clock.nowMs(), instanceIds: all, reason: 'killed through the API' }));
      this.onWrite();
    }
    return { killed };
  }

  /**
   * Canary (cygnet's extension): `count` instances move to the updated
   * definition and get `weight` of the traffic; the rest stay on the current
   * version until promote or abort.
   */
  async startCanary(rawId: string, body: { app?: unknown; instances?: unknown; weight?: unknown }, opts: { force?: boolean } = {}): Promise<WriteOutcome> {
    const app = this.mustApp(rawId);
    if (app.canary !== undefined) throw new ConflictError(`App '${app.id}' already has a canary; promote or abort it first`);
    const count = body.instances ?? 1;
    const weight = body.weight ?? 0.2;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > app.current.definition.instances) {
      throw new ValidationError('instances', `an integer from 1 to the app's instances (${app.current.definition.instances})`, JSON.stringify(count));
    }
    if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) throw new ValidationError('weight', 'a number from 0 to 1', JSON.stringify(weight));
    const next = applyAppUpdate(app.current.definition, withId(body.app ?? {}, app.id));
    if (next.instances !== app.current.definition.instances) throw new ValidationError('app.instances', 'unchanged during a canary (scale after promote)', String(next.instances));
    const v = this.newVersion(next, undefined);
    const canary: CanaryRecord = { baseVersion: app.current.version, count, weight };
    return this.put(v, 'canary', app, opts.force ?? false, undefined, canary);
  }

  /** Moves every instance to the canary's version. */
  async promoteCanary(rawId: string, opts: { force?: boolean } = {}): Promise<WriteOutcome> {
    const app = this.mustApp(rawId);
    if (app.canary === undefined) throw new NotFoundError(`App '${app.id}' has no canary`);
    const now = this.nextVersionTime();
    const v: AppVersion = { definition: app.current.definition, version: now, versionInfo: { lastScalingAt: now, lastConfigChangeAt: app.current.versionInfo.lastConfigChangeAt } };
    return this.put(v, 'promote', app, opts.force ?? true);
  }

  /** Returns every instance to the version the canary started from. */
  async abortCanary(rawId: string, opts: { force?: boolean } = {}): Promise<WriteOutcome> {
    const app = this.mustApp(rawId);
    if (app.canary === undefined) throw new NotFoundError(`App '${app.id}' has no canary`);
    return this.rollback(app.id, app.canary.baseVersion, { force: opts.force ?? true });
  }

  /** DELETE /v2/deployments/{id}: revert to where the app was (default) or, with force, stop where it is. */
  async cancelDeployment(id: string, opts: { force?: boolean } = {}): Promise<WriteOutcome | undefined> {
    const single = this.state.deployment(id);
    const members = single !== undefined ? [single] : this.state.deploymentsOfBatch(id);
    if (members.length === 0) throw new NotFoundError(`DeploymentPlan ${id} does not exist`);
    // Without force Marathon deploys the plan's revert: the version before, or no app at all before a start.
    // A deleted app's definitions are gone with it, so a delete can only be stopped where it is.
    const reverts = opts.force === true ? [] : members.filter((d) => d.kind !== 'delete');
    for (const d of members.filter((m) => !reverts.includes(m))) {
      this.check(await this.propose({ type: 'CancelDeployment', atMs: this.clock.nowMs(), deploymentId: d.id }));
      this.onWrite();
    }
    if (reverts.length === 0) return undefined;
    const rollbacks = reverts.flatMap((d) => (d.fromVersion === undefined ? [] : [this.prepareRollback(d.appId, d.fromVersion)]));
    return this.commitAll(rollbacks, reverts.filter((d) => d.fromVersion === undefined).map((d) => d.appId), true);
  }

  /** Marathon's DELETE /v2/queue/{app}/delay: the app's waiting instances launch without their backoff. 404 when none waits. */
  async resetDelay(appId: string): Promise<void> {
    this.check(await this.propose({ type: 'ResetDelay', atMs: this.clock.nowMs(), appId }));
    this.onWrite();
  }

  /** What a write that changes nothing answers, as Marathon's empty plan does. */
  emptyOutcome(): WriteOutcome {
    return { version: this.nextVersionTime(), deploymentId: this.uuid() };
  }

  /** POST/PUT /v2/groups: the groups exist from now on (with the groups they lie in). */
  async putGroups(ids: readonly string[]): Promise<WriteOutcome> {
    const now = this.nextVersionTime();
    this.check(await this.propose({ type: 'PutGroups', atMs: Date.parse(now), groupIds: ids }));
    return { version: now, deploymentId: this.uuid() };
  }

  /** DELETE /v2/groups/{id}, once the apps inside are deleted: the group and the groups below it. */
  async deleteGroup(id: string): Promise<WriteOutcome> {
    const now = this.nextVersionTime();
    this.check(await this.propose({ type: 'DeleteGroup', atMs: Date.parse(now), groupId: id }));
    return { version: now, deploymentId: this.uuid() };
  }

  // ---- helpers -----------------------------------------------------------

  /** A new app's id may name no group and lie in no app (Marathon's 422). */
  private checkAppIdFree(id: string): void {
    const clash = this.state.appIdClash(id);
    if (clash !== undefined) throw new AppValidationError('semantic', [{ path: '/id', errors: [clash] }]);
  }

  /**
   * Marathon gives every `port: 0` a service port, unique in the cluster, from
   * 10000–20000, and an update keeps the ports the app already had (the load
   * balancer's TCP frontends and DNS clients rely on them staying put).
   */
  private withServicePorts(def: AppDefinition, batchPorts?: Set<number>): AppDefinition {
    const out = this.assignServicePorts(def, batchPorts);
    for (const p of out.portDefinitions) batchPorts?.add(p.port);
    return out;
  }

  private assignServicePorts(def: AppDefinition, batchPorts: ReadonlySet<number> | undefined): AppDefinition {
    if (!def.portDefinitions.some((p) => p.port === 0)) return def;
    const used = new Set<number>(batchPorts);
    for (const app of this.state.apps()) {
      if (app.id === def.id) continue;
      for (const p of app.current.definition.portDefinitions) used.add(p.port);
    }
    const previous = this.state.app(def.id)?.current.definition.portDefinitions ?? [];
    let next = servicePortRange.min;
    const portDefinitions = def.portDefinitions.map((p, i) => {
      if (p.port !== 0) return p;
      const kept = previous[i]?.port;
      if (kept !== undefined && kept >= servicePortRange.min && kept <= servicePortRange.max && !used.has(kept)) {
        used.add(kept);
        return { ...p, port: kept };
      }
      while (used.has(next) || def.portDefinitions.some((q) => q.port === next)) next++;
      if (next > servicePortRange.max) throw new ConflictError(`no free service port left in ${servicePortRange.min}-${servicePortRange.max}`);
      used.add(next);
      return { ...p, port: next };
    });
    return { ...def, portDefinitions };
  }

  private mustApp(rawId: string): AppRecord {
    const id = normalizeAppId(rawId);
    const app = this.state.app(id);
    if (app === undefined) throw new NotFoundError(`App '${id}' does not exist`);
    return app;
  }

  /** Version ids are ISO timestamps; two writes in one millisecond still get distinct ones. */
  private nextVersionTime(): string {
    const ms = Math.max(this.clock.nowMs(), this.lastVersionMs + 1);
    this.lastVersionMs = ms;
    return new Date(ms).toISOString();
  }

  private newVersion(def: AppDefinition, scaledFrom: AppVersion | undefined): AppVersion {
    const now = this.nextVersionTime();
    return { definition: this.withServicePorts(def), version: now, versionInfo: { lastScalingAt: now, lastConfigChangeAt: scaledFrom?.versionInfo.lastConfigChangeAt ?? now } };
  }

  private deployment(appId: string, kind: DeploymentKind, v: AppVersion, from: AppRecord | undefined, now: number, batch?: DeploymentBatch): DeploymentRecord {
    const labels = v.definition.labels;
    const deadlineS = Number(labels[deadlineLabel]);
    return {
      id: this.uuid(),
      appId,
      kind,
      version: v.version,
      ...(from !== undefined ? { fromVersion: from.current.version } : {}),
      startedAtMs: now,
      ...(Number.isFinite(deadlineS) && deadlineS > 0 ? { deadlineAtMs: now + deadlineS * 1000 } : {}),
      rollbackOnDeadline: labels[rollbackLabel] === 'true',
      ...(batch !== undefined ? { batch } : {}),
    };
  }

  private async put(v: AppVersion, kind: DeploymentKind, from: AppRecord | undefined, force: boolean, killFirst?: readonly string[], canary?: CanaryRecord, origin?: ApiOrigin, batch?: DeploymentBatch): Promise<WriteOutcome> {
    const now = this.clock.nowMs();
    const deployment = this.deployment(v.definition.id, kind, v, from, now, batch);
    const r = await this.propose({
      type: 'PutApp', atMs: now, app: v, deployment, force,
      ...(canary !== undefined ? { canary } : {}),
      ...(origin !== undefined ? { origin } : {}),
      ...(killFirst !== undefined && killFirst.length > 0 ? { kill: killFirst } : {}),
    });
    this.check(r);
    this.onWrite();
    return { version: v.version, deploymentId: deployment.id, app: v };
  }

  private check(r: CommandResult): void {
    if (r.ok) return;
    if (r.code === 'CONFLICT') throw new DeploymentConflictError(r.message, r.deploymentId !== undefined ? [r.deploymentId] : []);
    if (r.code === 'NOT_FOUND') throw new NotFoundError(r.message);
    throw new CygnetError('CYG_VALIDATION', r.message);
  }
}

function withPathId(body: unknown, id: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  return { ...body, id };
}

/** The body with `id` set to the path's id when the body has none (Marathon takes the path's). */
function withId(body: unknown, id: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  return 'id' in body ? body : { ...body, id };
}

