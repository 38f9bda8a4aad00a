/**
 * The watch client against real replicas (publisher + watch server on
 * 127.0.0.1) and against fake servers that misbehave: snapshot then deltas,
 * resume after a restart without missing a delta, snapshot when the resume
 * point fell out of the window, failover across URLs, garbage / huge length
 * prefixes / bad JSON / invalid records / wrong content type / a stalled
 * stream, and many watchers at once.
 */
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.ts';
import { encodeRecord } from '../../../src/protocol/recordio.ts';
import { RegistryPublisher, type RegistryChange } from '../../../src/registry/registry-publisher.ts';
import type { SnapshotRecord } from '../../../src/registry/types.ts';
import { RegistryWatchClient, type RegistryWatchClientOptions } from '../../../src/registry/watch-client.ts';
import { app, endpoint } from '../../helpers/registry-fixtures.ts';
import { startReplica, waitFor, type Replica } from '../../helpers/registry-harness.ts';

const silent = pino({ level: 'silent' });

interface Watched {
  readonly client: RegistryWatchClient;
  /** `snapshot@rev`, `delta@rev`, `connected:resumed|fresh`, `disconnected` in order. */
  readonly events: string[];
}

describe('registry watch client', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function watch(urls: string[], extra: Partial<RegistryWatchClientOptions> = {}): Watched {
    const client = new RegistryWatchClient({ urls, heartbeatIntervalMs: 1_000, backoff: { minMs: 10, maxMs: 50 }, log: silent, ...extra });
    const events: string[] = [];
    client.on('snapshot', (s) => events.push(`snapshot@${s.revision}`));
    client.on('delta', (d) => events.push(`delta@${d.revision}`));
    client.on('connected', (i) => events.push(`connected:${i.resumed ? 'resumed' : 'fresh'}`));
    client.on('disconnected', () => events.push('disconnected'));
    cleanups.push(() => client.close());
    client.start();
    return { client, events };
  }

  async function replica(options: Parameters<typeof startReplica>[0] = {}): Promise<Replica> {
    const r = await startReplica({ heartbeatIntervalMs: 1_000, ...options });
    cleanups.push(() => r.stop());
    return r;
  }

  function seed(p: RegistryPublisher): void {
    p.publish({ type: 'CLUSTER_UPDATED', cluster: { leader: '127.0.0.1:18080' } });
    p.publish({ type: 'APP_UPDATED', app: app('/shop/web') });
    p.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', 'web.1') });
  }

  it('gets a snapshot, then every delta in order', async () => {
    const r = await replica();
    seed(r.publisher);
    const { client, events } = watch([r.url]);
    await waitFor(() => client.connected, 'connected');
    expect(events).to.deep.equal(['snapshot@3', 'connected:fresh']);
    r.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', 'web.2', { index: 1, ip: '10.0.0.2' }) });
    r.publisher.publish({ type: 'ENDPOINT_DOWN', appId: '/shop/web', taskId: 'web.1' });
    await waitFor(() => client.revision === 5, 'revision 5');
    expect(events).to.deep.equal(['snapshot@3', 'connected:fresh', 'delta@4', 'delta@5']);
    expect(client.state.snapshot()).to.deep.equal(r.publisher.state.snapshot());
    expect(client.state.endpointsOf('/shop/web').map((e) => e.ip)).to.deep.equal(['10.0.0.2']);
    expect(client.lastRecordAt).to.be.a('number');
  });

  it('resumes with RESUMED after the replica restarts with the same state, missing nothing published meanwhile', async () => {
    const a = await replica();
    seed(a.publisher);
    const { client, events } = watch([a.url]);
    await waitFor(() => client.revision === 3, 'first sync');
    await a.stop();
    await waitFor(() => !client.connected, 'disconnected');
    // The restarted replica restores the registry from its state snapshot and moves on while the client is away.
    const restored = new RegistryPublisher({ clusterId: 'test-cluster' });
    restored.restore(a.publisher.state.snapshot());
    restored.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', 'web.2', { index: 1 }) });
    restored.publish({ type: 'APP_UPDATED', app: app('/shop/api') });
    restored.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/api', 'api.1') });
    expect(client.state.endpointsOf('/shop/web')).to.have.length(1);
    await replica({ publisher: restored, port: a.port });
    await waitFor(() => client.revision === 6, 'resumed to revision 6');
    expect(events).to.deep.equal(['snapshot@3', 'connected:fresh', 'disconnected', 'connected:resumed', 'delta@4', 'delta@5', 'delta@6']);
    expect(client.state.snapshot()).to.deep.equal(restored.state.snapshot());
  });

  it('takes a snapshot when the replica comes back with a state beyond its window', async () => {
    const a = await replica();
    seed(a.publisher);
    const { client, events } = watch([a.url]);
    await waitFor(() => client.revision === 3, 'first sync');
    await a.stop();
    const newer = new RegistryPublisher({ clusterId: 'test-cluster', windowCapacity: 2 });
    newer.restore(a.publisher.state.snapshot());
    for (let i = 0; i < 5; i++) newer.publish({ type: 'APP_UPDATED', app: app(`/batch/a${i}`) });
    newer.publish({ type: 'ENDPOINT_DOWN', appId: '/shop/web', taskId: 'web.1' });
    await replica({ publisher: newer, port: a.port });
    await waitFor(() => client.revision === 9, 'snapshot at 9');
    expect(events).to.deep.equal(['snapshot@3', 'connected:fresh', 'disconnected', 'snapshot@9', 'connected:fresh']);
    expect(client.state.snapshot()).to.deep.equal(newer.state.snapshot());
    expect(client.state.endpoint('web.1')).to.equal(undefined);
  });

  it('fails over to the second URL when the first replica dies, and resumes there', async () => {
    const first = await replica();
    const second = await replica();
    const both = (c: RegistryChange): void => {
      first.publisher.publish(c);
      second.publisher.publish(c);
    };
    both({ type: 'APP_UPDATED', app: app('/a') });
    both({ type: 'ENDPOINT_UP', endpoint: endpoint('/a', 'a.1') });
    const { client, events } = watch([first.url, second.url]);
    await waitFor(() => client.revision === 2, 'synced on the first');
    expect(client.currentUrl).to.equal(first.url);
    await first.stop();
    second.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/a', 'a.2', { index: 1 }) });
    await waitFor(() => client.revision === 3, 'failed over');
    expect(client.currentUrl).to.equal(second.url);
    expect(events).to.deep.equal(['snapshot@2', 'connected:fresh', 'disconnected', 'connected:resumed', 'delta@3']);
    expect(client.state.snapshot()).to.deep.equal(second.publisher.state.snapshot());
  });

  it('keeps serving its last state while no replica answers, and close() ends the retries', async () => {
    const a = await replica();
    seed(a.publisher);
    const { client, events } = watch([a.url]);
    await waitFor(() => client.connected, 'connected');
    await a.stop();
    await new Promise((r) => setTimeout(r, 150));
    expect(client.connected).to.equal(false);
    expect(client.state.endpoint('web.1')?.ip).to.equal('10.0.0.1');
    expect(client.revision).to.equal(3);
    await client.close();
    expect(events).to.deep.equal(['snapshot@3', 'connected:fresh', 'disconnected']);
  });

  it('a listener that throws is logged, not fatal', async () => {
    const r = await replica();
    seed(r.publisher);
    const { client } = watch([r.url]);
    client.on('delta', () => {
      throw new Error('listener bug');
    });
    await waitFor(() => client.connected, 'connected');
    r.publisher.publish({ type: 'APP_REMOVED', appId: '/shop/web' });
    r.publisher.publish({ type: 'APP_UPDATED', app: app('/b') });
    await waitFor(() => client.revision === 5, 'both deltas');
    expect(client.connected).to.equal(true);
  });

  it('200 watchers all receive the same deltas', async function () {
    this.timeout(20_000);
    const r = await replica();
    seed(r.publisher);
    const watchers = Array.from({ length: 200 }, () => watch([r.url]));
    await waitFor(() => watchers.every((w) => w.client.connected), '200 connected', 15_000);
    for (let i = 0; i < 20; i++) {
      r.publisher.publish({ type: 'ENDPOINT_UP', endpoint: endpoint('/shop/web', `web.x${i}`, { index: i + 1 }) });
    }
    await waitFor(() => watchers.every((w) => w.client.revision === 23), 'every watcher at 23', 15_000);
    const expected = JSON.stringify(r.publisher.state.snapshot());
    for (const w of watchers) {
      expect(JSON.stringify(w.client.state.snapshot())).to.equal(expected);
      expect(w.events.filter((e) => e.startsWith('delta@'))).to.have.length(20);
    }
    expect(r.watch.watcherCount).to.equal(200);
  });
});

