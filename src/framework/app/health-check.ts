/**
 * How an app's health check is to be run, read off the Marathon model. The
 * model keeps what the user wrote (so GET prints it back as Marathon does);
 * these helpers answer the questions the task builder has, with Marathon's
 * fallbacks in one place:
 * - the kind of probe: HTTP and MESOS_HTTP are HTTP, HTTPS/MESOS_HTTPS are
 *   HTTPS, TCP/MESOS_TCP are TCP, COMMAND runs a shell command;
 * - the path: the one given, else `/` (an HTTP check without `path` is still
 *   an HTTP check);
 * - the port: a fixed `port` wins, else the host port at `portIndex`, else the
 *   app's first port (Marathon accepts a check without either when the app
 *   has exactly one port);
 * - the delay before the first probe: Marathon runs HTTP/HTTPS/TCP checks
 *   itself and ignores `delaySeconds` for them (it prints 15 regardless); only
 *   checks Mesos runs (MESOS_*, COMMAND) honour it. So the agent gets 0 for the
 *   former: failures inside `gracePeriodSeconds` are ignored anyway, and an
 *   instance becomes healthy as soon as it answers.
 * No I/O here.
 */
import type { HealthCheck } from './app-definition.ts';

export type HealthProbeKind = 'HTTP' | 'HTTPS' | 'TCP' | 'COMMAND';

export function healthProbeKind(hc: HealthCheck): HealthProbeKind {
  switch (hc.protocol) {
    case 'HTTP':
    case 'MESOS_HTTP':
      return 'HTTP';
    case 'HTTPS':
    case 'MESOS_HTTPS':
      return 'HTTPS';
    case 'TCP':
    case 'MESOS_TCP':
      return 'TCP';
    case 'COMMAND':
      return 'COMMAND';
  }
}

/** The HTTP path to request; `/` when none was given. `undefined` for TCP and COMMAND checks. */
export function healthProbePath(hc: HealthCheck): string | undefined {
  const kind = healthProbeKind(hc);
  if (kind !== 'HTTP' && kind !== 'HTTPS') return undefined;
  return ('path' in hc ? hc.path : undefined) ?? '/';
}

/** The port to probe on the task's host, given the ports it was assigned; `undefined` if none fits. */
export function healthProbePort(hc: HealthCheck, hostPorts: readonly number[]): number | undefined {
  if (hc.protocol === 'COMMAND') return undefined;
  if (hc.port !== undefined) return hc.port;
  return hostPorts[hc.portIndex ?? 0];
}

/** Seconds the agent waits before the first probe (see the file comment). */
export function healthProbeDelaySeconds(hc: HealthCheck): number {
  return hc.protocol === 'HTTP' || hc.protocol === 'HTTPS' || hc.protocol === 'TCP' ? 0 : hc.delaySeconds;
}
