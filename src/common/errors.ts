/**
 * Boundary failures: one base class with a stable `code`, mapped once to an
 * HTTP status (or DNS rcode) at the edge. Protocol outcomes inside pure cores
 * are values, not these exceptions.
 */

export type ErrorCode =
  | 'CYG_BAD_REQUEST'
  | 'CYG_VALIDATION'
  | 'CYG_UNSUPPORTED_MEDIA_TYPE'
  | 'CYG_NOT_ACCEPTABLE'
  | 'CYG_FORBIDDEN'
  | 'CYG_NOT_FOUND'
  | 'CYG_CONFLICT'
  | 'CYG_NOT_LEADER'
  | 'CYG_NO_LEADER'
  | 'CYG_LEADER_CHANGED'
  | 'CYG_TIMEOUT'
  | 'CYG_OVERLOADED'
  | 'CYG_SHUTTING_DOWN'
  | 'CYG_CORRUPT'
  | 'CYG_CONFIG'
  | 'CYG_FETCH'
  | 'CYG_NOT_IMPLEMENTED'
  | 'CYG_INTERNAL';

const httpStatusByCode: Record<ErrorCode, number> = {
  CYG_BAD_REQUEST: 400,
  CYG_NOT_IMPLEMENTED: 501,
  CYG_VALIDATION: 400,
  CYG_UNSUPPORTED_MEDIA_TYPE: 415,
  CYG_NOT_ACCEPTABLE: 406,
  CYG_FORBIDDEN: 403,
  CYG_NOT_FOUND: 404,
  CYG_CONFLICT: 409,
  CYG_NOT_LEADER: 307,
  CYG_NO_LEADER: 503,
  /** Leadership moved before a write committed and the write was NOT applied: safe to send again. */
  CYG_LEADER_CHANGED: 503,
  CYG_TIMEOUT: 504,
  /** A bounded queue is full and the request was refused before anything happened: retry after a pause. */
  CYG_OVERLOADED: 503,
  CYG_SHUTTING_DOWN: 503,
  CYG_CORRUPT: 500,
  CYG_CONFIG: 400,
  CYG_FETCH: 502,
  CYG_INTERNAL: 500,
};

/** A full queue drains within about a second at the rates we serve: retrying sooner only adds load. */
export const OVERLOADED_RETRY_AFTER_SECONDS = 1;
const retryAfterSecondsByCode: Partial<Record<ErrorCode, number>> = {
  CYG_OVERLOADED: OVERLOADED_RETRY_AFTER_SECONDS,
  // a new leader is elected within an election timeout (under a second)
  CYG_LEADER_CHANGED: 1,
};

export class CygnetError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
  get httpStatus(): number {
    return httpStatusByCode[this.code];
  }
  /** Seconds for a `Retry-After` header, for refusals that invite a retry; otherwise undefined. */
  get retryAfterSeconds(): number | undefined {
    return retryAfterSecondsByCode[this.code];
  }
}

/** A malformed request: the message says what was wrong. */
export class BadRequestError extends CygnetError {
  constructor(message: string) {
    super('CYG_BAD_REQUEST', message);
  }
}

/** A value at `path` (e.g. `launch.task_infos[0].resources`) was not what was expected. */
export class ValidationError extends CygnetError {
  readonly path: string;
  readonly expected: string;
  constructor(path: string, expected: string, got?: string) {
    super('CYG_VALIDATION', `${path || '<root>'}: expected ${expected}${got === undefined ? '' : `, got ${got}`}`);
    this.path = path;
    this.expected = expected;
  }
}

export class UnsupportedMediaTypeError extends CygnetError {
  constructor(message: string) {
    super('CYG_UNSUPPORTED_MEDIA_TYPE', message);
  }
}

export class NotAcceptableError extends CygnetError {
  constructor(message: string) {
    super('CYG_NOT_ACCEPTABLE', message);
  }
}

export class ForbiddenError extends CygnetError {
  constructor(message: string) {
    super('CYG_FORBIDDEN', message);
  }
}

export class NotFoundError extends CygnetError {
  constructor(message: string) {
    super('CYG_NOT_FOUND', message);
  }
}

export class ConflictError extends CygnetError {
  constructor(message: string) {
    super('CYG_CONFLICT', message);
  }
}

/** A well-formed request for something this server does not do (HTTP 501). */
export class NotImplementedError extends CygnetError {
  constructor(message: string) {
    super('CYG_NOT_IMPLEMENTED', message);
  }
}

export class ConfigError extends CygnetError {
  constructor(message: string) {
    super('CYG_CONFIG', message);
  }
}

/** Describes any thrown value in one line, for logs and error answers. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
