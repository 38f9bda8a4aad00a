/**
 * The fault test: three real examples/kv processes, eight concurrent clients
 * doing put/get/cas on three shared keys (plus never-overwritten unique keys),
 * while a nemesis SIGKILLs and restarts the leader and followers in turn.
 *
 * Every call is recorded with its real-time interval; an answer that may or
 * may not have taken effect (timeout, reset, 5xx) is recorded with an unknown
 * outcome, and the client continues as a new process (Jepsen's :info). The
 * history must be linearizable under `kvModel`, and every acknowledged unique
 * put must be readable at the end, after all members are back.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { SeededRandom, randomInt, type Random } from '../../../src/common/random.ts';
import { checkOperationsVerbose } from '../../../src/lincheck/checker.ts';
import { kvModel, type KvInput, type KvOutput } from '../../../src/lincheck/models.ts';
import type { Operation } from '../../../src/lincheck/types.ts';
import { KvClient, type KvOutcome } from '../../../examples/kv/client.ts';
import { KvProcessCluster } from '../../../examples/kv/local-cluster.ts';
import { freePorts, sleep } from './helpers.ts';

const SEED = Number(process.env.KV_FAULT_SEED ?? 20261122);
const CLIENTS = 8;
const RUN_MS = 25_000;
const SHARED_KEYS = ['a', 'b', 'c'];
/** The nemesis keeps going past RUN_MS until it has killed this many times (slow restarts on a loaded machine). */
const MIN_KILLS = 3;

type KvOp = Operation<KvInput, KvOutput>;

