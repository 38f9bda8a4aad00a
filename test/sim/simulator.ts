/**
 * The deterministic Raft simulator: one seed drives every server's clock
 * (with drift), the network (drop, delay, duplicate, reorder, partitions incl.
 * one-way), the disks (fsync latency, power loss dropping unsynced writes),
 * snapshots/compaction, membership changes, leadership transfers and a KV
 * workload. The servers are the production `RaftNode` shell (src/raft/node.ts)
 * over simulated storage, transport and clock (sim-server.ts).
 *
 *   safety phase (faults)  →  liveness phase (healed: must elect and commit)
 *   → every acknowledged write applied on all members → history linearizable
 *   (and throughout: no write its node reported as dropped is ever applied)
 *
 * Safety properties are checked after every event (safety.ts). Determinism:
 * every event is a queue entry run to completion, microtasks included (the
 * node's promise chains), before the next; a run is bounded by virtual time
 * and a step budget, never by wall-clock time. `runSeed` never throws for a
 * protocol bug: it returns the failure with the seed.
 */
import { createHash } from 'node:crypto';
import { SeededRandom, randomInt, shuffle } from '../../src/common/random.ts';
import type { Random } from '../../src/common/random.ts';
import type { Message, NodeId } from '../../src/raft/types.ts';
import type { AppliedEntry } from '../../src/raft/node.ts';
import { checkOperations } from '../../src/lincheck/checker.ts';
import { kvModel } from '../../src/lincheck/models.ts';
import { ackBeforeFsyncStorage } from './broken-variants.ts';
import { EventQueue } from './event-queue.ts';
import { opIdOf } from './kv-machine.ts';
import { SimNetwork, calmNetwork } from './sim-network.ts';
import { SimServer } from './sim-server.ts';
import type { ServerOptions } from './sim-server.ts';
import { correctStorage } from './sim-storage.ts';
import { SafetyChecker, SafetyViolation } from './safety.ts';
import { Workload } from './workload.ts';

/** Deliberately broken variants, for showing that the checkers fire (broken-variants.ts). */
export type BrokenVariant = 'ackBeforeFsync' | 'readsWithoutBarrier';

export interface SimOptions {
  /** Virtual milliseconds of the faulty phase. */
  readonly safetyMs: number;
  /** Virtual milliseconds allowed for the healed cluster to converge. */
  readonly livenessMs: number;
  readonly initialVoters: number;
  readonly maxMembers: number;
  readonly clients: number;
  /** Run the log-matching check every this many events. */
  readonly logMatchEvery: number;
  /**
   * Step budget for one seed: a run that needs more events is a failure (a livelock or a
   * runaway timer), not a hang. ~10× what a seed normally takes.
   */
  readonly maxEvents: number;
  /** Step budget of the linearizability search per key (configurations explored). */
  readonly lincheckMaxExplored: number;
  /** Probability that a node loses power between writing a Ready and its fsync. */
  readonly crashBeforeFsyncRate: number;
  /** Probability that a disk operation is slow (a latency spike): leaders then apply before their own fsync. */
  readonly slowFsyncRate: number;
  /** Inject faults in the safety phase (off only to show the coverage check fails without them). */
  readonly faults: boolean;
  readonly broken: BrokenVariant | undefined;
  /** Hash every delivered message into the trace digest (for the replay test). */
  readonly digestMessages: boolean;
  /** Print a trace of faults and roles. */
  readonly verbose: boolean;
}

export const defaultSimOptions: SimOptions = {
  safetyMs: 3000,
  livenessMs: 4000,
  initialVoters: 3,
  maxMembers: 5,
  clients: 6,
  logMatchEvery: 100,
  maxEvents: 200_000,
  lincheckMaxExplored: 1_000_000,
  crashBeforeFsyncRate: 0.002,
  slowFsyncRate: 0.05,
  faults: true,
  broken: undefined,
  digestMessages: false,
  verbose: false,
};

