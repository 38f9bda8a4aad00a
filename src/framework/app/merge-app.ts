/**
 * Updates of an existing app, with Marathon's semantics:
 *
 * - `PUT /v2/apps/{id}` (default `partialUpdate=true`) and `PATCH`: the body
 *   is an "AppUpdate" whose every field is optional; each top-level field that
 *   is present and not `null` replaces the current one whole (a `null` keeps
 *   the current value, as Marathon's `update.x.orElse(app.x)` does), so
 *   `{"instances": 5}` alone is a scale. The merged app is then normalized and
 *   validated exactly like a new one, with the same 422 bodies.
 * - `PUT ?partialUpdate=false`: the body is a whole app, defaults apply to
 *   everything it leaves out; the id in the URL wins over the body's.
 * - `{"version": "..."}` is a rollback, handled by the caller with the stored
 *   version (`readRollbackVersion` tells it apart and enforces Marathon's rule
 *   that `version` may only come with `id`).
 *
 * Also the comparisons the framework needs to tell a scale from a config
 * change. No I/O here.
 */
import type { AppDefinition } from './app-definition.ts';
import { Violations } from './app-errors.ts';
import { type ParseAppOptions, buildAppDefinition, isExtractable, parseAppDefinition } from './parse-app.ts';
import { type RawApp, type RawAppKey, type RawHealthCheck, readAppJson } from './read-app-json.ts';
import { type JsonValue, renderDefinition } from './render-app.ts';
import { isJsonObject } from './schema-reader.ts';

export interface AppUpdateOptions extends ParseAppOptions {
  /** Marathon's `partialUpdate` query parameter of PUT; default `true`. PATCH is always partial. */
  readonly partialUpdate?: boolean;
}

export const UPDATE_MESSAGES = {
  versionOnlyWithId: "The 'version' field may only be combined with the 'id' field.",
  urisAndFetch: 'cannot specify both uris and fetch fields',
} as const;

/** Keys of an update that never replace the current definition's. */
const NOT_MERGED: ReadonlySet<string> = new Set(['id', 'version', 'ports', 'uris']);

/** Applies a PUT/PATCH body to `current`; throws `AppValidationError` with Marathon's 422 body. */
export function applyAppUpdate(current: AppDefinition, patch: unknown, opts: AppUpdateOptions = {}): AppDefinition {
  if (opts.partialUpdate === false) {
    if (!isJsonObject(patch)) return parseAppDefinition(patch, opts);
    return parseAppDefinition({ ...patch, id: current.id }, opts);
  }
  const update = normalizeUpdate(readAppJson(patch, { requireId: false }));
  const merged = rawAppOf(current);
  for (const key of Object.keys(update) as (RawAppKey | 'unsupported')[]) {
    if (key === 'unsupported' || NOT_MERGED.has(key)) continue;
    assign(merged, update, key);
  }
  merged.unsupported = update.unsupported;
  merged.id = current.id;
  return buildAppDefinition(merged, opts);
}

/**
 * The current definition as the schema phase reads it (Marathon merges on its
 * API form, `app.toRaml`, too). Definitions are frozen, so this is computed once
 * per definition; callers get a fresh top level and only ever replace top-level
 * fields, never mutate nested values.
 */
const rawAppCache = new WeakMap<AppDefinition, RawApp>();

function rawAppOf(def: AppDefinition): RawApp {
  let raw = rawAppCache.get(def);
  if (raw === undefined) {
    raw = readAppJson(renderDefinition(def), { requireId: true });
    if (Object.isFrozen(def)) rawAppCache.set(def, raw);
  }
  return { ...raw, unsupported: new Map() };
}

/**
 * The version a PUT body asks to roll back to, or `undefined` for an ordinary
 * update. Throws Marathon's 422 if `version` comes with anything but `id`.
 */
export function readRollbackVersion(patch: unknown): string | undefined {
  if (!isJsonObject(patch) || patch.version === undefined || patch.version === null) return undefined;
  const raw = readAppJson({ version: patch.version }, { requireId: false });
  const others = Object.keys(patch).filter((k) => k !== 'id' && k !== 'version' && patch[k] !== null);
  if (others.length > 0) {
    const v = new Violations();
    v.add('/', UPDATE_MESSAGES.versionOnlyWithId);
    v.throwIfAny('semantic');
  }
  return raw.version;
}

