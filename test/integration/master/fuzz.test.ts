/**
 * Property: whatever body arrives at /api/v1/scheduler (and /api/v1/agent) —
 * random JSON, mutated valid calls, random bytes, mutated valid protobuf —
 * the master answers with a 2xx or 4xx, never a 5xx, never crashes, and still
 * answers /health afterwards. Seeded: a failure prints the seed and the body.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { randomInt, SeededRandom, type Random } from '../../../src/common/random.ts';
import { encodeProtobuf, type MessageName } from '../../../src/protocol/codec.ts';
import { startMaster, type MasterHandle } from '../../../src/master/master.ts';
import type { AgentEvent, SchedulerEvent } from '../../../src/master/wire.ts';
import { dispatcher, EventReader, get } from './raw-client.ts';
import { request } from 'undici';

const SEED = Number(process.env.CYGNET_FUZZ_SEED ?? 20261122);
const CASES = 2500;
const CONCURRENCY = 16;

function validSchedulerCalls(f: string, a: string): object[] {
  return [
  { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'fuzz', roles: ['a'], capabilities: [{ type: 'MULTI_ROLE' }] } } },
  { type: 'ACCEPT', framework_id: { value: f }, accept: { offer_ids: [{ value: 'o1' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 't', task_id: { value: 't' }, agent_id: { value: a }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } }], command: { value: 'true' } }] } }], filters: { refuse_seconds: 1 } } },
  { type: 'DECLINE', framework_id: { value: f }, decline: { offer_ids: [{ value: 'o1' }], filters: { refuse_seconds: 5 } } },
  { type: 'KILL', framework_id: { value: f }, kill: { task_id: { value: 't' }, agent_id: { value: a } } },
  { type: 'ACKNOWLEDGE', framework_id: { value: f }, acknowledge: { agent_id: { value: a }, task_id: { value: 't' }, uuid: Buffer.alloc(16, 3).toString('base64') } },
  { type: 'RECONCILE', framework_id: { value: f }, reconcile: { tasks: [{ task_id: { value: 't' } }] } },
  { type: 'REVIVE', framework_id: { value: f }, revive: { roles: ['a'] } },
  { type: 'SUPPRESS', framework_id: { value: f }, suppress: { roles: ['a'] } },
  ];
}

function validAgentCalls(a: string): object[] {
  return [
  { type: 'SUBSCRIBE', subscribe: { agent_info: { hostname: 'h', port: 1, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] } } },
  { type: 'UPDATE', agent_id: { value: a }, update: { status: { task_id: { value: 't' }, state: 'TASK_RUNNING', uuid: Buffer.alloc(16, 1).toString('base64') } } },
  { type: 'HEARTBEAT', agent_id: { value: a } },
  ];
}

const WEIRD: unknown[] = [null, true, false, 0, -1, 1e308, -1e308, 2 ** 64, 0.5, '', 'x'.repeat(300), '\u0000', 'SUBSCRIBE', 'TASK_RUNNING', [], {}, [null], { value: 5 }, { value: '' }, NaN];

function pick<T>(rng: Random, xs: readonly T[]): T {
  return xs[randomInt(rng, 0, xs.length)];
}

function randomJson(rng: Random, depth: number): unknown {
  const k = randomInt(rng, 0, depth > 4 ? 4 : 7);
  switch (k) {
    case 0: return pick(rng, WEIRD);
    case 1: return randomInt(rng, -1e6, 1e6);
    case 2: return String.fromCharCode(...Array.from({ length: randomInt(rng, 0, 12) }, () => randomInt(rng, 0, 0x2fff)));
    case 3: return rng.next() < 0.5;
    case 4: return Array.from({ length: randomInt(rng, 0, 4) }, () => randomJson(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const keys = ['type', 'framework_id', 'subscribe', 'accept', 'value', 'task_id', 'resources', 'scalar', 'name', 'offer_ids', 'x'];
      for (let i = randomInt(rng, 0, 5); i > 0; i--) o[pick(rng, keys)] = randomJson(rng, depth + 1);
      return o;
    }
  }
}

/** Replaces, deletes or retypes one random node of a valid call. */
function mutate(rng: Random, value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rng.next() < 0.15) return rng.next() < 0.5 ? randomJson(rng, depth) : [...value, randomJson(rng, depth)];
    const i = randomInt(rng, 0, value.length);
    const copy = [...value];
    copy[i] = mutate(rng, copy[i], depth + 1);
    return copy;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0 || rng.next() < 0.15) return randomJson(rng, depth);
    const [key, v] = pick(rng, entries);
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const r = rng.next();
    if (r < 0.2) delete copy[key];
    else if (r < 0.35) copy[key] = pick(rng, WEIRD);
    else copy[key] = mutate(rng, v, depth + 1);
    return copy;
  }
  return rng.next() < 0.5 ? pick(rng, WEIRD) : randomJson(rng, depth);
}

function mutateBytes(rng: Random, bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(bytes);
  const r = rng.next();
  if (r < 0.3 && b.length > 0) return b.subarray(0, randomInt(rng, 0, b.length));
  if (r < 0.6) {
    for (let i = randomInt(rng, 1, 4); i > 0 && b.length > 0; i--) b[randomInt(rng, 0, b.length)] ^= 1 << randomInt(rng, 0, 8);
    return b;
  }
  if (r < 0.8) return Buffer.concat([b, Buffer.from(Array.from({ length: randomInt(rng, 1, 20) }, () => randomInt(rng, 0, 256)))]);
  return Buffer.from(Array.from({ length: randomInt(rng, 0, 64) }, () => randomInt(rng, 0, 256)));
}

