/**
 * The strict check from "any parsed JSON value" to a typed `WatchRecord`
 * (types.ts). The client runs every record a peer sends through it; the
 * publisher runs every change the framework hands it, so a framework bug
 * is caught at its source instead of breaking every watcher downstream.
 *
 * Invariants: pure (no I/O); returns fresh objects holding only the fields
 * of the contract (unknown fields are dropped, so a newer server can add
 * fields); never throws anything but ValidationError, whose path names the
 * offending field (`apps[3].endpoints[0].ports[1]`). Size is bounded by the
 * caller (the RecordIO record bound), so nothing here needs its own bound.
 */
import { ValidationError } from '../common/errors.ts';
import type {
  PortProtocol,
  RegistryApp,
  RegistryCluster,
  RegistryDelta,
  RegistryEndpoint,
  RegistryPort,
  SnapshotRecord,
  WatchRecord,
} from './types.ts';

/** Longest snippet of a bad value quoted back in an error. */
const MAX_QUOTED_CHARS = 40;

const portProtocols: readonly PortProtocol[] = ['tcp', 'udp', 'udp,tcp'];
const deltaTypes = ['APP_UPDATED', 'APP_REMOVED', 'ENDPOINT_UP', 'ENDPOINT_DOWN', 'CLUSTER_UPDATED'] as const;
const recordTypes = ['SNAPSHOT', 'RESUMED', 'HEARTBEAT', ...deltaTypes] as const;

type Json = Record<string, unknown>;

/** Checks one record of the watch stream. */
export function parseWatchRecord(value: unknown): WatchRecord {
  const o = object(value, '');
  const type = field(o, '', 'type', 'a record type');
  switch (type) {
    case 'SNAPSHOT':
      return parseSnapshot(o);
    case 'RESUMED':
      return { type, clusterId: nonEmptyString(o, '', 'clusterId'), revision: revision(o, '', 'revision', 0) };
    case 'HEARTBEAT':
      return { type, revision: revision(o, '', 'revision', 0) };
    default:
      if (typeof type === 'string' && (deltaTypes as readonly string[]).includes(type)) return parseDelta(o);
      throw new ValidationError('type', `one of ${recordTypes.join(', ')}`, quote(type));
  }
}

/** Checks a delta (a record that changes the registry). */
export function parseDelta(value: unknown): RegistryDelta {
  const o = object(value, '');
  const type = field(o, '', 'type', 'a record type');
  const rev = revision(o, '', 'revision', 1);
  switch (type) {
    case 'APP_UPDATED':
      return { type, revision: rev, app: parseApp(field(o, '', 'app', 'an object'), 'app') };
    case 'APP_REMOVED':
      return { type, revision: rev, appId: appId(o, '', 'appId') };
    case 'ENDPOINT_UP':
      return { type, revision: rev, endpoint: parseEndpoint(field(o, '', 'endpoint', 'an object'), 'endpoint') };
    case 'ENDPOINT_DOWN':
      return { type, revision: rev, appId: appId(o, '', 'appId'), taskId: nonEmptyString(o, '', 'taskId') };
    case 'CLUSTER_UPDATED':
      return { type, revision: rev, cluster: parseCluster(field(o, '', 'cluster', 'an object'), 'cluster') };
    default:
      throw new ValidationError('type', `one of ${deltaTypes.join(', ')}`, quote(type));
  }
}

/** Checks a whole snapshot, including that every endpoint sits under its own app and task ids are unique. */
export function parseSnapshot(value: unknown): SnapshotRecord {
  const o = object(value, '');
  if (o.type !== 'SNAPSHOT') throw new ValidationError('type', '"SNAPSHOT"', quote(o.type));
  const rawApps = array(o, '', 'apps');
  const seenApps = new Set<string>();
  const seenTasks = new Set<string>();
  const apps = rawApps.map((raw, i) => {
    const path = `apps[${i}]`;
    const app = parseApp(raw, path);
    if (seenApps.has(app.id)) throw new ValidationError(`${path}.id`, 'an app id not listed before', quote(app.id));
    seenApps.add(app.id);
    const endpoints = array(object(raw, path), path, 'endpoints').map((e, j) => {
      const ep = parseEndpoint(e, `${path}.endpoints[${j}]`);
      if (ep.appId !== app.id) throw new ValidationError(`${path}.endpoints[${j}].appId`, quote(app.id), quote(ep.appId));
      if (seenTasks.has(ep.taskId)) throw new ValidationError(`${path}.endpoints[${j}].taskId`, 'a task id unique in the snapshot', quote(ep.taskId));
      seenTasks.add(ep.taskId);
      return ep;
    });
    return { ...app, endpoints };
  });
  return {
    type: 'SNAPSHOT',
    clusterId: nonEmptyString(o, '', 'clusterId'),
    revision: revision(o, '', 'revision', 0),
    cluster: parseCluster(field(o, '', 'cluster', 'an object'), 'cluster'),
    apps,
  };
}

