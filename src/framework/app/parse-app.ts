/**
 * Marathon app JSON → `AppDefinition`, in Marathon's own order:
 *
 *   1. schema (read-app-json.ts): types, ranges, patterns → 422 "Invalid JSON";
 *   2. deprecated-API checks (`ports`, `uris`) → 422 "Object is not valid";
 *   3. normalization: ids resolved against the base group, `uris` → `fetch`,
 *      `ports` → `portDefinitions`, one default port, `portIndex: 0` added to
 *      network health checks that name no port, default role;
 *   4. semantic validation with Marathon's sentences, all violations together
 *      → 422 "Object is not valid";
 *   5. defaults filled → a frozen `AppDefinition`.
 *
 * Cygnet-only refusals (containers, secrets, GPUs, non-host networks) are
 * reported in step 4 beside Marathon's own violations, with Marathon's own
 * message where Marathon has one for a disabled feature. No I/O here.
 */
import {
  APP_DEFAULTS,
  HEALTH_CHECK_DEFAULTS,
  type AppDefinition,
  type FetchUri,
  type HealthCheck,
  type PortDefinition,
  type ReadinessCheck,
  type UnreachableStrategy,
} from './app-definition.ts';
import { Violations } from './app-errors.ts';
import { ID_SEGMENT_PATTERN_TEXT, RESERVED_LAST_SEGMENTS, idSegments, isValidSegment, normalizeAppId } from './app-id.ts';
import { type Constraint, parseConstraint } from './constraints.ts';
import { type RawApp, type RawArtifact, type RawHealthCheck, type RawPortDefinition, readAppJson } from './read-app-json.ts';

export interface ParseAppOptions {
  /** The group relative ids (and dependencies) resolve against; default `/`. */
  readonly basePath?: string;
  /** The role an app gets when it names none (Marathon's `--mesos_role`, default `*`). */
  readonly defaultRole?: string;
  /** If given, `role` must be one of these (Marathon: the default role or the group's role). */
  readonly validRoles?: readonly string[];
}

/** Marathon's sentences, verbatim, for 422 bodies. */
export const APP_MESSAGES = {
  cmdArgsOrContainer: "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.",
  cmdTooShort: 'must not be an empty string',
  notRoot: 'must not be root',
  pathNonEmpty: 'Path must contain at least one path element',
  reserved: `must not end with any of the following reserved keywords: ${RESERVED_LAST_SEGMENTS.join(', ')}`,
  segmentPattern: `must fully match regular expression '${ID_SEGMENT_PATTERN_TEXT}'`,
  portNamesUnique: 'Port names must be unique.',
  portsUnique: 'Ports must be unique.',
  oldPortsUnique: 'ports must be unique',
  portsAndDefinitions: 'cannot specify both ports and port definitions',
  urisWithFetch: 'may not be set in conjunction with fetch',
  uriSyntax: 'URI has invalid syntax.',
  healthPortIndex: 'Health check port indices must address an element of the ports array or container port mappings.',
  healthIpProtocol: 'IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks',
  oneMesosHealthCheck: 'AppDefinition can contain at most one Mesos health check',
  secretsFeature: 'Feature secrets is not enabled. Enable with --enable_features secrets)',
  envSecrets: 'use of secret-references in the environment requires the secrets feature to be enabled',
  gpuFeature: 'Feature gpu_resources is not enabled. Enable with --enable_features gpu_resources)',
  migrationApi:
    'DCOS_PACKAGE_FRAMEWORK_NAME and DCOS_MIGRATION_API_PATH must be defined when using DCOS_MIGRATION_API_VERSION',
  singleInstance: 'Single instance app may only have one instance',
  notEmpty: 'must not be empty',
  hostNetworkOnly: 'only host networking ("mode": "host") is supported by cygnet',
  sha256: 'the #sha256= fragment must be 64 hexadecimal digits',
} as const;

const SINGLE_INSTANCE_LABEL = 'MARATHON_SINGLE_INSTANCE_APP';
const MIGRATION_LABELS = ['DCOS_MIGRATION_API_VERSION', 'DCOS_PACKAGE_FRAMEWORK_NAME', 'DCOS_MIGRATION_API_PATH'] as const;
/** The Mesos fetcher's extractable suffixes (Marathon's `FetchUri.supportedFileTypes`). */
const EXTRACTABLE = ['.tar', '.tar.gz', '.tar.bz2', '.tar.xz', '.gz', '.tgz', '.tbz2', '.txz', '.zip'];
const DEFAULT_PORT_DEFINITIONS: readonly RawPortDefinition[] = [{ port: 0, name: 'default', protocol: 'tcp' }];
const MARATHON_NETWORK_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'TCP']);
const MESOS_PROTOCOLS = new Set(['COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP']);

