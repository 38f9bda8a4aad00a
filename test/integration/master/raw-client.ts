/**
 * A tiny raw HTTP client for the master's APIs in tests (undici): one-shot
 * POSTs that return status/headers/text, and event streams read as RecordIO
 * and decoded with the protocol codec. Not the SDK: it does exactly what the
 * test says, including malformed things.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { decodeBody, encodeBody, type MessageName } from '../../../src/protocol/codec.ts';
import type { MediaType } from '../../../src/protocol/media.ts';
import { RecordIODecoder } from '../../../src/protocol/recordio.ts';

export const dispatcher = new Agent({ connections: 32, keepAliveTimeout: 1000 });

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The raw bytes (protobuf answers). */
  body: Buffer;
}

export async function post(url: string, body: string | Uint8Array, headers: Record<string, string>, method: Dispatcher.HttpMethod = 'POST'): Promise<RawAnswer> {
  const res = await request(url, { method, body: method === 'GET' ? undefined : body, headers, dispatcher });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, text: bytes.toString('utf8'), body: bytes };
}

export async function get(url: string): Promise<RawAnswer> {
  const res = await request(url, { method: 'GET', dispatcher });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, text: bytes.toString('utf8'), body: bytes };
}

export function json(msg: object): { body: string; headers: Record<string, string> } {
  return { body: JSON.stringify(msg), headers: { 'content-type': 'application/json', accept: 'application/json' } };
}

/** An open event stream: `next()` resolves with the next decoded event (or rejects on timeout / end). */
export class EventReader<E> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly streamId: string;
  private readonly queue: E[] = [];
  private waiters: ((e: E | undefined) => void)[] = [];
  private ended = false;
  private readonly abort = new AbortController();
  readonly raw: Buffer[] = [];

  private constructor(res: Dispatcher.ResponseData, name: MessageName, media: MediaType, ctrl: AbortController) {
    this.status = res.statusCode;
    this.headers = res.headers;
    this.streamId = String(res.headers['mesos-stream-id'] ?? '');
    this.abort = ctrl;
    const decoder = new RecordIODecoder();
    void (async () => {
      try {
        for await (const chunk of res.body) {
          this.raw.push(Buffer.from(chunk as Buffer));
          for (const rec of decoder.push(chunk as Buffer)) this.deliver(decodeBody<E>(name, media, rec));
        }
      } catch {
        // aborted or broken: treated as end of stream
      }
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    })();
  }

  static async open<E>(url: string, name: MessageName, media: MediaType, callName: MessageName, call: object, extraHeaders: Record<string, string> = {}): Promise<EventReader<E>> {
    const ctrl = new AbortController();
    const res = await request(url, {
      method: 'POST',
      body: encodeBody(callName, media, call),
      headers: { 'content-type': media, accept: media, ...extraHeaders },
      signal: ctrl.signal,
      dispatcher,
    });
    if (res.statusCode !== 200) throw new Error(`subscribe answered ${res.statusCode}: ${await res.body.text()}`);
    // Records are read in the type the master answered with, which need not be the request's.
    const answered = String(res.headers['content-type'] ?? '').split(';')[0]?.trim();
    return new EventReader<E>(res, name, answered === 'application/x-protobuf' || answered === 'application/json' ? answered : media, ctrl);
  }

  private deliver(e: E): void {
    const w = this.waiters.shift();
    if (w !== undefined) w(e);
    else this.queue.push(e);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Next event, waiting up to timeoutMs (generous: tests run on a loaded machine). */
  async next(timeoutMs = 10_000): Promise<E> {
    const q = this.queue.shift();
    if (q !== undefined) return q;
    if (this.ended) throw new Error('stream ended');
    return new Promise<E>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no event within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (e: E | undefined): void => {
        clearTimeout(timer);
        if (e === undefined) reject(new Error('stream ended'));
        else resolve(e);
      };
      this.waiters.push(waiter);
    });
  }

  /** Skips events until one matches (HEARTBEATs and others in between). */
  async nextMatching(pred: (e: E) => boolean, timeoutMs = 10_000): Promise<E> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (pred(e)) return e;
    }
  }

  /** Resolves when the server ends the stream. */
  async ended$(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      try {
        await this.next(Math.max(1, deadline - Date.now()));
      } catch {
        // ended or timed out: loop re-checks
      }
    }
  }

  close(): void {
    this.abort.abort();
  }
}
