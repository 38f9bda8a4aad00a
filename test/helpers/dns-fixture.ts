/**
 * The DNS server over a real registry watch with a fixed zone, shared by the
 * Node-client tests (npm test) and the dig tests (test:compat): `/shop/web`
 * with two instances (10.0.0.1:31000, 10.0.0.2:31001), `/big` with 60
 * addresses (past 512 bytes), the leader and the master; TTL 7 s.
 */
import { parseDnsFlags } from '../../src/dns/flags.ts';
import { startDns, type RunningDns } from '../../src/dns/main.ts';
import { startReplica, waitFor, type Replica } from './registry-harness.ts';
import { app, endpoint } from './registry-fixtures.ts';

export interface DnsFixture {
  readonly replica: Replica;
  readonly dns: RunningDns;
  close(): Promise<void>;
}

export async function startDnsFixture(): Promise<DnsFixture> {
  const replica = await startReplica({ heartbeatIntervalMs: 200 });
  const p = replica.publisher;
  p.publish({ type: 'APP_UPDATED', app: app('/shop/web') });
  p.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', 'web.1', { index: 0, ip: '10.0.0.1', ports: [31000] }) });
  p.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', 'web.2', { index: 1, ip: '10.0.0.2', ports: [31001] }) });
  p.publish({ type: 'APP_UPDATED', app: app('/big', { ports: [] }) });
  for (let i = 0; i < 60; i++) p.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/big', `big.${i}`, { index: i, ip: `10.1.0.${i + 1}`, ports: [] }) });
  p.publishCluster({ leader: '127.0.0.1:8080', master: '127.0.0.1:5050' });
  const flags = parseDnsFlags(['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--registry', replica.url, '--upstream', '', '--ttl', '7'], () => '');
  const dns = await startDns(flags, { heartbeatIntervalMs: 200, backoff: { minMs: 20, maxMs: 200 } });
  await waitFor(() => dns.server.revision === replica.publisher.revision, 'the zone to catch up with the registry');
  return {
    replica,
    dns,
    async close() {
      await dns.close();
      await replica.stop();
    },
  };
}