/** Marathon app JSON (already parsed) → a normalized, validated, frozen definition. */
export function parseAppDefinition(json: unknown, opts: ParseAppOptions = {}): AppDefinition {
  return buildAppDefinition(readAppJson(json, { requireId: true }), opts);
}

/** Steps 2–5 on a schema-checked app; merge-app.ts enters here too. */
export function buildAppDefinition(raw: RawApp, opts: ParseAppOptions = {}): AppDefinition {
  checkDeprecatedApi(raw);
  const base = opts.basePath ?? '/';
  const v = new Violations();
  const id = checkId(raw.id ?? '', base, v);
  const portDefinitions = raw.portDefinitions ?? raw.ports?.map((port) => ({ port })) ?? DEFAULT_PORT_DEFINITIONS;
  const fetch = raw.fetch ?? (raw.uris ?? []).map((uri) => ({ uri, extract: isExtractable(uri) }));
  // Marathon validates checks with `portIndex: 0` added only if `portDefinitions` were given, but
  // its storage adds it to every stored check anyway (HealthCheck.fromProto). We validate as it
  // validates and store as it stores: parse stays idempotent, so a later `{"instances": n}` is a
  // scale and not a config change.
  const submittedChecks = (raw.healthChecks ?? []).map((hc) =>
    (raw.portDefinitions?.length ?? 0) > 0 ? withDefaultPortIndex(hc) : hc,
  );
  const role = raw.role ?? opts.defaultRole ?? '*';
  checkCommand(raw, v);
  checkPorts(portDefinitions, v);
  const parsedHealth = checkHealthChecks(submittedChecks, portDefinitions.length, v);
  checkFetch(fetch, v);
  checkEnv(raw, v);
  checkRoles(raw, role, opts, v);
  checkLabelRules(raw, v);
  const readinessChecks = checkReadiness(raw, portDefinitions, v);
  const constraints = checkConstraints(raw.constraints ?? [], v);
  const dependencies = checkDependencies(raw.dependencies ?? [], base, v);
  const unreachableStrategy = checkUnreachable(raw.unreachableStrategy, v);
  checkUnsupported(raw, v);
  v.throwIfAny('semantic');
  return deepFreeze(
    assemble(raw, {
      id,
      portDefinitions: portDefinitions.map(toPortDefinition),
      fetch: fetch.map(toFetchUri),
      healthChecks: parsedHealth,
      readinessChecks,
      constraints,
      dependencies,
      unreachableStrategy,
      role,
    }),
  );
}

type Derived = Pick<
  AppDefinition,
  | 'id'
  | 'portDefinitions'
  | 'fetch'
  | 'healthChecks'
  | 'readinessChecks'
  | 'constraints'
  | 'dependencies'
  | 'unreachableStrategy'
  | 'role'
>;