describe('examples/kv under SIGKILL of leader and followers', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: KvProcessCluster;
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cygnet-kv-fault-'));
    cluster = new KvProcessCluster(dir, await freePorts(6));
    await Promise.all([1, 2, 3].map((id) => cluster.start(id)));
    await Promise.all([1, 2, 3].map((id) => cluster.waitServing(id)));
    await cluster.waitLeader();
  });

  after(async () => {
    await cluster?.stop();
    await agent.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`stays linearizable and loses no acknowledged write (seed ${SEED})`, async () => {
    const rng = new SeededRandom(SEED);
    const history: KvOp[] = [];
    const acked = new Map<string, string>();
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    let stop = false;
    let nextClientId = CLIENTS;
    const addrs = cluster.members.map((m) => m.http);
    const counts = { ok: 0, failed: 0, unknown: 0, swapped: 0 };

    const clientLoop = async (c: number, r: Random): Promise<void> => {
      const kv = new KvClient(addrs, { timeoutMs: 3000, dispatcher: agent });
      let clientId = c;
      let n = 0;
      const lastSeen = new Map<string, string>();
      while (!stop) {
        n++;
        const pick = r.next();
        const key = SHARED_KEYS[randomInt(r, 0, SHARED_KEYS.length)] as string;
        const value = `c${c}-${n}`;
        let input: KvInput;
        let outcome: KvOutcome;
        const call = now();
        if (pick < 0.1) {
          const ukey = `u-${c}-${n}`;
          input = { op: 'put', key: ukey, value };
          outcome = await kv.put(ukey, value);
          if (outcome.kind === 'ok') acked.set(ukey, value);
        } else if (pick < 0.4) {
          input = { op: 'put', key, value };
          outcome = await kv.put(key, value);
        } else if (pick < 0.7) {
          input = { op: 'get', key };
          // Half the reads start at a random member: followers must redirect, never answer stale.
          outcome = await kv.get(key, r.next() < 0.5 ? addrs[randomInt(r, 0, addrs.length)] : undefined);
        } else {
          // Mostly the value this client last saw for the key (likely to swap), sometimes a guess.
          const from = r.next() < 0.7 ? (lastSeen.get(key) ?? '') : `c${randomInt(r, 0, CLIENTS)}-${randomInt(r, 1, Math.max(2, n))}`;
          input = { op: 'cas', key, from, to: value };
          outcome = await kv.cas(key, from, value);
        }
        const ret = now();
        counts[outcome.kind]++;
        if (outcome.kind === 'ok' && input.op === 'cas' && outcome.status === 200) counts.swapped++;
        if (outcome.kind === 'ok') {
          const output: KvOutput =
            input.op === 'get' ? { value: outcome.status === 404 ? '' : outcome.body.toString('utf8') } : input.op === 'cas' ? { ok: outcome.status === 200 } : { ok: true };
          history.push({ clientId, input, output, call, ret });
          if ('value' in output) lastSeen.set(key, output.value);
          else if (output.ok && input.op === 'put') lastSeen.set(input.key, input.value);
          else if (output.ok && input.op === 'cas') lastSeen.set(key, input.to);
        } else if (outcome.kind === 'unknown') {
          if (input.op !== 'get') history.push({ clientId, input, output: undefined, call, ret: Infinity });
          clientId = nextClientId++;
          kv.rotate();
        } else {
          kv.rotate();
          await sleep(20 + randomInt(r, 0, 30));
        }
        await sleep(randomInt(r, 0, 15));
      }
    };

    const nemesis = async (): Promise<number> => {
      let kills = 0;
      let victimFollower = 0;
      await sleep(2000);
      while (now() < RUN_MS - 4000 || kills < MIN_KILLS) {
        const leader = await cluster.leader();
        let victim: number;
        if (kills % 2 === 0 && leader !== undefined) victim = leader;
        else {
          const followers = [1, 2, 3].filter((id) => id !== leader);
          victim = followers[victimFollower++ % followers.length] as number;
        }
        await cluster.kill(victim, 'SIGKILL');
        kills++;
        await sleep(400 + randomInt(rng, 0, 600));
        await cluster.start(victim);
        await cluster.waitServing(victim);
        await sleep(500 + randomInt(rng, 0, 700));
      }
      return kills;
    };

    const clients = Array.from({ length: CLIENTS }, (_, c) => clientLoop(c, new SeededRandom(SEED * 31 + c)));
    const kills = await nemesis();
    while (now() < RUN_MS) await sleep(100);
    stop = true;
    await Promise.all(clients);

    // All members back and a leader: read every shared key (part of the history) and every acked unique key.
    for (const id of [1, 2, 3]) if (!cluster.isRunning(id)) await cluster.start(id);
    for (const id of [1, 2, 3]) await cluster.waitServing(id);
    await cluster.waitLeader();
    const reader = new KvClient(addrs, { timeoutMs: 5000, dispatcher: agent });
    const readFinal = async (key: string): Promise<{ status: number; body: Buffer; call: number; ret: number }> => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const call = now();
        const o = await reader.get(key);
        if (o.kind === 'ok') return { status: o.status, body: o.body, call, ret: now() };
        reader.rotate();
        await sleep(100);
      }
      throw new Error(`could not read ${key} at the end`);
    };
    for (const key of SHARED_KEYS) {
      const r = await readFinal(key);
      history.push({ clientId: -1, input: { op: 'get', key }, output: { value: r.status === 404 ? '' : r.body.toString('utf8') }, call: r.call, ret: r.ret });
    }
    const lost: string[] = [];
    for (const [key, value] of acked) {
      const r = await readFinal(key);
      if (r.status !== 200 || r.body.toString('utf8') !== value) lost.push(`${key}=${value} read ${r.status} ${r.body.toString('utf8')}`);
    }

    expect(kills, 'nemesis kills').to.be.greaterThanOrEqual(MIN_KILLS);
    expect(counts.ok, 'successful calls').to.be.greaterThan(200);
    expect(acked.size, 'acknowledged unique puts').to.be.greaterThan(10);
    expect(counts.swapped, 'successful cas').to.be.greaterThan(10);
    expect(lost, 'acknowledged writes lost').to.deep.equal([]);
    if (process.env.KV_FAULT_VERBOSE !== undefined) console.log({ kills, ops: history.length, acked: acked.size, ...counts });
    const verdict = checkOperationsVerbose(kvModel, history, { timeoutMs: 30_000 });
    expect(verdict.result, `linearizability (seed ${SEED}, ${history.length} ops, ${JSON.stringify(counts)}): ${verdict.message}`).to.equal('ok');
  });
});
