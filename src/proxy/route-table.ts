/**
 * The routing table: registry apps with their healthy endpoints in, a table
 * the forwarder can match a request against out. Pure: no I/O, no clock, no
 * randomness; the same apps give the same table.
 *
 * What an app asks for, through its labels (documented for users in README §7):
 *   CYGNET_VHOST     comma-separated host names; else marathon-lb's
 *                    HAPROXY_0_VHOST; else `<app id reversed>.<domain>`
 *                    (`/shop/web` → `web.shop.cygnet`, as in DNS).
 *   CYGNET_PATH      path prefix to route (default `/`); else marathon-lb's
 *                    HAPROXY_0_PATH. The longest matching prefix wins.
 *   CYGNET_BALANCE   `roundrobin` (default), `leastconn` or `source`
 *                    (client-IP affinity); HAProxy's names. Else
 *                    HAPROXY_0_BALANCE.
 *   CYGNET_PORT_INDEX which of the endpoint's host ports to send to (default 0).
 *   CYGNET_TCP_PORT  a listen port on which the proxy forwards plain TCP to
 *                    the app; marathon-lb's `HAPROXY_0_MODE=tcp` asks for the
 *                    same on the app's service port of port 0.
 *   CYGNET_HTTP      `false` keeps a TCP-only app out of HTTP routing.
 *   HAPROXY_<n>_VHOST, _PATH, _BALANCE, _MODE (n ≥ 1) marathon-lb's labels
 *                    for the app's other ports: an app's port n routed by
 *                    its own host names (and TCP on its service port), as
 *                    marathon-lb does. Such a route keeps its instances'
 *                    failure state apart from port 0's.
 *
 * Invariants: every backend in the table has a positive weight (weights
 * follow `versionWeights`, see computeEndpointWeights); routes under one host
 * are sorted by prefix length, longest first; a conflict (two apps on one
 * host and prefix, or one TCP port) is resolved for the app id that sorts
 * first, and reported in `problems` rather than thrown, so one bad app
 * cannot stop the others from being routed.
 */
import type { RegistryApp, RegistryEndpoint } from '../registry/types.ts';
import { createPicker, type BalanceMode, type Picker } from './picker.ts';

/** Mutable per-instance state the forwarder keeps across table swaps (keyed by task id). */
export interface BackendState {
  /** Requests (and upgraded/TCP connections) in flight to this instance. */
  active: number;
  /** Until when the instance is skipped after a refused or timed-out connect (ms since epoch). */
  ejectedUntilMs: number;
  /** Consecutive connect failures, for the ejection backoff. */
  failures: number;
}

export interface Backend {
  readonly taskId: string;
  readonly appId: string;
  readonly address: string;
  readonly port: number;
  readonly version: string;
  /** Share of the app's traffic, > 0 (the weights of one app sum to 1). */
  readonly weight: number;
  readonly state: BackendState;
}

export interface HttpRoute {
  readonly appId: string;
  readonly host: string;
  /** Always starts with `/`; `/` matches everything. */
  readonly pathPrefix: string;
  readonly balance: BalanceMode;
  readonly backends: readonly Backend[];
  readonly picker: Picker;
}

export interface TcpRoute {
  readonly appId: string;
  readonly listenPort: number;
  readonly balance: BalanceMode;
  readonly backends: readonly Backend[];
  readonly picker: Picker;
}

export interface RouteTable {
  readonly revision: number;
  /** Host (lower case, no port) → routes, longest prefix first. */
  readonly hosts: ReadonlyMap<string, readonly HttpRoute[]>;
  readonly tcp: ReadonlyMap<number, TcpRoute>;
  /** Why an app or a label was not routed as asked; one line each, stable order. */
  readonly problems: readonly string[];
}

export type RegistryAppWithEndpoints = RegistryApp & { readonly endpoints: readonly RegistryEndpoint[] };

export interface RouteTableOptions {
  /** The cluster's DNS domain: default vhosts are `<app reversed>.<domain>`. */
  readonly domain: string;
  readonly revision: number;
  /** State of an instance by task id; the forwarder keeps these across swaps. */
  readonly stateOf: (taskId: string) => BackendState;
}

