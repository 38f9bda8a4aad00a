/**
 * Clients of the simulated KV service. Each client runs one operation at a
 * time against some node (following leader hints), and records it in the
 * history: call/return in virtual ms, output undefined + ret Infinity when the
 * outcome is unknown (the node crashed or the op timed out after it was
 * proposed). Writes go through propose(); gets through readIndex().
 * An op that was never proposed, or whose log slot was taken by another
 * entry, did not happen and is left out of the history.
 */
import type { Random } from '../../src/common/random.ts';
import { randomInt } from '../../src/common/random.ts';
import type { Operation } from '../../src/lincheck/types.ts';
import type { KvInput, KvOutput } from '../../src/lincheck/models.ts';
import type { Entry, NodeId, ReadState } from '../../src/raft/types.ts';
import type { EventQueue } from './event-queue.ts';
import type { SimNode } from './sim-node.ts';
import { encodeCommand } from './kv-machine.ts';

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: readonly string[];
  /** Give up on a proposed op after this long: outcome unknown. */
  readonly opTimeoutMs: number;
  /** Think time between ops of one client. */
  readonly maxThinkMs: number;
}

interface Pending {
  readonly opId: number;
  readonly clientId: number;
  readonly input: KvInput;
  readonly call: number;
  node?: SimNode;
  /** Writes: where the proposal landed. */
  index?: number;
  term?: number;
  /** Reads: the ctx, and the read index once granted. */
  ctx?: string;
  readIndex?: number;
  done: boolean;
}

export interface AckedWrite {
  readonly index: number;
  readonly term: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Workload {
  readonly history: Operation<KvInput, KvOutput>[] = [];
  readonly acked: AckedWrite[] = [];
  private nextOpId = 1;
  private nextClientId = 1;
  private readonly inFlight = new Map<number, Pending>();
  private running = true;
  completed = 0;
  unknown = 0;

  constructor(
    private readonly opts: WorkloadOptions,
    private readonly queue: EventQueue,
    private readonly rng: Random,
    private readonly liveNodes: () => SimNode[],
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
    const p: Pending = { opId: this.nextOpId++, clientId, input: this.randomInput(), call: this.queue.now, done: false };
    this.inFlight.set(p.opId, p);
    this.attempt(p, undefined, 0);
    this.queue.after(this.opts.opTimeoutMs, () => this.finishUnknown(p));
  }

  private pickNode(hint: NodeId | undefined): SimNode | undefined {
    const live = this.liveNodes();
    if (live.length === 0) return undefined;
    const byHint = hint === undefined ? undefined : live.find((n) => n.id === hint);
    return byHint ?? live[randomInt(this.rng, 0, live.length)];
  }

  private attempt(p: Pending, hint: NodeId | undefined, tries: number): void {
    if (p.done || !this.running) return;
    const node = this.pickNode(hint);
    const retry = (leader: NodeId): void => {
      this.queue.after(leader === 0 ? 10 + this.rng.next() * 20 : 1, () => this.attempt(p, leader === 0 ? undefined : leader, tries + 1));
    };
    if (node === undefined) return retry(0);
    if (p.input.op === 'get') {
      // Set before asking: the read state may come back synchronously (no fsync needed).
      p.node = node;
      p.ctx = `r${p.opId}.${tries}`;
      const r = node.act((c) => c.readIndex(enc.encode(p.ctx ?? '')));
      if (!r.ok) return retry(r.leader);
      return;
    }
    const r = node.act((c) => c.propose(encodeCommand({ opId: p.opId, input: p.input })));
    if (!r.ok) return retry(r.reason === 'notLeader' ? r.leader : 0);
    p.node = node;
    p.index = r.index;
    p.term = r.term;
  }

  /** A node applied entry e (its output, for normal commands). */
  onApply(node: SimNode, e: Entry, output: KvOutput | undefined): void {
    for (const p of this.inFlight.values()) {
      if (p.node !== node) continue;
      if (p.index === e.index) {
        if (p.term === e.term && output !== undefined) this.finish(p, output);
        else this.abandon(p); // our slot went to another entry: the op never happened
      } else if (p.readIndex !== undefined && node.appliedIndex >= p.readIndex) {
        this.finish(p, { value: node.kv.get(p.input.key) });
      }
    }
  }

  onReadState(node: SimNode, rs: ReadState): void {
    const ctx = dec.decode(rs.requestCtx);
    for (const p of this.inFlight.values()) {
      if (p.node !== node || p.ctx !== ctx) continue;
      p.readIndex = rs.index;
      if (node.appliedIndex >= rs.index) this.finish(p, { value: node.kv.get(p.input.key) });
    }
  }

  /** The node restored a snapshot: ops waiting for indexes it skipped have unknown outcomes. */
  onSnapshotRestored(node: SimNode): void {
    for (const p of [...this.inFlight.values()]) {
      if (p.node !== node) continue;
      if (p.index !== undefined && p.index <= node.appliedIndex) this.finishUnknown(p);
      else if (p.readIndex !== undefined && node.appliedIndex >= p.readIndex) this.finish(p, { value: node.kv.get(p.input.key) });
    }
  }

  onCrash(node: SimNode): void {
    for (const p of [...this.inFlight.values()]) if (p.node === node) this.finishUnknown(p);
  }

  private finish(p: Pending, output: KvOutput): void {
    if (p.done) return;
    p.done = true;
    this.inFlight.delete(p.opId);
    this.completed++;
    this.history.push({ clientId: p.clientId, input: p.input, output, call: p.call, ret: this.queue.now });
    if (p.input.op !== 'get' && p.index !== undefined && p.term !== undefined) this.acked.push({ index: p.index, term: p.term });
    this.startClient(p.clientId);
  }

  /** Outcome unknown: a proposed write stays in the history (it may have happened); a read is dropped. */
  private finishUnknown(p: Pending): void {
    if (p.done) return;
    p.done = true;
    this.inFlight.delete(p.opId);
    if (p.input.op !== 'get' && p.index !== undefined) {
      this.unknown++;
      this.history.push({ clientId: p.clientId, input: p.input, output: undefined, call: p.call, ret: Infinity });
    }
    // A client whose op is unknown continues under a new identity (ops of one client stay sequential).
    this.startClient(this.nextClientId++);
  }

  private abandon(p: Pending): void {
    if (p.done) return;
    p.done = true;
    this.inFlight.delete(p.opId);
    this.startClient(p.clientId);
  }

  /** Ends every op still in flight (as unknown). */
  drain(): void {
    this.running = false;
    for (const p of [...this.inFlight.values()]) this.finishUnknown(p);
  }
}
