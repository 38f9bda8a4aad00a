/**
 * FrameworkNode: one replica of the app framework. It wires the replicated
 * state machine (FrameworkState) into a RaftNode (WAL + snapshots on disk,
 * HTTP transport to the other replicas), feeds what applying produces to the
 * Marathon event stream and the registry watch, serves the REST API, and runs
 * the scheduler only while this replica is the Raft leader.
 *
 * Becoming the acting leader: Raft leadership, then a ReadIndex barrier (the
 * new leader has committed in its term and applied everything before), then
 * the scheduler subscribes with the stored framework id. Losing leadership
 * stops the scheduler at once; a deposed leader's proposals fail at commit,
 * so it cannot launch or kill anything it decided alone. A leader that
 * cannot reach the master hands its leadership to a replica that can
 * (abdication.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Clock, TimerHandle } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import { CygnetError, describeError } from '../common/errors.ts';
import { componentLogger, type Logger } from '../common/log.ts';
import { FileStorage } from '../raft/file-storage.ts';
import { HttpTransport, splitHostPort } from '../raft/http-transport.ts';
import { RaftNode, type NodeStatus } from '../raft/node.ts';
import { RegistryPublisher } from '../registry/registry-publisher.ts';
import type { SnapshotRecord } from '../registry/types.ts';
import { RegistryWatchServer } from '../registry/watch-server.ts';
import { Abdication, chooseSuccessor, defaultAbdicateAfterMs, masterReachableWithinMs } from './abdication.ts';
import { AppService } from './app-service.ts';
import { EventBus } from './api/event-bus.ts';
import { createFrameworkApp } from './api/server.ts';
import { MasterProbe } from './master-probe.ts';
import { fetchReplicaReports } from './replica-reports.ts';
import { FrameworkScheduler } from './scheduler/framework-scheduler.ts';
import { encodeCommand, type CommandResult, type FrameworkCommand } from './state/commands.ts';
import { FrameworkState } from './state/framework-state.ts';

export interface FrameworkNodeOptions {
  /** This replica's Raft id (a key of `peers`). */
  readonly id: number;
  /** Raft address (host:port) of every replica. */
  readonly peers: ReadonlyMap<number, string>;
  /** host:port the REST API listens on (port 0: ephemeral, see `apiAddress`). */
  readonly apiListen: string;
  readonly dataDir: string;
  /** host:port of the master(s). */
  readonly masters: readonly string[];
  readonly frameworkName?: string;
  readonly role?: string;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly snapshotEntries?: number;
  /** Entries kept behind a snapshot for slow followers; beyond them a follower gets the snapshot. */
  readonly catchUpEntries?: number;
  readonly stepIntervalMs?: number;
  readonly reconcileIntervalMs?: number;
  readonly registryHeartbeatMs?: number;
  /** Start as a new member of a running group: no bootstrap; the leader adds it (learner, then voter). */
  readonly join?: boolean;
  /** A leader that has reached no master for this long hands leadership to a replica that can (0: never). */
  readonly abdicateAfterMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** How often the node looks at its Raft role to start or stop the scheduler. */
export const roleCheckIntervalMs = 50;
/**
 * A replica without a leader for this long is cut off from the others (an election takes well
 * under a second): its registry stops advancing, so its watchers (DNS, proxy) are sent to another
 * replica instead of being fed heartbeats over a stale registry. etcd's WithRequireLeader, likewise.
 */
export const registryLeaderlessMs = 2_000;

export class FrameworkNode {
  readonly state = new FrameworkState();
  readonly events: EventBus;
  readonly publisher: RegistryPublisher;
  readonly watch: RegistryWatchServer;
  readonly apps: AppService;
  readonly scheduler: FrameworkScheduler;
  readonly masterProbe: MasterProbe;
  private readonly abdication: Abdication;
  private seekingSuccessor = false;
  private raft: RaftNode<CommandResult> | undefined;
  private server: Server | undefined;
  private roleTimer: TimerHandle | undefined;
  private acting = false;
  private becoming = false;
  /** Since when this replica has known no leader (clock ms), or undefined while it knows one. */
  private leaderlessSince: number | undefined;
  private closed = false;
  private apiAddr = '';
  private readonly clock: Clock;
  private readonly log: Logger;