export const emptyRouteTable: RouteTable = { revision: 0, hosts: new Map(), tcp: new Map(), problems: [] };

export function newBackendState(): BackendState {
  return { active: 0, ejectedUntilMs: 0, failures: 0 };
}

const balanceModes: readonly BalanceMode[] = ['roundrobin', 'leastconn', 'source'];

/** RFC 1123 labels, dots between; what a Host header can name. */
const hostPattern = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

export function computeRouteTable(apps: Iterable<RegistryAppWithEndpoints>, opts: RouteTableOptions): RouteTable {
  const problems: string[] = [];
  const sorted = [...apps].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const hosts = new Map<string, HttpRoute[]>();
  const tcp = new Map<number, TcpRoute>();
  const addHttp = (app: RegistryApp, vhosts: readonly string[], prefix: string, balance: BalanceMode, backends: readonly Backend[]): void => {
    for (const host of vhosts) {
      const routes = hosts.get(host) ?? [];
      const clash = routes.find((r) => r.pathPrefix === prefix);
      if (clash !== undefined) {
        problems.push(`${app.id}: ${host}${prefix} is already routed to ${clash.appId}`);
        continue;
      }
      routes.push({ appId: app.id, host, pathPrefix: prefix, balance, backends, picker: createPicker(balance, backends) });
      hosts.set(host, routes);
    }
  };
  const addTcp = (app: RegistryApp, listenPort: number | undefined, balance: BalanceMode, backends: readonly Backend[]): void => {
    if (listenPort === undefined) return;
    const clash = tcp.get(listenPort);
    if (clash !== undefined) problems.push(`${app.id}: TCP port ${listenPort} is already forwarded to ${clash.appId}`);
    else tcp.set(listenPort, { appId: app.id, listenPort, balance, backends, picker: createPicker(balance, backends) });
  };
  for (const app of sorted) {
    const labels = app.labels;
    const balance = computeBalance(app.id, labels.CYGNET_BALANCE === undefined ? 'HAPROXY_0_BALANCE' : 'CYGNET_BALANCE', labels.CYGNET_BALANCE ?? labels.HAPROXY_0_BALANCE, 'roundrobin', problems);
    const portIndex = computePortIndex(app, problems);
    const backends = computeBackends(app, portIndex, opts.stateOf);
    if (labels.CYGNET_HTTP !== 'false') {
      const vhosts = computeVhosts(app.id, labels.CYGNET_VHOST === undefined ? 'HAPROXY_0_VHOST' : 'CYGNET_VHOST', labels.CYGNET_VHOST ?? labels.HAPROXY_0_VHOST, problems);
      addHttp(app, vhosts.length > 0 ? vhosts : [defaultVhost(app.id, opts.domain)], computePathPrefix(app.id, labels.CYGNET_PATH === undefined ? 'HAPROXY_0_PATH' : 'CYGNET_PATH', labels.CYGNET_PATH ?? labels.HAPROXY_0_PATH, problems), balance, backends);
    }
    addTcp(app, computeTcpPort(app, problems), balance, backends);
    // marathon-lb's labels for the other ports: routed only when asked for (no default host name).
    for (let n = 1; n < app.ports.length; n++) {
      const vhostLabel = labels[`HAPROXY_${n}_VHOST`];
      const tcpMode = labels[`HAPROXY_${n}_MODE`]?.toLowerCase() === 'tcp';
      if (vhostLabel === undefined && !tcpMode) continue;
      const portBalance = computeBalance(app.id, `HAPROXY_${n}_BALANCE`, labels[`HAPROXY_${n}_BALANCE`], balance, problems);
      const portBackends = computeBackends(app, n, (taskId) => opts.stateOf(`${taskId}#port${n}`));
      if (vhostLabel !== undefined) addHttp(app, computeVhosts(app.id, `HAPROXY_${n}_VHOST`, vhostLabel, problems), computePathPrefix(app.id, `HAPROXY_${n}_PATH`, labels[`HAPROXY_${n}_PATH`], problems), portBalance, portBackends);
      if (tcpMode) addTcp(app, servicePortListener(app, n, problems), portBalance, portBackends);
    }
  }
  for (const routes of hosts.values()) routes.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
  return { revision: opts.revision, hosts, tcp, problems };
}

