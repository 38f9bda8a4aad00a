/**
 * Writes that reach a follower are proxied to the leader, as Marathon's
 * non-leaders do, so clients that never follow redirects (most Marathon
 * clients on POST) work against any replica. Reads stay local (they wait for
 * a linearizable barrier instead). A forwarded request carries
 * `X-Cygnet-Forwarded-By`; a replica never forwards such a request again, so
 * two replicas that disagree about the leader cannot bounce it between them.
 * No leader known: 503 with Retry-After.
 */
import type { NextFunction, Request, Response } from 'express';
import { request, type Dispatcher } from 'undici';
import { describeError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { FrameworkNode } from '../framework-node.ts';

/** A forwarded write that takes longer than this is answered 504 (its outcome is unknown). */
export const forwardTimeoutMs = 30_000;

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

export function forwardWritesToLeader(node: FrameworkNode, log: Logger) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const s = node.raftNode.status();
    if (s.role === 'leader' || req.get('x-cygnet-forwarded-by') !== undefined) return next();
    const leader = s.leaderMeta;
    if (leader === undefined || s.leader === 0) {
      res.status(503).setHeader('Retry-After', '1').json({ message: 'No leader is known right now; try again shortly' });
      return;
    }
    const headers: Record<string, string> = { 'x-cygnet-forwarded-by': String(node.raftNode.id) };
    for (const [k, v] of Object.entries(req.headers)) if (!hopByHop.has(k) && typeof v === 'string') headers[k] = v;
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await request(`http://${leader}${req.originalUrl}`, {
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: req,
        headersTimeout: forwardTimeoutMs,
        bodyTimeout: forwardTimeoutMs,
      });
    } catch (err) {
      log.warn({ err: describeError(err), leader }, 'forwarding a write to the leader failed');
      if (!res.headersSent) res.status(503).setHeader('Retry-After', '1').json({ message: `The leader at ${leader} could not be reached: ${describeError(err)}` });
      return;
    }
    res.status(upstream.statusCode);
    for (const [k, v] of Object.entries(upstream.headers)) if (!hopByHop.has(k) && v !== undefined) res.setHeader(k, v);
    res.setHeader('X-Cygnet-Forwarded-To', leader);
    try {
      for await (const chunk of upstream.body) res.write(chunk);
    } catch (err) {
      log.warn({ err: describeError(err) }, 'the leader broke off a forwarded answer');
    }
    res.end();
  };
}
