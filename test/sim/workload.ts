/**
 * Clients of the simulated KV service, speaking to each server's `RaftNode`
 * as an application would: writes through `propose()`, gets through the
 * `read()` barrier then the local state machine. Each client runs one
 * operation at a time against some server (following leader hints) and
 * records it in the history: call/return in virtual ms; output undefined and
 * ret Infinity when the outcome is unknown (timeout, crash, or the node says
 * so). A write the node refused (not leader) or reports as dropped (its slot
 * went to another entry) did not happen and is left out of the history — the
 * simulation holds the node to that promise.
 */
import type { Random } from '../../src/common/random.ts';
import { randomInt } from '../../src/common/random.ts';
import type { Operation } from '../../src/lincheck/types.ts';
import type { KvInput, KvOutput } from '../../src/lincheck/models.ts';
import { NotLeaderError, ProposalDroppedError } from '../../src/raft/errors.ts';
import type { NodeId } from '../../src/raft/types.ts';
import type { EventQueue } from './event-queue.ts';
import type { SimServer } from './sim-server.ts';
import { encodeCommand } from './kv-machine.ts';

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: readonly string[];
  /** Give up on an op after this long: outcome unknown. */
  readonly opTimeoutMs: number;
  /** Think time between ops of one client. */
  readonly maxThinkMs: number;
  /**
   * Test-only broken variant: a server that believes it leads answers gets from its
   * own state machine without the read barrier (a deposed leader serves stale data).
   */
  readonly readsWithoutBarrier: boolean;
}

interface Pending {
  readonly opId: number;
  readonly clientId: number;
  readonly input: KvInput;
  readonly call: number;
  /** A write handed to a node that accepted it: it may have happened. */
  proposed: boolean;
  /** Acknowledged writes: where they landed. */
  index?: number;
  term?: number;
  done: boolean;
}

export interface AckedWrite {
  readonly index: number;
  readonly term: number;
}

export class Workload {
  readonly history: Operation<KvInput, KvOutput>[] = [];
  readonly acked: AckedWrite[] = [];
  /** Writes the node reported as dropped (opId -> its message): none of them may ever be applied. */
  readonly dropped = new Map<number, string>();
  private nextOpId = 1;
  private nextClientId = 1;
  private readonly inFlight = new Map<number, Pending>();
  private readonly onServer = new Map<number, SimServer>();
  private running = true;
  completed = 0;
  unknown = 0;

  constructor(
    private readonly opts: WorkloadOptions,
    private readonly queue: EventQueue,
    private readonly rng: Random,
    private readonly liveServers: () => SimServer[],
    private readonly trace: (line: string) => void,
  ) {}

  start(): void {
    for (let c = 0; c < this.opts.clients; c++) this.startClient(this.nextClientId++);
  }

  stop(): void {
    this.running = false;
  }

  private startClient(clientId: number): void {
    this.queue.after(this.rng.next() * this.opts.maxThinkMs, () => this.issue(clientId));
  }

  private randomInput(): KvInput {
    const key = this.opts.keys[randomInt(this.rng, 0, this.opts.keys.length)];
    const r = this.rng.next();
    const value = `v${this.nextOpId}`;
    if (r < 0.4) return { op: 'get', key };
    if (r < 0.75) return { op: 'put', key, value };
    const from = this.rng.next() < 0.5 ? '' : `v${randomInt(this.rng, Math.max(1, this.nextOpId - 20), this.nextOpId + 1)}`;
    return { op: 'cas', key, from, to: value };
  }

  private issue(clientId: number): void {
    if (!this.running) return;
    const p: Pending = { opId: this.nextOpId++, clientId, input: this.randomInput(), call: this.queue.now, proposed: false, done: false };
    this.inFlight.set(p.opId, p);
    this.attempt(p, undefined);
    this.queue.after(this.opts.opTimeoutMs, () => this.finishUnknown(p));
  }

