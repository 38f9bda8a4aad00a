/**
 * The JSON of Marathon's read endpoints, built from the replicated state:
 * an app with its counts, deployments, tasks and last failure; a task; the
 * queue. Only Marathon's field names, so clients that map every field onto
 * a fixed type keep working. Pure.
 */
import type { AppVersion } from '../app/app-definition.ts';
import { renderApp } from '../app/render-app.ts';
import { isIPv4Literal, type FrameworkState } from '../state/framework-state.ts';
import { publicDeploymentId, type AppRecord, type InstanceRecord } from '../state/model.ts';

export type Json = Record<string, unknown>;

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** Instances that are Mesos tasks now (not waiting for an offer). */
export function hasTask(i: InstanceRecord): boolean {
  return i.phase !== 'scheduled' && i.taskId !== undefined;
}

export function renderTask(state: FrameworkState, i: InstanceRecord): Json {
  const app = state.app(i.appId);
  const def = state.definitionOf(i.appId, i.version);
  const hasChecks = (def?.healthChecks.length ?? 0) > 0;
  return {
    appId: i.appId,
    healthCheckResults: hasChecks && i.healthy !== undefined
      ? [{
          alive: i.healthy,
          consecutiveFailures: i.healthy ? 0 : 1,
          firstSuccess: iso(i.healthySinceMs),
          lastFailure: null,
          lastSuccess: i.healthy ? iso(i.healthySinceMs) : null,
          lastFailureCause: i.healthy ? null : (i.lastMessage ?? null),
          instanceId: { idString: i.instanceId },
        }]
      : [],
    host: i.hostname ?? '',
    id: i.taskId ?? '',
    ipAddresses: i.hostname !== undefined && isIPv4Literal(i.hostname) ? [{ ipAddress: i.hostname, protocol: 'IPv4' }] : [],
    ports: i.hostPorts,
    servicePorts: app?.current.definition.portDefinitions.map((p) => p.port) ?? [],
    slaveId: i.agentId ?? '',
    state: i.mesosState ?? 'TASK_STAGING',
    stagedAt: iso(i.stagedAtMs),
    startedAt: iso(i.startedAtMs),
    version: i.version,
    localVolumes: [],
    // Required in Marathon's Task (task.raml): the role the task runs under.
    role: def?.role ?? app?.current.definition.role ?? '*',
  };
}

export interface AppEmbed {
  readonly tasks: boolean;
  readonly counts: boolean;
  readonly deployments: boolean;
  readonly lastTaskFailure: boolean;
  readonly readiness: boolean;
  /** Marathon's `taskStats`: counts and life times by version; depends on the time, so never cached. */
  readonly taskStats: boolean;
}

/**
 * Marathon's app `embed` values (InfoEmbedResolver): any of the prefixes
 * `group.apps.`, `apps.`, `app.` or none, on any endpoint, so that
 * `embed=tasks` and `embed=app.tasks` work on the list too; `failures`
 * (deprecated) means tasks and lastTaskFailure. Unknown values are ignored.
 */
export function parseEmbed(values: readonly string[]): AppEmbed {
  const wanted = new Set<string>();
  for (const v of values) {
    const prefix = embedPrefixes.find((p) => v.startsWith(p)) ?? '';
    const name = v.slice(prefix.length);
    if (name === 'failures') wanted.add('tasks').add('lastTaskFailure');
    else wanted.add(name);
  }
  return {
    tasks: wanted.has('tasks'),
    // Marathon 1.x includes counts and deployments by default (embed only adds more).
    counts: true,
    deployments: true,
    lastTaskFailure: wanted.has('lastTaskFailure'),
    readiness: wanted.has('readiness'),
    taskStats: wanted.has('taskStats'),
  };
}

const embedPrefixes = ['group.apps.', 'apps.', 'app.'];

/** Rendered apps, per state, keyed by the app's change key and the embed flags: a steady cluster renders nothing twice. */
const jsonCache = new WeakMap<FrameworkState, Map<string, { readonly key: string; readonly json: string }>>();
/** Cached renderings kept per state, beyond which the cache starts over (apps × embed variants). */
export const maxCachedRenderings = 20_000;

