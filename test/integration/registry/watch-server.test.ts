/**
 * The watch server on real sockets, read by a raw RecordIO reader (no
 * client logic in the way): headers, snapshot vs resume, `since`
 * validation, idle-only heartbeats on a ManualClock, close(), restore, and a
 * watcher that stops reading.
 */
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import { ManualClock } from '../../../src/common/clock.ts';
import { RegistryPublisher } from '../../../src/registry/registry-publisher.ts';
import type { WatchRecord } from '../../../src/registry/types.ts';
import { app, endpoint } from '../../helpers/registry-fixtures.ts';
import { RawWatch, startReplica, waitFor, type Replica } from '../../helpers/registry-harness.ts';

function types(records: readonly WatchRecord[]): string[] {
  return records.map((r) => `${r.type}@${r.revision}`);
}

describe('registry watch server', () => {
  let replica: Replica;
  const raws: RawWatch[] = [];

  beforeEach(async () => {
    replica = await startReplica();
    replica.publisher.publish({ type: 'APP_UPDATED', app: app('/a') });
    replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/a', 't1') });
  });

  afterEach(async () => {
    for (const r of raws.splice(0)) r.close();
    await replica.stop();
  });

  async function open(query = ''): Promise<RawWatch> {
    const w = await RawWatch.open(`${replica.url}/v1/registry/watch${query}`);
    raws.push(w);
    return w;
  }

  it('serves the snapshot as JSON on /v1/registry', async () => {
    const res = await request(`${replica.url}/v1/registry`);
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/json');
    expect(await res.body.json()).to.deep.equal(replica.publisher.state.snapshot());
  });

  it('streams a snapshot then live deltas, with the contract headers', async () => {
    const w = await open();
    expect(w.status).to.equal(200);
    expect(w.headers['content-type']).to.equal('application/recordio');
    expect(w.headers['message-content-type']).to.equal('application/json');
    await waitFor(() => w.records.length === 1, 'snapshot');
    expect(w.records[0]).to.deep.equal(replica.publisher.state.snapshot());
    replica.publisher.publish({ type: 'ENDPOINT_DOWN', appId: '/a', taskId: 't1' });
    await waitFor(() => w.records.length === 2, 'delta');
    expect(w.records[1]).to.deep.equal({ type: 'ENDPOINT_DOWN', revision: 3, appId: '/a', taskId: 't1' });
  });

  it('resumes from the window, and answers a snapshot to a since it cannot serve', async () => {
    const resumed = await open('?since=1');
    await waitFor(() => resumed.records.length === 2, 'RESUMED and one delta');
    expect(types(resumed.records)).to.deep.equal(['RESUMED@1', 'ENDPOINT_UP@2']);
    expect(resumed.records[0]).to.deep.equal({ type: 'RESUMED', clusterId: 'test-cluster', revision: 1 });
    const current = await open('?since=2');
    await waitFor(() => current.records.length === 1, 'RESUMED');
    expect(types(current.records)).to.deep.equal(['RESUMED@2']);
    const ahead = await open('?since=99');
    await waitFor(() => ahead.records.length === 1, 'snapshot');
    expect(types(ahead.records)).to.deep.equal(['SNAPSHOT@2']);
  });

  it('answers 400 naming `since` when it is not one non-negative integer', async () => {
    for (const q of ['?since=abc', '?since=-1', '?since=1.5', '?since=', '?since=99999999999999999', '?since=1&since=2']) {
      const res = await request(`${replica.url}/v1/registry/watch${q}`);
      expect(res.statusCode, q).to.equal(400);
      const body = (await res.body.json()) as { error: string; code: string };
      expect(body.code).to.equal('CYG_VALIDATION');
      expect(body.error, q).to.match(/^since: expected (a non-negative integer revision|one revision), got /);
    }
    expect(replica.watch.watcherCount).to.equal(0);
  });

  it('answers HEAD with the stream headers and no stream', async () => {
    const res = await request(`${replica.url}/v1/registry/watch`, { method: 'HEAD' });
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/recordio');
    await res.body.dump();
    expect(replica.watch.watcherCount).to.equal(0);
  });

  it('close() ends every stream and removes every subscription; later requests get 503', async () => {
    const a = await open();
    const b = await open('?since=1');
    await waitFor(() => replica.watch.watcherCount === 2 && a.records.length > 0 && b.records.length > 0, 'two watchers');
    expect(replica.publisher.subscriberCount).to.equal(2);
    replica.watch.close();
    await waitFor(() => a.ended && b.ended, 'both streams ended');
    expect(replica.watch.watcherCount).to.equal(0);
    expect(replica.publisher.subscriberCount).to.equal(0);
    const res = await request(`${replica.url}/v1/registry/watch`);
    expect(res.statusCode).to.equal(503);
    await res.body.dump();
  });

  it('suspend() ends every stream and refuses new ones with 503 naming why; resume() serves again', async () => {
    const a = await open();
    await waitFor(() => a.records.length > 0, 'snapshot');
    replica.watch.suspend('this replica has known no leader for 2000 ms');
    await waitFor(() => a.ended, 'stream ended by suspend');
    expect(replica.publisher.subscriberCount).to.equal(0);
    for (const path of ['/v1/registry/watch', '/v1/registry']) {
      const res = await request(`${replica.url}${path}`);
      expect(res.statusCode, path).to.equal(503);
      expect(await res.body.json(), path).to.deep.equal({ code: 'CYG_NO_LEADER', error: 'registry watch suspended: this replica has known no leader for 2000 ms; watch another replica' });
    }
    replica.watch.resume();
    const b = await open('?since=1');
    await waitFor(() => b.records.length > 0, 'resumed stream');
    expect(types(b.records)).to.deep.equal(['RESUMED@1', 'ENDPOINT_UP@2']);
  });

  it('forgets a watcher whose peer goes away', async () => {
    const a = await open();
    await waitFor(() => a.records.length === 1, 'snapshot');
    a.close();
    await waitFor(() => replica.watch.watcherCount === 0, 'watcher gone');
    expect(replica.publisher.subscriberCount).to.equal(0);
  });

  it('restore() ends current streams so their watchers start over', async () => {
    const a = await open();
    await waitFor(() => a.records.length === 1, 'snapshot');
    const other = new RegistryPublisher({ clusterId: 'test-cluster' });
    for (let i = 0; i < 5; i++) other.publish({ type: 'APP_UPDATED', app: app(`/x${i}`) });
    replica.publisher.restore(other.state.snapshot());
    await waitFor(() => a.ended, 'stream ended by restore');
    expect(replica.publisher.revision).to.equal(5);
    expect(replica.publisher.subscriberCount).to.equal(0);
  });
});

