/**
 * Marathon's GroupUpdate body (POST/PUT /v2/groups) read into what cygnet
 * stores: the groups it names and apps with absolute ids. A group keeps no
 * settings of its own in cygnet, so a group update becomes app writes and
 * the groups' existence:
 *
 *   {"id": "shop", "apps": [{"id": "web", …}], "groups": [{"id": "db", "apps": [{"id": "pg", …}]}]}
 *
 * writes `/shop/web` and `/shop/db/pg`, and groups `/shop` and `/shop/db`. Ids resolve as Marathon's do: a
 * group's id against the group it is in (the URL's group at the top), an
 * app's against its group; every id must lie inside its group. For PUT the
 * parse also says which lists the update gives in full (`apps` or `groups`
 * present): apps and subgroups there that the update leaves out are removed,
 * as Marathon does. No I/O here.
 */
import { AppValidationError } from './app-errors.ts';
import type { MarathonErrorDetail } from './app-errors.ts';
import { isInGroup, isPathIdSyntax, normalizeAppId } from './app-id.ts';
import { maxAppIdLength } from './read-app-json.ts';

/** One app of the update: its absolute id, its JSON with that id, and its JSON path for errors. */
export interface GroupAppWrite {
  readonly id: string;
  readonly body: Record<string, unknown>;
  readonly path: string;
}

/** A group whose `apps` (or `groups`) the update lists in full. */
export interface GroupScope {
  readonly id: string;
  /** Absolute ids the update keeps there: apps for an apps scope, subgroups for a groups scope. */
  readonly keep: ReadonlySet<string>;
}

export interface GroupUpdate {
  /** The group the update is about (absolute). */
  readonly id: string;
  /** Every group the update names, its own first (absolute): they exist after it, with apps or empty. */
  readonly groups: readonly string[];
  readonly apps: readonly GroupAppWrite[];
  readonly appScopes: readonly GroupScope[];
  readonly groupScopes: readonly GroupScope[];
  readonly scaleBy?: number;
  readonly version?: string;
}

/** Deeper nesting than any real tree; bounds the recursion on hostile input. */
const MAX_DEPTH = 32;

/** Reads a GroupUpdate sent to the group `base` (`/` for /v2/groups). Throws AppValidationError (422) with JSON paths. */
export function readGroupUpdate(body: unknown, base: string): GroupUpdate {
  const errors: MarathonErrorDetail[] = [];
  const out = { apps: [] as GroupAppWrite[], appScopes: [] as GroupScope[], groupScopes: [] as GroupScope[], groups: [] as string[] };
  const id = readGroup(body, base, '', 0, errors, out, true);
  const top = isObject(body) ? body : {};
  const scaleBy = top.scaleBy;
  if (scaleBy !== undefined && scaleBy !== null && (typeof scaleBy !== 'number' || !Number.isFinite(scaleBy) || scaleBy < 0)) errors.push({ path: '/scaleBy', errors: ['error.expected.jsnumber (a number ≥ 0)'] });
  const version = top.version;
  if (version !== undefined && version !== null && typeof version !== 'string') errors.push({ path: '/version', errors: ['error.expected.jsstring'] });
  const groupIds = new Set(out.groups);
  for (const a of out.apps) if (groupIds.has(a.id)) errors.push({ path: `${a.path}/id`, errors: ['Groups and Applications may not have the same identifier.'] });
  if (errors.length > 0) throw new AppValidationError(errors.some((e) => e.errors.some((m) => m.startsWith('error.'))) ? 'schema' : 'semantic', errors);
  return {
    id: id ?? base,
    ...out,
    ...(typeof scaleBy === 'number' ? { scaleBy } : {}),
    ...(typeof version === 'string' ? { version } : {}),
  };
}

interface Collected {
  groups: string[];
  apps: GroupAppWrite[];
  appScopes: GroupScope[];
  groupScopes: GroupScope[];
}

