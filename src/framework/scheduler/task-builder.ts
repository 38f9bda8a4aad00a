/**
 * Builds the Mesos TaskInfo of one instance launch from its app definition:
 * the command (`cmd` through the shell, `args` without), the environment
 * Marathon gives tasks (PORT0…, PORTS, PORT_<NAME>, MARATHON_APP_*), fetch
 * URIs, the first health check run by the agent on the instance's host port,
 * and the kill grace period. Pure.
 */
import type { CommandInfo, HealthCheck as MesosHealthCheck, Resource, TaskInfo } from '../../protocol/mesos-types.ts';
import type { AppDefinition, HealthCheck } from '../app/app-definition.ts';
import { healthProbeDelaySeconds, healthProbeKind, healthProbePath, healthProbePort } from '../app/health-check.ts';

export interface LaunchSpec {
  readonly taskId: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly version: string;
  readonly resources: readonly Resource[];
  readonly hostPorts: readonly number[];
}

export function buildTaskInfo(def: AppDefinition, spec: LaunchSpec): TaskInfo {
  const health = def.healthChecks[0];
  const grace = def.taskKillGracePeriodSeconds;
  return {
    name: def.id.replace(/^\//, '').split('/').reverse().join('.'),
    task_id: { value: spec.taskId },
    agent_id: { value: spec.agentId },
    resources: [...spec.resources],
    command: buildCommand(def, spec),
    ...(health !== undefined ? { health_check: buildHealthCheck(health, spec.hostPorts) } : {}),
    ...(grace !== undefined ? { kill_policy: { grace_period: { nanoseconds: Math.round(grace * 1e9) } } } : {}),
  };
}

function buildCommand(def: AppDefinition, spec: LaunchSpec): CommandInfo {
  const env: Record<string, string> = { ...def.env, ...marathonEnv(def, spec) };
  const variables = Object.entries(env).map(([name, value]) => ({ name, value }));
  const uris = def.fetch.map((f) => ({ value: f.uri, executable: f.executable, extract: f.extract, cache: f.cache, ...(f.destPath !== undefined ? { output_file: f.destPath } : {}) }));
  const base = { environment: { variables }, ...(uris.length > 0 ? { uris } : {}), ...(def.user !== undefined ? { user: def.user } : {}) };
  if (def.args !== undefined && def.args.length > 0) return { ...base, shell: false, value: def.args[0], arguments: [...def.args] };
  return { ...base, shell: true, value: def.cmd ?? '' };
}

/** The variables Marathon sets for every task (documented in Marathon's task-environment-vars). */
function marathonEnv(def: AppDefinition, spec: LaunchSpec): Record<string, string> {
  const env: Record<string, string> = {
    MARATHON_APP_ID: def.id,
    MARATHON_APP_VERSION: spec.version,
    MARATHON_APP_RESOURCE_CPUS: String(def.cpus),
    MARATHON_APP_RESOURCE_MEM: String(def.mem),
    MARATHON_APP_RESOURCE_DISK: String(def.disk),
    MARATHON_APP_LABELS: Object.keys(def.labels).filter((k) => /^[A-Za-z0-9_]+$/.test(k)).join(' '),
    HOST: spec.hostname,
    PORTS: spec.hostPorts.join(','),
  };
  for (const [k, v] of Object.entries(def.labels)) if (/^[A-Za-z0-9_]+$/.test(k)) env[`MARATHON_APP_LABEL_${k.toUpperCase()}`] = v;
  spec.hostPorts.forEach((p, i) => {
    env[`PORT${i}`] = String(p);
    const name = def.portDefinitions[i]?.name;
    if (name !== undefined) env[`PORT_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`] = String(p);
    const servicePort = def.portDefinitions[i]?.port;
    if (servicePort !== undefined && servicePort !== 0) env[`PORT_${servicePort}`] = String(p);
  });
  if (spec.hostPorts.length > 0) env.PORT = String(spec.hostPorts[0]);
  return env;
}

function buildHealthCheck(hc: HealthCheck, hostPorts: readonly number[]): MesosHealthCheck {
  const timing = {
    delay_seconds: healthProbeDelaySeconds(hc),
    interval_seconds: hc.intervalSeconds,
    timeout_seconds: hc.timeoutSeconds,
    consecutive_failures: hc.maxConsecutiveFailures,
    grace_period_seconds: hc.gracePeriodSeconds,
  };
  const kind = healthProbeKind(hc);
  if (hc.protocol === 'COMMAND') return { ...timing, type: 'COMMAND', command: { shell: true, value: hc.command.value } };
  const port = healthProbePort(hc, hostPorts) ?? 0;
  if (kind === 'TCP') return { ...timing, type: 'TCP', tcp: { port } };
  return { ...timing, type: 'HTTP', http: { port, path: healthProbePath(hc) ?? '/', ...(kind === 'HTTPS' ? { scheme: 'https' } : {}) } };
}