  private constructor(private readonly o: FrameworkNodeOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? componentLogger('framework', { id: o.id });
    this.events = new EventBus(this.clock);
    this.publisher = new RegistryPublisher({ clusterId: 'unassigned', log: this.log.child({ sub: 'registry' }) });
    this.watch = new RegistryWatchServer({ publisher: this.publisher, clock: this.clock, ...(o.registryHeartbeatMs !== undefined ? { heartbeatIntervalMs: o.registryHeartbeatMs } : {}), log: this.log.child({ sub: 'registry-watch' }) });
    this.state.setObserver({
      event: (e, index) => this.events.publish(e, index),
      registry: (change) => {
        try {
          this.publisher.publish(change);
        } catch (err) {
          // The registry is derived from the state; a rejected change means the two disagree: rebuild.
          this.log.error({ err: describeError(err), change: change.type }, 'registry change rejected; rebuilding the registry');
          this.rebuildRegistry();
        }
      },
      restored: () => this.rebuildRegistry(),
    });
    const propose = (cmd: FrameworkCommand) => this.propose(cmd);
    this.scheduler = new FrameworkScheduler({
      state: this.state,
      propose,
      masters: o.masters,
      ...(o.frameworkName !== undefined ? { frameworkName: o.frameworkName } : {}),
      ...(o.role !== undefined ? { role: o.role } : {}),
      ...(o.stepIntervalMs !== undefined ? { stepIntervalMs: o.stepIntervalMs } : {}),
      ...(o.reconcileIntervalMs !== undefined ? { reconcileIntervalMs: o.reconcileIntervalMs } : {}),
      clock: this.clock,
      log: this.log.child({ sub: 'scheduler' }),
      apiAddress: o.apiListen,
    });
    this.masterProbe = new MasterProbe({ masters: o.masters, clock: this.clock });
    this.abdication = new Abdication(o.abdicateAfterMs ?? defaultAbdicateAfterMs);
    this.apps = new AppService({ state: this.state, propose, clock: this.clock, onWrite: () => this.scheduler.kick() });
  }

  static async start(o: FrameworkNodeOptions): Promise<FrameworkNode> {
    const node = new FrameworkNode(o);
    await node.listen();
    node.raft = await RaftNode.start<CommandResult>({
      id: o.id,
      peers: o.peers,
      storage: new FileStorage(path.join(o.dataDir, 'raft')),
      transport: new HttpTransport({ id: o.id, listen: o.peers.get(o.id) ?? '', peers: o.peers, senderMeta: node.apiAddr, log: node.log.child({ sub: 'raft-transport' }) }),
      stateMachine: node.state,
      ...(o.join === true ? { bootstrap: { voters: [], learners: [] } } : {}),
      ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
      ...(o.electionTicks !== undefined ? { electionTicks: o.electionTicks } : {}),
      ...(o.snapshotEntries !== undefined ? { snapshotEntries: o.snapshotEntries } : {}),
      ...(o.catchUpEntries !== undefined ? { catchUpEntries: o.catchUpEntries } : {}),
      clock: node.clock,
      log: node.log.child({ sub: 'raft' }),
      onFatal: (err) => {
        node.log.fatal({ err: describeError(err) }, 'raft failed; exiting so the replica restarts from its log');
        process.stderr.write(`framework: raft failed: ${describeError(err)}\n`);
        process.exit(1);
      },
    });
    node.masterProbe.start();
    node.watchRole();
    node.log.info({ api: node.apiAddr, raft: o.peers.get(o.id) }, 'framework replica serving');
    return node;
  }

  /** host:port the API is bound to. */
  get apiAddress(): string {
    return this.apiAddr;
  }

  get raftNode(): RaftNode<CommandResult> {
    if (this.raft === undefined) throw new CygnetError('CYG_SHUTTING_DOWN', 'raft is not running yet');
    return this.raft;
  }

  get isActingLeader(): boolean {
    return this.acting;
  }

  /** This replica reached a master a moment ago (its probe). */
  get masterReachable(): boolean {
    return this.masterProbe.reachedWithin(masterReachableWithinMs);
  }

  async propose(cmd: FrameworkCommand): Promise<CommandResult> {
    const out = await this.raftNode.propose(encodeCommand(cmd));
    return out.result;
  }

