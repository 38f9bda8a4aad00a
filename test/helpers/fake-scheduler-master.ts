/**
 * An in-process stand-in for a Mesos master's Scheduler API endpoint, for
 * testing scheduler clients: it records every SUBSCRIBE and call, and lets the
 * test push JSON events into the open stream, end it, or answer with a
 * redirect / error. Listens on 127.0.0.1, port 0. Not a master: no logic.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SchedulerCall, SchedulerEvent } from '../../src/protocol/mesos-types.ts';

export interface RecordedCall {
  readonly call: SchedulerCall;
  readonly streamId: string | undefined;
  /** Types of the calls that had arrived but were not yet answered when this one arrived. */
  readonly unansweredAtArrival: readonly string[];
}

export type SubscribeAnswer =
  | { readonly kind: 'accept'; readonly frameworkId?: string; readonly heartbeatIntervalSeconds?: number }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'status'; readonly status: number; readonly body: string };

export class FakeSchedulerMaster {
  readonly subscribes: SchedulerCall[] = [];
  readonly calls: RecordedCall[] = [];
  /** Answer for the next SUBSCRIBEs (first element first; the last one repeats). */
  subscribeAnswers: SubscribeAnswer[] = [{ kind: 'accept' }];
  /** Status for non-SUBSCRIBE calls. */
  callStatus = 202;
  callBody = '';
  /** The next `times` calls of these types are answered 503 (a master failing over). */
  failCalls: { types: readonly string[]; times: number } = { types: [], times: 0 };
  /** Calls of these types are answered only after this long (a slow master). */
  slowCalls: { types: readonly string[]; delayMs: number } = { types: [], delayMs: 0 };
  private server: Server | undefined;
  private stream: ServerResponse | undefined;
  private streamCount = 0;
  private waiters: (() => void)[] = [];
  private readonly unanswered: string[] = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this.address;
  }

  get address(): string {
    const a = this.server?.address() as AddressInfo;
    return `127.0.0.1:${a.port}`;
  }

  get currentStreamId(): string | undefined {
    return this.stream === undefined ? undefined : `stream-${this.streamCount}`;
  }

  /** Pushes one event (JSON) into the open subscription stream. */
  send(event: SchedulerEvent): void {
    if (this.stream === undefined) throw new Error('no open stream');
    const bytes = Buffer.from(JSON.stringify(event));
    this.stream.write(`${bytes.length}\n`);
    this.stream.write(bytes);
  }

  /** Ends the open stream (as a master does when it fails over or drops the framework). */
  endStream(): void {
    this.stream?.end();
    this.stream = undefined;
  }

  /** Resolves once `pred()` holds (checked after every request). */
  async waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`fake master: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  async stop(): Promise<void> {
    this.stream?.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const call = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SchedulerCall;
    if (call.type === 'SUBSCRIBE') {
      this.subscribes.push(call);
      const answer = this.subscribeAnswers.length > 1 ? this.subscribeAnswers.shift()! : this.subscribeAnswers[0]!;
      this.answerSubscribe(call, answer, res);
    } else {
      const sid = req.headers['mesos-stream-id'];
      const type = call.type ?? '';
      this.calls.push({ call, streamId: Array.isArray(sid) ? sid[0] : sid, unansweredAtArrival: [...this.unanswered] });
      this.unanswered.push(type);
      if (this.slowCalls.types.includes(type)) await new Promise((r) => setTimeout(r, this.slowCalls.delayMs));
      this.unanswered.splice(this.unanswered.indexOf(type), 1);
      if (this.failCalls.times > 0 && this.failCalls.types.includes(type)) {
        this.failCalls = { ...this.failCalls, times: this.failCalls.times - 1 };
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('not now');
      } else {
        res.writeHead(this.callStatus, { 'content-type': 'text/plain' });
        res.end(this.callBody);
      }
    }
    for (const w of this.waiters.splice(0)) w();
  }

  private answerSubscribe(call: SchedulerCall, answer: SubscribeAnswer, res: ServerResponse): void {
    if (answer.kind === 'redirect') {
      res.writeHead(307, { location: answer.location });
      res.end();
      return;
    }
    if (answer.kind === 'status') {
      res.writeHead(answer.status, { 'content-type': 'text/plain' });
      res.end(answer.body);
      return;
    }
    this.streamCount++;
    this.stream?.destroy();
    res.writeHead(200, { 'content-type': 'application/json', 'mesos-stream-id': `stream-${this.streamCount}` });
    this.stream = res;
    res.on('close', () => {
      if (this.stream === res) this.stream = undefined;
    });
    const frameworkId = call.framework_id?.value ?? answer.frameworkId ?? 'fw-1';
    this.send({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: frameworkId }, heartbeat_interval_seconds: answer.heartbeatIntervalSeconds ?? 15 } });
  }
}