/** `renderAppWithStatus` as JSON text, cached until the app changes. */
export function appJson(state: FrameworkState, app: AppRecord, embed: AppEmbed): string {
  if (embed.taskStats) return JSON.stringify(renderAppWithStatus(state, app, embed));
  let cache = jsonCache.get(state);
  if (cache === undefined) {
    cache = new Map();
    jsonCache.set(state, cache);
  }
  const slot = `${app.id}|${embed.tasks ? 't' : ''}${embed.lastTaskFailure ? 'f' : ''}${embed.readiness ? 'r' : ''}`;
  const key = state.appChangeKey(app.id);
  const hit = cache.get(slot);
  if (hit !== undefined && hit.key === key) return hit.json;
  const json = JSON.stringify(renderAppWithStatus(state, app, embed));
  if (cache.size >= maxCachedRenderings) cache.clear();
  cache.set(slot, { key, json });
  return json;
}

export function renderAppWithStatus(state: FrameworkState, app: AppRecord, embed: AppEmbed): Json {
  const base = renderApp(app.current) as Json;
  const out: Json = { ...base };
  const instances = state.instancesOf(app.id);
  if (embed.counts) Object.assign(out, countsOf(state, instances));
  if (embed.deployments) {
    const d = state.deploymentOf(app.id);
    out.deployments = d === undefined ? [] : [{ id: publicDeploymentId(d) }];
  }
  if (embed.tasks) out.tasks = instances.filter(hasTask).map((i) => renderTask(state, i));
  if (embed.readiness) out.readinessCheckResults = [];
  if (embed.taskStats) out.taskStats = taskStatsOf(app, instances, Date.now());
  const failure = app.lastTaskFailure;
  if (embed.lastTaskFailure && failure !== undefined) {
    out.lastTaskFailure = {
      appId: app.id,
      host: failure.host,
      message: failure.message,
      state: failure.state,
      taskId: failure.taskId,
      timestamp: iso(failure.timestampMs),
      version: failure.version,
      slaveId: failure.agentId ?? null,
    };
  }
  return out;
}

/**
 * Marathon's `taskStats` (TaskStatsByVersion): for the instances that have a
 * task (not those waiting to be launched), counts and life times (seconds
 * since the task started; the median is the upper one) in all, for those
 * started from a version at or after the last scaling, and for those on the
 * latest configuration or an older one. A group with no instance is left out.
 */
export function taskStatsOf(app: AppRecord, instances: readonly InstanceRecord[], nowMs: number): Json {
  const tasks = instances.filter((i) => i.phase !== 'scheduled' && i.taskId !== undefined);
  const { lastScalingAt, lastConfigChangeAt } = app.current.versionInfo;
  const scaledAt = Date.parse(lastScalingAt);
  const configAt = Date.parse(lastConfigChangeAt);
  const out: Json = {};
  const put = (key: string, group: readonly InstanceRecord[]): void => {
    if (group.length === 0) return;
    const lifeTimes = group.flatMap((i) => (i.startedAtMs === undefined ? [] : [(nowMs - i.startedAtMs) / 1000])).sort((a, b) => a - b);
    const stats: Json = {
      counts: {
        staged: group.filter((i) => i.mesosState === undefined || i.mesosState === 'TASK_STAGING').length,
        running: group.filter((i) => i.mesosState === 'TASK_RUNNING').length,
        healthy: group.filter((i) => i.healthy === true).length,
        unhealthy: group.filter((i) => i.healthy === false).length,
      },
    };
    if (lifeTimes.length > 0) {
      stats.lifeTime = { averageSeconds: lifeTimes.reduce((a, b) => a + b, 0) / lifeTimes.length, medianSeconds: lifeTimes[Math.floor(lifeTimes.length / 2)] as number };
    }
    out[key] = { stats };
  };
  put('startedAfterLastScaling', tasks.filter((i) => Date.parse(i.version) >= scaledAt));
  put('withLatestConfig', tasks.filter((i) => Date.parse(i.version) >= configAt));
  put('withOutdatedConfig', tasks.filter((i) => Date.parse(i.version) < configAt));
  put('totalSummary', tasks);
  return out;
}

function countsOf(state: FrameworkState, instances: readonly InstanceRecord[]): Json {
  let staged = 0;
  let running = 0;
  let healthy = 0;
  let unhealthy = 0;
  for (const i of instances) {
    if (i.phase === 'launched') staged++;
    if (i.phase !== 'running') continue;
    running++;
    const def = state.definitionOf(i.appId, i.version);
    if ((def?.healthChecks.length ?? 0) === 0) continue;
    if (i.healthy === true) healthy++;
    else if (i.healthy === false) unhealthy++;
  }
  return { tasksStaged: staged, tasksRunning: running, tasksHealthy: healthy, tasksUnhealthy: unhealthy };
}

export function renderVersion(v: AppVersion): Json {
  return renderApp(v) as Json;
}
