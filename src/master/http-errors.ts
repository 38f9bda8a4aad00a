/**
 * The one place where failures become HTTP answers: CygnetError → its
 * httpStatus with the message as a text/plain body (as Mesos answers its
 * APIs), body-parser failures (413 too large, 400 unreadable) mapped, and
 * anything else a 500 that is logged (and never takes the daemon down).
 */
import type { Response } from 'express';
import { CygnetError, describeError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';

export function errorStatus(err: unknown): number {
  if (err instanceof CygnetError) return err.httpStatus;
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' && err.status >= 400 && err.status < 500) return err.status;
  return 500;
}

export function sendError(res: Response, err: unknown, log: Logger, json = false): void {
  const status = errorStatus(err);
  if (status >= 500) log.error({ err }, 'request failed');
  if (res.headersSent) {
    res.end();
    return;
  }
  const message = status === 413 ? 'Request body too large' : describeError(err);
  const retryAfter = err instanceof CygnetError ? err.retryAfterSeconds : undefined;
  if (retryAfter !== undefined) res.set('retry-after', String(retryAfter));
  // RFC 9110: a 405 names the methods that are allowed (the v1 APIs take POST only).
  if (status === 405) res.set('allow', 'POST');
  if (json) {
    const code = err instanceof CygnetError ? err.code : status === 413 ? 'CYG_TOO_LARGE' : status >= 500 ? 'CYG_INTERNAL' : 'CYG_BAD_REQUEST';
    res.status(status).json({ error: message, code });
    return;
  }
  res.status(status).type('text/plain').send(message);
}
