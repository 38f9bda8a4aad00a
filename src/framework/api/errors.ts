/**
 * The one place where the framework's failures become HTTP answers, in
 * Marathon's shapes: `{"message": …}` everywhere, `details` with field paths
 * on 422, `deployments` on a 409 caused by a deployment. Anything unexpected
 * is a logged 500 and never takes the daemon down.
 */
import type { Response } from 'express';
import { CygnetError, ValidationError, describeError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { DeploymentConflictError } from '../app-service.ts';

interface WithBody { readonly body: unknown; readonly httpStatus: number }

function hasBody(err: unknown): err is WithBody {
  return err instanceof CygnetError && 'body' in err && typeof (err as { body?: unknown }).body === 'object';
}

export function apiErrorAnswer(err: unknown): { status: number; body: Record<string, unknown> } {
  if (hasBody(err)) return { status: err.httpStatus, body: err.body as Record<string, unknown> };
  if (err instanceof DeploymentConflictError) {
    return { status: 409, body: { message: err.message, deployments: err.deploymentIds.map((id) => ({ id })) } };
  }
  if (err instanceof ValidationError) {
    const path = `/${err.path.replace(/\./g, '/').replace(/\[(\d+)\]/g, '($1)')}`;
    return { status: 422, body: { message: 'Object is not valid', details: [{ path, errors: [err.message] }] } };
  }
  if (err instanceof CygnetError) {
    const status = err.code === 'CYG_VALIDATION' ? 422 : err.httpStatus;
    return { status, body: { message: err.message } };
  }
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
    return { status: err.status, body: { message: err.status === 413 ? 'Request body too large' : describeError(err) } };
  }
  return { status: 500, body: { message: 'Internal server error' } };
}

export function sendApiError(res: Response, err: unknown, log: Logger): void {
  const { status, body } = apiErrorAnswer(err);
  // 503 (no leader elected yet, shutting down) and 504 (a read or write that could not be confirmed
  // in time: a leader change, a partition) are expected states of a replicated service, not faults:
  // one line, no stack.
  if (status === 503) log.warn({ err: describeError(err) }, 'request refused: unavailable');
  else if (status === 504) log.warn({ err: describeError(err) }, 'request timed out: outcome unknown');
  else if (status >= 500) log.error({ err: describeError(err), stack: err instanceof Error ? err.stack : undefined }, 'request failed');
  if (res.headersSent) {
    res.end();
    return;
  }
  if (status === 503) res.setHeader('Retry-After', '1');
  res.status(status).json(body);
}
