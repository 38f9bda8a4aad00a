/**
 * Marathon's group writes (POST, PUT and DELETE /v2/groups). A group keeps
 * no settings of its own in cygnet, only its existence (FrameworkState's
 * groups), so the writes are mostly app writes: creating a group creates its
 * apps (an empty group is just kept), deleting one deletes every app inside
 * it and then the group, and a PUT creates, replaces and removes apps and
 * subgroups as Marathon's group update would (`scaleBy` scales every app
 * inside).
 *
 * Every app is validated and every lock checked before anything is written;
 * then each app gets its own deployment, and together they form one batch:
 * the answer names it, `/v2/deployments` shows it while any of them runs,
 * and it ends with one deployment_success (or _failed) event, as Marathon's
 * one deployment for the whole group does.
 */
import { ConflictError, NotFoundError } from '../common/errors.ts';
import { AppValidationError, atJsonPath } from './app/app-errors.ts';
import { isInGroup, isRootId, parentGroupId } from './app/app-id.ts';
import { readGroupUpdate, type GroupUpdate } from './app/group-update.ts';
import { definitionsEqual } from './app/merge-app.ts';
import type { AppService, PreparedWrite, WriteOutcome } from './app-service.ts';
import type { FrameworkState } from './state/framework-state.ts';
import type { AppRecord } from './state/model.ts';

export class GroupService {
  constructor(
    private readonly state: FrameworkState,
    private readonly apps: AppService,
  ) {}

  /** POST /v2/groups[/base]: a new group with its apps. Returns the outcome and the group's id (for Location). */
  async create(base: string, body: unknown, force: boolean): Promise<{ outcome: WriteOutcome; id: string }> {
    const u = readGroupUpdate(body, base);
    if (this.state.app(u.id) !== undefined) throw new ConflictError(`An app with the path ${u.id} already exists.`);
    if (this.exists(u.id)) throw new ConflictError(`Group ${u.id} is already created. Use PUT to change this group.`);
    if (u.scaleBy !== undefined || u.version !== undefined) throw new AppValidationError('semantic', [{ path: u.scaleBy !== undefined ? '/scaleBy' : '/version', errors: ['applies to an existing group: send it with PUT'] }]);
    const writes = this.prepareAll(u);
    this.apps.checkLocks(writes.map((w) => w.v.definition.id), force);
    // The apps first: a refused app leaves no group behind.
    const apps = writes.length > 0 ? await this.apps.commitAll(writes, [], force) : undefined;
    const groups = await this.keep(u.groups);
    return { outcome: apps ?? groups ?? this.apps.emptyOutcome(), id: u.id };
  }

  /** PUT /v2/groups[/base]: create or change the group's apps, remove the ones the update leaves out, or scale them all. */
  async update(base: string, body: unknown, force: boolean): Promise<WriteOutcome> {
    const u = readGroupUpdate(body, base);
    if (this.state.app(u.id) !== undefined) throw new ConflictError(`An app with the path ${u.id} already exists.`);
    if (u.version !== undefined) {
      throw new AppValidationError('semantic', [{ path: '/version', errors: ['cygnet keeps versions per app, not per group: roll an app back with PUT /v2/apps/{id} {"version": …}'] }]);
    }
    if (u.scaleBy !== undefined) {
      if (u.apps.length > 0 || u.appScopes.length > 0 || u.groupScopes.length > 0) throw new AppValidationError('semantic', [{ path: '/scaleBy', errors: ['scaleBy cannot be combined with apps or groups'] }]);
      if (!this.exists(u.id)) throw new NotFoundError(`Group '${u.id}' does not exist`);
      const factor = u.scaleBy;
      const writes = this.inside(u.id).map((app) => this.apps.prepare(app.id, { instances: Math.ceil(app.current.definition.instances * factor) }, { partial: true }));
      this.apps.checkLocks(writes.map((w) => w.v.definition.id), force);
      return this.apps.commitAll(writes, [], force);
    }
    // An app the update lists as it already is changes nothing (Marathon's plan has no step for it).
    const listed = this.prepareAll(u);
    const writes = listed.filter((w) => w.from === undefined || !definitionsEqual(w.from.current.definition, w.v.definition));
    const kept = new Set(listed.map((w) => w.v.definition.id));
    const removals = this.inside(u.id)
      .map((a) => a.id)
      .filter((id) => !kept.has(id) && (this.leftOutApp(u, id) || this.leftOutGroup(u, id)));
    this.apps.checkLocks([...writes.map((w) => w.v.definition.id), ...removals], force);
    const outcome = await this.apps.commitAll(writes, removals, force);
    // Subgroups a full `groups` list leaves out go with their apps; the groups it names exist, empty or not.
    for (const g of this.leftOutSubgroups(u)) await this.apps.deleteGroup(g);
    await this.keep(u.groups);
    return outcome;
  }