/** Reads one group at JSON path `at` inside `parent`; returns its absolute id (undefined when unreadable). */
function readGroup(g: unknown, parent: string, at: string, depth: number, errors: MarathonErrorDetail[], out: Collected, top: boolean): string | undefined {
  if (!isObject(g)) {
    errors.push({ path: at === '' ? '/' : at, errors: ['error.expected.jsobject'] });
    return undefined;
  }
  if (depth > MAX_DEPTH) {
    errors.push({ path: at, errors: [`groups nest deeper than ${MAX_DEPTH} levels`] });
    return undefined;
  }
  let id = parent;
  if (g.id !== undefined && g.id !== null) {
    if (typeof g.id !== 'string') {
      errors.push({ path: `${at}/id`, errors: ['error.expected.jsstring'] });
      return undefined;
    }
    if (!isPathIdSyntax(g.id)) {
      errors.push({ path: `${at}/id`, errors: [`'${g.id}' is not a valid group id: segments are lowercase letters, digits, dashes and dots`] });
      return undefined;
    }
    id = normalizeAppId(g.id, parent);
    // The bound app ids have: a group's id is the start of its apps'.
    if (id.length > maxAppIdLength) {
      errors.push({ path: `${at}/id`, errors: ['error.maxLength'] });
      return undefined;
    }
    // The top group may name itself anywhere below the URL's group (or be it); nested ones must lie inside their parent.
    if (top ? id !== parent && !isInGroup(id, parent) : !isInGroup(id, parent)) {
      errors.push({ path: `${at}/id`, errors: [`group ${id} is not a child of ${parent}`] });
      return undefined;
    }
  } else if (!top) {
    errors.push({ path: `${at}/id`, errors: ['error.path.missing'] });
    return undefined;
  }
  out.groups.push(id);
  if (!top) {
    for (const k of ['scaleBy', 'version'] as const) if (g[k] !== undefined && g[k] !== null) errors.push({ path: `${at}/${k}`, errors: [`${k} applies to the group the request is sent to, not to nested groups`] });
  }
  if (Array.isArray(g.pods) && g.pods.length > 0) errors.push({ path: `${at}/pods`, errors: ['cygnet runs apps, not pods'] });
  else if (g.pods !== undefined && g.pods !== null && !Array.isArray(g.pods)) errors.push({ path: `${at}/pods`, errors: ['error.expected.jsarray'] });
  if (g.dependencies !== undefined && g.dependencies !== null && (!Array.isArray(g.dependencies) || g.dependencies.some((d) => typeof d !== 'string'))) {
    errors.push({ path: `${at}/dependencies`, errors: ['error.expected.jsarray (of group or app ids)'] });
  }
  if (g.enforceRole !== undefined && g.enforceRole !== null && typeof g.enforceRole !== 'boolean') errors.push({ path: `${at}/enforceRole`, errors: ['error.expected.jsboolean'] });

  if (g.apps !== undefined && g.apps !== null) {
    if (!Array.isArray(g.apps)) errors.push({ path: `${at}/apps`, errors: ['error.expected.jsarray'] });
    else {
      const keep = new Set<string>();
      g.apps.forEach((a: unknown, i) => {
        const app = readApp(a, id, `${at}/apps/${i}`, errors);
        if (app === undefined) return;
        if (keep.has(app.id) || out.apps.some((x) => x.id === app.id)) errors.push({ path: `${app.path}/id`, errors: [`${app.id} appears more than once`] });
        keep.add(app.id);
        out.apps.push(app);
      });
      out.appScopes.push({ id, keep });
    }
  }
  if (g.groups !== undefined && g.groups !== null) {
    if (!Array.isArray(g.groups)) errors.push({ path: `${at}/groups`, errors: ['error.expected.jsarray'] });
    else {
      const keep = new Set<string>();
      g.groups.forEach((sub: unknown, i) => {
        const subId = readGroup(sub, id, `${at}/groups/${i}`, depth + 1, errors, out, false);
        if (subId !== undefined) keep.add(subId);
      });
      out.groupScopes.push({ id, keep });
    }
  }
  return id;
}

function readApp(a: unknown, group: string, at: string, errors: MarathonErrorDetail[]): GroupAppWrite | undefined {
  if (!isObject(a)) {
    errors.push({ path: at, errors: ['error.expected.jsobject'] });
    return undefined;
  }
  if (typeof a.id !== 'string') {
    errors.push({ path: `${at}/id`, errors: [a.id === undefined ? 'error.path.missing' : 'error.expected.jsstring'] });
    return undefined;
  }
  // A malformed raw id is left for the app parser to name (path /id); only a well-formed one is resolved here.
  if (!isPathIdSyntax(a.id)) return { id: a.id, body: a, path: at };
  const id = normalizeAppId(a.id, group);
  if (!isInGroup(id, group)) {
    errors.push({ path: `${at}/id`, errors: [`app ${id} is not a child of the group ${group}`] });
    return undefined;
  }
  return { id, body: { ...a, id }, path: at };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
