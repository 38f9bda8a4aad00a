/**
 * Immutable app versions and Marathon's `versionInfo` bookkeeping:
 * - a version id is the ISO-8601 time of the change, with milliseconds
 *   (`2026-12-06T05:23:14.123Z`), as Marathon prints its `Timestamp`;
 * - versions of one app strictly increase: a change within the same
 *   millisecond as the previous version gets the next millisecond;
 * - `lastScalingAt` moves on every new version, `lastConfigChangeAt` only when
 *   something other than `instances` changed;
 * - applying a definition equal to the current one makes no new version.
 * Time comes in as a number (ms since the epoch) from the caller's Clock. No I/O here.
 */
import type { AppDefinition, AppVersion } from './app-definition.ts';
import { describeConstraint } from './constraints.ts';
import { definitionsEqual, isScaleOnly } from './merge-app.ts';

/** The version id for a time: ISO-8601 UTC with milliseconds. */
export function versionIdAt(ms: number): string {
  return new Date(ms).toISOString();
}

/** The first version of a new app. */
export function firstAppVersion(definition: AppDefinition, nowMs: number): AppVersion {
  const version = versionIdAt(nowMs);
  return { definition, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt: version } };
}

/**
 * The version that follows `previous` when the app becomes `next`, or
 * `undefined` if nothing changed. A rollback is the same call with the old
 * version's definition: it is a new version (Marathon gives it a new timestamp too).
 */
export function nextAppVersion(previous: AppVersion, next: AppDefinition, nowMs: number): AppVersion | undefined {
  if (definitionsEqual(previous.definition, next)) return undefined;
  const previousMs = Date.parse(previous.version);
  const version = versionIdAt(Number.isNaN(previousMs) ? nowMs : Math.max(nowMs, previousMs + 1));
  const lastConfigChangeAt = isScaleOnly(previous.definition, next) ? previous.versionInfo.lastConfigChangeAt : version;
  return { definition: next, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt } };
}

/** Parses a version id from a URL or body into the canonical form; `undefined` if it is not a time. */
export function normalizeVersionId(text: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : versionIdAt(ms);
}

/** One stable line for a definition: id, size, command and placement, for logs and tests. */
export function describeAppDefinition(d: AppDefinition): string {
  const command = d.cmd !== undefined ? `cmd=${JSON.stringify(d.cmd)}` : `args=${JSON.stringify(d.args ?? [])}`;
  const constraints = d.constraints.map(describeConstraint).join(',');
  return (
    `${d.id} instances=${d.instances} cpus=${d.cpus} mem=${d.mem} disk=${d.disk} ports=${d.portDefinitions.length} ` +
    `health=${d.healthChecks.map((h) => h.protocol).join(',') || '-'} constraints=${constraints || '-'} ${command}`
  );
}

/** One stable line for logs and tests. */
export function describeAppVersion(v: AppVersion): string {
  const d = v.definition;
  return `${d.id}@${v.version} instances=${d.instances} config=${v.versionInfo.lastConfigChangeAt}`;
}