  /** DELETE /v2/groups[/id]: every app inside the group, then the group with every group below it (everything, for the root). */
  async remove(id: string, force: boolean): Promise<WriteOutcome> {
    if (!this.exists(id)) throw new NotFoundError(`Group '${id}' does not exist`);
    const ids = this.inside(id).map((a) => a.id);
    this.apps.checkLocks(ids, force);
    const apps = ids.length > 0 ? await this.apps.commitAll([], ids, force) : undefined;
    const group = await this.apps.deleteGroup(id);
    return apps ?? group;
  }

  /** Keeps the groups not kept yet (one replicated write, or none when all are). */
  private async keep(ids: readonly string[]): Promise<WriteOutcome | undefined> {
    const fresh = ids.filter((g) => !isRootId(g) && !this.state.groups().has(g));
    return fresh.length === 0 ? undefined : this.apps.putGroups(fresh);
  }

  private exists(id: string): boolean {
    return this.state.isGroup(id);
  }

  /** Kept groups directly below a group whose `groups` the update lists in full, and not among them. */
  private leftOutSubgroups(u: GroupUpdate): string[] {
    return [...this.state.groups().keys()].filter((g) => u.groupScopes.some((s) => parentGroupId(g) === s.id && !s.keep.has(g)));
  }

  private inside(group: string): AppRecord[] {
    return [...this.state.apps()].filter((a) => isRootId(group) || isInGroup(a.id, group));
  }

  private prepareAll(u: GroupUpdate): PreparedWrite[] {
    // A group the update names may not be an app already (the group itself is checked by the callers, with Marathon's 409).
    const clashes = u.groups.filter((g) => g !== u.id && this.state.app(g) !== undefined);
    if (clashes.length > 0) throw new AppValidationError('semantic', clashes.map((g) => ({ path: '/groups', errors: [`Groups and Applications may not have the same identifier: ${g} is an app.`] })));
    // Marathon replaces the apps a group update lists (no merge), creating the missing ones.
    // One set of service ports for the batch: two new apps must not both get the first free one.
    const ports = new Set<number>();
    return u.apps.map((a) => atJsonPath(a.path, () => this.apps.prepare(a.id, a.body, { partial: false }, ports)));
  }

  /** `id` sits directly in a group whose `apps` the update lists in full, and is not among them. */
  private leftOutApp(u: GroupUpdate, id: string): boolean {
    const parent = parentGroupId(id);
    return u.appScopes.some((s) => s.id === parent && !s.keep.has(id));
  }

  /** `id` lies in a subgroup of a group whose `groups` the update lists in full, and that subgroup is not among them. */
  private leftOutGroup(u: GroupUpdate, id: string): boolean {
    return u.groupScopes.some((s) => {
      if (!isRootId(s.id) && !isInGroup(id, s.id)) return false;
      if (parentGroupId(id) === s.id) return false; // a direct app: the apps list decides
      return ![...s.keep].some((g) => isInGroup(id, g));
    });
  }
}