export interface SimStats {
  events: number;
  messages: number;
  elections: number;
  partitions: number;
  crashes: number;
  powerLosses: number;
  confChanges: number;
  transfers: number;
  snapshotsInstalled: number;
  /** Entries a leader applied before its own fsync of them returned (committed by its followers). */
  appliedBeforeOwnFsync: number;
  ops: number;
  unknownOps: number;
  ackedWrites: number;
  finalTerm: number;
  finalCommit: number;
}

/** Which check stopped the run. */
export type FailureKind = 'safety' | 'durability' | 'linearizability' | 'liveness' | 'budget' | 'exception';

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  readonly failureKind?: FailureKind;
  readonly stats: SimStats;
  /** sha256 of the run's trace (faults, roles, ops; messages too with `digestMessages`). */
  readonly digest: string;
}

/** The fault kinds a healthy suite must see at least once over its seeds. */
export const FAULT_KINDS = ['crashes', 'partitions', 'snapshotsInstalled', 'confChanges', 'transfers', 'appliedBeforeOwnFsync'] as const;

/** Fault kinds that never happened in these runs' stats (empty = every kind was exercised). */
export function missingFaults(stats: readonly SimStats[]): string[] {
  return FAULT_KINDS.filter((k) => stats.every((s) => s[k] === 0));
}

const serverOptions: Omit<ServerOptions, 'raft' | 'storage'> = {
  tickMs: 10,
  electionTicks: 10,
  heartbeatTicks: 2,
  snapshotEvery: 40,
  catchUpEntries: 5,
  proposalTimeoutMs: 1000,
  maxDiskLatencyMs: 3,
};

/** Per-seed protocol variants: pre-vote and check-quorum are each off in a quarter of the seeds. */
function pickServerOptions(rng: Random, broken: BrokenVariant | undefined): ServerOptions {
  const preVote = rng.next() < 0.75;
  const checkQuorum = rng.next() < 0.75;
  return {
    ...serverOptions,
    raft: { maxInflightMsgs: 8, maxEntriesPerMsg: 16, snapshotChunkBytes: 64, preVote, checkQuorum },
    storage: broken === 'ackBeforeFsync' ? ackBeforeFsyncStorage : correctStorage,
  };
}

