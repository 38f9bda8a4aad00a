/**
 * Runs one task's health check (the I/O shell around HealthCore): the first
 * probe after `delay`, then one every `interval` after the previous one ended
 * (never two probes at once), each bounded by `timeout`. Probes:
 *   COMMAND  /bin/sh -c value (or argv) in the sandbox with the task's environment
 *            (plus the check's own); healthy = exit 0;
 *   HTTP     GET <scheme>://<host>:<port><path>; healthy = status in `statuses`,
 *            else 200–399 (Mesos);
 *   TCP      a connection to <host>:<port> is accepted.
 * Invariant: after stop() no probe starts and no callback fires.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { request } from 'undici';
import type { Clock, TimerHandle } from '../common/clock.ts';
import { describeError } from '../common/errors.ts';
import { HealthCore, healthConfig } from './health-state.ts';
import { computeArgv } from './task-env.ts';
import type { HealthCheck } from './types.ts';

export interface HealthMonitorOptions {
  check: HealthCheck;
  host: string;
  sandbox: string;
  clock: Clock;
  onHealthChanged: (healthy: boolean) => void;
  onKill: (message: string) => void;
  env?: Record<string, string>;
}

export type ProbeResult = { ok: true } | { ok: false; detail: string };

export class HealthMonitor {
  private readonly opts: HealthMonitorOptions;
  private readonly core: HealthCore;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(opts: HealthMonitorOptions) {
    this.opts = opts;
    this.core = new HealthCore(healthConfig(opts.check), opts.clock.nowMs());
  }

  start(): void {
    this.timer = this.opts.clock.setTimer(this.core.config.delayMs, () => { void this.tick(); });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.abort.abort(new Error('health monitor stopped'));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const result = await probe(this.opts.check, this.opts.host, this.opts.sandbox, this.core.config.timeoutMs, this.abort.signal, this.opts.env);
    if (this.stopped) return;
    for (const a of this.core.onResult(result.ok, this.opts.clock.nowMs(), result.ok ? '' : result.detail)) {
      if (a.kind === 'health-changed') this.opts.onHealthChanged(a.healthy);
      else {
        this.stopped = true;
        this.opts.onKill(a.message);
      }
    }
    if (!this.stopped) this.timer = this.opts.clock.setTimer(this.core.config.intervalMs, () => { void this.tick(); });
  }
}

export async function probe(check: HealthCheck, host: string, cwd: string, timeoutMs: number, signal: AbortSignal, env?: Record<string, string>): Promise<ProbeResult> {
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  try {
    switch (check.type ?? inferType(check)) {
      case 'COMMAND': return await probeCommand(check, cwd, timeout, env);
      case 'HTTP': return await probeHttp(check, host, timeout);
      case 'TCP': return await probeTcp(check, host, timeout);
      default: return { ok: false, detail: `unsupported health check type ${check.type}` };
    }
  } catch (err) {
    return { ok: false, detail: timeout.aborted && !signal.aborted ? `timed out after ${timeoutMs} ms` : describeError(err) };
  }
}

function inferType(check: HealthCheck): HealthCheck['type'] {
  if (check.command) return 'COMMAND';
  if (check.http) return 'HTTP';
  if (check.tcp) return 'TCP';
  return 'UNKNOWN';
}

/** The health command's own CommandInfo.environment, on top of the task's. */
function commandEnv(check: HealthCheck): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of check.command?.environment?.variables ?? []) if (typeof v.name === 'string' && v.name !== '') out[v.name] = v.value ?? '';
  return out;
}

function probeCommand(check: HealthCheck, cwd: string, signal: AbortSignal, env?: Record<string, string>): Promise<ProbeResult> {
  const { file, args } = computeArgv(check.command);
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, ...commandEnv(check) }, stdio: 'ignore', detached: true });
    const onAbort = () => { try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* gone */ } };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => { signal.removeEventListener('abort', onAbort); resolve({ ok: false, detail: e.message }); });
    child.on('exit', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) resolve({ ok: false, detail: 'timed out' });
      else if (code === 0) resolve({ ok: true });
      else resolve({ ok: false, detail: sig ? `command terminated by ${sig}` : `command exited with status ${code}` });
    });
  });
}

async function probeHttp(check: HealthCheck, host: string, signal: AbortSignal): Promise<ProbeResult> {
  const http = check.http!;
  const scheme = http.scheme === 'https' ? 'https' : 'http';
  const path = http.path ? (http.path.startsWith('/') ? http.path : `/${http.path}`) : '/';
  const res = await request(`${scheme}://${host}:${http.port}${path}`, { method: 'GET', signal });
  await res.body.dump();
  const ok = http.statuses && http.statuses.length > 0 ? http.statuses.includes(res.statusCode) : res.statusCode >= 200 && res.statusCode < 400;
  return ok ? { ok: true } : { ok: false, detail: `HTTP ${res.statusCode}` };
}

function probeTcp(check: HealthCheck, host: string, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = connect({ host, port: check.tcp!.port, signal });
    sock.once('connect', () => { sock.destroy(); resolve({ ok: true }); });
    sock.once('error', (e) => { sock.destroy(); resolve({ ok: false, detail: e.message }); });
  });
}
