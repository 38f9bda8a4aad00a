/**
 * Phase 1 of reading an app: the schema of Marathon's `App` RAML type
 * (docs/docs/rest-api/public/api/v2/types/app.raml in Marathon 1.11), checked
 * field by field into a `RawApp` whose fields are all optional. A failure here
 * is Marathon's 422 `{"message":"Invalid JSON","details":[...]}` with Play's
 * error keys; every field is checked, so all violations are reported together.
 *
 * What this phase does not do: defaults, deprecated-field migration and
 * cross-field rules (parse-app.ts). Unknown top-level fields are ignored, as
 * Marathon does (so a `GET` response, with `tasks`, `deployments`, ... can be
 * sent back in a `PUT`). Fields Marathon knows but cygnet cannot honour
 * (`container`, `secrets`, ...) are collected in `unsupported` for phase 2 to
 * reject with a clear sentence. No I/O here.
 */
import type { HealthCheckProtocol, KillSelection, PortProtocol, UnreachableStrategy, UpgradeStrategy } from './app-definition.ts';
import { AppValidationError } from './app-errors.ts';
import { isPathIdSyntax } from './app-id.ts';
import {
  INVALID,
  type JsonObject,
  type Read,
  SchemaReader,
  childPath,
  field,
  hasField,
  isJsonObject,
} from './schema-reader.ts';

export type RawEnvValue = string | { readonly secret: string };

export interface RawArtifact {
  readonly uri: string;
  readonly extract?: boolean;
  readonly executable?: boolean;
  readonly cache?: boolean;
  readonly destPath?: string;
}

export interface RawPortDefinition {
  readonly port?: number;
  readonly protocol?: PortProtocol;
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface RawHealthCheck {
  readonly command?: { readonly value: string };
  readonly gracePeriodSeconds?: number;
  readonly ignoreHttp1xx?: boolean;
  readonly intervalSeconds?: number;
  readonly maxConsecutiveFailures?: number;
  readonly path?: string;
  readonly port?: number;
  readonly portIndex?: number;
  readonly protocol?: HealthCheckProtocol;
  readonly ipProtocol?: 'IPv4' | 'IPv6';
  readonly timeoutSeconds?: number;
  readonly delaySeconds?: number;
}

export interface RawReadinessCheck {
  readonly name?: string;
  readonly protocol?: 'HTTP' | 'HTTPS';
  readonly path?: string;
  readonly portName?: string;
  readonly intervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly httpStatusCodesForReady?: readonly number[];
  readonly preserveLastResponse?: boolean;
}

export type NetworkMode = 'container' | 'container/bridge' | 'host';

/** Everything phase 1 accepted, as the user wrote it (enum literals canonicalized). */
export interface RawApp {
  id?: string;
  cmd?: string;
  args?: string[];
  user?: string;
  env?: Record<string, RawEnvValue>;
  instances?: number;
  cpus?: number;
  mem?: number;
  disk?: number;
  gpus?: number;
  executor?: string;
  constraints?: string[][];
  fetch?: RawArtifact[];
  uris?: string[];
  ports?: number[];
  portDefinitions?: RawPortDefinition[];
  requirePorts?: boolean;
  backoffSeconds?: number;
  backoffFactor?: number;
  maxLaunchDelaySeconds?: number;
  healthChecks?: RawHealthCheck[];
  readinessChecks?: RawReadinessCheck[];
  dependencies?: string[];
  upgradeStrategy?: UpgradeStrategy;
  labels?: Record<string, string>;
  acceptedResourceRoles?: string[];
  role?: string;
  killSelection?: KillSelection;
  taskKillGracePeriodSeconds?: number;
  unreachableStrategy?: UnreachableStrategy;
  networks?: { readonly mode: NetworkMode; readonly name?: string }[];
  secrets?: Record<string, unknown>;
  version?: string;
  /** Marathon fields present with a value cygnet cannot honour: field name → why. */
  unsupported: Map<string, string>;
}

export type RawAppKey = Exclude<keyof RawApp, 'unsupported'>;

const LEGACY_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NETWORK_NAME = /^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$/;
/** Marathon's `executor` pattern, matched against the whole string. */
const EXECUTOR_PATTERN = /^(\/\/cmd)|(\/?[^/]+(\/[^/]+)*)|$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

const HEALTH_PROTOCOLS: readonly HealthCheckProtocol[] = ['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_TCP', 'MESOS_HTTP', 'MESOS_HTTPS'];
const PORT_PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'udp,tcp'];
const KILL_SELECTIONS: readonly KillSelection[] = ['YOUNGEST_FIRST', 'OLDEST_FIRST'];
const NETWORK_MODES: readonly NetworkMode[] = ['container', 'container/bridge', 'host'];