/**
 * The route for a request, or undefined. `host` is the Host header as sent
 * (any case, maybe with a port); `url` the request target (path and query).
 */
export function matchRoute(table: RouteTable, host: string | undefined, url: string | undefined): HttpRoute | undefined {
  if (host === undefined || url === undefined) return undefined;
  const routes = table.hosts.get(normalizeHost(host));
  if (routes === undefined) return undefined;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i] as HttpRoute;
    if (pathHasPrefix(url, r.pathPrefix)) return r;
  }
  return undefined;
}

/** `Web.Shop.Cygnet:8000` → `web.shop.cygnet`; `[::1]:80` → `[::1]`; drops a trailing dot. */
export function normalizeHost(host: string): string {
  let h = host;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    h = end < 0 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

/**
 * A prefix matches on a path-segment boundary: `/api` matches `/api`,
 * `/api/x` and `/api?q`, not `/apix` (a prefix ending in `/` matches
 * anything below it). The query string never takes part.
 */
export function pathHasPrefix(url: string, prefix: string): boolean {
  if (prefix === '/') return true;
  if (!url.startsWith(prefix)) return false;
  if (url.length === prefix.length || prefix.charCodeAt(prefix.length - 1) === 47 /* / */) return true;
  const next = url.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 63 /* ? */;
}

/** `/shop/web` → `web.shop.<domain>`; segments sanitized to RFC 1123 labels as DNS does. */
export function defaultVhost(appId: string, domain: string): string {
  const labels = appId.split('/').filter((s) => s !== '').reverse().map(sanitizeLabel).filter((s) => s !== '');
  return [...labels, domain.toLowerCase()].join('.');
}

function sanitizeLabel(segment: string): string {
  return segment.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
}

/** The host names a label lists (comma-separated), valid ones only; empty when none (the caller picks a default). */
function computeVhosts(appId: string, label: string, raw: string | undefined, problems: string[]): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const host = normalizeHost(part.trim());
    if (host === '') continue;
    if (!hostPattern.test(host)) {
      problems.push(`${appId}: labels.${label}: expected host names separated by commas, got '${part.trim()}'`);
      continue;
    }
    if (!out.includes(host)) out.push(host);
  }
  return out;
}

function computePathPrefix(appId: string, label: string, value: string | undefined, problems: string[]): string {
  const raw = value?.trim();
  if (raw === undefined || raw === '') return '/';
  if (!raw.startsWith('/') || /[\s?#]/.test(raw)) {
    problems.push(`${appId}: labels.${label}: expected a path starting with '/' (no query), got '${raw}'; routing '/'`);
    return '/';
  }
  return raw.length > 1 && raw.endsWith('/') && !raw.endsWith('//') ? raw.slice(0, -1) : raw;
}

function computeBalance(appId: string, label: string, value: string | undefined, fallback: BalanceMode, problems: string[]): BalanceMode {
  const raw = value?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  const mode = balanceModes.find((m) => m === raw);
  if (mode === undefined) {
    problems.push(`${appId}: labels.${label}: expected one of ${balanceModes.join(', ')}, got '${raw}'; using ${fallback}`);
    return fallback;
  }
  return mode;
}

function computePortIndex(app: RegistryApp, problems: string[]): number {
  const raw = app.labels.CYGNET_PORT_INDEX;
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n >= Math.max(1, app.ports.length)) {
    problems.push(`${app.id}: labels.CYGNET_PORT_INDEX: expected an index below ${Math.max(1, app.ports.length)}, got '${raw}'; using 0`);
    return 0;
  }
  return n;
}

