/**
 * Real-socket harness for the registry watch: a publisher behind a watch
 * server in an express app on 127.0.0.1 (port 0, or a given port so a test
 * can restart "the same replica"), a raw stream reader, and polling waits.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import express from 'express';
import { pino } from 'pino';
import { request } from 'undici';
import type { Clock } from '../../src/common/clock.ts';
import { RecordIODecoder } from '../../src/protocol/recordio.ts';
import { RegistryPublisher } from '../../src/registry/registry-publisher.ts';
import type { WatchRecord } from '../../src/registry/types.ts';
import { RegistryWatchServer } from '../../src/registry/watch-server.ts';

export interface Replica {
  readonly publisher: RegistryPublisher;
  readonly watch: RegistryWatchServer;
  readonly http: Server;
  readonly port: number;
  readonly url: string;
  /** Ends every stream and stops listening, like a replica going away. */
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  readonly publisher?: RegistryPublisher;
  readonly port?: number;
  readonly clock?: Clock;
  readonly heartbeatIntervalMs?: number;
  readonly maxBufferedBytes?: number;
}

export async function startReplica(options: ReplicaOptions = {}): Promise<Replica> {
  const publisher = options.publisher ?? new RegistryPublisher({ clusterId: 'test-cluster' });
  const watch = new RegistryWatchServer({
    publisher,
    clock: options.clock,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 200,
    maxBufferedBytes: options.maxBufferedBytes,
    log: pino({ level: 'silent' }),
  });
  const app = express();
  app.use(watch.router);
  const http = createServer(app);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  let stopped = false;
  return {
    publisher,
    watch,
    http,
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      watch.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Polls `cond` every few ms until it holds; `onPoll` may drive a ManualClock. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000, onPoll?: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    onPoll?.();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Reads a watch stream's records as they come (for tests of the server). */
export class RawWatch {
  readonly records: WatchRecord[] = [];
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  ended = false;
  private readonly abort = new AbortController();

  static async open(url: string): Promise<RawWatch> {
    const w = new RawWatch();
    const res = await request(url, { signal: w.abort.signal, bodyTimeout: 0 });
    w.status = res.statusCode;
    w.headers = res.headers;
    const decoder = new RecordIODecoder();
    void (async () => {
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          for (const r of decoder.push(chunk)) w.records.push(JSON.parse(Buffer.from(r).toString('utf8')) as WatchRecord);
        }
      } catch {
        // aborted by close()
      }
      w.ended = true;
    })();
    return w;
  }

  close(): void {
    this.abort.abort();
  }
}