/** Marathon fields that cygnet rejects when given a value, with the reason shown to the user. */
const UNSUPPORTED_FIELDS: Readonly<Record<string, string>> = {
  container: 'containers are not supported by cygnet: tasks run as processes on the agent (omit "container")',
  check: 'app "check" is not supported by cygnet: use "healthChecks"',
  executorResources: '"executorResources" is not supported by cygnet',
  resourceLimits: '"resourceLimits" is not supported by cygnet',
  residency: 'resident apps (persistent volumes) are not supported by cygnet',
  ipAddress: '"ipAddress" (IP per task) is not supported by cygnet: only host networking is',
};

const ANY_PORT = { min: 0, max: 65535 } as const;
const NON_NEGATIVE = { min: 0 } as const;

export interface ReadAppOptions {
  /** `true` for POST and full PUT; `false` for a partial update, where every field is optional. */
  readonly requireId: boolean;
}

/** Phase 1: throws `AppValidationError` (kind `schema`) listing every violation. */
export function readAppJson(json: unknown, opts: ReadAppOptions): RawApp {
  const r = new SchemaReader();
  if (!isJsonObject(json)) {
    r.violations.add('', 'error.expected.jsobject');
    throw new AppValidationError('schema', r.violations.details());
  }
  const raw = readFields(r, json, opts);
  r.violations.throwIfAny('schema');
  return raw;
}

function readFields(r: SchemaReader, o: JsonObject, opts: ReadAppOptions): RawApp {
  const raw: RawApp = { unsupported: new Map() };
  const set = <K extends RawAppKey>(key: K, v: Read<RawApp[K]> | undefined): void => {
    if (v !== undefined && v !== INVALID) raw[key] = v;
  };
  const opt = <T>(key: string, read: (v: unknown, p: string) => Read<T>): Read<T> | undefined => {
    const v = field(o, key);
    return v === undefined ? undefined : read(v, `/${key}`);
  };
  const str = (rules = {}) => (v: unknown, p: string) => r.string(v, p, rules);
  const int = (rules = {}) => (v: unknown, p: string) => r.integer(v, p, rules);
  const dbl = (rules = {}) => (v: unknown, p: string) => r.double(v, p, rules);
  const bool = (v: unknown, p: string) => r.boolean(v, p);
  const strings = (v: unknown, p: string) => r.array(v, p, (x, q) => r.string(x, q));

  if (hasField(o, 'id')) set('id', r.string(field(o, 'id'), '/id', { minLength: 1, matches: isPathIdSyntax }));
  else if (opts.requireId) r.violations.add('/id', Object.hasOwn(o, 'id') ? 'error.expected.jsstring' : 'error.path.missing');

  set('acceptedResourceRoles', opt('acceptedResourceRoles', strings));
  set('args', opt('args', strings));
  set('backoffFactor', opt('backoffFactor', dbl({ min: 1 })));
  set('backoffSeconds', opt('backoffSeconds', int(NON_NEGATIVE)));
  set('cmd', opt('cmd', str({ minLength: 1 })));
  set('constraints', opt('constraints', (v, p) => r.array(v, p, (x, q) => r.array(x, q, (y, s) => r.string(y, s), { minItems: 2, maxItems: 3 }))));
  set('cpus', opt('cpus', dbl({ min: 0.001 })));
  set('dependencies', opt('dependencies', (v, p) => r.array(v, p, (x, q) => r.string(x, q, { minLength: 1, matches: isPathIdSyntax }))));
  set('disk', opt('disk', dbl(NON_NEGATIVE)));
  set('env', opt('env', (v, p) => readEnv(r, v, p)));
  set('executor', opt('executor', str({ pattern: EXECUTOR_PATTERN })));
  set('fetch', opt('fetch', (v, p) => r.array(v, p, (x, q) => readArtifact(r, x, q))));
  set('healthChecks', opt('healthChecks', (v, p) => r.array(v, p, (x, q) => readHealthCheck(r, x, q))));
  set('instances', opt('instances', int(NON_NEGATIVE)));
  set('labels', opt('labels', (v, p) => r.stringMap(v, p)));
  set('maxLaunchDelaySeconds', opt('maxLaunchDelaySeconds', int(NON_NEGATIVE)));
  set('mem', opt('mem', dbl(NON_NEGATIVE)));
  set('gpus', opt('gpus', int(NON_NEGATIVE)));
  set('networks', opt('networks', (v, p) => r.array(v, p, (x, q) => readNetwork(r, x, q))));
  set('ports', opt('ports', (v, p) => r.array(v, p, (x, q) => r.integer(x, q, ANY_PORT))));
  set('portDefinitions', opt('portDefinitions', (v, p) => r.array(v, p, (x, q) => readPortDefinition(r, x, q))));
  set('readinessChecks', opt('readinessChecks', (v, p) => r.array(v, p, (x, q) => readReadinessCheck(r, x, q))));
  set('requirePorts', opt('requirePorts', bool));
  set('secrets', opt('secrets', (v, p) => r.object(v, p)));
  set('taskKillGracePeriodSeconds', opt('taskKillGracePeriodSeconds', int(NON_NEGATIVE)));
  set('upgradeStrategy', opt('upgradeStrategy', (v, p) => readUpgradeStrategy(r, v, p)));
  set('uris', opt('uris', (v, p) => r.array(v, p, (x, q) => r.string(x, q, { minLength: 1, maxLength: 1024 }))));
  set('user', opt('user', str()));
  set('version', opt('version', (v, p) => readDateTime(r, v, p)));
  set('killSelection', opt('killSelection', (v, p) => r.enumLiteral(v, p, KILL_SELECTIONS)));
  set('unreachableStrategy', opt('unreachableStrategy', (v, p) => readUnreachable(r, v, p)));
  set('role', opt('role', str({ minLength: 1 })));
  readUnsupported(r, o, raw);
  return raw;
}

