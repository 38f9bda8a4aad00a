/**
 * The failures of reading an app definition, carrying the exact bodies Marathon
 * answers with, so the API layer sends `err.body` with `err.httpStatus` as is.
 *
 * Marathon has three shapes, and we keep all three:
 * - the body is not JSON at all: 400 `{"message":"Invalid JSON","details":"<parser message>"}`
 *   (`InvalidJsonError`);
 * - the JSON does not fit the schema (wrong type, out of range, bad pattern, bad
 *   enum literal): 422 `{"message":"Invalid JSON","details":[{"path":"/cpus","errors":["error.min"]}]}`
 *   with Play JSON's error keys (`AppValidationError`, kind `schema`);
 * - the definition is well-typed but invalid as a whole (cmd and args both set,
 *   unknown constraint operator, duplicate port names, ...): 422
 *   `{"message":"Object is not valid","details":[{"path":"/","errors":["..."]}]}`
 *   with Marathon's own sentences (`AppValidationError`, kind `semantic`).
 * Paths use Marathon's syntax: `/healthChecks(0)/portIndex`, `/` for the app itself.
 */
import { CygnetError } from '../../common/errors.ts';

export interface MarathonErrorDetail {
  readonly path: string;
  readonly errors: readonly string[];
}

export interface MarathonValidationBody {
  readonly message: 'Invalid JSON' | 'Object is not valid';
  readonly details: readonly MarathonErrorDetail[];
}

export type AppValidationKind = 'schema' | 'semantic';

/** Marathon's 422: every violation found, grouped by path in the order found. */
export class AppValidationError extends CygnetError {
  readonly kind: AppValidationKind;
  readonly body: MarathonValidationBody;
  constructor(kind: AppValidationKind, details: readonly MarathonErrorDetail[]) {
    const first = details[0];
    const summary = first === undefined ? 'no details' : `${first.path}: ${first.errors.join('; ')}`;
    const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
    super('CYG_VALIDATION', `app definition is not valid: ${summary}${more}`);
    this.kind = kind;
    this.body = { message: kind === 'schema' ? 'Invalid JSON' : 'Object is not valid', details };
  }
  override get httpStatus(): number {
    return 422;
  }
}

/** Marathon's 400 for a body that does not parse as JSON. */
export class InvalidJsonError extends CygnetError {
  readonly body: { readonly message: string; readonly details: string };
  constructor(details: string, message = 'Invalid JSON') {
    super('CYG_BAD_REQUEST', `${message}: ${details}`);
    this.body = { message, details };
  }
}

/** Collects violations in order; one path may carry several messages. */
export class Violations {
  private readonly byPath = new Map<string, string[]>();

  add(path: string, message: string): void {
    const list = this.byPath.get(path);
    if (list === undefined) this.byPath.set(path, [message]);
    else if (!list.includes(message)) list.push(message);
  }

  get isEmpty(): boolean {
    return this.byPath.size === 0;
  }

  details(): MarathonErrorDetail[] {
    return [...this.byPath].map(([path, errors]) => ({ path, errors }));
  }

  throwIfAny(kind: AppValidationKind): void {
    if (!this.isEmpty) throw new AppValidationError(kind, this.details());
  }
}

/**
 * Parses a request body the way Marathon's Jackson front does: empty → 400
 * "Please specify data in JSON format", unparsable → 400 "Invalid JSON".
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new InvalidJsonError('No content to map due to end-of-input', 'Please specify data in JSON format');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidJsonError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Runs `fn`, putting `prefix` (where the app sits in a larger body: `/3` in an
 * array of apps, `/groups/0/apps/1` in a group) in front of the paths of its
 * validation errors; a plain validation error becomes one at `prefix`.
 */
export function atJsonPath<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AppValidationError) throw new AppValidationError(err.kind, err.body.details.map((d) => ({ ...d, path: `${prefix}${d.path === '/' ? '' : d.path}` })));
    if (err instanceof CygnetError && err.code === 'CYG_VALIDATION') throw new AppValidationError('semantic', [{ path: prefix, errors: [err.message] }]);
    throw err;
  }
}
