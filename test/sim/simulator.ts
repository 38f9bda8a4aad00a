/**
 * The deterministic Raft simulator: one seed drives node clocks (with drift),
 * the network (drop, delay, duplicate, reorder, partitions incl. one-way),
 * disk (fsync latency, crash losing unsynced writes), snapshots/compaction,
 * membership changes, leadership transfers and a KV workload.
 *
 *   safety phase (faults)  →  liveness phase (healed: must elect and commit)
 *   → every acknowledged write applied on all members → history linearizable
 *
 * Safety properties are checked after every event (safety.ts). `runSeed`
 * never throws for a protocol bug: it returns the failure with the seed.
 */
import { SeededRandom, randomInt } from '../../src/common/random.ts';
import type { Random } from '../../src/common/random.ts';
import { defaultRaftConfig } from '../../src/raft/types.ts';
import type { Message, NodeId, RaftConfig } from '../../src/raft/types.ts';
import { checkOperations } from '../../src/lincheck/checker.ts';
import { kvModel } from '../../src/lincheck/models.ts';
import { EventQueue } from './event-queue.ts';
import { SimNetwork, calmNetwork } from './sim-network.ts';
import { SimNode } from './sim-node.ts';
import type { SimNodeOptions } from './sim-node.ts';
import { SafetyChecker, SafetyViolation } from './safety.ts';
import { Workload } from './workload.ts';

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
  readonly lincheckTimeoutMs: number;
  /** Probability that a node loses power between writing a Ready and its fsync. */
  readonly crashBeforeFsyncRate: number;
  /** Print a trace of faults and roles. */
  readonly verbose: boolean;
}

export const defaultSimOptions: SimOptions = {
  safetyMs: 3000,
  livenessMs: 4000,
  initialVoters: 3,
  maxMembers: 5,
  clients: 6,
  logMatchEvery: 50,
  lincheckTimeoutMs: 20000,
  crashBeforeFsyncRate: 0.005,
  verbose: false,
};

export interface SimStats {
  events: number;
  messages: number;
  elections: number;
  crashes: number;
  confChanges: number;
  transfers: number;
  snapshotsInstalled: number;
  ops: number;
  unknownOps: number;
  ackedWrites: number;
  finalTerm: number;
  finalCommit: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  readonly stats: SimStats;
}

const raftConfig: Omit<RaftConfig, 'id' | 'random'> = {
  ...defaultRaftConfig,
  electionTicks: 10,
  heartbeatTicks: 2,
  maxInflightMsgs: 8,
  maxEntriesPerMsg: 16,
  snapshotChunkBytes: 64,
};

const nodeOptions: SimNodeOptions = { raft: raftConfig, tickMs: 10, snapshotEvery: 40, keepAfterCompact: 5, maxDiskLatencyMs: 3 };

/** Per-seed protocol variants: pre-vote and check-quorum are each off in a quarter of the seeds. */
function pickNodeOptions(rng: Random): SimNodeOptions {
  const preVote = rng.next() < 0.75;
  const checkQuorum = rng.next() < 0.75;
  return { ...nodeOptions, raft: { ...raftConfig, preVote, checkQuorum } };
}

class Simulation {
  readonly queue = new EventQueue();
  readonly rng: Random;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly net: SimNetwork;
  readonly safety = new SafetyChecker();
  readonly workload: Workload;
  readonly stats: SimStats = {
    events: 0, messages: 0, elections: 0, crashes: 0, confChanges: 0, transfers: 0,
    snapshotsInstalled: 0, ops: 0, unknownOps: 0, ackedWrites: 0, finalTerm: 0, finalCommit: 0,
  };
  private failure: string | undefined;
  private nextId: NodeId;
  private faultsOn = true;
  private readonly trace: string[] = [];
  private readonly nodeOptions: SimNodeOptions;

