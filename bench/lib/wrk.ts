/**
 * Runs wrk (Debian's) and reads its summary: requests per second, latency
 * percentiles from `--latency`, and every kind of failure wrk counts
 * (socket connect/read/write/timeout errors and non-2xx/3xx answers).
 */
import { spawn } from 'node:child_process';

export interface WrkResult {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly socketErrors: number;
  readonly non2xx: number;
  /** socketErrors + non2xx. */
  readonly failed: number;
}

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly threads: number;
  readonly seconds: number;
  readonly host?: string;
  /** Extra request headers, `Name: value`. */
  readonly headers?: readonly string[];
  /** A Lua script for wrk (`-s`). */
  readonly script?: string;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '--timeout', '5s'];
  if (o.host !== undefined) args.push('-H', `Host: ${o.host}`);
  for (const h of o.headers ?? []) args.push('-H', h);
  if (o.script !== undefined) args.push('-s', o.script);
  args.push(o.url);
  const text = await new Promise<string>((resolve, reject) => {
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${String(code)}: ${out}`))));
  });
  return parseWrk(text);
}

const unitMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  return m === null ? NaN : Number(m[1]) * (unitMs[m[2] as string] as number);
}

export function parseWrk(text: string): WrkResult {
  const pct = (p: string): number => durationMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(text)?.[1]);
  const latencyLine = /^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket === null ? 0 : [1, 2, 3, 4].reduce((s, i) => s + Number(socket[i]), 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  return {
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? 0),
    perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    maxMs: durationMs(latencyLine?.[3]),
    socketErrors,
    non2xx,
    failed: socketErrors + non2xx,
  };
}