  private pickServer(hint: NodeId | undefined): SimServer | undefined {
    const live = this.liveServers();
    if (live.length === 0) return undefined;
    const byHint = hint === undefined ? undefined : live.find((n) => n.id === hint);
    return byHint ?? live[randomInt(this.rng, 0, live.length)];
  }

  private retry(p: Pending, leader: NodeId): void {
    this.queue.after(leader === 0 ? 10 + this.rng.next() * 20 : 1, () => this.attempt(p, leader === 0 ? undefined : leader));
  }

  private attempt(p: Pending, hint: NodeId | undefined): void {
    if (p.done || !this.running) return;
    const server = this.pickServer(hint);
    const node = server?.node;
    if (server === undefined || node === undefined) return this.retry(p, 0);
    // Follow the leader hint as a client redirected by NotLeaderError would (without paying
    // for an Error per misdirected attempt); the node's own refusal still covers the races.
    const status = node.status();
    if (status.role !== 'leader' && status.leader !== 0 && this.rng.next() < 0.9) return this.retry(p, status.leader);
    this.onServer.set(p.opId, server);
    const input = p.input;
    if (input.op === 'get') {
      if (this.opts.readsWithoutBarrier) {
        if (status.role !== 'leader') return this.retry(p, status.leader);
        return this.finish(p, { value: server.kv.get(input.key) });
      }
      node.read().then(
        () => {
          if (server.node === node) this.finish(p, { value: server.kv.get(input.key) });
        },
        (err: unknown) => {
          if (!p.done) this.retry(p, err instanceof NotLeaderError ? err.leader : 0);
        },
      );
      return;
    }
    p.proposed = true;
    node.propose(encodeCommand({ opId: p.opId, input })).then(
      (o) => {
        if (server.node !== node) return;
        p.index = o.index;
        p.term = o.term;
        this.finish(p, o.result);
      },
      (err: unknown) => {
        if (p.done) return;
        if (err instanceof NotLeaderError) {
          p.proposed = false;
          this.retry(p, err.leader);
        } else if (err instanceof ProposalDroppedError) {
          this.trace(`op ${p.opId} dropped: ${err.message}`);
          this.dropped.set(p.opId, err.message);
          this.abandon(p);
        } else this.finishUnknown(p);
      },
    );
  }

  onCrash(server: SimServer): void {
    for (const p of [...this.inFlight.values()]) if (this.onServer.get(p.opId) === server) this.finishUnknown(p);
  }

  private finish(p: Pending, output: KvOutput): void {
    if (p.done) return;
    this.close(p);
    this.completed++;
    this.history.push({ clientId: p.clientId, input: p.input, output, call: p.call, ret: this.queue.now });
    if (p.input.op !== 'get' && p.index !== undefined && p.term !== undefined) this.acked.push({ index: p.index, term: p.term });
    this.trace(`op ${p.opId} ${JSON.stringify(p.input)} -> ${JSON.stringify(output)}`);
    this.startClient(p.clientId);
  }

  /** Outcome unknown: a proposed write stays in the history (it may have happened); a read is dropped. */
  private finishUnknown(p: Pending): void {
    if (p.done) return;
    this.close(p);
    if (p.input.op !== 'get' && p.proposed) {
      this.unknown++;
      this.history.push({ clientId: p.clientId, input: p.input, output: undefined, call: p.call, ret: Infinity });
    }
    this.trace(`op ${p.opId} unknown`);
    // A client whose op is unknown continues under a new identity (ops of one client stay sequential).
    this.startClient(this.nextClientId++);
  }

  private abandon(p: Pending): void {
    if (p.done) return;
    this.close(p);
    this.startClient(p.clientId);
  }

  private close(p: Pending): void {
    p.done = true;
    this.inFlight.delete(p.opId);
    this.onServer.delete(p.opId);
  }

  /** Ends every op still in flight (as unknown). */
  drain(): void {
    this.running = false;
    for (const p of [...this.inFlight.values()]) this.finishUnknown(p);
  }
}
