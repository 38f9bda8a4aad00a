/**
 * The app-definition module's public surface: Marathon app JSON ⇄ typed model,
 * validation with Marathon's 422 bodies, PUT/PATCH merging, versions, ids and
 * constraints. Pure: no I/O anywhere below this directory.
 */
export * from './app-definition.ts';
export { AppValidationError, InvalidJsonError, parseJsonBody, type MarathonErrorDetail, type MarathonValidationBody } from './app-errors.ts';
export * from './app-id.ts';
export * from './app-version.ts';
export * from './health-check.ts';
export {
  CONSTRAINT_MESSAGES,
  compileFullMatch,
  constraintToTriple,
  describeConstraint,
  parseConstraint,
  type ConstraintParse,
} from './constraints.ts';
export * from './merge-app.ts';
export { APP_MESSAGES, describeBadRole, parseAppDefinition, type ParseAppOptions } from './parse-app.ts';
export { renderApp, renderDefinition, type JsonObjectOut, type JsonValue } from './render-app.ts';
