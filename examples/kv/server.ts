/**
 * The client HTTP API of examples/kv (express 5) over a RaftNode:
 *
 *   PUT  /kv/:key        body = raw value      → 200 once committed and applied
 *   GET  /kv/:key                              → 200 value | 404 (linearizable: ReadIndex)
 *   POST /kv/:key/cas    {"from":s,"to":s}     → 200 {"swapped":true} | 409 {"swapped":false}
 *   GET  /status                               → {id, role, term, leader, commit, applied}
 *
 * Only the leader serves /kv: a follower answers 307 with `Location` on the
 * leader's client address (learned from the leader's Raft traffic), or 503
 * when no leader is known. Limits: key ≤ 1 KiB, value ≤ 1 MiB (413).
 * Errors are JSON {code, message}; 504 means the outcome is unknown; 503
 * with `Retry-After` (CYG_OVERLOADED) means refused before proposing.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { CygnetError, describeError, ValidationError } from '../../src/common/errors.ts';
import { NotLeaderError, OverloadedError, ProposalDroppedError } from '../../src/raft/errors.ts';
import type { RaftNode } from '../../src/raft/node.ts';
import { encodeCommand, type KvResult, type KvStateMachine } from './state-machine.ts';

export const MAX_KEY_BYTES = 1024;
export const MAX_VALUE_BYTES = 1024 * 1024;

export function buildKvApp(node: RaftNode<KvResult>, sm: KvStateMachine): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // no body hash per answer: writes answer {"ok":true}, reads are not cacheable anyway

  app.get('/status', (_req, res) => {
    const s = node.status();
    res.json({ id: s.id, role: s.role, term: s.term, leader: s.leader, commit: s.commit, applied: s.applied });
  });

  const kv = express.Router();
  kv.use(checkKey, leaderOnly(node));
  kv.get('/:key', async (req, res) => {
    await node.read();
    const v = sm.get(keyOf(req));
    if (v === undefined) {
      res.status(404).json({ code: 'CYG_NOT_FOUND', message: `no key ${JSON.stringify(keyOf(req))}` });
      return;
    }
    res.status(200).type('application/octet-stream').send(v);
  });
  kv.put('/:key', express.raw({ type: () => true, limit: MAX_VALUE_BYTES }), async (req, res) => {
    const value = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    await node.propose(encodeCommand({ op: 'put', key: keyOf(req), value }));
    res.status(200).json({ ok: true });
  });
  kv.post('/:key/cas', express.json({ type: () => true, limit: 2 * MAX_VALUE_BYTES + 1024 }), async (req, res) => {
    const { from, to } = parseCas(req.body);
    const out = await node.propose(encodeCommand({ op: 'cas', key: keyOf(req), from: Buffer.from(from), to: Buffer.from(to) }));
    const swapped = out.result.op === 'cas' && out.result.swapped;
    res.status(swapped ? 200 : 409).json({ swapped });
  });
  app.use('/kv', kv);

  app.use((req, res) => {
    res.status(404).json({ code: 'CYG_NOT_FOUND', message: `no route ${req.method} ${req.path}` });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => sendError(node, req, res, err));
  return app;
}

function keyOf(req: Request): string {
  return String(req.params.key);
}

function checkKey(req: Request, res: Response, next: NextFunction): void {
  const m = /^\/([^/]+)/.exec(req.path);
  const key = m === null ? '' : safeDecode(m[1] as string);
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    res.status(413).json({ code: 'CYG_BAD_REQUEST', message: `key: expected at most ${MAX_KEY_BYTES} bytes, got ${Buffer.byteLength(key, 'utf8')}` });
    return;
  }
  next();
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function leaderOnly(node: RaftNode<KvResult>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const s = node.status();
    if (s.role === 'leader') return next();
    redirectToLeader(req, res, s.leader, s.leaderMeta);
  };
}

function redirectToLeader(req: Request, res: Response, leader: number, leaderHttp: string | undefined): void {
  sendAnswer(res, redirectAnswer(req.originalUrl, leader, leaderHttp));
}

/** An error answer, independent of express (the fast PUT path answers with it too). */
export interface KvErrorAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly location?: string;
  /** Seconds, for a `Retry-After` header. */
  readonly retryAfter?: number;
}

function redirectAnswer(url: string, leader: number, leaderHttp: string | undefined): KvErrorAnswer {
  if (leader === 0 || leaderHttp === undefined) return { status: 503, body: { code: 'CYG_NO_LEADER', message: 'no leader known; retry shortly' } };
  return { status: 307, location: `http://${leaderHttp}${url}`, body: { code: 'CYG_NOT_LEADER', leader, location: leaderHttp } };
}

function sendAnswer(res: Response, a: KvErrorAnswer): void {
  if (a.location !== undefined) res.location(a.location);
  if (a.retryAfter !== undefined) res.set('retry-after', String(a.retryAfter));
  res.status(a.status).json(a.body);
}

function parseCas(body: unknown): { from: string; to: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('', 'a JSON object {"from": string, "to": string}', Array.isArray(body) ? 'array' : typeof body);
  const o = body as Record<string, unknown>;
  if (typeof o.from !== 'string') throw new ValidationError('from', 'a string', o.from === undefined ? 'nothing' : typeof o.from);
  if (typeof o.to !== 'string') throw new ValidationError('to', 'a string', o.to === undefined ? 'nothing' : typeof o.to);
  if (Buffer.byteLength(o.to) > MAX_VALUE_BYTES) throw new PayloadTooLarge(`to: expected at most ${MAX_VALUE_BYTES} bytes`);
  return { from: o.from, to: o.to };
}

class PayloadTooLarge extends Error {}

function sendError(node: RaftNode<KvResult>, req: Request, res: Response, err: unknown): void {
  if (res.headersSent) return;
  sendAnswer(res, errorAnswer(node, req.originalUrl, err));
}

/** How a failed request is answered (status, JSON body, redirect location). */
export function errorAnswer(node: RaftNode<KvResult>, url: string, err: unknown): KvErrorAnswer {
  if (err instanceof NotLeaderError) return redirectAnswer(url, err.leader, err.leaderMeta);
  if (err instanceof PayloadTooLarge) return { status: 413, body: { code: 'CYG_BAD_REQUEST', message: err.message } };
  const e = err as { type?: string; status?: number };
  if (e.type === 'entity.too.large') return { status: 413, body: { code: 'CYG_BAD_REQUEST', message: `value: expected at most ${MAX_VALUE_BYTES} bytes` } };
  if (e.type === 'entity.parse.failed') return { status: 400, body: { code: 'CYG_BAD_REQUEST', message: `body: expected JSON {"from": string, "to": string}: ${describeError(err)}` } };
  // Definitely not applied: safe for the client to retry.
  if (err instanceof ProposalDroppedError) return { status: 503, body: { code: err.code, message: err.message, applied: false } };
  if (err instanceof OverloadedError) return { status: 503, retryAfter: err.retryAfterSeconds ?? 1, body: { code: err.code, message: err.message, applied: false } };
  if (err instanceof CygnetError) return { status: err.httpStatus === 307 ? 503 : err.httpStatus, body: { code: err.code, message: err.message } };
  return { status: 500, body: { code: 'CYG_INTERNAL', message: describeError(err), node: node.id } };
}
