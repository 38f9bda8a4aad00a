/**
 * The master's express 5 app: the Scheduler API, the agent API, the
 * read-only Operator API (POST /api/v1) and the read-only operator endpoints (/state, /frameworks, /slaves, /tasks, /health,
 * /metrics, /flags, /roles, /redirect; each also under /master as Mesos serves them),
 * and Mesos' root-level /metrics/snapshot and /version.
 * Bodies are read raw (the codec decodes them), bounded by MAX_BODY_BYTES
 * (413 beyond). Unknown paths answer 404 JSON. No state here: everything is
 * delegated to the MasterNode.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../common/log.ts';
import { MAX_BODY_BYTES } from '../protocol/codec.ts';
import { agentApiHandler } from './agent-api.ts';
import { sendError } from './http-errors.ts';
import type { MasterNode } from './master-node.ts';
import { renderMetrics, type MetricsSources } from './metrics.ts';
import { renderMetricsSnapshot } from './metrics-snapshot.ts';
import { versionJson } from '../common/version.ts';
import { masterFlags, operatorApiHandler } from './operator-api.ts';
import { getRoles } from './operator-state.ts';
import { OperatorEventFanout } from './operator-events.ts';
import { schedulerApiHandler } from './scheduler-api.ts';
import { frameworksView, renderState, resourceMap, slavesView, stateSummaryView, tasksView } from './state-json.ts';

export function createMasterApp(node: MasterNode, log: Logger, roleWeights: Readonly<Record<string, number>> = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const raw = express.raw({ type: () => true, limit: MAX_BODY_BYTES });
  const operatorEvents = new OperatorEventFanout(node, log.child({ part: 'operator-events' }));
  node.core.setOperatorObserver(operatorEvents);
  const metricsSources = (): MetricsSources => ({ core: node.core, allocationCycle: node.allocationCycle, openStreams: node.openStreams });
  const metricsText = (): string => renderMetrics(metricsSources());
  const flagMap = (): Record<string, string> => Object.fromEntries(masterFlags(node, roleWeights).map((f) => [f.name, f.value]));
  const state = (): ReturnType<typeof renderState> => renderState(node.core, node.clock.nowMs(), flagMap());

  for (const prefix of ['', '/master']) {
    app.all(`${prefix}/api/v1/scheduler`, raw, schedulerApiHandler(node, log));
    app.all(`${prefix}/api/v1/agent`, raw, agentApiHandler(node, log));
    app.all(`${prefix}/api/v1`, raw, operatorApiHandler(node, log, () => renderMetricsSnapshot(metricsSources(), node.clock.nowMs()), roleWeights, operatorEvents));
    app.get(`${prefix}/state`, (_req, res) => {
      res.json(state());
    });
    app.get(`${prefix}/state.json`, (_req, res) => {
      res.json(state());
    });
    app.get(`${prefix}/state-summary`, (_req, res) => {
      res.json(stateSummaryView(state()));
    });
    for (const [path, view] of [['frameworks', frameworksView], ['slaves', slavesView], ['tasks', tasksView]] as const) {
      app.get(`${prefix}/${path}`, (req, res) => {
        res.json(view(state(), req.query));
      });
    }
    app.get(`${prefix}/health`, (_req, res) => {
      res.status(200).type('text/plain').send('ok\n');
    });
    app.get(`${prefix}/metrics`, (_req, res) => {
      res.type('text/plain; version=0.0.4').send(metricsText());
    });
    // Mesos' v0 JSON forms of the Operator API's GET_FLAGS and GET_ROLES.
    app.get(`${prefix}/flags`, (_req, res) => {
      res.json({ flags: flagMap() });
    });
    app.get(`${prefix}/roles`, (_req, res) => {
      const roles = getRoles(node.core, roleWeights) ?? [];
      res.json({ roles: roles.map((r) => ({ name: r.name, weight: r.weight ?? 1, frameworks: (r.frameworks ?? []).map((f) => f.value), resources: resourceMap(r.resources ?? []) })) });
    });
  }
  // Mesos' own metrics endpoint (libprocess serves it at the root only), for its monitoring integrations.
  app.get('/metrics/snapshot', (_req, res) => {
    res.json(renderMetricsSnapshot(metricsSources(), node.clock.nowMs()));
  });
  app.get('/version', (_req, res) => {
    res.json(versionJson());
  });
  // A single master is always the leader: redirect to ourselves (Mesos answers 307 with Location).
  app.get(['/master/redirect', '/redirect'], (req, res) => {
    const info = node.core.ctx.config.masterInfo;
    res.redirect(307, `//${info.address?.hostname ?? info.hostname ?? req.hostname}:${info.port}`);
  });
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `No such endpoint: ${req.method} ${req.path}`, code: 'CYG_NOT_FOUND' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, err, log);
  });
  return app;
}