function assemble(raw: RawApp, d: Derived): AppDefinition {
  // fromEntries defines own properties: a `__proto__` variable stays data, never a prototype.
  const env = Object.fromEntries(Object.entries(raw.env ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const def: AppDefinition = {
    id: d.id,
    ...(raw.cmd !== undefined ? { cmd: raw.cmd } : {}),
    ...(raw.args !== undefined && raw.args.length > 0 ? { args: raw.args } : {}),
    ...(raw.user !== undefined ? { user: raw.user } : {}),
    env,
    instances: raw.instances ?? APP_DEFAULTS.instances,
    cpus: raw.cpus ?? APP_DEFAULTS.cpus,
    mem: raw.mem ?? APP_DEFAULTS.mem,
    disk: raw.disk ?? APP_DEFAULTS.disk,
    gpus: raw.gpus ?? APP_DEFAULTS.gpus,
    executor: raw.executor ?? APP_DEFAULTS.executor,
    constraints: d.constraints,
    fetch: d.fetch,
    portDefinitions: d.portDefinitions,
    requirePorts: raw.requirePorts ?? APP_DEFAULTS.requirePorts,
    backoffSeconds: raw.backoffSeconds ?? APP_DEFAULTS.backoffSeconds,
    backoffFactor: raw.backoffFactor ?? APP_DEFAULTS.backoffFactor,
    maxLaunchDelaySeconds: raw.maxLaunchDelaySeconds ?? APP_DEFAULTS.maxLaunchDelaySeconds,
    healthChecks: d.healthChecks,
    readinessChecks: d.readinessChecks,
    dependencies: d.dependencies,
    upgradeStrategy: raw.upgradeStrategy ?? {
      minimumHealthCapacity: APP_DEFAULTS.minimumHealthCapacity,
      maximumOverCapacity: APP_DEFAULTS.maximumOverCapacity,
    },
    labels: raw.labels ?? {},
    ...(raw.acceptedResourceRoles !== undefined && raw.acceptedResourceRoles.length > 0
      ? { acceptedResourceRoles: [...new Set(raw.acceptedResourceRoles)] }
      : {}),
    role: d.role,
    killSelection: raw.killSelection ?? APP_DEFAULTS.killSelection,
    ...(raw.taskKillGracePeriodSeconds !== undefined ? { taskKillGracePeriodSeconds: raw.taskKillGracePeriodSeconds } : {}),
    unreachableStrategy: d.unreachableStrategy,
  };
  return def;
}

// ---------------------------------------------------------------------------
// Step 2: Marathon rejects misuse of the deprecated fields before anything else.

function checkDeprecatedApi(raw: RawApp): void {
  const v = new Violations();
  if (raw.uris !== undefined) {
    raw.uris.forEach((u, i) => {
      if (!isJavaUriSyntax(u)) v.add(`/uris(${i})`, APP_MESSAGES.uriSyntax);
    });
    if (raw.uris.length > 0 && (raw.fetch?.length ?? 0) > 0) v.add('/uris', APP_MESSAGES.urisWithFetch);
  }
  const fixedPorts = (raw.ports ?? []).filter((p) => p !== 0);
  if (new Set(fixedPorts).size !== fixedPorts.length) v.add('/', APP_MESSAGES.oldPortsUnique);
  if (raw.ports !== undefined && raw.portDefinitions !== undefined) {
    const same =
      raw.ports.length === raw.portDefinitions.length && raw.portDefinitions.every((d, i) => (d.port ?? 0) === raw.ports?.[i]);
    if (!same) v.add('/', APP_MESSAGES.portsAndDefinitions);
  }
  v.throwIfAny('semantic');
}

// ---------------------------------------------------------------------------
// Step 4: semantic checks, each adding Marathon's violations.

function checkId(rawId: string, base: string, v: Violations): string {
  const id = normalizeAppId(rawId, base);
  const segments = idSegments(id);
  if (!segments.every(isValidSegment)) v.add('/id', APP_MESSAGES.segmentPattern);
  const last = segments[segments.length - 1];
  if (last !== undefined && RESERVED_LAST_SEGMENTS.includes(last)) v.add('/id', APP_MESSAGES.reserved);
  if (segments.length === 0) {
    v.add('/id', APP_MESSAGES.pathNonEmpty);
    v.add('/', APP_MESSAGES.notRoot);
  }
  return id;
}

function checkDependencies(deps: readonly string[], base: string, v: Violations): string[] {
  return [
    ...new Set(
      deps.map((d, i) => {
        const id = normalizeAppId(d, base);
        const last = idSegments(id).at(-1);
        if (last !== undefined && RESERVED_LAST_SEGMENTS.includes(last)) v.add(`/dependencies(${i})`, APP_MESSAGES.reserved);
        return id;
      }),
    ),
  ];
}

function checkCommand(raw: RawApp, v: Violations): void {
  const hasCmd = raw.cmd !== undefined && raw.cmd !== '';
  const hasArgs = (raw.args?.length ?? 0) > 0;
  if (hasCmd === hasArgs) v.add('/', APP_MESSAGES.cmdArgsOrContainer);
  // Marathon's own rule (`cmd.length > 1`): a one-character command is refused too.
  if (raw.cmd !== undefined && raw.cmd.length <= 1) v.add('/', APP_MESSAGES.cmdTooShort);
}

function checkPorts(defs: readonly RawPortDefinition[], v: Violations): void {
  const names = defs.flatMap((d) => (d.name === undefined ? [] : [d.name]));
  if (new Set(names).size !== names.length) v.add('/portDefinitions', APP_MESSAGES.portNamesUnique);
  const fixed = defs.map((d) => d.port ?? 0).filter((p) => p !== 0);
  if (new Set(fixed).size !== fixed.length) v.add('/portDefinitions', APP_MESSAGES.portsUnique);
}

function withDefaultPortIndex(hc: RawHealthCheck): RawHealthCheck {
  const protocol = hc.protocol ?? 'HTTP';
  if (protocol === 'COMMAND' || hc.port !== undefined || hc.portIndex !== undefined) return hc;
  return { ...hc, portIndex: 0 };
}

function checkHealthChecks(checks: readonly RawHealthCheck[], portCount: number, v: Violations): HealthCheck[] {
  const out: HealthCheck[] = [];
  let mesosChecks = 0;
  checks.forEach((hc, i) => {
    const path = `/healthChecks(${i})`;
    const protocol = hc.protocol ?? 'HTTP';
    if (hc.command === undefined && MESOS_PROTOCOLS.has(protocol) && protocol !== 'COMMAND') mesosChecks++;
    if (hc.command === undefined && MARATHON_NETWORK_PROTOCOLS.has(protocol)) {
      const ok = hc.portIndex !== undefined ? hc.portIndex < portCount : hc.port !== undefined || portCount === 1;
      if (!ok) v.add(path, APP_MESSAGES.healthPortIndex);
    }
    if ((hc.ipProtocol ?? 'IPv4') !== 'IPv4') v.add(path, APP_MESSAGES.healthIpProtocol);
    if (hc.command !== undefined && protocol !== 'COMMAND') v.add(path, `illegal protocol ${protocol} specified with command`);
    if (hc.command === undefined && protocol === 'COMMAND') v.add(`${path}/command`, 'a COMMAND health check requires "command": {"value": ...}');
    const built = toHealthCheck(withDefaultPortIndex(hc));
    if (built !== undefined) out.push(built);
  });
  if (mesosChecks > 1) v.add('/', APP_MESSAGES.oneMesosHealthCheck);
  return out;
}

function toHealthCheck(hc: RawHealthCheck): HealthCheck | undefined {
  const protocol = hc.protocol ?? 'HTTP';
  const timing = {
    gracePeriodSeconds: hc.gracePeriodSeconds ?? HEALTH_CHECK_DEFAULTS.gracePeriodSeconds,
    intervalSeconds: hc.intervalSeconds ?? HEALTH_CHECK_DEFAULTS.intervalSeconds,
    timeoutSeconds: hc.timeoutSeconds ?? HEALTH_CHECK_DEFAULTS.timeoutSeconds,
    maxConsecutiveFailures: hc.maxConsecutiveFailures ?? HEALTH_CHECK_DEFAULTS.maxConsecutiveFailures,
    // Marathon keeps delaySeconds only for checks Mesos runs; its own (HTTP, HTTPS, TCP) always print 15.
    delaySeconds: MESOS_PROTOCOLS.has(protocol) ? (hc.delaySeconds ?? HEALTH_CHECK_DEFAULTS.delaySeconds) : HEALTH_CHECK_DEFAULTS.delaySeconds,
  };
  const target = {
    ...(hc.portIndex !== undefined ? { portIndex: hc.portIndex } : {}),
    ...(hc.port !== undefined ? { port: hc.port } : {}),
  };
  const path = hc.path !== undefined ? { path: hc.path } : {};
  switch (protocol) {
    case 'COMMAND':
      return hc.command === undefined ? undefined : { ...timing, protocol, command: { value: hc.command.value } };
    case 'HTTP':
    case 'HTTPS':
      return { ...timing, protocol, ...path, ignoreHttp1xx: hc.ignoreHttp1xx ?? false, ...target };
    case 'MESOS_HTTP':
    case 'MESOS_HTTPS':
      return { ...timing, protocol, ...path, ...target };
    case 'TCP':
    case 'MESOS_TCP':
      return { ...timing, protocol, ...target };
  }
}

function checkFetch(fetch: readonly RawArtifact[], v: Violations): void {
  fetch.forEach((a, i) => {
    if (!isJavaUriSyntax(a.uri)) v.add(`/fetch(${i})/uri`, APP_MESSAGES.uriSyntax);
    else if (!hasValidSha256Fragment(a.uri)) v.add(`/fetch(${i})/uri`, APP_MESSAGES.sha256);
  });
}

function checkEnv(raw: RawApp, v: Violations): void {
  const env = raw.env ?? {};
  Object.keys(env).forEach((name, i) => {
    if (name === '') v.add(`/env/keys(${i})`, APP_MESSAGES.notEmpty);
  });
  if (Object.values(env).some((x) => typeof x !== 'string')) v.add('/env', APP_MESSAGES.envSecrets);
  if (Object.keys(raw.secrets ?? {}).length > 0) v.add('/secrets', APP_MESSAGES.secretsFeature);
}

function checkRoles(raw: RawApp, role: string, opts: ParseAppOptions, v: Violations): void {
  const roleProblem = describeBadRole(role);
  if (roleProblem !== undefined) v.add('/role', roleProblem);
  if (opts.validRoles !== undefined && !opts.validRoles.includes(role)) {
    v.add('/role', `got ${role}, expected one of: [${opts.validRoles.join(', ')}]`);
  }
  const accepted = raw.acceptedResourceRoles;
  if (accepted === undefined) return;
  if (accepted.length === 0) v.add('/acceptedResourceRoles', APP_MESSAGES.notEmpty);
  accepted.forEach((r, i) => {
    const problem = describeBadRole(r);
    if (problem !== undefined) v.add(`/acceptedResourceRoles(${i})`, problem);
  });
  const allowed = [...new Set(['*', role])].sort();
  const distinct = new Set(accepted);
  if (distinct.size > 2 || ![...distinct].every((r) => allowed.includes(r))) {
    v.add('/acceptedResourceRoles', `acceptedResourceRoles can only contain ${allowed.join(' and ')}`);
  }
}

/** Mesos' role-name rules, in Marathon's words; `undefined` when the name is fine. */
export function describeBadRole(role: string): string | undefined {
  if (role === '' || role === '.' || role === '..') return `A role name must not be ${JSON.stringify(role)}.`;
  if (role.startsWith('-')) return "A role name must not start with a '-'.";
  const badChars: readonly [string, string][] = [
    ['\t', 'horizontal tab (\\x09)'],
    ['\n', 'line feed (\\x0a)'],
    ['\v', 'vertical tab (\\x0b)'],
    ['\f', 'form feed (\\x0c)'],
    ['\r', 'carriage return (\\x0d)'],
    [' ', 'space (\\x20)'],
    ['/', 'slash (\\x2f)'],
    ['\x7f', 'backspace (\\x7f)'],
  ];
  const hit = badChars.find(([c]) => role.includes(c));
  return hit === undefined ? undefined : `A role name must not include a ${hit[1]} character.`;
}

function checkLabelRules(raw: RawApp, v: Violations): void {
  const labels = raw.labels ?? {};
  const [apiVersion, frameworkName, apiPath] = MIGRATION_LABELS.map((k) => labels[k]);
  if (apiVersion !== undefined && apiVersion !== '') {
    if (apiVersion !== 'v1' || !frameworkName || !apiPath) v.add('/', APP_MESSAGES.migrationApi);
  }
  if (labels[SINGLE_INSTANCE_LABEL] === 'true') {
    if ((raw.instances ?? APP_DEFAULTS.instances) > 1) v.add('/', APP_MESSAGES.singleInstance);
    const us = raw.upgradeStrategy;
    if (us !== undefined) {
      if (us.minimumHealthCapacity !== 0) v.add('/upgradeStrategy/minimumHealthCapacity', `got ${scalaDouble(us.minimumHealthCapacity)}, expected 0.0`);
      if (us.maximumOverCapacity !== 0) v.add('/upgradeStrategy/maximumOverCapacity', `got ${scalaDouble(us.maximumOverCapacity)}, expected 0.0`);
    }
  }
  if ((raw.gpus ?? 0) > 0) v.add('/', APP_MESSAGES.gpuFeature);
}

function checkReadiness(raw: RawApp, ports: readonly RawPortDefinition[], v: Violations): ReadinessCheck[] {
  const checks = raw.readinessChecks ?? [];
  if (checks.length > 1) v.add('/readinessChecks', `got ${checks.length}, expected 1 or less`);
  const portNames = new Set(ports.flatMap((p) => (p.name === undefined ? [] : [p.name])));
  return checks.map((rc, i) => {
    const check: ReadinessCheck = {
      name: rc.name ?? 'readinessCheck',
      protocol: rc.protocol ?? 'HTTP',
      path: rc.path ?? '/',
      portName: rc.portName ?? 'http-api',
      intervalSeconds: rc.intervalSeconds ?? 30,
      timeoutSeconds: rc.timeoutSeconds ?? 10,
      httpStatusCodesForReady: rc.httpStatusCodesForReady ?? [200],
      preserveLastResponse: rc.preserveLastResponse ?? false,
    };
    if (!portNames.has(check.portName)) {
      v.add(`/readinessChecks(${i})/portName`, `No port definition reference for portName ${check.portName}`);
    }
    if (check.timeoutSeconds >= check.intervalSeconds) {
      v.add(`/readinessChecks(${i})/timeoutSeconds`, `got ${check.timeoutSeconds}, expected less than ${check.intervalSeconds}`);
    }
    return check;
  });
}

function checkConstraints(triples: readonly (readonly string[])[], v: Violations): Constraint[] {
  const out: Constraint[] = [];
  const seen = new Set<string>();
  triples.forEach((t, i) => {
    const parsed = parseConstraint(t);
    if (!parsed.ok) {
      v.add(`/constraints(${i})`, parsed.message);
      return;
    }
    // Marathon keeps constraints in a set: a repeated triple counts once.
    const key = JSON.stringify([parsed.constraint.field, parsed.constraint.operator, 'value' in parsed.constraint ? parsed.constraint.value : null]);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(parsed.constraint);
    }
  });
  return out;
}

function checkUnreachable(us: UnreachableStrategy | undefined, v: Violations): UnreachableStrategy {
  if (us === undefined) {
    return { inactiveAfterSeconds: APP_DEFAULTS.inactiveAfterSeconds, expungeAfterSeconds: APP_DEFAULTS.expungeAfterSeconds };
  }
  if (us !== 'disabled' && us.inactiveAfterSeconds > us.expungeAfterSeconds) {
    v.add(
      '/unreachableStrategy/inactiveAfterSeconds',
      `inactiveAfterSeconds (${us.inactiveAfterSeconds}) must be less or equal to expungeAfterSeconds, which is ${us.expungeAfterSeconds}`,
    );
  }
  return us;
}

function checkUnsupported(raw: RawApp, v: Violations): void {
  for (const [key, why] of raw.unsupported) v.add(`/${key}`, why);
  (raw.networks ?? []).forEach((n, i) => {
    if (n.mode !== 'host') v.add(`/networks(${i})/mode`, APP_MESSAGES.hostNetworkOnly);
  });
}

// ---------------------------------------------------------------------------
// Helpers

function toPortDefinition(d: RawPortDefinition): PortDefinition {
  return {
    port: d.port ?? 0,
    protocol: d.protocol ?? 'tcp',
    ...(d.name !== undefined ? { name: d.name } : {}),
    labels: d.labels ?? {},
  };
}

function toFetchUri(a: RawArtifact): FetchUri {
  return {
    uri: a.uri,
    extract: a.extract ?? true,
    executable: a.executable ?? false,
    cache: a.cache ?? false,
    ...(a.destPath !== undefined ? { destPath: a.destPath } : {}),
  };
}

/** Marathon's `FetchUri.isExtract`: the URI's path ends with an archive suffix the fetcher unpacks. */
export function isExtractable(uri: string): boolean {
  const path = uri.replace(/[?#].*$/, '');
  return EXTRACTABLE.some((suffix) => path.endsWith(suffix));
}

const URI_FORBIDDEN = /[\s"<>\\^`{|}]/;

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
const URI_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/**
 * An approximation of `new java.net.URI(s)` succeeding: no spaces, controls or
 * the characters RFC 2396 excludes, well-formed `%` escapes, at most one `#`,
 * a well-formed scheme if there is a colon before the first `/`, `?` or `#`.
 */
export function isJavaUriSyntax(s: string): boolean {
  if (s === '' || URI_FORBIDDEN.test(s) || hasControlChar(s)) return false;
  if (/%(?![0-9a-fA-F]{2})/.test(s)) return false;
  if (s.indexOf('#') !== s.lastIndexOf('#')) return false;
  const head = s.split(/[/?#]/, 1)[0] ?? '';
  if (head.includes(':') && !URI_SCHEME.test(head)) return false;
  const scheme = URI_SCHEME.exec(s)?.[0];
  if (scheme !== undefined && s.length === scheme.length) return false;
  return true;
}

function hasValidSha256Fragment(uri: string): boolean {
  const hash = uri.indexOf('#');
  if (hash < 0) return true;
  const m = /(?:^|&)sha256=([^&]*)/.exec(uri.slice(hash + 1));
  return m === null || /^[0-9a-fA-F]{64}$/.test(m[1] ?? '');
}

/** A double as Scala prints it in messages: `1.0`, `0.5`, `-1.2`. */
export function scalaDouble(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