function computeTcpPort(app: RegistryApp, problems: string[]): number | undefined {
  const raw = app.labels.CYGNET_TCP_PORT;
  if (raw !== undefined) {
    const n = Number(raw);
    if (!/^\d{1,5}$/.test(raw.trim()) || n < 1 || n > 65535) {
      problems.push(`${app.id}: labels.CYGNET_TCP_PORT: expected a TCP port 1-65535, got '${raw}'`);
      return undefined;
    }
    return n;
  }
  if (app.labels.HAPROXY_0_MODE?.toLowerCase() === 'tcp') return servicePortListener(app, 0, problems);
  return undefined;
}

/** marathon-lb's `HAPROXY_<n>_MODE=tcp`: a listener on port n's service port. */
function servicePortListener(app: RegistryApp, n: number, problems: string[]): number | undefined {
  const servicePort = app.ports[n]?.servicePort ?? 0;
  if (servicePort > 0) return servicePort;
  problems.push(`${app.id}: labels.HAPROXY_${n}_MODE=tcp: ports[${n}].servicePort is 0; no TCP listener`);
  return undefined;
}

function computeBackends(app: RegistryAppWithEndpoints, portIndex: number, stateOf: (taskId: string) => BackendState): Backend[] {
  const weights = computeEndpointWeights(app.endpoints, app.versionWeights);
  const out: Backend[] = [];
  const endpoints = [...app.endpoints].sort((a, b) => a.index - b.index || (a.taskId < b.taskId ? -1 : 1));
  for (const ep of endpoints) {
    const weight = weights.get(ep.taskId) ?? 0;
    const port = ep.ports[portIndex];
    if (weight <= 0 || port === undefined || port <= 0) continue;
    out.push({ taskId: ep.taskId, appId: app.id, address: ep.ip, port, version: ep.version, weight, state: stateOf(ep.taskId) });
  }
  return out;
}

/**
 * Each endpoint's share of traffic, as the contract says: absent weights →
 * equal shares; present → a version's share is its weight over the sum of
 * the weights of the versions that have endpoints, split equally within the
 * version, and unlisted versions get 0. When every listed version with
 * endpoints weighs 0 (or none is listed), shares fall back to equal: a
 * routing table that sends nothing anywhere helps no one.
 */
export function computeEndpointWeights(endpoints: readonly RegistryEndpoint[], versionWeights: Readonly<Record<string, number>> | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const equal = (): Map<string, number> => {
    for (const ep of endpoints) out.set(ep.taskId, 1 / endpoints.length);
    return out;
  };
  if (versionWeights === undefined || endpoints.length === 0) return equal();
  const perVersion = new Map<string, number>();
  for (const ep of endpoints) perVersion.set(ep.version, (perVersion.get(ep.version) ?? 0) + 1);
  let sum = 0;
  for (const v of perVersion.keys()) {
    const w = versionWeights[v];
    if (w !== undefined && Number.isFinite(w) && w > 0) sum += w;
  }
  if (sum <= 0) return equal();
  for (const ep of endpoints) {
    const w = versionWeights[ep.version];
    const share = w !== undefined && Number.isFinite(w) && w > 0 ? w / sum / (perVersion.get(ep.version) ?? 1) : 0;
    out.set(ep.taskId, share);
  }
  return out;
}

/** The table as JSON for the admin port: plain data, stable order. */
export function describeRouteTable(table: RouteTable): unknown {
  const backend = (b: Backend) => ({ taskId: b.taskId, address: `${b.address}:${b.port}`, version: b.version, weight: Number(b.weight.toFixed(6)), active: b.state.active, ejectedUntil: b.state.ejectedUntilMs > 0 ? new Date(b.state.ejectedUntilMs).toISOString() : null });
  const http = [...table.hosts.keys()].sort().flatMap((host) => (table.hosts.get(host) ?? []).map((r) => ({ host, pathPrefix: r.pathPrefix, appId: r.appId, balance: r.balance, backends: r.backends.map(backend) })));
  const tcp = [...table.tcp.values()].sort((a, b) => a.listenPort - b.listenPort).map((r) => ({ listenPort: r.listenPort, appId: r.appId, balance: r.balance, backends: r.backends.map(backend) }));
  return { revision: table.revision, http, tcp, problems: table.problems };
}
