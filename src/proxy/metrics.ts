/**
 * The proxy's counters and their Prometheus text form. The hot path only
 * adds to numbers in preallocated slots (one small array per app); series
 * names and label strings are built at scrape time.
 *
 * A worker's figures travel as a `MetricsSample` (series text → value) so
 * the process that serves /metrics can add up every worker's: counters and
 * `_sum` gauges add, `_max` gauges take the largest.
 */

/** Response status classes counted per app: index = first digit (0 = no response sent). */
const statusClasses = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export type UpstreamFailureKind = 'connect' | 'connect_timeout' | 'header_timeout' | 'idle_timeout' | 'reset';

const failureKinds: readonly UpstreamFailureKind[] = ['connect', 'connect_timeout', 'header_timeout', 'idle_timeout', 'reset'];

/** One series line without the value, e.g. `cygnet_proxy_retries_total` → value. */
export type MetricsSample = Record<string, number>;

interface AppCounters {
  readonly responses: Float64Array;
  readonly failures: Float64Array;
}

const help: Record<string, string> = {
  cygnet_proxy_responses_total: 'counter|HTTP responses sent to clients, by app and status class (app="" when no route matched)',
  cygnet_proxy_upstream_failures_total: 'counter|Failed attempts to reach a backend, by app and kind',
  cygnet_proxy_retries_total: 'counter|Requests retried on another instance after a connect failure',
  cygnet_proxy_ejections_total: 'counter|Backends ejected after a refused or timed-out connect',
  cygnet_proxy_upgrades_total: 'counter|Upgraded (WebSocket) connections passed through',
  cygnet_proxy_tcp_connections_total: 'counter|TCP connections forwarded by listen port',
  cygnet_proxy_client_aborts_total: 'counter|Requests whose client went away before the response ended',
  cygnet_proxy_table_swaps_total: 'counter|Routing tables swapped in',
  cygnet_proxy_connections_passed_total: 'counter|Accepted client connections passed to a less-loaded worker',
  cygnet_proxy_connections_adopted_total: 'counter|Client connections taken over from another worker',
  cygnet_proxy_table_revision_max: 'gauge|Registry revision of the routing table in use',
  cygnet_proxy_table_routes_max: 'gauge|HTTP routes in the routing table',
  cygnet_proxy_table_backends_max: 'gauge|Backends in the routing table',
  cygnet_proxy_watch_connected_max: 'gauge|1 while the registry watch stream is up',
  cygnet_proxy_workers_max: 'gauge|Worker processes forwarding',
  cygnet_proxy_in_flight_sum: 'gauge|Requests and tunnels in flight',
  cygnet_proxy_upstream_sockets_sum: 'gauge|Sockets open to backends (busy and idle in the keep-alive pools)',
};

export class ProxyMetrics {
  private readonly apps = new Map<string, AppCounters>();
  retries = 0;
  ejections = 0;
  upgrades = 0;
  tcpConnections = 0;
  clientAborts = 0;
  tableSwaps = 0;
  connectionsPassed = 0;
  connectionsAdopted = 0;
  tableRevision = 0;
  tableRoutes = 0;
  tableBackends = 0;
  watchConnected = 0;
  inFlight = 0;
  /** Read at scrape time (the pools' socket count). */
  upstreamSockets: () => number = () => 0;

  countResponse(appId: string, status: number): void {
    const idx = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
    const c = this.countersOf(appId);
    c.responses[idx] = (c.responses[idx] as number) + 1;
  }

  countFailure(appId: string, kind: UpstreamFailureKind): void {
    const c = this.countersOf(appId);
    const idx = failureKinds.indexOf(kind);
    c.failures[idx] = (c.failures[idx] as number) + 1;
  }

  private countersOf(appId: string): AppCounters {
    let c = this.apps.get(appId);
    if (c === undefined) {
      c = { responses: new Float64Array(statusClasses.length), failures: new Float64Array(failureKinds.length) };
      this.apps.set(appId, c);
    }
    return c;
  }

  /** Responses sent, every app and class. */
  totalResponses(): number {
    let n = 0;
    for (const c of this.apps.values()) for (const v of c.responses) n += v;
    return n;
  }

  sample(): MetricsSample {
    const out: MetricsSample = {};
    for (const [app, c] of this.apps) {
      const a = escapeLabel(app);
      statusClasses.forEach((cls, i) => { if (c.responses[i] !== 0) out[`cygnet_proxy_responses_total{app="${a}",code="${cls}"}`] = c.responses[i] as number; });
      failureKinds.forEach((kind, i) => { if (c.failures[i] !== 0) out[`cygnet_proxy_upstream_failures_total{app="${a}",kind="${kind}"}`] = c.failures[i] as number; });
    }
    out.cygnet_proxy_retries_total = this.retries;
    out.cygnet_proxy_ejections_total = this.ejections;
    out.cygnet_proxy_upgrades_total = this.upgrades;
    out.cygnet_proxy_tcp_connections_total = this.tcpConnections;
    out.cygnet_proxy_client_aborts_total = this.clientAborts;
    out.cygnet_proxy_table_swaps_total = this.tableSwaps;
    out.cygnet_proxy_connections_passed_total = this.connectionsPassed;
    out.cygnet_proxy_connections_adopted_total = this.connectionsAdopted;
    out.cygnet_proxy_table_revision_max = this.tableRevision;
    out.cygnet_proxy_table_routes_max = this.tableRoutes;
    out.cygnet_proxy_table_backends_max = this.tableBackends;
    out.cygnet_proxy_watch_connected_max = this.watchConnected;
    out.cygnet_proxy_in_flight_sum = this.inFlight;
    out.cygnet_proxy_upstream_sockets_sum = this.upstreamSockets();
    return out;
  }
}

/** Adds workers' samples: `_max` series take the largest, the rest add up. */
export function mergeSamples(samples: readonly MetricsSample[]): MetricsSample {
  const out: MetricsSample = {};
  for (const s of samples) {
    for (const [key, value] of Object.entries(s)) {
      const prev = out[key];
      out[key] = prev === undefined ? value : metricName(key).endsWith('_max') ? Math.max(prev, value) : prev + value;
    }
  }
  return out;
}

/** Prometheus text exposition format 0.0.4. */
export function renderPrometheus(sample: MetricsSample): string {
  const byName = new Map<string, string[]>();
  for (const key of Object.keys(sample).sort()) {
    const name = metricName(key);
    const lines = byName.get(name) ?? [];
    lines.push(`${key} ${sample[key] as number}`);
    byName.set(name, lines);
  }
  let text = '';
  for (const [name, lines] of byName) {
    const [type, doc] = (help[name] ?? 'gauge|').split('|');
    text += `# HELP ${name} ${doc ?? ''}\n# TYPE ${name} ${type ?? 'gauge'}\n${lines.join('\n')}\n`;
  }
  return text;
}

function metricName(key: string): string {
  const brace = key.indexOf('{');
  return brace < 0 ? key : key.slice(0, brace);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