  constructor(readonly seed: number, readonly opts: SimOptions) {
    this.rng = new SeededRandom(seed);
    this.nodeOptions = pickNodeOptions(this.rng);
    this.net = new SimNetwork(this.queue, this.rng, (m) => this.deliver(m));
    this.workload = new Workload(
      { clients: opts.clients, keys: ['a', 'b', 'c'], opTimeoutMs: 400, maxThinkMs: 10 },
      this.queue,
      this.rng,
      () => this.liveNodes(),
    );
    const voters = Array.from({ length: opts.initialVoters }, (_, k) => k + 1);
    this.nextId = voters.length + 1;
    for (const id of voters) this.addNode(id, { voters, learners: [] });
  }

  private addNode(id: NodeId, conf: { voters: NodeId[]; learners: NodeId[] }): SimNode {
    const node = new SimNode(id, conf, this.nodeOptions, this.queue, this.rng, {
      send: (m) => this.net.send(m),
      onApply: (n, e, out) => {
        this.safety.onApply(n.id, e);
        this.workload.onApply(n, e, out);
      },
      onSnapshotRestored: (n) => {
        this.stats.snapshotsInstalled++;
        this.workload.onSnapshotRestored(n);
      },
      onReadState: (n, rs) => this.workload.onReadState(n, rs),
      onFailure: (msg) => this.fail(msg),
      crashBeforeFsync: () => this.faultsOn && this.rng.next() < this.opts.crashBeforeFsyncRate,
      onCrashed: (n) => this.crashed(n, 'before fsync'),
    });
    this.nodes.set(id, node);
    return node;
  }

  private deliver(m: Message): void {
    this.stats.messages++;
    this.nodes.get(m.to)?.receive(m);
  }

  liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  private log(line: string): void {
    if (this.opts.verbose) this.trace.push(`${this.queue.now.toFixed(1).padStart(8)} ${line}`);
  }

