/**
 * The agent's HTTP API (express 5), read-only over the agent's view:
 *   GET /health                         200 "ok" (also /slave(1)/health)
 *   GET /state                          JSON: id, hostname, port, resources, attributes, frameworks, tasks
 *                                       (also /state.json, /slave(1)/state, /slave(1)/state.json)
 *   GET /files/read?path=&offset=&length=  Mesos-style {data, offset}; path absolute or
 *                                       relative to <workDir>/sandboxes, confined there
 *                                       (symlinks resolved before the check): 400 on escape,
 *                                       404 when missing; offset absent or -1 → {data:"", offset:size}
 *   GET /metrics                        Prometheus text
 *   GET /metrics/snapshot               Mesos' flat JSON of slave/* and system/* figures
 *   GET /version                        {"version": …}
 * Errors are JSON {code, message} with the CygnetError's status. No writes here.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { open, realpath, stat } from 'node:fs/promises';
import { BadRequestError, CygnetError, NotFoundError, describeError } from '../common/errors.ts';
import { versionJson } from '../common/version.ts';
import { TASK_STATES } from '../protocol/task-states.ts';
import { renderAgentMetricsSnapshot } from './agent-metrics-snapshot.ts';
import { confinePath, sandboxesRoot } from './sandbox.ts';
import type { Attribute, FrameworkInfo, Resource, TaskInfo, TaskStatus } from './types.ts';

/** Largest slice /files/read returns in one answer (Mesos pages logs the same way). */
export const MAX_READ_LENGTH = 1024 * 1024;

export interface AgentViewTask {
  frameworkId: string;
  task: TaskInfo;
  sandbox: string;
  latest?: TaskStatus;
}

export interface AgentView {
  agentId(): string | undefined;
  readonly port: number;
  readonly hostname: string;
  readonly resources: Resource[];
  readonly attributes: Attribute[];
  readonly tasks: ReadonlyMap<string, AgentViewTask>;
  readonly frameworks: ReadonlyMap<string, FrameworkInfo>;
  readonly startedAtMs: number;
  pendingUpdates(): number;
  /** Checkpoint writes that failed (each is retried; nothing is reported until one succeeds). */
  checkpointFailures(): number;
  connected(): boolean;
}

export function createAgentApp(view: AgentView, workDir: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Mesos serves an agent's endpoints under its process id, `/slave(1)/state` (the `url` of its offers), and at the root.
  app.get(['/health', '/slave\\(1\\)/health'], (_req, res) => { res.type('text/plain').send('ok'); });
  app.get(['/state', '/state.json', '/slave\\(1\\)/state', '/slave\\(1\\)/state.json'], (_req, res) => { res.json(stateJson(view)); });
  app.get('/metrics', (_req, res) => { res.type('text/plain; version=0.0.4').send(metricsText(view)); });
  app.get('/metrics/snapshot', (_req, res) => { res.json(renderAgentMetricsSnapshot(view, Date.now())); });
  app.get('/version', (_req, res) => { res.json(versionJson()); });
  app.get('/files/read', async (req, res) => {
    res.json(await readSlice(sandboxesRoot(workDir), req.query));
  });
  app.use((_req: Request, res: Response) => { res.status(404).json({ code: 'CYG_NOT_FOUND', message: 'no such endpoint' }); });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof CygnetError) res.status(err.httpStatus).json({ code: err.code, message: err.message });
    else res.status(500).json({ code: 'CYG_INTERNAL', message: describeError(err) });
  });
  return app;
}

export function stateJson(view: AgentView): object {
  const tasks = [...view.tasks.values()].map((t) => ({
    id: t.task.task_id.value,
    name: t.task.name,
    framework_id: t.frameworkId,
    state: t.latest?.state ?? 'TASK_STAGING',
    healthy: t.latest?.healthy,
    resources: t.task.resources ?? [],
    sandbox: t.sandbox,
  }));
  const frameworks = [...view.frameworks.entries()].map(([id, fw]) => ({
    id,
    name: fw.name,
    tasks: tasks.filter((t) => t.framework_id === id).map((t) => t.id),
  }));
  return {
    id: view.agentId() ?? null,
    hostname: view.hostname,
    port: view.port,
    start_time: view.startedAtMs / 1000,
    registered: view.connected(),
    resources: view.resources,
    attributes: view.attributes,
    frameworks,
    tasks,
    pending_status_updates: view.pendingUpdates(),
  };
}

export function metricsText(view: AgentView): string {
  const counts = new Map<string, number>(TASK_STATES.map((s) => [s, 0]));
  for (const t of view.tasks.values()) {
    const s = t.latest?.state ?? 'TASK_STAGING';
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const lines = [
    '# HELP cygnet_agent_tasks Tasks on this agent by latest state.',
    '# TYPE cygnet_agent_tasks gauge',
    ...[...counts].map(([s, n]) => `cygnet_agent_tasks{state="${s}"} ${n}`),
    '# HELP cygnet_agent_pending_status_updates Status updates not yet acknowledged.',
    '# TYPE cygnet_agent_pending_status_updates gauge',
    `cygnet_agent_pending_status_updates ${view.pendingUpdates()}`,
    '# HELP cygnet_agent_registered 1 when subscribed to the master.',
    '# TYPE cygnet_agent_registered gauge',
    `cygnet_agent_registered ${view.connected() ? 1 : 0}`,
    '# HELP cygnet_agent_checkpoint_failures_total Checkpoint writes that failed (retried; statuses wait until durable).',
    '# TYPE cygnet_agent_checkpoint_failures_total counter',
    `cygnet_agent_checkpoint_failures_total ${view.checkpointFailures()}`,
  ];
  return `${lines.join('\n')}\n`;
}

function intParam(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) throw new BadRequestError(`${name}: expected an integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

async function readSlice(root: string, query: Request['query']): Promise<{ data: string; offset: number }> {
  if (typeof query.path !== 'string' || query.path === '') throw new BadRequestError("path: expected a file path, got nothing");
  const requested = confinePath(root, query.path);
  let real: string;
  try {
    real = await realpath(requested);
  } catch {
    throw new NotFoundError(`No such file: ${query.path}`);
  }
  confinePath(await realpath(root).catch(() => root), real);
  const st = await stat(real);
  if (!st.isFile()) throw new BadRequestError(`path: ${query.path} is not a file`);
  const offset = intParam('offset', query.offset, -1);
  if (offset < 0) return { data: '', offset: st.size };
  const length = Math.min(intParam('length', query.length, MAX_READ_LENGTH), MAX_READ_LENGTH);
  if (length < 0) throw new BadRequestError('length: expected a non-negative integer');
  const fh = await open(real, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, Math.min(length, st.size - offset)));
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return { data: buf.subarray(0, bytesRead).toString('utf8'), offset };
  } finally {
    await fh.close();
  }
}
