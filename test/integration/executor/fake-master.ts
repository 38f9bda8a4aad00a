/**
 * A minimal master for agent tests: speaks the cygnet.agent protocol with the
 * real codec over a real socket (node:http on 127.0.0.1, ephemeral port),
 * records every call, and lets the test push events and wait for calls.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { AgentCall, AgentEvent } from '../../../src/protocol/agent-types.ts';
import { decodeBody, encodeBody } from '../../../src/protocol/codec.ts';
import { requestMediaType } from '../../../src/protocol/media.ts';
import { encodeRecord } from '../../../src/protocol/recordio.ts';

export class FakeMaster {
  readonly calls: AgentCall[] = [];
  /** Bodies the fake master could not decode (a test asserts this stays empty). */
  readonly errors: string[] = [];
  /** Called synchronously when an UPDATE arrives (before it is answered). */
  onUpdate: ((status: NonNullable<AgentCall['update']>['status']) => void) | undefined;
  /** Tasks whose every UPDATE is acknowledged as soon as it arrives. */
  readonly autoAck = new Set<string>();
  private server: Server | undefined;
  private stream: { res: ServerResponse; media: 'application/json' | 'application/x-protobuf'; id: string } | undefined;
  private waiters: { pred: (c: AgentCall[]) => boolean; resolve: () => void }[] = [];
  private nextAgent = 1;
  private heartbeat: NodeJS.Timeout | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => { void this.handle(req, res); });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    this.heartbeat = setInterval(() => { if (this.stream) this.send({ type: 'HEARTBEAT' }); }, 200);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    this.stream?.res.destroy();
    this.stream = undefined;
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  send(event: AgentEvent): void {
    const s = this.stream;
    if (!s) throw new Error('no agent subscribed');
    s.res.write(encodeRecord(encodeBody('cygnet.agent.Event', s.media, event)));
  }

  /** Writes raw bytes on the event stream (malformed-input tests). */
  sendRaw(bytes: Uint8Array): void {
    this.stream?.res.write(bytes);
  }

  /** Drops the event stream (like a network cut or a master crash). */
  dropStream(): void {
    this.stream?.res.destroy();
    this.stream = undefined;
  }

  updates(): NonNullable<AgentCall['update']>['status'][] {
    return this.calls.filter((c) => c.type === 'UPDATE').map((c) => c.update!.status);
  }

  waitFor(pred: (calls: AgentCall[]) => boolean, what: string, timeoutMs = 15000): Promise<void> {
    if (pred(this.calls)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; calls: ${this.calls.map(describe).join(', ')}; errors: ${this.errors.join('; ')}`)), timeoutMs);
      this.waiters.push({ pred, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  waitForUpdate(taskId: string, state: string, what = `${state} of ${taskId}`): Promise<void> {
    return this.waitFor(() => this.updates().some((s) => s.task_id.value === taskId && s.state === state), what);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/api/v1/agent') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let media: 'application/json' | 'application/x-protobuf';
    let call: AgentCall;
    try {
      media = requestMediaType(req.headers['content-type']);
      call = decodeBody<AgentCall>('cygnet.agent.Call', media, media === 'application/json' ? Buffer.concat(chunks).toString('utf8') : Buffer.concat(chunks));
    } catch (err) {
      this.errors.push(String(err));
      res.writeHead(400).end(String(err));
      return;
    }
    this.calls.push(call);
    const st = call.update?.status;
    if (call.type === 'UPDATE' && st !== undefined) this.onUpdate?.(st);
    if (call.type === 'UPDATE' && st !== undefined && this.autoAck.has(st.task_id.value) && st.uuid !== undefined) {
      // Acknowledged for the task's framework, as a real master does (task ids are unique per framework only).
      const fw = call.update?.framework_id?.value ?? 'fw1';
      setImmediate(() => this.stream && this.send({ type: 'ACKNOWLEDGE', acknowledge: { framework_id: { value: fw }, task_id: st.task_id, uuid: st.uuid! } }));
    }
    if (call.type === 'SUBSCRIBE') {
      const id = randomUUID();
      this.stream?.res.destroy();
      res.writeHead(200, { 'content-type': media, 'mesos-stream-id': id });
      this.stream = { res, media, id };
      const agentId = call.subscribe?.agent_info.id?.value ?? `agent-${this.nextAgent++}`;
      this.send({ type: 'SUBSCRIBED', subscribed: { agent_id: { value: agentId }, heartbeat_interval_seconds: 0.5 } });
    } else {
      res.writeHead(req.headers['mesos-stream-id'] === this.stream?.id ? 202 : 400).end();
    }
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(this.calls)) return true;
      w.resolve();
      return false;
    });
  }
}

function describe(c: AgentCall): string {
  return c.type === 'UPDATE' ? `UPDATE(${c.update?.status.task_id.value} ${c.update?.status.state})` : c.type;
}
