/**
 * The hot paths of examples/kv: `PUT /kv/:key` with a Content-Length body and
 * the linearizable `GET /kv/:key`, on the leader with a plain key, served on
 * node:http directly — no express router, no body-parser — which was about a
 * quarter of the leader's CPU per write under load.
 *
 * Invariants: answers exactly as the express app would (PUT: 200
 * `{"ok":true}` only after commit + apply; GET: the value after a ReadIndex
 * barrier, or 404; errors through `errorAnswer`). Everything else — other
 * methods or paths, a follower (redirects), a chunked or oversized body, a
 * key that needs percent-decoding or is over MAX_KEY_BYTES — goes to the
 * express app untouched, which owns the full API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RaftNode } from '../../src/raft/node.ts';
import { errorAnswer, MAX_KEY_BYTES, MAX_VALUE_BYTES } from './server.ts';
import { encodeCommand, type KvResult, type KvStateMachine } from './state-machine.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Keys served on the fast path: URL-safe characters that express would not decode differently. */
const PLAIN_KEY = /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/;
const PREFIX = '/kv/';
const OK_BODY = Buffer.from('{"ok":true}');

const JSON_TYPE = 'application/json; charset=utf-8';
/** The write's answer headers as a raw array: writeHead with an object walks and copies it per request. */
const OK_HEADERS = ['content-type', JSON_TYPE, 'content-length', String(OK_BODY.length)];

export function withFastPaths(node: RaftNode<KvResult>, sm: KvStateMachine, app: Handler): Handler {
  const fail = (res: ServerResponse, url: string, err: unknown): void => {
    if (res.headersSent) return;
    const a = errorAnswer(node, url, err);
    const body = Buffer.from(JSON.stringify(a.body));
    res.writeHead(a.status, {
      'content-type': JSON_TYPE,
      'content-length': body.length,
      ...(a.location !== undefined ? { location: a.location } : {}),
      ...(a.retryAfter !== undefined ? { 'retry-after': String(a.retryAfter) } : {}),
    });
    res.end(body);
  };
  return (req, res) => {
    const url = req.url ?? '';
    if ((req.method !== 'PUT' && req.method !== 'GET') || !url.startsWith(PREFIX)) return app(req, res);
    const key = url.slice(PREFIX.length);
    if (key.length > MAX_KEY_BYTES || !PLAIN_KEY.test(key)) return app(req, res);
    if (req.method === 'GET') {
      if (!node.isLeader) return app(req, res);
      node.read().then(
        () => {
          const v = sm.get(key);
          if (v === undefined) {
            const body = Buffer.from(JSON.stringify({ code: 'CYG_NOT_FOUND', message: `no key ${JSON.stringify(key)}` }));
            res.writeHead(404, { 'content-type': JSON_TYPE, 'content-length': body.length }).end(body);
            return;
          }
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': v.length }).end(v);
        },
        (err: unknown) => fail(res, url, err),
      );
      return;
    }
    const len = Number(req.headers['content-length']);
    if (req.headers['transfer-encoding'] !== undefined || !Number.isInteger(len) || len < 0 || len > MAX_VALUE_BYTES) return app(req, res);
    if (!node.isLeader) return app(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const value = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      node.propose(encodeCommand({ op: 'put', key, value })).then(
        () => {
          res.writeHead(200, OK_HEADERS).end(OK_BODY);
        },
        (err: unknown) => fail(res, url, err),
      );
    });
  };
}