describe('registry watch server heartbeats (ManualClock)', () => {
  let replica: Replica;
  let w: RawWatch | undefined;
  const clock = new ManualClock();

  before(async () => {
    replica = await startReplica({ clock, heartbeatIntervalMs: 1_000 });
  });

  after(async () => {
    w?.close();
    await replica.stop();
  });

  it('sends HEARTBEAT only after a whole idle interval, with the current revision', async () => {
    w = await RawWatch.open(`${replica.url}/v1/registry/watch`);
    const raw = w;
    await waitFor(() => raw.records.length === 1, 'snapshot');
    clock.advance(999);
    replica.publisher.publish({ type: 'APP_UPDATED', app: app('/a') });
    await waitFor(() => raw.records.length === 2, 'delta');
    // The delta reset the idle time: the timer due at 1000 finds the stream busy and re-arms.
    clock.advance(500);
    await new Promise((r) => setTimeout(r, 30));
    expect(types(raw.records)).to.deep.equal(['SNAPSHOT@0', 'APP_UPDATED@1']);
    clock.advance(500);
    await waitFor(() => raw.records.length === 3, 'heartbeat');
    expect(raw.records[2]).to.deep.equal({ type: 'HEARTBEAT', revision: 1 });
    clock.advance(1_000);
    await waitFor(() => raw.records.length === 4, 'second heartbeat');
    expect(types(raw.records)).to.deep.equal(['SNAPSHOT@0', 'APP_UPDATED@1', 'HEARTBEAT@1', 'HEARTBEAT@1']);
  });
});

describe('registry watch server and a watcher that stops reading', () => {
  /**
   * A consumer that stops reading (paused, wedged) must not make the
   * framework buffer every later delta for it. The server cuts it off once
   * more than maxBufferedBytes wait in its socket's queue; the kernel's
   * buffers absorb some megabytes first, so the test publishes big deltas
   * until the cut and then checks the queue never went past the bound.
   */
  let replica: Replica;
  let socket: Socket | undefined;
  const maxBufferedBytes = 256 * 1024;

  before(async () => {
    replica = await startReplica({ publisher: new RegistryPublisher({ clusterId: 'c', windowCapacity: 16 }), maxBufferedBytes });
  });

  after(async () => {
    socket?.destroy();
    await replica.stop();
  });

  it('disconnects it once its queue passes the bound, without growing beyond it', async () => {
    const s = connect({ host: '127.0.0.1', port: replica.port });
    socket = s;
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.write('GET /v1/registry/watch HTTP/1.1\r\nHost: x\r\n\r\n');
    s.pause();
    await waitFor(() => replica.watch.watcherCount === 1, 'watcher registered');
    const bigLabel = 'x'.repeat(64 * 1024);
    let maxQueued = 0;
    for (let i = 0; i < 2_000 && replica.watch.watcherCount > 0; i++) {
      replica.publisher.publish({ type: 'APP_UPDATED', app: app('/big', { labels: { BLOB: bigLabel, N: String(i) } }) });
      maxQueued = Math.max(maxQueued, replica.watch.queuedBytes());
      // Let the socket move what it can into the kernel, as a live server would between deltas.
      await new Promise((r) => setImmediate(r));
    }
    expect(replica.watch.watcherCount).to.equal(0);
    expect(replica.watch.slowWatchersCut).to.equal(1);
    expect(replica.publisher.subscriberCount).to.equal(0);
    expect(maxQueued).to.be.at.most(maxBufferedBytes);
    expect(replica.watch.queuedBytes()).to.equal(0);
  });
});