/** Lets every microtask (the nodes' promise chains) run to completion before the next event. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Simulation {
  readonly queue = new EventQueue();
  readonly rng: Random;
  readonly servers = new Map<NodeId, SimServer>();
  readonly net: SimNetwork;
  readonly safety = new SafetyChecker();
  readonly workload: Workload;
  readonly stats: SimStats = {
    events: 0, messages: 0, elections: 0, partitions: 0, crashes: 0, powerLosses: 0, confChanges: 0, transfers: 0,
    snapshotsInstalled: 0, appliedBeforeOwnFsync: 0, ops: 0, unknownOps: 0, ackedWrites: 0, finalTerm: 0, finalCommit: 0,
  };
  private failure: { message: string; kind: FailureKind } | undefined;
  private nextId: NodeId;
  private faultsOn: boolean;
  private readonly trace: string[] = [];
  private readonly digest = createHash('sha256');
  private readonly serverOptions: ServerOptions;
  /** A started leadership transfer: counted once the target leads in a later term. */
  private transfer: { to: NodeId; term: number } | undefined;
  /** Every op id some node applied (a dropped op reported later is checked against it). */
  private readonly appliedOps = new Set<number>();

  constructor(readonly seed: number, readonly opts: SimOptions) {
    this.rng = new SeededRandom(seed);
    this.faultsOn = opts.faults;
    this.serverOptions = pickServerOptions(this.rng, opts.broken);
    this.net = new SimNetwork(this.queue, this.rng, (m) => this.deliver(m));
    this.workload = new Workload(
      { clients: opts.clients, keys: ['a', 'b', 'c'], opTimeoutMs: 400, maxThinkMs: 10, readsWithoutBarrier: opts.broken === 'readsWithoutBarrier' },
      this.queue,
      this.rng,
      () => this.liveServers(),
      (line) => this.log(line),
    );
    const voters = Array.from({ length: opts.initialVoters }, (_, k) => k + 1);
    this.nextId = voters.length + 1;
    for (const id of voters) this.addServer(id, { voters, learners: [] });
  }

  private addServer(id: NodeId, conf: { voters: NodeId[]; learners: NodeId[] }): SimServer {
    const server = new SimServer(id, conf, this.serverOptions, this.queue, this.rng, this.net, {
      onApply: (s, e) => this.onApply(s, e),
      onSnapshotInstalled: (s) => {
        this.stats.snapshotsInstalled++;
        this.log(`snapshot installed on ${s.id} at ${s.appliedIndex}`);
      },
      powerLossBeforeFsync: () => this.faultsOn && this.rng.next() < this.opts.crashBeforeFsyncRate,
      slowFsync: () => this.faultsOn && this.rng.next() < this.opts.slowFsyncRate,
      onPowerLoss: (s) => {
        this.stats.powerLosses++;
        this.crashed(s, 'before fsync');
      },
      onFailure: (msg) => this.fail(msg, 'exception'),
    });
    this.servers.set(id, server);
    server.start();
    return server;
  }

  private onApply(s: SimServer, e: AppliedEntry): void {
    const opId = opIdOf(e.data);
    this.appliedOps.add(opId);
    const view = s.view;
    if (view !== undefined && view.status.role === 'leader' && e.index > view.persistedIndex) this.stats.appliedBeforeOwnFsync++;
    const dropped = this.workload.dropped.get(opId);
    if (dropped !== undefined) {
      this.fail(`op ${opId} applied at ${e.index} (term ${e.term}) on node ${s.id}, but its proposer said: ${dropped}`, 'durability');
    }
    try {
      this.safety.onApply(s.id, { index: e.index, term: e.term, type: 'normal', data: e.data });
    } catch (err) {
      if (err instanceof SafetyViolation) this.fail(err.message, 'safety');
      else throw err;
    }
  }

  private deliver(m: Message): void {
    this.stats.messages++;
    if (this.opts.digestMessages) this.digest.update(`${this.queue.now} ${m.from}>${m.to} ${m.type} ${m.term}\n`);
    this.servers.get(m.to)?.receive(m);
  }

  liveServers(): SimServer[] {
    return [...this.servers.values()].filter((s) => s.node !== undefined);
  }

  private log(line: string): void {
    this.digest.update(`${this.queue.now} ${line}\n`);
    if (this.opts.verbose) this.trace.push(`${this.queue.now.toFixed(1).padStart(8)} ${line}`);
  }

  fail(message: string, kind: FailureKind): void {
    this.failure ??= { message, kind };
  }

  private leader(): SimServer | undefined {
    let best: SimServer | undefined;
    let bestTerm = -1;
    for (const s of this.liveServers()) {
      const st = s.view?.status;
      if (st?.role === 'leader' && st.term > bestTerm) {
        best = s;
        bestTerm = st.term;
      }
    }
    return best;
  }

  /** Runs events until `until` or a failure; safety is checked after each event. */
  private async runUntil(until: number, stopWhen?: () => boolean): Promise<void> {
    let sinceLogMatch = 0;
    let leaders = '';
    while (this.failure === undefined && this.queue.runNext(until)) {
      await settle();
      if (++this.stats.events > this.opts.maxEvents) {
        this.fail(`step budget exhausted: more than ${this.opts.maxEvents} events`, 'budget');
        return;
      }
      const views = this.liveServers().map((s) => s.view).filter((v) => v !== undefined);
      let now = leaders;
      try {
        const seen = this.safety.observe(views);
        this.stats.elections = seen.elections;
        now = seen.leaders;
        if (++sinceLogMatch >= this.opts.logMatchEvery) {
          sinceLogMatch = 0;
          this.safety.checkLogMatching(views);
        }
      } catch (err) {
        if (err instanceof SafetyViolation) this.fail(err.message, 'safety');
        else throw err;
      }
      if (now !== leaders) {
        this.log(`leaders: ${now || 'none'}`);
        leaders = now;
        this.noteTransfer();
      }
      if (stopWhen?.()) return;
    }
  }

  private noteTransfer(): void {
    const t = this.transfer;
    const l = this.leader();
    if (t === undefined || l === undefined) return;
    const term = l.view?.status.term ?? 0;
    if (term <= t.term) return;
    this.transfer = undefined;
    if (l.id === t.to) {
      this.stats.transfers++;
      this.log(`transfer to ${t.to} done in term ${term}`);
    }
  }

  // -------------------------------------------------------------------------
  // Faults

  private scheduleFaults(): void {
    const next = 80 + this.rng.next() * 300;
    this.queue.after(next, () => {
      if (!this.faultsOn) return;
      this.injectFault();
      this.scheduleFaults();
    });
  }

  private members(): NodeId[] {
    return [...this.servers.values()].filter((s) => !s.stopped).map((s) => s.id);
  }

  private injectFault(): void {
    const r = this.rng.next();
    const ids = this.members();
    const pick = (): NodeId => ids[randomInt(this.rng, 0, ids.length)];
    if (r < 0.15) {
      const shuffled = shuffle(this.rng, [...ids]);
      const cut = randomInt(this.rng, 1, shuffled.length);
      const oneWay = this.rng.next() < 0.3;
      this.partition(shuffled.slice(0, cut), shuffled.slice(cut), oneWay);
    } else if (r < 0.25) {
      // Often the leader: a deposed leader that does not know it yet is the interesting case.
      const id = this.rng.next() < 0.6 ? (this.leader()?.id ?? pick()) : pick();
      this.partition([id], ids.filter((o) => o !== id), false);
    } else if (r < 0.4) {
      const s = this.servers.get(pick());
      if (s === undefined || !s.up) return;
      // Often the leader, to exercise failover.
      const target = this.rng.next() < 0.5 ? (this.leader() ?? s) : s;
      target.crash();
      this.crashed(target, '');
    } else if (r < 0.55) {
      this.net.faults = {
        dropRate: this.rng.next() * 0.2,
        dupRate: this.rng.next() * 0.05,
        minDelayMs: 1,
        maxDelayMs: 2 + this.rng.next() * 40,
      };
      this.log(`network ${this.net.describe()}`);
    } else if (r < 0.7) {
      this.changeMembership();
    } else if (r < 0.8) {
      this.transferLeadership();
    } else {
      this.net.faults = { ...calmNetwork };
    }
  }

  private partition(a: NodeId[], b: NodeId[], oneWay: boolean): void {
    if (b.length === 0) return;
    const heal = this.net.partition(a, b, oneWay);
    const what = `${a} | ${b}${oneWay ? ' (one-way)' : ''}`;
    this.stats.partitions++;
    this.log(`partition ${what}`);
    this.queue.after(100 + this.rng.next() * 700, () => {
      heal();
      this.log(`heal ${what}`);
    });
  }

  private transferLeadership(): void {
    const l = this.leader();
    const s = l?.view?.status;
    if (l?.node === undefined || s === undefined) return;
    const voters = s.conf.voters.filter((v) => v !== l.id);
    if (voters.length === 0) return;
    const to = voters[randomInt(this.rng, 0, voters.length)];
    try {
      l.node.transferLeadership(to);
      this.transfer = { to, term: s.term };
      this.log(`transfer ${l.id} -> ${to}`);
    } catch (err) {
      this.log(`transfer ${l.id} -> ${to} refused: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private crashed(s: SimServer, how: string): void {
    this.workload.onCrash(s);
    this.stats.crashes++;
    this.log(`crash ${s.id} ${how}`);
    // Its peers' connections from it close at once (a dead process's kernel sends FIN) —
    // unless a partition cuts the link, as a real one would hide the FIN.
    for (const o of this.servers.values()) {
      if (o === s || !o.up || this.net.isBlocked(s.id, o.id)) continue;
      this.queue.after(this.net.faults.minDelayMs, () => o.peerLost(s.id));
    }
    this.queue.after(20 + this.rng.next() * 300, () => {
      s.restart();
      this.log(`restart ${s.id}`);
    });
  }

  private changeMembership(): void {
    const l = this.leader();
    const node = l?.node;
    const conf = l?.view?.status.conf;
    if (node === undefined || conf === undefined) return;
    const r = this.rng.next();
    const done = (what: string) => (): void => {
      this.stats.confChanges++;
      this.log(`${what} applied`);
    };
    const refused = (what: string) => (err: unknown): void => this.log(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
    if (conf.learners.length > 0 && r < 0.5) {
      const id = conf.learners[0];
      this.log(`promote ${id}`);
      node.addVoter(id, `sim-${id}`).then(done(`promote ${id}`), refused(`promote ${id}`));
    } else if (conf.voters.length + conf.learners.length < this.opts.maxMembers && r < 0.8) {
      const id = this.nextId++;
      this.log(`add learner ${id}`);
      node.addLearner(id, `sim-${id}`).then(done(`add learner ${id}`), refused(`add learner ${id}`));
      this.addServer(id, { voters: [], learners: [] });
    } else if (conf.voters.length > 3) {
      const id = conf.voters[randomInt(this.rng, 0, conf.voters.length)];
      this.log(`remove ${id}`);
      node.removeNode(id).then(done(`remove ${id}`), refused(`remove ${id}`));
      this.watchRemoval(id);
    }
  }

  /** Stops a removed node once some member has applied its removal. */
  private watchRemoval(id: NodeId): void {
    this.queue.after(50, () => {
      const removed = this.liveServers().some((s) => {
        const conf = s.view?.status.conf;
        return s.id !== id && conf !== undefined && conf.voters.length > 0 && !conf.voters.includes(id) && !conf.learners.includes(id);
      });
      if (removed) {
        this.servers.get(id)?.stop();
        this.log(`stopped ${id}`);
      } else this.watchRemoval(id);
    });
  }

  // -------------------------------------------------------------------------
  // Phases

  async run(): Promise<SimResult> {
    try {
      await settle();
      this.workload.start();
      this.scheduleFaults();
      await this.runUntil(this.opts.safetyMs);
      if (this.failure === undefined) await this.liveness();
      if (this.failure === undefined) this.finalChecks();
    } catch (err) {
      this.fail(`exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 'exception');
    }
    // Whatever is still in flight belongs to this run only: silence it so it cannot leak into the next.
    for (const s of this.servers.values()) s.stop();
    this.stats.ops = this.workload.history.length;
    this.stats.unknownOps = this.workload.unknown;
    this.stats.ackedWrites = this.workload.acked.length;
    if (this.opts.verbose) {
      console.log(this.trace.join('\n'));
      for (const s of this.servers.values()) console.log(s.describe());
    }
    const f = this.failure;
    return {
      seed: this.seed,
      ok: f === undefined,
      ...(f !== undefined ? { failure: f.message, failureKind: f.kind } : {}),
      stats: this.stats,
      digest: this.digest.digest('hex'),
    };
  }

  private async liveness(): Promise<void> {
    this.faultsOn = false;
    this.net.heal();
    this.net.faults = { ...calmNetwork };
    for (const s of this.servers.values()) s.restart();
    this.log('liveness phase');
    const deadline = this.queue.now + this.opts.livenessMs;
    // A fresh write must be acknowledged through the healed cluster.
    const ackedBefore = this.workload.acked.length;
    await this.runUntil(deadline, () => this.workload.acked.length > ackedBefore);
    if (this.failure !== undefined) return;
    if (this.workload.acked.length === ackedBefore) {
      this.fail(`liveness: no write acknowledged within ${this.opts.livenessMs} ms after healing (leader ${this.leader()?.id ?? 'none'})`, 'liveness');
      return;
    }
    this.workload.stop();
    await this.runUntil(deadline, () => this.converged());
    this.workload.drain();
    if (this.failure === undefined && !this.converged()) {
      this.fail(`liveness: members did not converge within ${this.opts.livenessMs} ms`, 'liveness');
    }
    const s = this.leader()?.view?.status;
    this.stats.finalTerm = s?.term ?? 0;
    this.stats.finalCommit = s?.commit ?? 0;
  }

  /** A leader with its whole log committed; every member (leader's conf) is live and has applied it. */
  private converged(): boolean {
    const l = this.leader();
    const v = l?.view;
    if (l === undefined || v === undefined) return false;
    const s = v.status;
    // The leader has committed its whole log, including an entry of its own term.
    if (l.appliedIndex < s.commit || s.commit < s.lastIndex || v.logTerm(s.commit) !== s.term) return false;
    for (const id of [...s.conf.voters, ...s.conf.learners]) {
      const m = this.servers.get(id);
      if (m?.node === undefined || m.appliedIndex < s.commit) return false;
    }
    return true;
  }

  private finalChecks(): void {
    const l = this.leader();
    const conf = l?.view?.status.conf;
    if (l === undefined || conf === undefined) return this.fail('final: no leader', 'liveness');
    const members = [...conf.voters, ...conf.learners].map((id) => this.servers.get(id)).filter((s) => s !== undefined);
    try {
      this.safety.checkLogMatching(members.map((s) => s.view).filter((v) => v !== undefined));
    } catch (err) {
      if (err instanceof SafetyViolation) return this.fail(err.message, 'safety');
      throw err;
    }
    // A write its proposer reported as dropped (not applied) must never be applied anywhere.
    for (const [opId, why] of this.workload.dropped) {
      if (this.appliedOps.has(opId)) return this.fail(`op ${opId} was applied, but its proposer said: ${why}`, 'durability');
    }
    // Every acknowledged write survived: applied (with its term) at its index on every member.
    for (const w of this.workload.acked) {
      const at = this.safety.appliedAt.get(w.index);
      if (at === undefined || at.term !== w.term) {
        return this.fail(`acknowledged write at ${w.index} (term ${w.term}) lost: index holds ${at ? `term ${at.term}` : 'nothing'}`, 'durability');
      }
      for (const s of members) {
        if (s.appliedIndex < w.index) return this.fail(`acknowledged write at ${w.index} not applied on member ${s.id} (applied ${s.appliedIndex})`, 'durability');
      }
    }
    const states = new Set(members.filter((s) => s.appliedIndex === l.appliedIndex).map((s) => s.kv.describe()));
    if (states.size > 1) return this.fail(`members at applied index ${l.appliedIndex} hold different KV states: ${[...states].join(' / ')}`, 'safety');
    const verdict = checkOperations(kvModel, this.workload.history, { maxExploredPerPartition: this.opts.lincheckMaxExplored });
    if (verdict === 'illegal') this.fail(`history of ${this.workload.history.length} ops is not linearizable`, 'linearizability');
    if (verdict === 'unknown') this.fail(`linearizability check exceeded its step budget (${this.workload.history.length} ops)`, 'budget');
  }
}

export function runSeed(seed: number, opts: Partial<SimOptions> = {}): Promise<SimResult> {
  return new Simulation(seed, { ...defaultSimOptions, ...opts }).run();
}

export function replayCommand(seed: number, opts: Partial<SimOptions> = {}): string {
  const extra = opts.safetyMs !== undefined && opts.safetyMs !== defaultSimOptions.safetyMs ? ` --steps ${opts.safetyMs}` : '';
  const broken = opts.broken !== undefined ? ` --broken ${opts.broken}` : '';
  return `npm run sim -- --seed ${seed}${extra}${broken} --verbose`;
}