  fail(msg: string): void {
    this.failure ??= msg;
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.liveNodes()) {
      const s = n.core.status;
      if (s.role === 'leader' && (best === undefined || s.term > best.core.status.term)) best = n;
    }
    return best;
  }

  /** Runs events until `until` or a failure; safety is checked after each event. */
  private runUntil(until: number, stopWhen?: () => boolean): void {
    let sinceLogMatch = 0;
    let leaders = '';
    while (this.failure === undefined && this.queue.runNext(until)) {
      this.stats.events++;
      const cores = this.liveNodes().map((n) => n.core);
      try {
        this.stats.elections = this.safety.observe(cores);
        if (++sinceLogMatch >= this.opts.logMatchEvery) {
          sinceLogMatch = 0;
          this.safety.checkLogMatching(cores);
        }
      } catch (err) {
        if (err instanceof SafetyViolation) this.fail(err.message);
        else throw err;
      }
      if (this.opts.verbose) {
        const now = cores.filter((c) => c.status.role === 'leader').map((c) => `${c.id}@${c.status.term}`).join(',');
        if (now !== leaders) this.log(`leaders: ${now || 'none'}`);
        leaders = now;
      }
      if (stopWhen?.()) return;
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
    return [...this.nodes.values()].filter((n) => !n.stopped).map((n) => n.id);
  }

  private injectFault(): void {
    const r = this.rng.next();
    const ids = this.members();
    const pick = (): NodeId => ids[randomInt(this.rng, 0, ids.length)];
    if (r < 0.15) {
      const shuffled = [...ids].sort(() => this.rng.next() - 0.5);
      const cut = randomInt(this.rng, 1, shuffled.length);
      const oneWay = this.rng.next() < 0.3;
      const heal = this.net.partition(shuffled.slice(0, cut), shuffled.slice(cut), oneWay);
      const what = `${shuffled.slice(0, cut)} | ${shuffled.slice(cut)}${oneWay ? ' (one-way)' : ''}`;
      this.log(`partition ${what}`);
      this.queue.after(100 + this.rng.next() * 700, () => {
        heal();
        this.log(`heal ${what}`);
      });
    } else if (r < 0.25) {
      // Often the leader: a deposed leader that does not know it yet is the interesting case.
      const id = this.rng.next() < 0.6 ? (this.leader()?.id ?? pick()) : pick();
      const heal = this.net.partition([id], ids.filter((o) => o !== id), false);
      this.log(`isolate ${id}`);
      this.queue.after(100 + this.rng.next() * 700, () => {
        heal();
        this.log(`heal isolate ${id}`);
      });
    } else if (r < 0.4) {
      const n = this.nodes.get(pick());
      if (n === undefined || !n.up) return;
      // Often the leader, to exercise failover.
      const target = this.rng.next() < 0.5 ? (this.leader() ?? n) : n;
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
      const l = this.leader();
      if (l === undefined) return;
      const voters = l.core.status.conf.voters.filter((v) => v !== l.id);
      if (voters.length === 0) return;
      const to = voters[randomInt(this.rng, 0, voters.length)];
      if (l.act((c) => c.transferLeadership(to)).ok) {
        this.stats.transfers++;
        this.log(`transfer ${l.id} -> ${to}`);
      }
    } else {
      this.net.faults = { ...calmNetwork };
    }
  }

  private crashed(n: SimNode, how: string): void {
    this.workload.onCrash(n);
    this.stats.crashes++;
    this.log(`crash ${n.id} ${how}`);
    this.queue.after(20 + this.rng.next() * 300, () => {
      n.restart();
      this.log(`restart ${n.id}`);
    });
  }

  private changeMembership(): void {
    const l = this.leader();
    if (l === undefined) return;
    const conf = l.core.status.conf;
    const r = this.rng.next();
    if (conf.learners.length > 0 && r < 0.5) {
      const node = conf.learners[0];
      if (l.act((c) => c.proposeConfChange({ type: 'addVoter', node })).ok) this.noteConf(`promote ${node}`);
    } else if (conf.voters.length + conf.learners.length < this.opts.maxMembers && r < 0.8) {
      const id = this.nextId;
      if (l.act((c) => c.proposeConfChange({ type: 'addLearner', node: id })).ok) {
        this.nextId++;
        this.addNode(id, { voters: [], learners: [] });
        this.noteConf(`add learner ${id}`);
      }
    } else if (conf.voters.length > 3) {
      const node = conf.voters[randomInt(this.rng, 0, conf.voters.length)];
      if (l.act((c) => c.proposeConfChange({ type: 'removeNode', node })).ok) {
        this.noteConf(`remove ${node}`);
        this.watchRemoval(node);
      }
    }
  }

  private noteConf(what: string): void {
    this.stats.confChanges++;
    this.log(what);
  }

  /** Stops a removed node once some member has applied its removal. */
  private watchRemoval(node: NodeId): void {
    this.queue.after(50, () => {
      const removed = this.liveNodes().some((n) => n.id !== node && !n.core.status.conf.voters.includes(node) && !n.core.status.conf.learners.includes(node) && n.core.status.conf.voters.length > 0);
      if (removed) {
        this.nodes.get(node)?.stop();
        this.log(`stopped ${node}`);
      } else this.watchRemoval(node);
    });
  }

  // -------------------------------------------------------------------------
  // Phases

  run(): SimResult {
    try {
      this.workload.start();
      this.scheduleFaults();
      this.runUntil(this.opts.safetyMs);
      if (this.failure === undefined) this.liveness();
      if (this.failure === undefined) this.finalChecks();
    } catch (err) {
      this.fail(`exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    this.stats.ops = this.workload.history.length;
    this.stats.unknownOps = this.workload.unknown;
    this.stats.ackedWrites = this.workload.acked.length;
    const l = this.leader();
    this.stats.finalTerm = l?.core.status.term ?? 0;
    this.stats.finalCommit = l?.core.status.commit ?? 0;
    if (this.opts.verbose) {
      console.log(this.trace.join('\n'));
      for (const n of this.nodes.values()) console.log(n.describe());
    }
    return { seed: this.seed, ok: this.failure === undefined, ...(this.failure ? { failure: this.failure } : {}), stats: this.stats };
  }

  private liveness(): void {
    this.faultsOn = false;
    this.net.heal();
    this.net.faults = { ...calmNetwork };
    for (const n of this.nodes.values()) n.restart();
    this.log('liveness phase');
    const deadline = this.queue.now + this.opts.livenessMs;
    // A fresh write must be acknowledged through the healed cluster.
    const ackedBefore = this.workload.acked.length;
    this.runUntil(deadline, () => this.workload.acked.length > ackedBefore);
    if (this.failure !== undefined) return;
    if (this.workload.acked.length === ackedBefore) {
      this.fail(`liveness: no write acknowledged within ${this.opts.livenessMs} ms after healing (leader ${this.leader()?.id ?? 'none'})`);
      return;
    }
    this.workload.stop();
    this.runUntil(deadline, () => this.converged());
    this.workload.drain();
    if (this.failure === undefined && !this.converged()) {
      this.fail(`liveness: members did not converge within ${this.opts.livenessMs} ms`);
    }
  }

  /** A leader with its whole log committed; every member (leader's conf) is live and has applied it. */
  private converged(): boolean {
    const l = this.leader();
    if (l === undefined) return false;
    const s = l.core.status;
    // The leader has committed its whole log, including an entry of its own term.
    if (s.applied < s.commit || s.commit < s.lastIndex || l.core.logTerm(s.commit) !== s.term) return false;
    for (const id of [...s.conf.voters, ...s.conf.learners]) {
      const n = this.nodes.get(id);
      if (n === undefined || !n.up || n.appliedIndex < s.commit) return false;
    }
    return true;
  }

  private finalChecks(): void {
    const l = this.leader();
    if (l === undefined) return this.fail('final: no leader');
    const members = [...l.core.status.conf.voters, ...l.core.status.conf.learners].map((id) => this.nodes.get(id)).filter((n) => n !== undefined);
    try {
      this.safety.checkLogMatching(members.map((n) => n.core));
    } catch (err) {
      if (err instanceof SafetyViolation) return this.fail(err.message);
      throw err;
    }
    // Every acknowledged write survived: applied (with its term) at its index on every member.
    for (const w of this.workload.acked) {
      const at = this.safety.appliedAt.get(w.index);
      if (at === undefined || at.term !== w.term) {
        return this.fail(`acknowledged write at ${w.index} (term ${w.term}) lost: index holds ${at ? `term ${at.term}` : 'nothing'}`);
      }
      for (const n of members) {
        if (n.appliedIndex < w.index) return this.fail(`acknowledged write at ${w.index} not applied on member ${n.id} (applied ${n.appliedIndex})`);
      }
    }
    const states = new Set(members.filter((n) => n.appliedIndex === l.appliedIndex).map((n) => n.kv.describe()));
    if (states.size > 1) return this.fail(`members at applied index ${l.appliedIndex} hold different KV states: ${[...states].join(' / ')}`);
    const verdict = checkOperations(kvModel, this.workload.history, { timeoutMs: this.opts.lincheckTimeoutMs });
    if (verdict === 'illegal') this.fail(`history of ${this.workload.history.length} ops is not linearizable`);
    if (verdict === 'unknown') this.fail(`linearizability check timed out (${this.workload.history.length} ops)`);
  }
}

export function runSeed(seed: number, opts: Partial<SimOptions> = {}): SimResult {
  return new Simulation(seed, { ...defaultSimOptions, ...opts }).run();
}

export function replayCommand(seed: number, opts: Partial<SimOptions> = {}): string {
  const extra = opts.safetyMs !== undefined && opts.safetyMs !== defaultSimOptions.safetyMs ? ` --steps ${opts.safetyMs}` : '';
  return `npm run sim -- --seed ${seed}${extra} --verbose`;
}