/** A server that speaks just enough HTTP to misbehave, answering each request with `respond(index, url)`. */
class FakeServer {
  readonly urls: string[] = [];
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly respond: (index: number, url: string, res: ServerResponse) => void) {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      this.urls.push(req.url ?? '');
      this.open.add(res);
      res.on('close', () => this.open.delete(res));
      this.respond(this.urls.length - 1, req.url ?? '', res);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const fakeSnapshot: SnapshotRecord = {
  type: 'SNAPSHOT',
  clusterId: 'fake',
  revision: 1,
  cluster: {},
  apps: [{ ...app('/kept'), endpoints: [endpoint('/kept', 'kept.1')] }],
};

function streamHead(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/recordio', 'Message-Content-Type': 'application/json' });
}

/** Answers a good first record (snapshot, or RESUMED when asked to resume), then `bad`. */
function goodThenBad(bad: string | Buffer) {
  return (_index: number, url: string, res: ServerResponse): void => {
    streamHead(res);
    const first = url.includes('since=1') ? { type: 'RESUMED', clusterId: 'fake', revision: 1 } : fakeSnapshot;
    res.write(encodeRecord(JSON.stringify(first)));
    // Separately, so the good record is decoded before the bad bytes arrive (a decoder failure drops its whole chunk).
    setTimeout(() => res.write(bad), 20);
  };
}

describe('registry watch client against a misbehaving server', () => {
  let fake: FakeServer | undefined;
  let client: RegistryWatchClient | undefined;

  afterEach(async () => {
    await client?.close();
    await fake?.close();
    client = undefined;
    fake = undefined;
  });

  async function run(respond: ConstructorParameters<typeof FakeServer>[0], extra: Partial<RegistryWatchClientOptions> = {}): Promise<{ disconnects: string[] }> {
    fake = new FakeServer(respond);
    const url = await fake.listen();
    const disconnects: string[] = [];
    client = new RegistryWatchClient({ urls: [url], heartbeatIntervalMs: 1_000, backoff: { minMs: 5, maxMs: 20 }, log: silent, ...extra });
    client.on('disconnected', (i) => disconnects.push(i.reason));
    client.start();
    const f = fake;
    await waitFor(() => f.urls.length >= 3, 'three attempts');
    return { disconnects };
  }

  const cases: { name: string; bad: string | Buffer; reason: RegExp }[] = [
    { name: 'garbage framing', bad: 'hello world\n', reason: /Malformed RecordIO stream: expected a decimal record length/ },
    { name: 'a huge length prefix', bad: '99999999999999\n', reason: /exceeds the limit/ },
    { name: 'bad JSON', bad: encodeRecord('{"type": "HEARTB'), reason: /bad record .*JSON/ },
    { name: 'bad UTF-8', bad: encodeRecord(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), reason: /bad record .*(encoded|decode)/i },
    { name: 'a record that does not validate', bad: encodeRecord(JSON.stringify({ type: 'ENDPOINT_UP', revision: 2, endpoint: { appId: '/kept' } })), reason: /bad record .*endpoint\.taskId: expected a non-empty string \(required field\), got nothing$/ },
    { name: 'a second SNAPSHOT mid-stream', bad: encodeRecord(JSON.stringify(fakeSnapshot)), reason: /SNAPSHOT in the middle of the stream/ },
  ];

  for (const c of cases) {
    it(`reconnects on ${c.name}, resuming and keeping its state`, async () => {
      const { disconnects } = await run(goodThenBad(c.bad));
      const f = fake!;
      expect(f.urls[0]).to.equal('/v1/registry/watch');
      expect(f.urls.slice(1).every((u) => u === '/v1/registry/watch?since=1'), f.urls.join(' ')).to.equal(true);
      expect(disconnects[0]).to.match(c.reason);
      expect(client!.state.endpoint('kept.1')?.appId).to.equal('/kept');
      expect(client!.state.clusterId).to.equal('fake');
    });
  }

  it('asks for a fresh snapshot after a delta that does not apply to its state', async () => {
    const orphan = { type: 'ENDPOINT_UP', revision: 2, endpoint: endpoint('/unknown', 'u.1') };
    const { disconnects } = await run(goodThenBad(encodeRecord(JSON.stringify(orphan))));
    expect(fake!.urls.every((u) => u === '/v1/registry/watch'), fake!.urls.join(' ')).to.equal(true);
    expect(disconnects[0]).to.match(/does not apply: endpoint.appId: expected an app announced by APP_UPDATED/);
    expect(client!.state.endpoint('u.1')).to.equal(undefined);
  });

  it('reconnects on a heartbeat at another revision, asking for a snapshot', async () => {
    await run(goodThenBad(encodeRecord(JSON.stringify({ type: 'HEARTBEAT', revision: 7 }))));
    expect(fake!.urls.every((u) => u === '/v1/registry/watch')).to.equal(true);
  });

  it('reconnects on a wrong content type or an error status, keeping its state', async () => {
    const { disconnects } = await run((index, _url, res) => {
      if (index === 0) {
        streamHead(res);
        res.end(encodeRecord(JSON.stringify(fakeSnapshot)));
      } else if (index % 2 === 1) {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>hello</html>');
      } else {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('oops');
      }
    });
    await waitFor(() => disconnects.length >= 1 && fake!.urls.length >= 4, 'more attempts');
    expect(disconnects[0]).to.equal('server ended the stream');
    expect(client!.state.endpoint('kept.1')?.appId).to.equal('/kept');
    expect(client!.connected).to.equal(false);
  });

  it('bounds a record by maxRecordBytes', async () => {
    const { disconnects } = await run(goodThenBad(`${2048}\n${'x'.repeat(100)}`), { maxRecordBytes: 1024 });
    expect(disconnects[0]).to.match(/record of (at least )?2048 bytes exceeds the limit of 1024/);
  });

  it('treats a stream with no record for 3 heartbeat intervals as dead (ManualClock)', async () => {
    const clock = new ManualClock();
    fake = new FakeServer((index, url, res) => {
      streamHead(res);
      res.write(encodeRecord(JSON.stringify(url.includes('since=1') ? { type: 'RESUMED', clusterId: 'fake', revision: 1 } : fakeSnapshot)));
      // ...and then silence: no heartbeat, no end.
    });
    const url = await fake.listen();
    const disconnects: string[] = [];
    client = new RegistryWatchClient({ urls: [url], clock, heartbeatIntervalMs: 1_000, backoff: { minMs: 100, maxMs: 100 }, log: silent });
    client.on('disconnected', (i) => disconnects.push(i.reason));
    client.start();
    const c = client;
    await waitFor(() => c.connected, 'connected');
    clock.advance(2_999);
    await new Promise((r) => setTimeout(r, 30));
    expect(c.connected).to.equal(true);
    clock.advance(1);
    await waitFor(() => !c.connected, 'declared dead');
    expect(disconnects).to.have.length(1);
    expect(disconnects[0]).to.match(/no record for 3000 ms \(3 heartbeat intervals\): dead stream/);
    // The backoff runs on the same clock: nothing happens until it advances.
    await new Promise((r) => setTimeout(r, 30));
    expect(fake.urls).to.have.length(1);
    clock.advance(100);
    await waitFor(() => c.connected, 'reconnected');
    expect(fake.urls).to.deep.equal(['/v1/registry/watch', '/v1/registry/watch?since=1']);
    expect(c.state.endpoint('kept.1')?.appId).to.equal('/kept');
  });

  it('asks a replica that cannot resume it for a snapshot at once, and backs off if it refuses again (ManualClock)', async () => {
    const clock = new ManualClock();
    const other: SnapshotRecord = { ...fakeSnapshot, clusterId: 'other', revision: 5, apps: [{ ...app('/new'), endpoints: [endpoint('/new', 'new.1')] }] };
    let refuseAlways = false;
    fake = new FakeServer((index, url, res) => {
      streamHead(res);
      if (index === 0) {
        // The first replica's state (cluster 'fake'); then it goes, as a framework does when a new leader takes over.
        res.end(encodeRecord(JSON.stringify(fakeSnapshot)));
      } else if (url.includes('since=')) {
        res.end(encodeRecord(JSON.stringify({ type: 'RESUMED', clusterId: 'other', revision: 1 })));
      } else if (refuseAlways) {
        res.end(encodeRecord(JSON.stringify({ type: 'RESUMED', clusterId: 'other', revision: 1 })));
      } else {
        res.write(encodeRecord(JSON.stringify(other)));
      }
    });
    const url = await fake.listen();
    const c = new RegistryWatchClient({ urls: [url], clock, heartbeatIntervalMs: 1_000, backoff: { minMs: 100, maxMs: 100 }, log: silent });
    client = c;
    c.start();
    const f = fake;
    await waitFor(() => c.state.clusterId === 'fake' && !c.connected, 'first snapshot, then the stream ended');
    clock.advance(100);
    // The refused resume and the snapshot after it come without the clock moving.
    await waitFor(() => c.connected && c.state.clusterId === 'other', 'the new cluster\'s snapshot');
    expect(f.urls).to.deep.equal(['/v1/registry/watch', '/v1/registry/watch?since=1', '/v1/registry/watch']);
    expect(c.state.endpoint('kept.1')).to.equal(undefined);
    expect(c.state.endpoint('new.1')?.appId).to.equal('/new');

    // A server that answers RESUMED even to a request for a snapshot (broken) gets one quick retry, then the backoff.
    refuseAlways = true;
    await c.close();
    const d = new RegistryWatchClient({ urls: [url], clock, heartbeatIntervalMs: 1_000, backoff: { minMs: 100, maxMs: 100 }, log: silent });
    client = d;
    const before = f.urls.length;
    d.start();
    await waitFor(() => f.urls.length === before + 2, 'the first attempt and its quick retry');
    await new Promise((r) => setTimeout(r, 50));
    expect(f.urls).to.have.length(before + 2);
    clock.advance(100);
    await waitFor(() => f.urls.length === before + 3, 'the next attempt, after the backoff');
    await new Promise((r) => setTimeout(r, 50));
    expect(f.urls, 'no second quick retry before a stream syncs').to.have.length(before + 3);
    clock.advance(100);
    await waitFor(() => f.urls.length === before + 4, 'the next attempt, after the backoff again');
  });

  it('logs a stream the replica ended itself as routine (info), and a cut connection as a warning', async () => {
    const lines: { level: number; msg: string; reason?: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as { level: number; msg: string; reason?: string }); } });
    fake = new FakeServer((index, _url, res) => {
      streamHead(res);
      res.write(encodeRecord(JSON.stringify(fakeSnapshot)));
      // First the replica ends the stream on purpose (as a framework does when leadership changes), then its connection is cut.
      if (index === 0) res.end();
      else if (index === 1) setTimeout(() => res.socket?.destroy(), 20);
    });
    const url = await fake.listen();
    const c = new RegistryWatchClient({ urls: [url], heartbeatIntervalMs: 1_000, backoff: { minMs: 10, maxMs: 10 }, log });
    client = c;
    c.start();
    const f = fake;
    await waitFor(() => f.urls.length >= 3, 'the third connection');
    const ended = lines.filter((l) => l.msg === 'registry watch stream ended; reconnecting');
    expect(ended.map((l) => [l.level, l.reason === 'server ended the stream'])).to.deep.equal([[30, true], [40, false]]);
  });

  it('backs off further each time a peer syncs and then breaks the protocol (ManualClock)', async () => {
    const clock = new ManualClock();
    fake = new FakeServer(goodThenBad('hello world\n'));
    const url = await fake.listen();
    // random ≈ 1: every wait is at its ceiling, min·2^failures: ~200, ~400, ~800 ms.
    const c = new RegistryWatchClient({ urls: [url], clock, random: { next: () => 0.999 }, backoff: { minMs: 100, maxMs: 10_000 }, log: silent });
    client = c;
    let disconnects = 0;
    c.on('disconnected', () => disconnects++);
    c.start();
    const f = fake;
    // 'disconnected' is emitted just before the backoff timer is set, in the same tick.
    await waitFor(() => disconnects === 1, 'first stream broken');
    clock.advance(199);
    await new Promise((r) => setTimeout(r, 30));
    expect(f.urls).to.have.length(1);
    clock.advance(1);
    await waitFor(() => disconnects === 2, 'second attempt after ~200 ms, broken too');
    clock.advance(200);
    await new Promise((r) => setTimeout(r, 30));
    expect(f.urls, 'the wait doubled').to.have.length(2);
    clock.advance(200);
    await waitFor(() => f.urls.length === 3, 'third attempt after ~400 ms');
  });

  it('gives up on a server that accepts the connection but never answers, and close() stops the retries', async () => {
    const sockets = new Set<Socket>();
    let accepted = 0;
    const mute = createTcpServer((sock) => {
      accepted++;
      sockets.add(sock);
      sock.resume();
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const disconnects: string[] = [];
    const c = new RegistryWatchClient({ urls: [`127.0.0.1:${(mute.address() as AddressInfo).port}`], heartbeatIntervalMs: 50, backoff: { minMs: 5, maxMs: 10 }, log: silent });
    c.on('disconnected', (i) => disconnects.push(i.reason));
    c.start();
    try {
      await waitFor(() => accepted >= 2, 'a second connection after the first timed out');
      await c.close();
      await waitFor(() => sockets.size === 0, 'the client closed its sockets');
      const after = accepted;
      await new Promise((r) => setTimeout(r, 100));
      expect(accepted).to.equal(after);
      expect(disconnects).to.deep.equal([]);
      expect(c.connected).to.equal(false);
    } finally {
      await c.close();
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }
  });
});
