/**
 * The proxy's admin port (express): `/health` (liveness and whether the
 * registry watch is up), `/metrics` (Prometheus text) and `/routes` (the
 * routing table in use, as JSON: hosts, prefixes, backends with their
 * weights, in-flight counts and ejections, and the labels that could not be
 * honoured). Reads through an `AdminSource`, so the same server fronts one
 * process or a set of workers.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { renderPrometheus, type MetricsSample } from './metrics.ts';

export interface WorkerHealth {
  readonly pid: number;
  /** Registry revision of this worker's table. */
  readonly revision: number;
  /** Responses this worker sent since it started. */
  readonly responses: number;
  /** Client connections this worker holds now. */
  readonly connections: number;
}

export interface HealthInfo {
  readonly status: 'ok';
  /** Registry revision every worker routes with (the lowest of theirs; 0: no table yet). */
  readonly revision: number;
  readonly watchConnected: boolean;
  readonly routes: number;
  readonly workers: readonly WorkerHealth[];
}

export interface AdminSource {
  health(): Promise<HealthInfo>;
  metrics(): Promise<MetricsSample>;
  routes(): Promise<unknown>;
}

export function createAdminApp(source: AdminSource, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/health', async (_req, res) => {
    res.json(await source.health());
  });
  app.get('/metrics', async (_req, res) => {
    res.type('text/plain; version=0.0.4').send(renderPrometheus(await source.metrics()));
  });
  app.get(['/routes', '/v1/routes'], async (_req, res) => {
    res.json(await source.routes());
  });
  app.use((req: Request, res: Response) => {
    res.status(404).json({ code: 'CYG_NOT_FOUND', message: `No such endpoint: ${req.method} ${req.path} (try /health, /metrics, /routes)` });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    log.warn({ err: describeError(err) }, 'admin request failed');
    res.status(500).json({ code: 'CYG_INTERNAL', message: describeError(err) });
  });
  return app;
}

export async function startAdminServer(source: AdminSource, host: string, port: number, log: Logger): Promise<{ server: Server; port: number }> {
  const server = createServer(createAdminApp(source, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
