/**
 * `AppVersion` → the app JSON Marathon 1.11 prints for `GET /v2/apps/{id}`
 * (the definition part; the API layer adds tasks, counts and deployments).
 *
 * Marathon's serializer (generated from its RAML) decides what appears, and we
 * follow it key for key and in its order:
 * - optional values that are unset are left out, never printed as `null`
 *   (`cmd`, `user`, `container`, `taskKillGracePeriodSeconds`, ...);
 * - lists and maps marked "omitEmpty" are left out when empty (`args`,
 *   `constraints`, `dependencies`, `env`, `fetch`, `healthChecks`,
 *   `readinessChecks`, a port's `labels`), while `labels`, `portDefinitions`
 *   and `networks` are always printed;
 * - `networks` is `[{"mode":"host"}]`, the only mode cygnet runs.
 * No cygnet-only key is ever added: some clients map every response field
 * onto a fixed constructor. No I/O here.
 */
import type { AppDefinition, AppVersion, HealthCheck, ReadinessCheck } from './app-definition.ts';
import { constraintToTriple } from './constraints.ts';

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObjectOut = { [key: string]: JsonValue };

/** The app JSON of one version, as `GET /v2/apps/{id}` prints it (without task data). */
export function renderApp(v: AppVersion): JsonObjectOut {
  return renderFields(v.definition, v);
}

/** The definition alone, in Marathon's shape, without `version`/`versionInfo` (for merging and hashing). */
export function renderDefinition(def: AppDefinition): JsonObjectOut {
  return renderFields(def, undefined);
}

function renderFields(d: AppDefinition, v: AppVersion | undefined): JsonObjectOut {
  const o: JsonObjectOut = { id: d.id };
  if (d.acceptedResourceRoles !== undefined && d.acceptedResourceRoles.length > 0) o.acceptedResourceRoles = [...d.acceptedResourceRoles];
  if (d.args !== undefined && d.args.length > 0) o.args = [...d.args];
  o.backoffFactor = d.backoffFactor;
  o.backoffSeconds = d.backoffSeconds;
  if (d.cmd !== undefined) o.cmd = d.cmd;
  if (d.constraints.length > 0) o.constraints = d.constraints.map(constraintToTriple);
  o.cpus = d.cpus;
  if (d.dependencies.length > 0) o.dependencies = [...d.dependencies];
  o.disk = d.disk;
  if (Object.keys(d.env).length > 0) o.env = { ...d.env };
  o.executor = d.executor;
  if (d.fetch.length > 0) {
    o.fetch = d.fetch.map((f) => ({
      uri: f.uri,
      extract: f.extract,
      executable: f.executable,
      cache: f.cache,
      ...(f.destPath !== undefined ? { destPath: f.destPath } : {}),
    }));
  }
  if (d.healthChecks.length > 0) o.healthChecks = d.healthChecks.map(renderHealthCheck);
  o.instances = d.instances;
  o.labels = { ...d.labels };
  o.maxLaunchDelaySeconds = d.maxLaunchDelaySeconds;
  o.mem = d.mem;
  o.gpus = d.gpus;
  o.networks = [{ mode: 'host' }];
  o.portDefinitions = d.portDefinitions.map((p) => ({
    port: p.port,
    ...(Object.keys(p.labels).length > 0 ? { labels: { ...p.labels } } : {}),
    ...(p.name !== undefined ? { name: p.name } : {}),
    protocol: p.protocol,
  }));
  if (d.readinessChecks.length > 0) o.readinessChecks = d.readinessChecks.map(renderReadinessCheck);
  o.requirePorts = d.requirePorts;
  if (d.taskKillGracePeriodSeconds !== undefined) o.taskKillGracePeriodSeconds = d.taskKillGracePeriodSeconds;
  o.upgradeStrategy = {
    maximumOverCapacity: d.upgradeStrategy.maximumOverCapacity,
    minimumHealthCapacity: d.upgradeStrategy.minimumHealthCapacity,
  };
  if (d.user !== undefined) o.user = d.user;
  if (v !== undefined) {
    o.version = v.version;
    o.versionInfo = { lastScalingAt: v.versionInfo.lastScalingAt, lastConfigChangeAt: v.versionInfo.lastConfigChangeAt };
  }
  o.killSelection = d.killSelection;
  o.unreachableStrategy =
    d.unreachableStrategy === 'disabled'
      ? 'disabled'
      : {
          inactiveAfterSeconds: d.unreachableStrategy.inactiveAfterSeconds,
          expungeAfterSeconds: d.unreachableStrategy.expungeAfterSeconds,
        };
  o.role = d.role;
  return o;
}

function renderHealthCheck(hc: HealthCheck): JsonObjectOut {
  const o: JsonObjectOut = {};
  if (hc.protocol === 'COMMAND') o.command = { value: hc.command.value };
  o.gracePeriodSeconds = hc.gracePeriodSeconds;
  if (hc.protocol === 'HTTP' || hc.protocol === 'HTTPS') o.ignoreHttp1xx = hc.ignoreHttp1xx;
  o.intervalSeconds = hc.intervalSeconds;
  o.maxConsecutiveFailures = hc.maxConsecutiveFailures;
  if (hc.protocol !== 'COMMAND') {
    if ('path' in hc && hc.path !== undefined) o.path = hc.path;
    if (hc.port !== undefined) o.port = hc.port;
    if (hc.portIndex !== undefined) o.portIndex = hc.portIndex;
  }
  o.protocol = hc.protocol;
  o.ipProtocol = 'IPv4';
  o.timeoutSeconds = hc.timeoutSeconds;
  o.delaySeconds = hc.delaySeconds;
  return o;
}

function renderReadinessCheck(rc: ReadinessCheck): JsonObjectOut {
  return {
    name: rc.name,
    protocol: rc.protocol,
    path: rc.path,
    portName: rc.portName,
    intervalSeconds: rc.intervalSeconds,
    timeoutSeconds: rc.timeoutSeconds,
    httpStatusCodesForReady: [...rc.httpStatusCodesForReady],
    preserveLastResponse: rc.preserveLastResponse,
  };
}
