import { expect } from 'chai';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { systemClock } from '../../../../src/common/clock.ts';
import { EventBus } from '../../../../src/framework/api/event-bus.ts';
import { EventRecorder } from '../../../helpers/framework-api.ts';

/** The event types a recorder got, in order. */
const types = (r: EventRecorder): string[] => r.events.map((e) => e.event);

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
  let base: string;
  const clients: EventRecorder[] = [];
  const open = (query = '', headers: Record<string, string> = {}): EventRecorder => {
    const c = new EventRecorder(base, headers, query);
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
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    await until(() => types(all).filter((t) => t === 'event_stream_attached').length >= 1 && bus.subscriberCount === 2, 'both attached');
    bus.publish(status('t1'), 1);
    bus.publish(deployed('d1'), 2);
    await until(() => types(all).includes('deployment_success') && filtered.events.length >= 1, 'the events');
    await new Promise((r) => setTimeout(r, 50));
    expect(types(filtered)).to.deep.equal(['status_update_event']);
    expect(filtered.events[0]?.data.taskId).to.equal('t1');
    expect(types(all)).to.include.members(['event_stream_attached', 'status_update_event', 'deployment_success']);
  });

  it('tells every subscriber when another attaches and detaches, with its address, as Marathon does', async () => {
    const first = open();
    await first.ready;
    await until(() => types(first).includes('event_stream_attached'), 'its own attach');
    const second = open('?event_type=event_stream_attached,deployment_success');
    await second.ready;
    await until(() => types(first).filter((t) => t === 'event_stream_attached').length === 2, "the second's attach");
    expect(types(second)).to.deep.equal(['event_stream_attached']);
    expect(first.events[1]?.data.remoteAddress).to.be.a('string').and.not.equal('');
    second.close();
    await until(() => types(first).includes('event_stream_detached'), "the second's detach");
    expect(bus.subscriberCount).to.equal(1);
  });

  it('gives attach and detach news no id, so a resume from the last event id misses nothing and repeats nothing', async () => {
    const first = open();
    await first.ready;
    bus.publish(status('t1'), 5);
    await until(() => types(first).includes('status_update_event'), 't1');
    const lastId = first.events.find((f) => f.event === 'status_update_event')?.id;
    expect(lastId).to.equal('5.0');
    expect(first.events.filter((f) => f.event.startsWith('event_stream_')).every((f) => f.id === undefined)).to.equal(true);
    first.close();
    await until(() => bus.subscriberCount === 0, 'the first to go');
    bus.publish(status('t2'), 6);
    bus.publish(deployed('d2'), 7);
    const resumed = open('', { 'last-event-id': lastId as string });
    await resumed.ready;
    await until(() => types(resumed).includes('deployment_success') && types(resumed).includes('event_stream_attached'), 'the replay');
    expect(resumed.events.filter((f) => f.id !== undefined).map((f) => f.id)).to.deep.equal(['6.0', '7.0']);
  });
});
