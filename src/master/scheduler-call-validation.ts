/**
 * Mesos' semantic checks of a decoded scheduler Call (after the codec has
 * checked types), done before the call touches any state: the right
 * sub-message for the type, framework_id present, ids and uuids well-formed.
 * Pure; failures are BadRequestError with Mesos' wording (→ 400).
 */
import { BadRequestError } from '../common/errors.ts';
import type { FrameworkInfo } from '../protocol/mesos-types.ts';
import { hasCapability } from './frameworks.ts';
import type { SchedulerCall } from './wire.ts';

/** Call types cygnet serves (others are rejected as unsupported). */
export const SCHEDULER_CALL_FIELD: Readonly<Record<string, keyof SchedulerCall | undefined>> = {
  SUBSCRIBE: 'subscribe',
  TEARDOWN: undefined,
  ACCEPT: 'accept',
  DECLINE: 'decline',
  ACCEPT_INVERSE_OFFERS: 'accept_inverse_offers',
  DECLINE_INVERSE_OFFERS: 'decline_inverse_offers',
  REVIVE: undefined,
  KILL: 'kill',
  SHUTDOWN: 'shutdown',
  ACKNOWLEDGE: 'acknowledge',
  RECONCILE: 'reconcile',
  MESSAGE: 'message',
  REQUEST: 'request',
  SUPPRESS: undefined,
  UPDATE_FRAMEWORK: 'update_framework',
};

export function validateSchedulerCall(call: SchedulerCall): void {
  const type = call.type;
  if (type === undefined || type === 'UNKNOWN') throw new BadRequestError("Expecting 'type' to be present");
  if (!(type in SCHEDULER_CALL_FIELD)) throw new BadRequestError(`Unsupported call type '${String(type)}'`);
  const field = SCHEDULER_CALL_FIELD[type];
  if (field !== undefined && call[field] === undefined) throw new BadRequestError(`Expecting '${field}' to be present`);
  if (type === 'SUBSCRIBE') {
    validateSubscribe(call);
    return;
  }
  if (call.framework_id === undefined) throw new BadRequestError("Expecting 'framework_id' to be present");
  checkId(call.framework_id.value, 'framework_id');
  if (type === 'ACKNOWLEDGE' && call.acknowledge !== undefined) {
    checkId(call.acknowledge.task_id.value, 'acknowledge.task_id');
    checkId(call.acknowledge.agent_id.value, 'acknowledge.agent_id');
    if (!isUuidBase64(call.acknowledge.uuid)) throw new BadRequestError("Expecting 'acknowledge.uuid' to be the 16-byte UUID of a status update (base64)");
  }
  if (type === 'KILL' && call.kill !== undefined) checkId(call.kill.task_id.value, 'kill.task_id');
  if (type === 'UPDATE_FRAMEWORK' && call.update_framework !== undefined) validateUpdateFramework(call.framework_id.value, call.update_framework);
  // SUPPRESS and REVIVE with a bad role are accepted (202) and dropped by the master, as Mesos does (scheduler-calls.ts).
  // A negative or non-finite refuse_seconds is not refused: the allocator takes the default or the cap, as Mesos does.
}

function validateSubscribe(call: SchedulerCall): void {
  const info = call.subscribe?.framework_info;
  if (info === undefined) throw new BadRequestError("Expecting 'subscribe.framework_info' to be present");
  // Mesos compares the two as protobuf values (unset = empty): one without the other is a mismatch too.
  if ((call.framework_id?.value ?? '') !== (info.id?.value ?? '')) {
    throw new BadRequestError("'framework_id' differs from 'subscribe.framework_info.id'");
  }
  if (info.id !== undefined) checkId(info.id.value, 'subscribe.framework_info.id');
  const ft = info.failover_timeout;
  if (ft !== undefined && (!Number.isFinite(ft) || ft < 0)) {
    throw new BadRequestError(`Expecting 'subscribe.framework_info.failover_timeout' to be a finite number >= 0, got ${ft}`);
  }
  const refused = frameworkInfoError(info, call.subscribe?.suppressed_roles ?? []);
  if (refused !== undefined) throw new FrameworkInfoRefused(refused);
}

