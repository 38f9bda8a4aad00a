/**
 * Typed failures of the scheduler SDK. A call the master answered with a
 * non-2xx status becomes a `SchedulerCallError` carrying the HTTP status and
 * Mesos' own message (the response body), mapped onto cygnet's stable error
 * codes so callers can branch on `code` or `status`.
 */
import { CygnetError, type ErrorCode } from '../../common/errors.ts';

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 307: return 'CYG_NOT_LEADER';
    case 400: return 'CYG_BAD_REQUEST';
    case 403: return 'CYG_FORBIDDEN';
    case 404: return 'CYG_NOT_FOUND';
    case 406: return 'CYG_NOT_ACCEPTABLE';
    case 409: return 'CYG_CONFLICT';
    case 415: return 'CYG_UNSUPPORTED_MEDIA_TYPE';
    case 503: return 'CYG_NO_LEADER';
    case 504: return 'CYG_TIMEOUT';
    default: return 'CYG_INTERNAL';
  }
}

/** The master answered a call (or SUBSCRIBE) with an unexpected status. */
export class SchedulerCallError extends CygnetError {
  readonly status: number;
  readonly callType: string;
  readonly mesosMessage: string;
  constructor(callType: string, status: number, mesosMessage: string) {
    super(codeForStatus(status), `${callType} answered ${status}: ${mesosMessage.trim() || '(empty body)'}`);
    this.status = status;
    this.callType = callType;
    this.mesosMessage = mesosMessage;
  }
}

/** A call was made in a state where it cannot be sent (not subscribed, closed). */
export class SchedulerStateError extends CygnetError {
  constructor(message: string) {
    super('CYG_BAD_REQUEST', message);
  }
}

/** The master could not be reached at all (connection refused, reset, timeout). */
export class SchedulerConnectionError extends CygnetError {
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super('CYG_NO_LEADER', `cannot reach ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.url = url;
  }
}
