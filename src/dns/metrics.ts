/**
 * The DNS server's counters and their Prometheus text rendering
 * (exposition format 0.0.4). Counting is a few array/map increments on the
 * hot path; rendering happens only when /metrics is scraped.
 *
 * Bounds: query types are counted per type code (at most 65536 distinct
 * labels, in practice a handful); rcodes are 0-15.
 */
import { rcodeNames, typeName } from './wire.ts';

/** Upstream latency histogram buckets, seconds. */
export const upstreamLatencyBucketsSec: readonly number[] = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class DnsMetrics {
  readonly queriesByType = new Map<number, number>();
  readonly responsesByRcode: number[] = new Array<number>(16).fill(0);
  queriesUdp = 0;
  queriesTcp = 0;
  dropped = 0;
  authoritative = 0;
  forwarded = 0;
  refused = 0;
  cacheHits = 0;
  cacheMisses = 0;
  upstreamFailures = 0;
  readonly upstreamBuckets: number[] = new Array<number>(upstreamLatencyBucketsSec.length).fill(0);
  upstreamCount = 0;
  upstreamSumSec = 0;
  zoneRebuilds = 0;
  lastZoneBuildMs = 0;

  countQuery(type: number): void {
    this.queriesByType.set(type, (this.queriesByType.get(type) ?? 0) + 1);
  }

  countRcode(rcode: number): void {
    this.responsesByRcode[rcode & 0xf]++;
  }

  observeUpstream(seconds: number): void {
    this.upstreamCount++;
    this.upstreamSumSec += seconds;
    for (let i = 0; i < upstreamLatencyBucketsSec.length; i++) {
      if (seconds <= (upstreamLatencyBucketsSec[i] ?? 0)) this.upstreamBuckets[i]++;
    }
  }
}

/** What the watch side reports for the metrics page. */
export interface WatchStatus {
  readonly revision: number;
  readonly connected: boolean;
  /** Seconds since the last record (delta or heartbeat) arrived; undefined before the first. */
  readonly lagSec: number | undefined;
}

export function renderMetrics(m: DnsMetrics, watch: WatchStatus, extra: { cacheEntries: number; zoneNames: number }): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: readonly string[]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
  };
  metric('cygnet_dns_queries_total', 'counter', 'Queries received, by query type.',
    [...m.queriesByType].sort((a, b) => a[0] - b[0]).map(([t, n]) => `cygnet_dns_queries_total{type="${typeName(t)}"} ${n}`));
  metric('cygnet_dns_queries_by_transport_total', 'counter', 'Queries received, by transport.',
    [`cygnet_dns_queries_by_transport_total{transport="udp"} ${m.queriesUdp}`, `cygnet_dns_queries_by_transport_total{transport="tcp"} ${m.queriesTcp}`]);
  metric('cygnet_dns_responses_total', 'counter', 'Responses sent, by rcode.',
    m.responsesByRcode.flatMap((n, rc) => (n === 0 ? [] : [`cygnet_dns_responses_total{rcode="${rcodeNames[rc] ?? `RCODE${rc}`}"} ${n}`])));
  metric('cygnet_dns_dropped_total', 'counter', 'Packets dropped without an answer (malformed or not a query).', [`cygnet_dns_dropped_total ${m.dropped}`]);
  metric('cygnet_dns_authoritative_total', 'counter', 'Queries answered from the cluster zone.', [`cygnet_dns_authoritative_total ${m.authoritative}`]);
  metric('cygnet_dns_forwarded_total', 'counter', 'Queries for names outside the zone from allowed clients.', [`cygnet_dns_forwarded_total ${m.forwarded}`]);
  metric('cygnet_dns_refused_total', 'counter', 'Recursive queries refused (client not in the allow-list).', [`cygnet_dns_refused_total ${m.refused}`]);
  metric('cygnet_dns_cache_hits_total', 'counter', 'Forwarded queries answered from the cache.', [`cygnet_dns_cache_hits_total ${m.cacheHits}`]);
  metric('cygnet_dns_cache_misses_total', 'counter', 'Forwarded queries that went upstream.', [`cygnet_dns_cache_misses_total ${m.cacheMisses}`]);
  metric('cygnet_dns_cache_entries', 'gauge', 'Responses in the forwarding cache.', [`cygnet_dns_cache_entries ${extra.cacheEntries}`]);
  metric('cygnet_dns_upstream_failures_total', 'counter', 'Upstream attempts that timed out or failed.', [`cygnet_dns_upstream_failures_total ${m.upstreamFailures}`]);
  const buckets = upstreamLatencyBucketsSec.map((le, i) => `cygnet_dns_upstream_latency_seconds_bucket{le="${le}"} ${m.upstreamBuckets[i] ?? 0}`);
  metric('cygnet_dns_upstream_latency_seconds', 'histogram', 'Time from sending a query upstream to its answer.', [
    ...buckets,
    `cygnet_dns_upstream_latency_seconds_bucket{le="+Inf"} ${m.upstreamCount}`,
    `cygnet_dns_upstream_latency_seconds_sum ${m.upstreamSumSec}`,
    `cygnet_dns_upstream_latency_seconds_count ${m.upstreamCount}`,
  ]);
  metric('cygnet_dns_zone_names', 'gauge', 'Names in the cluster zone.', [`cygnet_dns_zone_names ${extra.zoneNames}`]);
  metric('cygnet_dns_zone_rebuilds_total', 'counter', 'Times the zone was rebuilt from the registry.', [`cygnet_dns_zone_rebuilds_total ${m.zoneRebuilds}`]);
  metric('cygnet_dns_zone_build_seconds', 'gauge', 'Duration of the last zone rebuild.', [`cygnet_dns_zone_build_seconds ${m.lastZoneBuildMs / 1000}`]);
  metric('cygnet_dns_watch_revision', 'gauge', 'Registry revision the zone was built from.', [`cygnet_dns_watch_revision ${watch.revision}`]);
  metric('cygnet_dns_watch_connected', 'gauge', '1 while the registry watch stream is open.', [`cygnet_dns_watch_connected ${watch.connected ? 1 : 0}`]);
  metric('cygnet_dns_watch_lag_seconds', 'gauge', 'Seconds since the last record from the registry watch (-1 before the first).',
    [`cygnet_dns_watch_lag_seconds ${watch.lagSec ?? -1}`]);
  return `${lines.join('\n')}\n`;
}
