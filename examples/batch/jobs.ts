/**
 * The batch file: which jobs to run and how. Parsed and validated once, at
 * start; a bad file is a `ValidationError` naming the field path
 * (`jobs[2].cpus: expected a positive number, got "x"`), never a crash later.
 *
 *   {
 *     "concurrency": 2,                        // jobs running at once (default 4)
 *     "backoff": { "minMs": 500, "maxMs": 10000 },
 *     "jobs": [
 *       { "id": "thumbs-1", "command": "make thumbs", "cpus": 0.5, "memMb": 64,
 *         "retries": 3, "attributes": { "rack": "r1" } }
 *     ]
 *   }
 *
 * Pure: no I/O here.
 */
import { ValidationError } from '../../src/common/errors.ts';
import type { BackoffPolicy } from '../../src/framework/sdk/index.ts';

export interface JobSpec {
  /** Unique in the file; task ids are `<id>.<attempt>`. */
  readonly id: string;
  readonly command: string;
  readonly cpus: number;
  readonly memMb: number;
  /** Extra attempts after a failure (0 = run once). */
  readonly retries: number;
  /** Placement: the agent must carry every one of these attributes with exactly this value. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface BatchSpec {
  readonly concurrency: number;
  readonly backoff: BackoffPolicy;
  readonly jobs: readonly JobSpec[];
}

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 1_000, maxMs: 30_000 };
/** A batch file is read into memory whole; beyond this many jobs, split the batch. */
export const MAX_JOBS = 10_000;

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/** `path.key`, or `key` at the root. */
function field(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function knownKeys(o: Json, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw new ValidationError(field(path, k), `one of the fields ${keys.join(', ')}`, 'an unknown field');
  }
}

function positiveNumber(o: Json, key: string, path: string, fallback?: number): number {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValidationError(field(path, key), 'a positive number', show(v));
  return v;
}

function count(o: Json, key: string, path: string, fallback: number, min: number): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ValidationError(field(path, key), `an integer >= ${min}`, show(v));
  return v;
}

function parseJob(v: unknown, path: string): JobSpec {
  if (!isObject(v)) throw new ValidationError(path, 'an object', show(v));
  knownKeys(v, path, ['id', 'command', 'cpus', 'memMb', 'retries', 'attributes']);
  if (typeof v.id !== 'string' || !JOB_ID.test(v.id)) throw new ValidationError(`${path}.id`, 'a name of letters, digits, - and _ (at most 64)', show(v.id));
  if (typeof v.command !== 'string' || v.command.trim() === '') throw new ValidationError(`${path}.command`, 'a non-empty shell command', show(v.command));
  const attributes: Record<string, string> = {};
  if (v.attributes !== undefined) {
    if (!isObject(v.attributes)) throw new ValidationError(`${path}.attributes`, 'an object of attribute name to value', show(v.attributes));
    for (const [name, value] of Object.entries(v.attributes)) {
      if (typeof value !== 'string') throw new ValidationError(`${path}.attributes.${name}`, 'a string', show(value));
      attributes[name] = value;
    }
  }
  return {
    id: v.id,
    command: v.command,
    cpus: positiveNumber(v, 'cpus', path, 0.1),
    memMb: positiveNumber(v, 'memMb', path, 32),
    retries: count(v, 'retries', path, DEFAULT_RETRIES, 0),
    attributes,
  };
}

/** Validates a parsed batch file. */
export function parseBatchSpec(doc: unknown): BatchSpec {
  if (!isObject(doc)) throw new ValidationError('', 'an object with a "jobs" list', show(doc));
  knownKeys(doc, '', ['concurrency', 'backoff', 'jobs']);
  const concurrency = count(doc, 'concurrency', '', DEFAULT_CONCURRENCY, 1);
  let backoff = DEFAULT_BACKOFF;
  if (doc.backoff !== undefined) {
    if (!isObject(doc.backoff)) throw new ValidationError('backoff', 'an object { minMs, maxMs }', show(doc.backoff));
    knownKeys(doc.backoff, 'backoff', ['minMs', 'maxMs']);
    const minMs = positiveNumber(doc.backoff, 'minMs', 'backoff', DEFAULT_BACKOFF.minMs);
    const maxMs = positiveNumber(doc.backoff, 'maxMs', 'backoff', Math.max(minMs, DEFAULT_BACKOFF.maxMs));
    if (maxMs < minMs) throw new ValidationError('backoff.maxMs', `a number >= backoff.minMs (${minMs})`, show(maxMs));
    backoff = { minMs, maxMs };
  }
  if (!Array.isArray(doc.jobs) || doc.jobs.length === 0) throw new ValidationError('jobs', 'a non-empty list of jobs', show(doc.jobs));
  if (doc.jobs.length > MAX_JOBS) throw new ValidationError('jobs', `at most ${MAX_JOBS} jobs`, String(doc.jobs.length));
  const jobs = doc.jobs.map((j, i) => parseJob(j, `jobs[${i}]`));
  const seen = new Set<string>();
  jobs.forEach((j, i) => {
    if (seen.has(j.id)) throw new ValidationError(`jobs[${i}].id`, 'an id no other job has', JSON.stringify(j.id));
    seen.add(j.id);
  });
  return { concurrency, backoff, jobs };
}

/** Parses the text of a batch file (`source` names it in errors). */
export function parseBatchFile(text: string, source: string): BatchSpec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(source, 'a JSON document', (err as Error).message);
  }
  return parseBatchSpec(doc);
}
