/**
 * Writes that reach a follower are proxied to the leader, as Marathon's
 * non-leaders do, so clients that never follow redirects (most Marathon
 * clients on POST) work against any replica. Reads stay local (they wait for
 * a linearizable barrier instead). A forwarded request carries
 * `X-Cygnet-Forwarded-By`; a replica never forwards such a request again, so
 * two replicas that disagree about the leader cannot bounce it between them.
 * While there is no reachable leader (an election in progress) a write waits
 * up to `leaderWaitMs` and is sent to the new leader, or served here if this
 * replica won; only a connect that reached nobody is tried again, so a write
 * is never applied twice. Still no leader: 503 with Retry-After (not applied).
 *
 * A leader cut off by the network does not refuse connections, it goes
 * silent: a write forwarded to it would hang until the network heals. So a
 * forward in flight is abandoned once this replica has seen another leader
 * (or none) for `deposedGraceMs`, and answered 504: the old leader may have
 * logged it, and a new leader may still commit that entry, so its outcome is
 * unknown.
 */
import type { NextFunction, Request, Response } from 'express';
import { Agent, request, type Dispatcher } from 'undici';
import { describeError } from '../../common/errors.ts';
import { DEFAULT_PROPOSAL_TIMEOUT_MS } from '../../raft/node.ts';
import type { Logger } from '../../common/log.ts';
import type { FrameworkNode } from '../framework-node.ts';

/**
 * A forwarded write that takes longer than this is answered 504 (its outcome is unknown): the
 * leader answers within its proposal timeout (a read barrier, then a proposal, at most).
 */
export const forwardTimeoutMs = 2 * DEFAULT_PROPOSAL_TIMEOUT_MS;
/** Replicas are on one network: a connect that takes longer reached nobody (a silent host), and is tried again. */
const connectTimeoutMs = 1_000;
const toLeader = new Agent({ connect: { timeout: connectTimeoutMs } });

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

/** While no leader is reachable, a write waits this long for one (an election takes 0.35-0.7 s) before 503. */
export const leaderWaitMs = 3_000;
/**
 * A deposed leader that is still reachable (a leadership transfer, an election it lost) learns
 * its entry's fate from the new leader's first heartbeats and answers within this; one that is
 * cut off never does.
 */
const deposedGraceMs = 1_000;
/** How often a waiting write looks at the Raft status again. */
const leaderPollMs = 25;
/** Writes are buffered before forwarding so a refused connect can be tried again: Marathon's own body limit. */
const maxForwardBodyBytes = 1024 * 1024;

/** Errors that mean nothing reached the leader, so sending again cannot apply the write twice. */
function nothingSent(err: unknown): boolean {
  const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'EHOSTUNREACH';
}

async function readBody(req: Request): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > maxForwardBodyBytes) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function forwardWritesToLeader(node: FrameworkNode, log: Logger) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    if (node.raftNode.status().role === 'leader' || req.get('x-cygnet-forwarded-by') !== undefined) return next();
    const body = await readBody(req);
    if (body === undefined) {
      res.status(413).json({ message: 'Request body too large' });
      return;
    }
    const headers: Record<string, string> = { 'x-cygnet-forwarded-by': String(node.raftNode.id) };
    for (const [k, v] of Object.entries(req.headers)) if (!hopByHop.has(k) && typeof v === 'string') headers[k] = v;
    const deadline = Date.now() + leaderWaitMs;
    let lastError = 'no leader is known';
    for (;;) {
      const s = node.raftNode.status();
      if (s.role === 'leader') {
        // We became the leader while waiting: serve it here, from the buffered body.
        req.body = body.toString('utf8');
        return next();
      }
      const leader = s.leader !== 0 ? s.leaderMeta : undefined;
      if (leader !== undefined) {
        const deposed = new AbortController();
        let replacedAt: number | undefined;
        const watch = setInterval(() => {
          if (node.raftNode.status().leader === s.leader) return;
          replacedAt ??= Date.now();
          if (Date.now() - replacedAt >= deposedGraceMs) deposed.abort();
        }, leaderPollMs);
        try {
          const upstream = await request(`http://${leader}${req.originalUrl}`, {
            method: req.method as Dispatcher.HttpMethod, headers, body, headersTimeout: forwardTimeoutMs, bodyTimeout: forwardTimeoutMs,
            dispatcher: toLeader, signal: deposed.signal,
          });
          await relay(upstream, res, leader, log);
          return;
        } catch (err) {
          lastError = deposed.signal.aborted
            ? `replica ${s.leader} at ${leader} stopped being the leader before it answered`
            : `the leader at ${leader} could not be reached: ${describeError(err)}`;
          if (!nothingSent(err)) {
            log.warn({ err: lastError, leader }, 'a forwarded write failed after it was sent; its outcome is unknown');
            if (!res.headersSent) res.status(504).json({ message: `${lastError}; the write may or may not have been applied (outcome unknown)` });
            return;
          }
        } finally {
          clearInterval(watch);
        }
      }
      if (Date.now() > deadline) {
        res.status(503).setHeader('Retry-After', '1').json({ message: `No leader could take the write within ${leaderWaitMs} ms (${lastError}); try again shortly` });
        return;
      }
      await new Promise((r) => setTimeout(r, leaderPollMs));
    }
  };
}

async function relay(upstream: Dispatcher.ResponseData, res: Response, leader: string, log: Logger): Promise<void> {
  res.status(upstream.statusCode);
  for (const [k, v] of Object.entries(upstream.headers)) if (!hopByHop.has(k) && v !== undefined) res.setHeader(k, v);
  res.setHeader('X-Cygnet-Forwarded-To', leader);
  try {
    for await (const chunk of upstream.body) res.write(chunk);
  } catch (err) {
    log.warn({ err: describeError(err) }, 'the leader broke off a forwarded answer');
  }
  res.end();
}