function readUnsupported(r: SchemaReader, o: JsonObject, raw: RawApp): void {
  for (const [key, why] of Object.entries(UNSUPPORTED_FIELDS)) {
    const v = field(o, key);
    if (v !== undefined && r.object(v, `/${key}`) !== INVALID) raw.unsupported.set(key, why);
  }
  const tty = field(o, 'tty');
  if (tty !== undefined && r.boolean(tty, '/tty') === true) raw.unsupported.set('tty', 'a TTY for tasks is not supported by cygnet');
}

function readEnv(r: SchemaReader, v: unknown, path: string): Read<Record<string, RawEnvValue>> {
  if (!isJsonObject(v)) {
    r.violations.add(path, 'error.expected.jsobject');
    return INVALID;
  }
  let ok = true;
  const entries: [string, RawEnvValue][] = [];
  for (const [k, x] of Object.entries(v)) {
    const p = childPath(path, k);
    if (typeof x === 'string') {
      entries.push([k, x]);
    } else if (isJsonObject(x)) {
      const secret = hasField(x, 'secret') ? r.string(field(x, 'secret'), childPath(p, 'secret')) : missing(r, childPath(p, 'secret'));
      if (secret === INVALID) ok = false;
      else entries.push([k, { secret }]);
    } else {
      ok = false;
      r.violations.add(p, 'error.expected.jsstring');
    }
  }
  return ok ? Object.fromEntries(entries) : INVALID;
}

function missing(r: SchemaReader, path: string): typeof INVALID {
  r.violations.add(path, 'error.path.missing');
  return INVALID;
}

/** Reads an object's fields with `readers`; INVALID if the value is not an object or any field failed. */
function readObject<T>(
  r: SchemaReader,
  v: unknown,
  path: string,
  readers: { readonly [K in keyof T]-?: (x: unknown, p: string) => Read<T[K]> },
  required: readonly (keyof T & string)[] = [],
): Read<T> {
  const o = r.object(v, path);
  if (o === INVALID) return INVALID;
  let ok = true;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(readers) as (keyof T & string)[]) {
    const x = field(o, key);
    const p = childPath(path, key);
    if (x === undefined) {
      if (required.includes(key)) ok = missing(r, p) !== INVALID;
      continue;
    }
    const got = readers[key](x, p);
    if (got === INVALID) ok = false;
    else out[key] = got;
  }
  return ok ? (out as T) : INVALID;
}

function readArtifact(r: SchemaReader, v: unknown, path: string): Read<RawArtifact> {
  return readObject<RawArtifact>(
    r,
    v,
    path,
    {
      uri: (x, p) => r.string(x, p, { minLength: 1, maxLength: 1024 }),
      extract: (x, p) => r.boolean(x, p),
      executable: (x, p) => r.boolean(x, p),
      cache: (x, p) => r.boolean(x, p),
      destPath: (x, p) => r.string(x, p),
    },
    ['uri'],
  );
}

function readPortDefinition(r: SchemaReader, v: unknown, path: string): Read<RawPortDefinition> {
  return readObject<RawPortDefinition>(r, v, path, {
    port: (x, p) => r.integer(x, p, ANY_PORT),
    labels: (x, p) => r.stringMap(x, p),
    name: (x, p) => r.string(x, p, { minLength: 1, pattern: LEGACY_NAME }),
    protocol: (x, p) => r.enumLiteral(x, p, PORT_PROTOCOLS),
  });
}

