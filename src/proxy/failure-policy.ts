/**
 * What to do when an attempt to a backend fails: the retry and eject
 * "interceptors" as pure decisions, so the forwarder, the WebSocket tunnel
 * and the TCP forwarder apply one policy and tests can pin it.
 *
 * A request is retried on another instance only when nothing was sent
 * upstream: the connect was refused or timed out. A request cut by its
 * backend before any response byte is answered 502, not replayed: it may
 * have been acted on. `retryIdempotent` (off by default; `--retry-idempotent`)
 * replays those too when the method is idempotent and the request has no
 * body (RFC 9110 §9.2.2, what nginx's proxy_next_upstream does), which also
 * hides the keep-alive race of a pooled socket the backend closed as it was
 * reused. A refused or timed-out connect also ejects the backend for a
 * while, doubling with each consecutive failure up to a ceiling.
 */
import type { UpstreamFailureKind } from './metrics.ts';

export interface FailurePolicy {
  /** Attempts per request, first included; bounds the work one request can cause. */
  readonly maxAttempts: number;
  /** First ejection after a failed connect. */
  readonly ejectBaseMs: number;
  /** Ceiling of the doubling ejection: an instance that comes back is retried at least this often. */
  readonly ejectMaxMs: number;
  /** Also replay idempotent bodiless requests cut before any response byte (default false). */
  readonly retryIdempotent?: boolean;
}

/** 3 attempts: two refused instances still leave a third chance, and a dead app costs each request at most 3 connects. */
export const defaultMaxAttempts = 3;
export const defaultEjectBaseMs = 2_000;
export const defaultEjectMaxMs = 30_000;

/** Where an attempt was when it failed. */
export type AttemptPhase = 'connect' | 'headers' | 'body';

/** Errors that mean the TCP connect itself failed: nothing reached the backend. */
const connectErrorCodes = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

export function classifyUpstreamError(code: string | undefined, phase: AttemptPhase): UpstreamFailureKind {
  if (phase === 'connect' && code !== undefined && connectErrorCodes.has(code)) return 'connect';
  return 'reset';
}

/** How long to eject a backend after its `failures`-th consecutive failed connect (1-based). */
export function computeEjectionMs(failures: number, policy: FailurePolicy): number {
  const doublings = Math.min(Math.max(0, failures - 1), 16);
  return Math.min(policy.ejectMaxMs, policy.ejectBaseMs * 2 ** doublings);
}

export function ejects(kind: UpstreamFailureKind): boolean {
  return kind === 'connect' || kind === 'connect_timeout';
}

const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export interface FailedAttempt {
  readonly kind: UpstreamFailureKind;
  readonly attempts: number;
  readonly method: string;
  /** The client request has no body (or it has not been read: nothing was consumed). */
  readonly bodyUntouched: boolean;
  /** The request was written and the connection cut before any response byte. */
  readonly cutBeforeResponse: boolean;
}

export function mayRetry(a: FailedAttempt, policy: FailurePolicy): boolean {
  if (a.attempts >= policy.maxAttempts || !a.bodyUntouched) return false;
  if (ejects(a.kind)) return true;
  return policy.retryIdempotent === true && a.kind === 'reset' && a.cutBeforeResponse && idempotentMethods.has(a.method);
}