  /** A linearizable read barrier: after it, this replica's state includes every committed write. */
  async readBarrier(): Promise<void> {
    await this.raftNode.read();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.roleTimer?.cancel();
    this.masterProbe.stop();
    await this.scheduler.stop();
    this.acting = false;
    this.events.close();
    this.watch.close();
    if (this.server !== undefined) {
      const s = this.server;
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      });
    }
    await this.raft?.close();
  }

  private async listen(): Promise<void> {
    const app = createFrameworkApp(this, this.log.child({ sub: 'api' }));
    const { host, port } = splitHostPort(this.o.apiListen);
    const server = app.listen(port, host);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve());
      server.once('error', reject);
    });
    server.keepAliveTimeout = 65_000;
    this.server = server;
    const a = server.address();
    this.apiAddr = typeof a === 'object' && a !== null ? `${host}:${a.port}` : this.o.apiListen;
  }

  private watchRole(): void {
    const check = () => {
      if (this.closed) return;
      // One status per tick for both: it is built afresh on every call.
      const s = this.raftNode.status();
      this.followLeaderForWatch(s.leader);
      void this.maybeChangeRole(s);
      if (this.abdication.due(this.clock.nowMs(), this.acting, this.masterProbe.silentForMs()) && !this.seekingSuccessor) void this.handOver();
      this.roleTimer = this.clock.setTimer(roleCheckIntervalMs, check);
    };
    check();
  }

  private followLeaderForWatch(leader: number): void {
    if (leader !== 0) {
      this.leaderlessSince = undefined;
      this.watch.resume();
      return;
    }
    const now = this.clock.nowMs();
    this.leaderlessSince ??= now;
    if (now - this.leaderlessSince >= registryLeaderlessMs) this.watch.suspend(`this replica has known no leader for ${now - this.leaderlessSince} ms`);
  }

  private async maybeChangeRole(s: NodeStatus): Promise<void> {
    const leader = s.role === 'leader';
    if (!leader && this.acting) {
      this.acting = false;
      this.log.info({ term: s.term, leader: s.leader }, 'no longer the leader; scheduler stops');
      await this.scheduler.stop();
      return;
    }
    if (!leader || this.acting || this.becoming) return;
    this.becoming = true;
    try {
      await this.raftNode.read();
      if (this.state.clusterId === '') await this.propose({ type: 'Init', clusterId: randomUUID() });
      if (this.raftNode.status().role !== 'leader' || this.closed) return;
      this.acting = true;
      this.log.info({ term: s.term }, 'leader: scheduler starts');
      this.scheduler.start();
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'could not become the acting leader yet');
    } finally {
      this.becoming = false;
    }
  }

  /**
   * This leader has reached no master for a while: if another replica can,
   * leadership moves to it (a Raft leadership transfer: it is brought up to
   * date first, then told to campaign at once). If none can, the master is
   * down for everyone and this leader stays.
   */
  private async handOver(): Promise<void> {
    this.seekingSuccessor = true;
    try {
      const raft = this.raftNode;
      const s = raft.status();
      const apis = new Map<number, string>();
      for (const id of s.conf.voters) {
        const api = raft.metaOf(id);
        if (id !== s.id && api !== undefined) apis.set(id, api);
      }
      if (apis.size === 0) return; // a group of one: nobody to hand over to
      const reports = await fetchReplicaReports(apis);
      if (!this.acting || this.closed || this.masterProbe.reachedWithin(masterReachableWithinMs)) return;
      const to = chooseSuccessor(s.id, reports);
      const silentForMs = this.masterProbe.silentForMs();
      if (to === undefined) {
        this.log.info({ silentForMs, asked: [...apis.keys()], answered: reports.length }, 'no master reached, and no other replica reaches one either: staying the leader');
        return;
      }
      this.log.warn({ silentForMs, to }, `no master reached for ${silentForMs} ms; replica ${to} reaches one: handing leadership to it`);
      raft.transferLeadership(to);
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'could not hand leadership over');
    } finally {
      this.seekingSuccessor = false;
    }
  }

  private rebuildRegistry(): void {
    if (this.state.clusterId === '') return;
    const apps = [...this.state.apps()].map((a) => ({
      ...this.state.registryApp(a),
      endpoints: this.state.instancesOf(a.id).filter((i) => this.state.isEndpoint(i)).map((i) => this.state.registryEndpoint(i)),
    }));
    const snapshot: SnapshotRecord = { type: 'SNAPSHOT', clusterId: this.state.clusterId, revision: this.state.registryRevision(), cluster: this.state.clusterInfo, apps };
    this.publisher.restore(snapshot);
  }
}
