import { expect } from 'chai';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { request } from 'undici';
import { systemClock } from '../../../../src/common/clock.ts';
import { EventBus } from '../../../../src/framework/api/event-bus.ts';

interface Frame { id?: string; event: string; data: Record<string, unknown> }

/** One SSE client of the bus: frames as they arrive, until `close()`. */
class Client {
  readonly frames: Frame[] = [];
  private readonly abort = new AbortController();
  readonly ready: Promise<void>;
  constructor(url: string, headers: Record<string, string> = {}) {
    this.ready = request(url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.abort.signal }).then((res) => {
      let buf = '';
      res.body.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const f: { id?: string; event?: string; data?: string } = {};
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) f.id = line.slice(4);
            else if (line.startsWith('event: ')) f.event = line.slice(7);
            else if (line.startsWith('data: ')) f.data = line.slice(6);
          }
          if (f.event !== undefined && f.data !== undefined) this.frames.push({ ...(f.id !== undefined ? { id: f.id } : {}), event: f.event, data: JSON.parse(f.data) as Record<string, unknown> });
        }
      });
      res.body.on('error', () => undefined);
    });
  }
  types(): string[] {
    return this.frames.map((f) => f.event);
  }
  close(): void {
    this.abort.abort();
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('framework event bus (/v2/events)', () => {
  let bus: EventBus;
  let server: Server;
  let url: string;
  const clients: Client[] = [];
  const open = (query = '', headers: Record<string, string> = {}): Client => {
    const c = new Client(`${url}${query}`, headers);
    clients.push(c);
    return c;
  };
  const status = (taskId: string) => ({ eventType: 'status_update_event', timestamp: new Date().toISOString(), taskId });
  const deployed = (id: string) => ({ eventType: 'deployment_success', timestamp: new Date().toISOString(), id });

  beforeEach(async () => {
    bus = new EventBus(systemClock);
    const app = express();
    app.get('/v2/events', (req, res) => bus.attach(req, res));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/events`;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    bus.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('sends a subscriber that names event types those types only, event_stream_attached included (as Marathon filters it)', async () => {
    const filtered = open('?event_type=status_update_event');
    const all = open();
    await Promise.all([filtered.ready, all.ready]);
    await until(() => all.types().filter((t) => t === 'event_stream_attached').length >= 1 && bus.subscriberCount === 2, 'both attached');
    bus.publish(status('t1'), 1);
    bus.publish(deployed('d1'), 2);
    await until(() => all.types().includes('deployment_success') && filtered.frames.length >= 1, 'the events');
    await new Promise((r) => setTimeout(r, 50));
    expect(filtered.types()).to.deep.equal(['status_update_event']);
    expect(filtered.frames[0]?.data.taskId).to.equal('t1');
    expect(all.types()).to.include.members(['event_stream_attached', 'status_update_event', 'deployment_success']);
  });

  it('tells every subscriber when another attaches and detaches, with its address, as Marathon does', async () => {
    const first = open();
    await first.ready;
    await until(() => first.types().includes('event_stream_attached'), 'its own attach');
    const second = open('?event_type=event_stream_attached,deployment_success');
    await second.ready;
    await until(() => first.types().filter((t) => t === 'event_stream_attached').length === 2, "the second's attach");
    expect(second.types()).to.deep.equal(['event_stream_attached']);
    expect(first.frames[1]?.data.remoteAddress).to.be.a('string').and.not.equal('');
    second.close();
    await until(() => first.types().includes('event_stream_detached'), "the second's detach");
    expect(bus.subscriberCount).to.equal(1);
  });

  it('gives attach and detach news no id, so a resume from the last event id misses nothing and repeats nothing', async () => {
    const first = open();
    await first.ready;
    bus.publish(status('t1'), 5);
    await until(() => first.types().includes('status_update_event'), 't1');
    const lastId = first.frames.find((f) => f.event === 'status_update_event')?.id;
    expect(lastId).to.equal('5.0');
    expect(first.frames.filter((f) => f.event.startsWith('event_stream_')).every((f) => f.id === undefined)).to.equal(true);
    first.close();
    await until(() => bus.subscriberCount === 0, 'the first to go');
    bus.publish(status('t2'), 6);
    bus.publish(deployed('d2'), 7);
    const resumed = open('', { 'last-event-id': lastId as string });
    await resumed.ready;
    await until(() => resumed.types().includes('deployment_success') && resumed.types().includes('event_stream_attached'), 'the replay');
    expect(resumed.frames.filter((f) => f.id !== undefined).map((f) => f.id)).to.deep.equal(['6.0', '7.0']);
  });
});
