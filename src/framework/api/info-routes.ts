/**
 * Marathon's cluster information paths: `/v2/info`, `/v2/leader` (GET names
 * the leader, DELETE makes it step down), `/ping`, `/metrics` (Marathon's
 * Dropwizard JSON, or Prometheus text for a client that prefers it) and
 * `/metrics/prometheus` (always text).
 * `/v2/info` says it is Marathon 1.10's API (clients pick their dialect from
 * it) and names cygnet in `buildref`.
 */
import express, { type Router } from 'express';
import type { FrameworkNode } from '../framework-node.ts';

/** The Marathon API version cygnet's `/v2` follows. */
export const marathonApiVersion = '1.10.17';

export function infoRoutes(node: FrameworkNode): Router {
  const r = express.Router();
  // Marathon's SystemResource.ping: text/plain first (for */* and text/*), text/html, then JSON ("pong" as a JSON string); 204 when none suits.
  r.get('/ping', (req, res) => {
    const type = req.accepts(['text/plain', 'text/html', 'application/json']);
    if (type === false) res.status(204).end();
    else if (type === 'application/json') res.json('pong');
    else res.type(type).send('pong');
  });
  r.get('/v2/info', (_req, res) => {
    const status = node.raftNode.status();
    const leaderApi = leaderApiOf(node);
    res.json({
      name: 'marathon',
      version: marathonApiVersion,
      buildref: 'cygnet-0.1.0',
      elected: status.role === 'leader',
      leader: leaderApi ?? null,
      frameworkId: node.state.frameworkId ?? null,
      marathon_config: {
        master: node.state.clusterInfo.master ?? null,
        failover_timeout: 604800,
        framework_name: 'cygnet',
        ha: status.conf.voters.length > 1,
        checkpoint: true,
        local_port_min: 10000,
        local_port_max: 20000,
        executor: '//cmd',
        hostname: node.apiAddress.split(':')[0],
        webui_url: null,
        mesos_role: null,
        task_launch_timeout: 300000,
        reconciliation_initial_delay: 15000,
        reconciliation_interval: 600000,
        mesos_user: 'root',
        features: [],
      },
      zookeeper_config: {},
      event_subscriber: null,
      http_config: { http_port: Number(node.apiAddress.split(':')[1]), https_port: 8443 },
    });
  });
  r.get('/v2/leader', (_req, res) => {
    const leader = leaderApiOf(node);
    if (leader === undefined) {
      res.status(404).json({ message: 'There is no leader' });
      return;
    }
    res.json({ leader });
  });
  r.delete('/v2/leader', (_req, res) => {
    const raft = node.raftNode;
    const s = raft.status();
    if (s.role !== 'leader') {
      res.status(404).json({ message: 'There is no leader' });
      return;
    }
    const to = s.conf.voters.find((v) => v !== s.id);
    // Marathon answers 200 and holds an election: alone, the leader wins it again, and so it stays here.
    if (to !== undefined) raft.transferLeadership(to);
    res.json({ message: 'Leadership abdicated' });
  });
  // Marathon answers /metrics in JSON (also to `*/*` or no Accept) and Prometheus text at /metrics/prometheus;
  // a scraper asking for text/plain first (as Prometheus does) gets text at /metrics too.
  const metrics = (jsonUnlessTextPreferred: boolean) => (req: express.Request, res: express.Response): void => {
    const s = node.raftNode.status();
    let instances = 0;
    const byPhase = new Map<string, number>();
    for (const i of node.state.allInstances()) {
      instances++;
      byPhase.set(i.phase, (byPhase.get(i.phase) ?? 0) + 1);
    }
    // One list of gauges, printed as Marathon's Dropwizard JSON (what its clients ask for) or Prometheus text.
    const gauges: { prom: string; json: string; help: string; value: number }[] = [
      { prom: 'cygnet_framework_apps', json: 'cygnet.framework.apps', help: 'Apps defined.', value: [...node.state.apps()].length },
      { prom: 'cygnet_framework_deployments', json: 'cygnet.framework.deployments', help: 'Deployments in progress.', value: [...node.state.deployments()].length },
      { prom: 'cygnet_framework_leader', json: 'cygnet.framework.leader', help: '1 when this replica is the acting leader.', value: node.isActingLeader ? 1 : 0 },
      { prom: 'cygnet_framework_raft_applied_index', json: 'cygnet.framework.raft.applied-index', help: 'Raft index applied to the state.', value: s.applied },
      { prom: 'cygnet_framework_raft_term', json: 'cygnet.framework.raft.term', help: 'Current Raft term.', value: s.term },
      { prom: 'cygnet_registry_revision', json: 'cygnet.registry.revision', help: 'Registry watch revision.', value: node.publisher.revision },
      { prom: 'cygnet_registry_watchers', json: 'cygnet.registry.watchers', help: 'Open registry watch streams.', value: node.watch.watcherCount },
      { prom: 'cygnet_framework_event_subscribers', json: 'cygnet.framework.event-subscribers', help: 'Open /v2/events streams.', value: node.events.subscriberCount },
    ];
    const [apps, ...rest] = gauges;
    if (jsonUnlessTextPreferred && req.accepts(['application/json', 'text/plain', 'text/plain;version=0.0.4']) === 'application/json') {
      const entry = (g: { json: string; value: number }) => [g.json, { value: g.value }] as const;
      res.json({
        version: '4.0.0',
        gauges: Object.fromEntries([
          entry(apps!),
          ['cygnet.framework.instances', { value: instances }],
          ...[...byPhase].map(([p, n]) => [`cygnet.framework.instances.${p}`, { value: n }] as const),
          ...rest.map(entry),
        ]),
        counters: {},
        histograms: {},
        meters: {},
        timers: {},
      });
      return;
    }
    const block = (g: { prom: string; help: string; value: number }) => [`# HELP ${g.prom} ${g.help}`, `# TYPE ${g.prom} gauge`, `${g.prom} ${g.value}`];
    const lines = [
      ...block(apps!),
      '# HELP cygnet_framework_instances Instances by phase.',
      '# TYPE cygnet_framework_instances gauge',
      ...(instances === 0 ? ['cygnet_framework_instances{phase="running"} 0'] : [...byPhase].map(([p, n]) => `cygnet_framework_instances{phase="${p}"} ${n}`)),
      ...rest.flatMap(block),
      '',
    ];
    res.type('text/plain; version=0.0.4').send(lines.join('\n'));
  };
  r.get('/metrics', metrics(true));
  r.get('/metrics/prometheus', metrics(false));
  return r;
}

/** The leader's API address: ours when leading, else what the leader sends along with Raft traffic. */
export function leaderApiOf(node: FrameworkNode): string | undefined {
  const s = node.raftNode.status();
  if (s.role === 'leader') return node.apiAddress;
  return s.leaderMeta;
}