export function parseApp(value: unknown, path: string): RegistryApp {
  const o = object(value, path);
  const ports = array(o, path, 'ports').map((p, i) => parsePort(p, `${join(path, 'ports')}[${i}]`));
  const app: RegistryApp = { id: appId(o, path, 'id'), labels: stringMap(o, path, 'labels'), ports };
  if (o.versionWeights === undefined || o.versionWeights === null) return app;
  const weightsPath = join(path, 'versionWeights');
  const raw = object(o.versionWeights, weightsPath);
  const versionWeights: Record<string, number> = {};
  for (const [version, weight] of Object.entries(raw)) {
    safeKey(version, weightsPath);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw new ValidationError(join(weightsPath, version), 'a finite number >= 0', quote(weight));
    }
    versionWeights[version] = weight;
  }
  return { ...app, versionWeights };
}

export function parseEndpoint(value: unknown, path: string): RegistryEndpoint {
  const o = object(value, path);
  // Fields are checked in declaration order, so the first error named is the first bad field.
  const endpoint: Omit<RegistryEndpoint, 'healthySince'> = {
    appId: appId(o, path, 'appId'),
    taskId: nonEmptyString(o, path, 'taskId'),
    index: nonNegativeInteger(o, path, 'index'),
    host: nonEmptyString(o, path, 'host'),
    ip: nonEmptyString(o, path, 'ip'),
    ports: array(o, path, 'ports').map((p, i) => port(p, `${join(path, 'ports')}[${i}]`)),
    version: nonEmptyString(o, path, 'version'),
  };
  const healthySince = nonEmptyString(o, path, 'healthySince');
  if (Number.isNaN(Date.parse(healthySince))) throw new ValidationError(join(path, 'healthySince'), 'a Date.parse-able time', quote(healthySince));
  return { ...endpoint, healthySince };
}

export function parseCluster(value: unknown, path: string): RegistryCluster {
  const o = object(value, path);
  const cluster: { leader?: string; master?: string } = {};
  if (o.leader !== undefined && o.leader !== null) cluster.leader = nonEmptyString(o, path, 'leader');
  if (o.master !== undefined && o.master !== null) cluster.master = nonEmptyString(o, path, 'master');
  return cluster;
}

function parsePort(value: unknown, path: string): RegistryPort {
  const o = object(value, path);
  const protocol = field(o, path, 'protocol');
  if (!portProtocols.includes(protocol as PortProtocol)) {
    throw new ValidationError(join(path, 'protocol'), `one of ${portProtocols.join(', ')}`, quote(protocol));
  }
  const out: RegistryPort = { protocol: protocol as PortProtocol, servicePort: port(o.servicePort, join(path, 'servicePort')), labels: stringMap(o, path, 'labels') };
  if (o.name === undefined || o.name === null) return out;
  return { name: nonEmptyString(o, path, 'name'), ...out };
}

// ---- helpers ----

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(path, 'an object', quote(value));
  return value as Json;
}

function field(o: Json, path: string, name: string, expected = 'a value'): unknown {
  const v = Object.prototype.hasOwnProperty.call(o, name) ? o[name] : undefined;
  if (v === undefined || v === null) throw new ValidationError(join(path, name), `${expected} (required field)`, 'nothing');
  return v;
}

function array(o: Json, path: string, name: string): unknown[] {
  const v = field(o, path, name, 'an array');
  if (!Array.isArray(v)) throw new ValidationError(join(path, name), 'an array', quote(v));
  return v;
}

function nonEmptyString(o: Json, path: string, name: string): string {
  const v = field(o, path, name, 'a non-empty string');
  if (typeof v !== 'string' || v === '') throw new ValidationError(join(path, name), 'a non-empty string', quote(v));
  return v;
}

function appId(o: Json, path: string, name: string): string {
  const v = nonEmptyString(o, path, name);
  if (!v.startsWith('/') || v.length < 2) throw new ValidationError(join(path, name), 'an absolute app id like "/shop/web"', quote(v));
  return v;
}

function nonNegativeInteger(o: Json, path: string, name: string): number {
  const v = field(o, path, name, 'an integer >= 0');
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ValidationError(join(path, name), 'an integer >= 0', quote(v));
  return v;
}

function revision(o: Json, path: string, name: string, min: number): number {
  const v = field(o, path, name, `an integer revision >= ${min}`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new ValidationError(join(path, name), `an integer revision >= ${min}`, quote(v));
  return v;
}

function port(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) throw new ValidationError(path, 'a port number 0-65535', quote(v));
  return v;
}

/** A string → string map; absent means empty (labels are optional in Marathon). */
function stringMap(o: Json, path: string, name: string): Record<string, string> {
  const raw = o[name];
  if (raw === undefined || raw === null) return {};
  const m = object(raw, join(path, name));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    safeKey(k, join(path, name));
    if (typeof v !== 'string') throw new ValidationError(join(join(path, name), k), 'a string', quote(v));
    out[k] = v;
  }
  return out;
}

/** `__proto__` from JSON.parse is an own key; copying it into a plain object would set the prototype instead. */
function safeKey(key: string, path: string): void {
  if (key === '__proto__') throw new ValidationError(path, 'keys other than "__proto__"', quote(key));
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function quote(v: unknown): string {
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > MAX_QUOTED_CHARS ? `${s.slice(0, MAX_QUOTED_CHARS)}…` : s;
}