function safeProtobuf(name: MessageName, msg: object): Uint8Array {
  try {
    return encodeProtobuf(name, msg);
  } catch {
    return Buffer.from(JSON.stringify(msg));
  }
}

interface Case {
  path: string;
  contentType: string;
  body: Uint8Array | string;
  streamId?: string;
}

interface Live {
  frameworkId: string;
  frameworkStream: string;
  agentId: string;
  agentStream: string;
}

function makeCase(rng: Random, live: Live): Case {
  const agent = rng.next() < 0.25;
  const path = agent ? '/api/v1/agent' : '/api/v1/scheduler';
  // Half the cases name the live framework/agent with its real stream id, so mutated calls reach the handlers.
  const real = rng.next() < 0.5;
  const valid = pick(rng, agent ? validAgentCalls(real ? live.agentId : 'a') : validSchedulerCalls(real ? live.frameworkId : 'f', live.agentId));
  const name: MessageName = agent ? 'cygnet.agent.Call' : 'mesos.v1.scheduler.Call';
  const kind = randomInt(rng, 0, 8);
  const streamId = real ? (agent ? live.agentStream : live.frameworkStream) : rng.next() < 0.3 ? pick(rng, ['', 'x', '00000000-0000-4000-8000-000000000000']) : undefined;
  switch (kind) {
    case 0: return { path, contentType: 'application/json', body: JSON.stringify(randomJson(rng, 0)) ?? 'null', streamId };
    case 1: return { path, contentType: 'application/json', body: JSON.stringify(mutate(rng, valid)) ?? 'null', streamId };
    case 2: {
      const text = JSON.stringify(valid);
      return { path, contentType: 'application/json', body: text.slice(0, randomInt(rng, 0, text.length)) + pick(rng, ['', '}', ']', '"', '\\', '\u00ff']), streamId };
    }
    case 3: return { path, contentType: 'application/x-protobuf', body: mutateBytes(rng, safeProtobuf(name, valid)), streamId };
    case 4: return { path, contentType: 'application/x-protobuf', body: safeProtobuf(name, mutate(rng, valid) as object), streamId };
    default: {
      // Keep type and ids; mutate inside the call's sub-message, so the handlers see odd but well-typed content.
      const call = { ...(valid as Record<string, unknown>) };
      const sub = Object.keys(call).filter((k) => k !== 'type' && k !== 'framework_id' && k !== 'agent_id');
      if (sub.length > 0) {
        const k = pick(rng, sub);
        call[k] = mutate(rng, mutate(rng, call[k], 1), 1);
      }
      return kind === 5
        ? { path, contentType: 'application/x-protobuf', body: safeProtobuf(name, call), streamId }
        : { path, contentType: 'application/json', body: JSON.stringify(call), streamId };
    }
  }
}

describe('master fuzz: random and mutated bodies never cause a 5xx or a crash', function () {
  this.timeout(120_000);
  let master: MasterHandle;

  before(async () => {
    master = await startMaster({ port: 0, ip: '127.0.0.1', logger: pino({ level: 'silent' }) });
  });

  const readers: { close(): void }[] = [];
  after(async () => {
    for (const r of readers) r.close();
    await master.close();
  });

  it(`${CASES} cases (seed ${SEED})`, async () => {
    const fw = await EventReader.open<SchedulerEvent>(`${master.url}/api/v1/scheduler`, 'mesos.v1.scheduler.Event', 'application/json', 'mesos.v1.scheduler.Call', {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { user: 'u', name: 'live', failover_timeout: 3600, roles: ['a'], capabilities: [{ type: 'MULTI_ROLE' }] } },
    });
    const ag = await EventReader.open<AgentEvent>(`${master.url}/api/v1/agent`, 'cygnet.agent.Event', 'application/json', 'cygnet.agent.Call', validAgentCalls('')[0]);
    readers.push(fw, ag);
    const live: Live = {
      frameworkId: (await fw.next()).subscribed?.framework_id.value ?? '',
      frameworkStream: fw.streamId,
      agentId: (await ag.next()).subscribed?.agent_id.value ?? '',
      agentStream: ag.streamId,
    };
    const rng = new SeededRandom(SEED);
    const cases = Array.from({ length: CASES }, () => makeCase(rng, live));
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < cases.length) {
        const i = next++;
        const c = cases[i];
        const headers: Record<string, string> = { 'content-type': c.contentType };
        if (c.streamId !== undefined) headers['mesos-stream-id'] = c.streamId;
        const res = await request(`${master.url}${c.path}`, { method: 'POST', body: c.body, headers, dispatcher });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 200) res.body.destroy(); // a SUBSCRIBE that succeeded: drop the stream
        else if (process.env.CYGNET_FUZZ_VERBOSE && res.statusCode !== 202) console.log(i, res.statusCode, (await res.body.text()).slice(0, 150));
        else await res.body.dump();
        if (res.statusCode >= 500) failures.push(`case ${i} (seed ${SEED}) ${c.path} ${c.contentType} → ${res.statusCode}: ${Buffer.from(c.body).toString('base64')}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (process.env.CYGNET_FUZZ_VERBOSE) console.log(statuses);
    expect(failures, failures.slice(0, 5).join('\n')).to.deep.equal([]);
    expect([...statuses.keys()].every((s) => s < 500)).to.equal(true);
    expect(statuses.get(400) ?? 0).to.be.greaterThan(CASES / 4);
    expect(statuses.get(202) ?? 0).to.be.greaterThan(CASES / 50);
    expect((await get(`${master.url}/health`)).status).to.equal(200);
  });
});