/** Marathon's `forDeprecatedUpdates`: `ports` → `portDefinitions`, `uris` → `fetch`, health checks get `portIndex: 0`. */
function normalizeUpdate(u: RawApp): RawApp {
  const out: RawApp = { ...u };
  if (u.portDefinitions === undefined && u.ports !== undefined) out.portDefinitions = u.ports.map((port) => ({ port }));
  if (u.uris !== undefined && u.uris.length > 0) {
    if (u.fetch !== undefined && u.fetch.length > 0) {
      const v = new Violations();
      v.add('/', UPDATE_MESSAGES.urisAndFetch);
      v.throwIfAny('semantic');
    }
    out.fetch = u.uris.map((uri) => ({ uri, extract: isExtractable(uri) }));
  }
  if (u.healthChecks !== undefined) out.healthChecks = u.healthChecks.map(withPortIndex);
  return out;
}

function withPortIndex(hc: RawHealthCheck): RawHealthCheck {
  if ((hc.protocol ?? 'HTTP') === 'COMMAND' || hc.port !== undefined || hc.portIndex !== undefined) return hc;
  return { ...hc, portIndex: 0 };
}

function assign<K extends RawAppKey>(target: RawApp, source: RawApp, key: K): void {
  target[key] = source[key];
}

// ---------------------------------------------------------------------------
// Comparisons

/** Fields Marathon keeps as sets: their order carries no meaning. */
const SET_FIELDS = ['constraints', 'healthChecks', 'dependencies', 'acceptedResourceRoles'] as const;

/**
 * A canonical text of a definition: Marathon's JSON shape, object keys sorted,
 * set-like lists sorted. Equal texts ⇔ equal definitions; usable as a hash input.
 */
export function canonicalDefinitionText(def: AppDefinition): string {
  return JSON.stringify([def.instances, configText(def)]);
}

/**
 * Definitions are immutable (frozen by the parser), so each one's text is
 * computed once; the WeakMap lets it go with the definition.
 */
const configTextCache = new WeakMap<AppDefinition, string>();

/** The canonical text of everything but `instances`. */
function configText(def: AppDefinition): string {
  const cached = configTextCache.get(def);
  if (cached !== undefined) return cached;
  const json = renderDefinition(def);
  delete json.instances;
  for (const key of SET_FIELDS) {
    const list = json[key];
    if (Array.isArray(list)) json[key] = [...(list as JsonValue[])].map(stableStringify).sort().map((s) => JSON.parse(s) as JsonValue);
  }
  const text = stableStringify(json);
  if (Object.isFrozen(def)) configTextCache.set(def, text);
  return text;
}

export function definitionsEqual(a: AppDefinition, b: AppDefinition): boolean {
  return a === b || (a.instances === b.instances && configText(a) === configText(b));
}

/**
 * `true` when tasks of `a` are tasks of `b`: everything but `instances` is
 * equal, so going from `a` to `b` needs no restart, only a scale (or nothing).
 */
export function isRestartEquivalent(a: AppDefinition, b: AppDefinition): boolean {
  return a === b || configText(a) === configText(b);
}

/** `true` when only `instances` changed: a scale, not a new configuration. */
export function isScaleOnly(current: AppDefinition, next: AppDefinition): boolean {
  return current.instances !== next.instances && isRestartEquivalent(current, next);
}

/** The top-level fields (Marathon's names) whose values differ, sorted; for logs and events. */
export function changedFields(a: AppDefinition, b: AppDefinition): string[] {
  const ja = renderDefinition(a);
  const jb = renderDefinition(b);
  const keys = new Set([...Object.keys(ja), ...Object.keys(jb)]);
  return [...keys].filter((k) => stableStringify(ja[k] ?? null) !== stableStringify(jb[k] ?? null)).sort();
}

function stableStringify(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as { readonly [key: string]: JsonValue };
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k] ?? null)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
