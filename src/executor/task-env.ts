/**
 * Pure: computes a task's environment and argv from its TaskInfo. No I/O.
 *
 * Environment, in increasing precedence:
 *   1. a few variables inherited from the agent (INHERITED_VARS: PATH, HOME, ...),
 *      as Mesos' command executor inherits the agent's environment;
 *   2. CommandInfo.environment (VALUE variables; SECRET ones are refused upstream);
 *   3. what the agent defines: MESOS_TASK_ID, MESOS_SANDBOX, MESOS_FRAMEWORK_ID,
 *      MESOS_AGENT_ID, MESOS_DIRECTORY, HOST, PORTS, PORT, PORT0..PORTn,
 *      PORT_<NAME> — these win so a task cannot be lied to about its own ports.
 * Ports are the task's `ports` resource ranges expanded in order; names come
 * from discovery.ports (matched by port number, else by index).
 */
import type { Resource } from '../protocol/resource-types.ts';
import type { CommandInfo, TaskInfo } from './types.ts';
import { ValidationError } from '../common/errors.ts';

/** Variables passed through from the agent's own environment when set. */
export const INHERITED_VARS = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER'] as const;

/** A ports range larger than this is refused (a task never needs more; bounds env size). */
export const MAX_TASK_PORTS = 1024;

export interface EnvContext {
  frameworkId: string;
  agentId: string;
  sandbox: string;
  host: string;
  inherited: Record<string, string | undefined>;
}

/** Expands the task's `ports` ranges, in order. */
export function taskPorts(resources: readonly Resource[] | undefined): number[] {
  const ports: number[] = [];
  for (const r of resources ?? []) {
    if (r.name !== 'ports') continue;
    for (const range of r.ranges?.range ?? []) {
      for (let p = range.begin; p <= range.end; p++) {
        ports.push(p);
        if (ports.length > MAX_TASK_PORTS) throw new ValidationError('task.resources.ports', `at most ${MAX_TASK_PORTS} ports`, `more`);
      }
    }
  }
  return ports;
}

/** RFC-ish env var suffix: upper case, non-alphanumerics become '_'. */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export function computeTaskEnv(task: TaskInfo, ctx: EnvContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_VARS) {
    const v = ctx.inherited[name];
    if (v !== undefined) env[name] = v;
  }
  (task.command?.environment?.variables ?? []).forEach((v, i) => {
    if (typeof v.name !== 'string' || v.name === '' || v.name.includes('=')) {
      throw new ValidationError(`task.command.environment.variables[${i}].name`, 'a non-empty name without =', JSON.stringify(v.name));
    }
    if (v.type === 'SECRET') {
      throw new ValidationError(`task.command.environment.variables[${i}].type`, 'VALUE (secrets are not supported)', 'SECRET');
    }
    env[v.name] = v.value ?? '';
  });
  env.MESOS_TASK_ID = task.task_id.value;
  env.MESOS_FRAMEWORK_ID = ctx.frameworkId;
  env.MESOS_AGENT_ID = ctx.agentId;
  env.MESOS_SANDBOX = ctx.sandbox;
  env.MESOS_DIRECTORY = ctx.sandbox;
  env.HOST = ctx.host;
  const ports = taskPorts(task.resources);
  const discovery = task.discovery?.ports?.ports ?? [];
  env.PORTS = ports.join(',');
  if (ports.length > 0) env.PORT = String(ports[0]);
  ports.forEach((port, i) => {
    env[`PORT${i}`] = String(port);
    const named = discovery.find((d) => d.number === port) ?? discovery[i];
    if (named?.name) env[`PORT_${envName(named.name)}`] = String(port);
  });
  return env;
}

/** `shell` (default true) → /bin/sh -c value; otherwise value + arguments as argv. */
export function computeArgv(command: CommandInfo | undefined): { file: string; args: string[] } {
  if (command === undefined || typeof command.value !== 'string' || command.value === '') {
    throw new ValidationError('task.command.value', 'a non-empty command');
  }
  if (command.shell === false) {
    const args = command.arguments ?? [];
    // Mesos passes arguments as the full argv (argv[0] included).
    return { file: command.value, args: args.length > 0 ? args.slice(1) : [] };
  }
  return { file: '/bin/sh', args: ['-c', command.value] };
}