/** Mesos' checks of UPDATE_FRAMEWORK that need no state (validation.cpp, Master::updateFramework), in its words. */
function validateUpdateFramework(frameworkId: string, update: NonNullable<SchedulerCall['update_framework']>): void {
  const info = update.framework_info;
  if ((info.id?.value ?? '') !== frameworkId) throw new BadRequestError("'framework_id' differs from 'update_framework.framework_info.id'");
  const ft = info.failover_timeout;
  if (ft !== undefined && (!Number.isFinite(ft) || ft < 0)) {
    throw new BadRequestError(`Supplied FrameworkInfo is not valid: 'failover_timeout' must be a finite number >= 0, got ${ft}`);
  }
  const refused = frameworkInfoError(info, update.suppressed_roles ?? []);
  if (refused === undefined) return;
  // Mesos checks the suppressed roles when it builds the allocator's options, after the FrameworkInfo itself.
  throw new BadRequestError(refused.startsWith('Suppressed roles') ? `'UpdateFramework' call is not valid: ${refused}` : `Supplied FrameworkInfo is not valid: ${refused}`);
}

/**
 * A FrameworkInfo the master will not take: answered as Mesos answers it,
 * on the subscription stream (200, one ERROR event, then the end), not with
 * a 4xx as a malformed call is.
 */
export class FrameworkInfoRefused extends BadRequestError {}

/** Mesos' framework validation (validation.cpp validateRoles, validateSuppressedRoles), in its words. */
function frameworkInfoError(info: FrameworkInfo, suppressed: readonly string[]): string | undefined {
  const multiRole = hasCapability(info, 'MULTI_ROLE');
  const roles = info.roles ?? [];
  if (multiRole && info.role !== undefined) return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
  if (!multiRole && roles.length > 0) return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
  if (multiRole) {
    const duplicates = roles.filter((r, i) => roles.indexOf(r) !== i);
    if (duplicates.length > 0) return `'FrameworkInfo.roles' contains duplicate items: { ${[...new Set(duplicates)].join(', ')} }`;
    for (const r of roles) {
      const why = roleError(r);
      if (why !== undefined) return `'FrameworkInfo.roles' contains invalid role: ${why}`;
    }
  } else {
    const why = roleError(info.role ?? '*');
    if (why !== undefined) return `'FrameworkInfo.role' is not a valid role: ${why}`;
  }
  const mine = new Set(multiRole ? roles : [info.role ?? '*']);
  const foreign = [...new Set(suppressed)].filter((r) => !mine.has(r));
  if (foreign.length > 0) return `Suppressed roles { ${foreign.join(', ')} } are not contained in the set of roles`;
  return undefined;
}

function checkId(value: string, path: string): void {
  if (value === '') throw new BadRequestError(`'${path}.value' must not be empty`);
  if (value.length > 1024) throw new BadRequestError(`'${path}.value' is longer than 1024 characters`);
}

/** Whitespace and DEL, which Mesos refuses in a role component (roles.cpp's INVALID_CHARACTERS: \t \n \v \f \r, space, DEL). */
function hasInvalidRoleChar(component: string): boolean {
  for (let i = 0; i < component.length; i++) {
    const c = component.charCodeAt(i);
    if ((c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Why `role` is not a valid Mesos role, in Mesos' words (roles::validate),
 * or undefined: `*`, or `/`-separated components (hierarchical roles such
 * as `eng/web`), none empty, `.`, `..` or `*`, none starting with `-` or
 * holding whitespace or DEL.
 */
export function roleError(role: string): string | undefined {
  if (role === '*') return undefined;
  if (role.length > 256) return `Role '${role.slice(0, 40)}…' is longer than 256 characters`;
  if (role.startsWith('/')) return `Role '${role}' cannot start with a slash`;
  if (role.endsWith('/')) return `Role '${role}' cannot end with a slash`;
  if (role.includes('//')) return `Role '${role}' cannot contain two adjacent slashes`;
  if (role === '') return 'Role names cannot be the empty string';
  for (const c of role.split('/')) {
    if (c === '.' || c === '..' || c === '*') return `Role '${role}' cannot include '${c}' as a component`;
    if (c.startsWith('-')) return `Role component '${c}' is invalid because it starts with a dash`;
    if (hasInvalidRoleChar(c)) return `Role component '${c}' is invalid because it contains backspace or whitespace`;
  }
  return undefined;
}

/** Whether `s` is base64 of exactly 16 bytes. */
export function isUuidBase64(s: string): boolean {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) return false;
  return Buffer.from(s, 'base64').length === 16;
}
