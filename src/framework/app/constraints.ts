/**
 * Marathon's app constraints: `[field, operator]` or `[field, operator, value]`
 * string triples ⇄ the typed `Constraint` union, with Marathon's rules and its
 * exact error sentences (SchedulingValidation in Marathon 1.11):
 *
 *   UNIQUE    no value allowed
 *   CLUSTER   value optional
 *   GROUP_BY  value optional; if present a Java int (`Integer.parseInt`)
 *   MAX_PER   value required, a Java int
 *   LIKE      value required, a valid regular expression (matched against the
 *   UNLIKE    whole attribute value at placement time)
 *   IS        value optional, Mesos text or scalar syntax `[a-zA-Z0-9_/.-]*`
 *
 * Operators are matched case-insensitively and kept in canonical upper case.
 * Schema checks (array of 2 or 3 strings) are done by the caller with Play's
 * keys; this file owns the semantic rules. Evaluating constraints against offers
 * belongs to placement/. No I/O here.
 */
import { CONSTRAINT_OPERATORS, type Constraint, type ConstraintOperator } from './constraints-types.ts';

export type { Constraint, ConstraintOperator } from './constraints-types.ts';
export { CONSTRAINT_OPERATORS } from './constraints-types.ts';

/** Marathon's messages, verbatim (they are part of the 422 bodies clients see). */
export const CONSTRAINT_MESSAGES = {
  wrongArity: 'Each constraint must have either 2 or 3 fields',
  illegal: 'illegal constraint specification',
  operatorInvalid: 'operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS',
  uniqueNoValue: 'UNIQUE does not accept a value',
  groupByInt: 'GROUP BY must define an integer value or else no value at all',
  maxPerInt: 'MAX_PER requires an integer value',
  likeNeedsRegex: 'LIKE and UNLIKE require a non-empty, regular expression value',
  invalidRegex: 'is not a valid regular expression',
  isOnlyText:
    'IS only supports Mesos text and float values (see http://mesos.apache.org/documentation/latest/attributes-resources/)',
} as const;

export type ConstraintParse = { readonly ok: true; readonly constraint: Constraint } | { readonly ok: false; readonly message: string };

/** Java's `Integer.parseInt` grammar: optional sign, decimal digits, within 32 bits. */
const JAVA_INT_RE = /^[+-]?\d+$/;
const MESOS_TEXT_OR_FLOAT_RE = /^[a-zA-Z0-9_/.-]*$/;

export function parseJavaInt(s: string): number | undefined {
  if (!JAVA_INT_RE.test(s)) return undefined;
  const n = Number(s);
  return n >= -2_147_483_648 && n <= 2_147_483_647 ? (n === 0 ? 0 : n) : undefined;
}

/** Applies Marathon's rules to one triple (already known to hold only strings). */
export function parseConstraint(triple: readonly string[]): ConstraintParse {
  if (triple.length < 2 || triple.length > 3) return fail(CONSTRAINT_MESSAGES.wrongArity);
  const [field, opText, value] = triple as [string, string, string | undefined];
  if (field === '') return fail(CONSTRAINT_MESSAGES.illegal);
  const operator = CONSTRAINT_OPERATORS.find((o) => o === opText.toUpperCase());
  if (operator === undefined) return fail(CONSTRAINT_MESSAGES.operatorInvalid);
  return checkOperator(field, operator, value);
}

function checkOperator(field: string, operator: ConstraintOperator, value: string | undefined): ConstraintParse {
  switch (operator) {
    case 'UNIQUE':
      return value === undefined ? ok({ operator, field }) : fail(CONSTRAINT_MESSAGES.uniqueNoValue);
    case 'CLUSTER':
      return ok(value === undefined ? { operator, field } : { operator, field, value });
    case 'GROUP_BY': {
      if (value === undefined) return ok({ operator, field });
      const groups = parseJavaInt(value);
      return groups === undefined ? fail(CONSTRAINT_MESSAGES.groupByInt) : ok({ operator, field, value, groups });
    }
    case 'MAX_PER': {
      const max = value === undefined ? undefined : parseJavaInt(value);
      return value === undefined || max === undefined ? fail(CONSTRAINT_MESSAGES.maxPerInt) : ok({ operator, field, value, max });
    }
    case 'LIKE':
    case 'UNLIKE':
      if (value === undefined) return fail(CONSTRAINT_MESSAGES.likeNeedsRegex);
      return isValidRegex(value) ? ok({ operator, field, value }) : fail(CONSTRAINT_MESSAGES.invalidRegex);
    case 'IS': {
      if (!MESOS_TEXT_OR_FLOAT_RE.test(value ?? '')) return fail(CONSTRAINT_MESSAGES.isOnlyText);
      return ok(value === undefined ? { operator, field } : { operator, field, value });
    }
  }
}

/**
 * Whether `pattern` compiles. Marathon compiles with Java's regex engine; we use
 * JavaScript's, which agrees on everything but exotic syntax (possessive
 * quantifiers, `\p{javaX}` classes), which we then reject.
 */
export function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** A regex that matches a whole attribute value, as Java's `String.matches` does. */
export function compileFullMatch(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** The triple Marathon prints back for a constraint. */
export function constraintToTriple(c: Constraint): string[] {
  return 'value' in c && c.value !== undefined ? [c.field, c.operator, c.value] : [c.field, c.operator];
}

/** One stable line, for logs and test expectations. */
export function describeConstraint(c: Constraint): string {
  return constraintToTriple(c).join(':');
}

function ok(constraint: Constraint): ConstraintParse {
  return { ok: true, constraint };
}

function fail(message: string): ConstraintParse {
  return { ok: false, message };
}
