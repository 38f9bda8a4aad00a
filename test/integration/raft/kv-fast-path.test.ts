/**
 * examples/kv's node:http hot paths (fast-path.ts) answer exactly as its
 * express app does: the same request is sent to a server with the fast paths
 * and to the bare express app over one single-member RaftNode, and status,
 * content type and body must match — for PUT, GET of a present and a missing
 * key, and keys the fast path leaves to express.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { withFastPaths } from '../../../examples/kv/fast-path.ts';
import { buildKvApp } from '../../../examples/kv/server.ts';
import { KvStateMachine, type KvResult } from '../../../examples/kv/state-machine.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import { FileStorage } from '../../../src/raft/file-storage.ts';
import { MemoryNetwork } from '../../../src/raft/memory-transport.ts';
import { RaftNode } from '../../../src/raft/node.ts';
import { sleep } from './helpers.ts';

const silent = pino({ level: 'silent' });

describe('examples/kv fast paths answer as the express app', function () {
  this.timeout(20_000);
  let base: string;
  let node: RaftNode<KvResult>;
  const servers: Server[] = [];

  async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'cygnet-kv-fast-'));
    const sm = new KvStateMachine();
    node = await RaftNode.start<KvResult>({
      id: 1,
      peers: new Map([[1, 'node-1']]),
      storage: new FileStorage(join(base, 'n1'), { log: silent }),
      transport: new MemoryNetwork().transport(1),
      stateMachine: sm,
      tickMs: 10,
      random: new SeededRandom(1),
      log: silent,
    });
    for (let i = 0; i < 200 && node.status().role !== 'leader'; i++) await sleep(10);
    expect(node.status().role).to.equal('leader');
    const app = buildKvApp(node, sm);
    fast = await listen(withFastPaths(node, sm, app));
    plain = await listen(app);
  });
  let fast = '';
  let plain = '';

  after(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    await node.close();
    await rm(base, { recursive: true, force: true });
  });

  async function both(method: 'GET' | 'PUT', path: string, body?: string): Promise<void> {
    const answers = [];
    for (const origin of [fast, plain]) {
      const res = await request(`${origin}${path}`, { method, ...(body !== undefined ? { body } : {}) });
      answers.push({ status: res.statusCode, type: res.headers['content-type'], body: await res.body.text() });
    }
    expect(answers[0], `${method} ${path}`).to.deep.equal(answers[1]);
  }

  it('PUT, then GET of the key, of a missing key, and of keys left to express', async () => {
    await both('PUT', '/kv/alpha', 'one');
    await both('GET', '/kv/alpha');
    await both('GET', '/kv/missing');
    await both('PUT', '/kv/with%20space', 'two');
    await both('GET', '/kv/with%20space');
    await both('GET', '/kv/');
    const res = await request(`${fast}/kv/alpha`);
    expect(res.statusCode).to.equal(200);
    expect(await res.body.text()).to.equal('one');
  });
});
