/**
 * A small client for the framework's REST API in tests: JSON in and out,
 * every answer's status and body returned (no throwing on 4xx), a poller
 * that waits for a condition on the API, and a recorder of the `/v2/events`
 * server-sent event stream.
 */
import { request } from 'undici';

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
  readonly text: string;
}

export async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode, headers: res.headers, body: parsed, text };
}

/** Polls `probe` until it returns a value other than undefined, or fails with the last value seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface MarathonTask {
  readonly id: string;
  readonly appId: string;
  readonly host: string;
  readonly ports: number[];
  readonly state: string;
  readonly version: string;
  readonly slaveId: string;
  readonly healthCheckResults: { alive: boolean }[];
}

export interface MarathonApp {
  readonly id: string;
  readonly instances: number;
  readonly version: string;
  readonly tasksRunning: number;
  readonly tasksHealthy: number;
  readonly tasksStaged: number;
  readonly deployments: { id: string }[];
  readonly tasks?: MarathonTask[];
  readonly versionInfo: { lastConfigChangeAt: string; lastScalingAt: string };
  readonly portDefinitions?: { port: number }[];
}

export async function getApp(base: string, id: string): Promise<MarathonApp | undefined> {
  const r = await api(base, 'GET', `/v2/apps${id}`);
  return r.status === 200 ? (r.body as { app: MarathonApp }).app : undefined;
}

/** Waits until the app has no deployment and `n` running tasks (healthy ones, when `healthy`). */
export function waitForApp(base: string, id: string, n: number, opts: { healthy?: boolean; timeoutMs?: number } = {}): Promise<MarathonApp> {
  return waitFor(`${id} to settle at ${n} ${opts.healthy ? 'healthy' : 'running'}`, async () => {
    const app = await getApp(base, id);
    if (app === undefined || app.deployments.length > 0) return undefined;
    const count = opts.healthy ? app.tasksHealthy : app.tasksRunning;
    return count === n && app.tasks?.length === n ? app : undefined;
  }, opts.timeoutMs ?? 60_000);
}

export interface SseEvent {
  readonly id?: string;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** Records `/v2/events` until `close()`. */
export class EventRecorder {
  readonly events: SseEvent[] = [];
  private readonly abort = new AbortController();
  readonly ready: Promise<void>;

  /** `query`: e.g. `?event_type=status_update_event`. */
  constructor(base: string, headers: Record<string, string> = {}, query = '') {
    this.ready = this.run(base, headers, query);
  }

  private async run(base: string, headers: Record<string, string>, query: string): Promise<void> {
    const res = await request(`${base}/v2/events${query}`, { headers: { accept: 'text/event-stream', ...headers }, signal: this.abort.signal });
    let buf = '';
    const consume = async () => {
      try {
        for await (const chunk of res.body) {
          buf += (chunk as Buffer).toString('utf8');
          let at: number;
          while ((at = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, at);
            buf = buf.slice(at + 2);
            const e: { id?: string; event?: string; data?: string } = {};
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) e.id = line.slice(4);
              else if (line.startsWith('event: ')) e.event = line.slice(7);
              else if (line.startsWith('data: ')) e.data = line.slice(6);
            }
            if (e.event !== undefined && e.data !== undefined) this.events.push({ ...(e.id !== undefined ? { id: e.id } : {}), event: e.event, data: JSON.parse(e.data) as Record<string, unknown> });
          }
        }
      } catch {
        // aborted
      }
    };
    void consume();
  }

  ofType(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  close(): void {
    this.abort.abort();
  }
}

export interface ClusterView { id: number; role: string; term: number; leader: number; actingLeader: boolean; reconciled: boolean; applied: number; masterReachable: boolean }

/** A replica's `/v1/cluster`, or undefined while it cannot answer. */
export async function clusterView(url: string): Promise<ClusterView | undefined> {
  try {
    const r = await api(url, 'GET', '/v1/cluster');
    return r.status === 200 ? (r.body as ClusterView) : undefined;
  } catch {
    return undefined;
  }
}

/** Waits for the replica that is the acting leader (and, with `reconciled`, has reconciled with the master). */
export function actingLeaderOf<T extends { readonly url: string; readonly proc: { readonly running: boolean } }>(replicas: readonly T[], opts: { exclude?: T; reconciled?: boolean; timeoutMs?: number } = {}): Promise<T> {
  return waitFor('an acting leader', async () => {
    for (const f of replicas) {
      if (f === opts.exclude || !f.proc.running) continue;
      const v = await clusterView(f.url);
      if (v?.role === 'leader' && v.actingLeader && (opts.reconciled !== true || v.reconciled)) return f;
    }
    return undefined;
  }, opts.timeoutMs ?? 60_000, 5);
}
