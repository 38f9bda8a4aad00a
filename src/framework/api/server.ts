/**
 * The framework replica's express 5 app: Marathon's `/v2` API, `/ping`,
 * `/metrics`, the event stream, the registry watch, cygnet's extensions and
 * the OpenAPI document. Reads wait for a linearizable barrier unless the
 * client asks for a stale read (`Cygnet-Stale-Ok: true`; the answer then
 * carries `Cygnet-Stale: true`). Writes that reach a follower are proxied to
 * the leader (forward-to-leader.ts), as Marathon's non-leaders do.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../common/log.ts';
import { NotLeaderError } from '../../raft/errors.ts';
import type { FrameworkNode } from '../framework-node.ts';
import { appRoutes, type ApiContext } from './app-routes.ts';
import { clusterRoutes } from './cluster-routes.ts';
import { sendApiError } from './errors.ts';
import { forwardWritesToLeader } from './forward-to-leader.ts';
import { groupRoutes } from './group-routes.ts';
import { infoRoutes } from './info-routes.ts';
import { membershipRoutes } from './membership-routes.ts';
import { allowedMethods, openApiDocument } from './openapi.ts';

export function createFrameworkApp(node: FrameworkNode, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const ctx: ApiContext = {
    state: node.state,
    apps: node.apps,
    beforeRead: async (req: Request) => {
      if (req.get('cygnet-stale-ok') === 'true') {
        req.res?.setHeader('Cygnet-Stale', 'true');
        return;
      }
      await node.readBarrier();
    },
  };
  app.use(forwardWritesToLeader(node, log));
  app.get('/v2/events', (req, res) => node.events.attach(req, res));
  app.use(node.watch.router);
  app.use(appRoutes(ctx));
  app.use(groupRoutes(ctx));
  app.use(clusterRoutes(ctx, () => (node.isActingLeader ? node.scheduler : undefined)));
  app.use(infoRoutes(node));
  app.use(membershipRoutes(node));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.use((req: Request, res: Response) => {
    const allowed = allowedMethods(req.path);
    if (allowed.length > 0) {
      res.status(405).setHeader('Allow', allowed.join(', ')).json({ message: `Method ${req.method} not allowed on ${req.path}; allowed: ${allowed.join(', ')}` });
      return;
    }
    res.status(404).json({ message: `No such endpoint: ${req.method} ${req.path}` });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof NotLeaderError && err.leaderMeta !== undefined && !res.headersSent) {
      res.redirect(307, `http://${err.leaderMeta}${req.originalUrl}`);
      return;
    }
    sendApiError(res, err, log);
  });
  return app;
}