function readHealthCheck(r: SchemaReader, v: unknown, path: string): Read<RawHealthCheck> {
  const seconds = (x: unknown, p: string) => r.integer(x, p, NON_NEGATIVE);
  return readObject<RawHealthCheck>(r, v, path, {
    command: (x, p) => readObject<{ value: string }>(r, x, p, { value: (y, q) => r.string(y, q) }, ['value']),
    gracePeriodSeconds: seconds,
    ignoreHttp1xx: (x, p) => r.boolean(x, p),
    intervalSeconds: seconds,
    maxConsecutiveFailures: seconds,
    path: (x, p) => r.string(x, p),
    port: (x, p) => r.integer(x, p, ANY_PORT),
    portIndex: (x, p) => r.integer(x, p, ANY_PORT),
    protocol: (x, p) => r.enumLiteral(x, p, HEALTH_PROTOCOLS),
    ipProtocol: (x, p) => r.enumLiteral(x, p, ['IPv4', 'IPv6'] as const),
    // Marathon sets no minimum here; a negative timeout is meaningless to the agent, so cygnet asks for >= 0.
    timeoutSeconds: seconds,
    delaySeconds: seconds,
  });
}

function readReadinessCheck(r: SchemaReader, v: unknown, path: string): Read<RawReadinessCheck> {
  return readObject<RawReadinessCheck>(r, v, path, {
    name: (x, p) => r.string(x, p, { minLength: 1 }),
    protocol: (x, p) => r.enumLiteral(x, p, ['HTTP', 'HTTPS'] as const),
    path: (x, p) => r.string(x, p, { minLength: 1 }),
    portName: (x, p) => r.string(x, p, { minLength: 1, pattern: LEGACY_NAME }),
    intervalSeconds: (x, p) => r.integer(x, p, NON_NEGATIVE),
    timeoutSeconds: (x, p) => r.integer(x, p, { min: 1 }),
    httpStatusCodesForReady: (x, p) => r.array(x, p, (y, q) => r.integer(y, q, { min: 100, max: 999 }), { minItems: 1 }),
    preserveLastResponse: (x, p) => r.boolean(x, p),
  });
}

function readUpgradeStrategy(r: SchemaReader, v: unknown, path: string): Read<UpgradeStrategy> {
  const capacity = (x: unknown, p: string) => r.double(x, p, { min: 0, max: 1 });
  return readObject<UpgradeStrategy>(
    r,
    v,
    path,
    { maximumOverCapacity: capacity, minimumHealthCapacity: capacity },
    ['maximumOverCapacity', 'minimumHealthCapacity'],
  );
}

function readUnreachable(r: SchemaReader, v: unknown, path: string): Read<UnreachableStrategy> {
  // Marathon tries the "disabled" literal first, then the object; a failure reports the object's errors.
  if (typeof v === 'string' && v.toLowerCase() === 'disabled') return 'disabled';
  const seconds = (x: unknown, p: string) => r.integer(x, p, { min: 0, bits: 64 });
  const got = readObject<{ inactiveAfterSeconds?: number; expungeAfterSeconds?: number }>(r, v, path, {
    inactiveAfterSeconds: seconds,
    expungeAfterSeconds: seconds,
  });
  if (got === INVALID) return INVALID;
  return { inactiveAfterSeconds: got.inactiveAfterSeconds ?? 0, expungeAfterSeconds: got.expungeAfterSeconds ?? 0 };
}

function readNetwork(r: SchemaReader, v: unknown, path: string): Read<{ mode: NetworkMode; name?: string }> {
  const got = readObject<{ mode?: NetworkMode; name?: string; labels?: Record<string, string> }>(r, v, path, {
    mode: (x, p) => r.enumLiteral(x, p, NETWORK_MODES),
    name: (x, p) => r.string(x, p, { minLength: 1, maxLength: 63, pattern: NETWORK_NAME }),
    labels: (x, p) => r.stringMap(x, p),
  });
  if (got === INVALID) return INVALID;
  const mode = got.mode ?? 'container';
  return got.name === undefined ? { mode } : { mode, name: got.name };
}

function readDateTime(r: SchemaReader, v: unknown, path: string): Read<string> {
  if (typeof v !== 'string') return r.string(v, path);
  if (!ISO_DATETIME.test(v) || Number.isNaN(Date.parse(v))) {
    r.violations.add(path, 'error.expected.date.isoformat');
    return INVALID;
  }
  return v;
}

