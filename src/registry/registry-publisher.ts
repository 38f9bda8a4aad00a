/**
 * The server side of the registry watch, without HTTP: owns the registry
 * (RegistryState) and the recent deltas (DeltaWindow), assigns revisions,
 * and fans every change out to the subscribers.
 *
 * Cheap to serve to many watchers: a change is validated, applied and
 * encoded ONCE as a RecordIO frame; the same Buffer is handed to every
 * subscriber (and kept in the window for resumes). Snapshot and heartbeat
 * frames are encoded once per revision and shared the same way.
 *
 * Invariants:
 *   - revisions are assigned here, sequentially (current + 1); the framework
 *     restores the counter with `restore(snapshot)` after a restart;
 *   - a change that does not validate or apply throws and changes nothing
 *     (no revision is used up, no subscriber sees it);
 *   - a subscriber sees, in order, either a snapshot or RESUMED plus the
 *     window's deltas, then every later delta: `subscribe` and `publish` are
 *     synchronous, so nothing can slip between the catch-up and the live feed.
 * No I/O here; the HTTP edge is watch-server.ts.
 */
import { encodeRecord } from '../protocol/recordio.ts';
import type { Logger } from '../common/log.ts';
import { describeError } from '../common/errors.ts';
import { DEFAULT_DELTA_WINDOW_CAPACITY, DeltaWindow } from './delta-window.ts';
import { parseDelta, parseSnapshot } from './record-validation.ts';
import { RegistryState, type ReadonlyRegistryState } from './registry-state.ts';
import type { HeartbeatRecord, RegistryCluster, RegistryDelta, ResumedRecord, SnapshotRecord } from './types.ts';

/** A delta before the publisher gives it a revision. */
export type RegistryChange = { [K in RegistryDelta['type']]: Omit<Extract<RegistryDelta, { type: K }>, 'revision'> }[RegistryDelta['type']];

/** One watcher, as the publisher sees it (watch-server.ts implements it over an HTTP response). */
export interface RegistrySubscriber {
  /** One encoded record. The same Buffer goes to every subscriber: never modify it. */
  deliver(frame: Buffer, revision: number): void;
  /** The publisher's history was replaced (restore): this subscriber cannot continue and must start over. */
  reset(why: string): void;
}

export interface Subscription {
  /** What the watcher gets first: a snapshot, or RESUMED followed by the deltas it missed. */
  readonly kind: 'snapshot' | 'resumed';
  readonly frames: readonly Buffer[];
  unsubscribe(): void;
}

export interface RegistryPublisherOptions {
  readonly clusterId: string;
  readonly windowCapacity?: number;
  readonly log?: Logger;
}

interface WindowEntry {
  readonly revision: number;
  readonly frame: Buffer;
}

interface EncodedSnapshot {
  readonly revision: number;
  readonly json: Buffer;
  readonly frame: Buffer;
}

export class RegistryPublisher {
  private readonly registry: RegistryState;
  private readonly window: DeltaWindow<WindowEntry>;
  private readonly subscribers = new Set<RegistrySubscriber>();
  private readonly log: Logger | undefined;
  private encodedSnapshot: EncodedSnapshot | undefined;
  private encodedHeartbeat: { readonly revision: number; readonly frame: Buffer } | undefined;

  constructor(options: RegistryPublisherOptions) {
    if (typeof options.clusterId !== 'string' || options.clusterId === '') throw new RangeError('RegistryPublisher: clusterId must be a non-empty string');
    this.registry = new RegistryState(options.clusterId, 0);
    this.window = new DeltaWindow<WindowEntry>(options.windowCapacity ?? DEFAULT_DELTA_WINDOW_CAPACITY, 0);
    this.log = options.log;
  }

  get state(): ReadonlyRegistryState {
    return this.registry;
  }

  get revision(): number {
    return this.registry.revision;
  }

  get clusterId(): string {
    return this.registry.clusterId;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Validates, numbers, applies and fans out one change; returns the delta as sent. */
  publish(change: RegistryChange): RegistryDelta {
    const delta = parseDelta({ ...change, revision: this.registry.revision + 1 });
    this.registry.apply(delta);
    const frame = encodeRecord(JSON.stringify(delta));
    this.window.push({ revision: delta.revision, frame });
    for (const sub of this.subscribers) {
      try {
        sub.deliver(frame, delta.revision);
      } catch (err) {
        // One broken watcher must not stop the others from hearing about the change.
        this.log?.warn({ err: describeError(err) }, 'registry subscriber failed to take a delta');
      }
    }
    return delta;
  }

  /** Publishes CLUSTER_UPDATED if `cluster` differs from what is known; returns the delta, or undefined when nothing changed. */
  publishCluster(cluster: RegistryCluster): RegistryDelta | undefined {
    const current = this.registry.cluster;
    if (current.leader === cluster.leader && current.master === cluster.master) return undefined;
    return this.publish({ type: 'CLUSTER_UPDATED', cluster });
  }

  /**
   * Replaces the registry with `snapshot` (the framework's restored state) and
   * continues numbering after its revision. The window restarts empty, so
   * watchers at exactly that revision resume and older ones get a snapshot.
   * Current subscribers are reset: what they hold may not match any more.
   */
  restore(snapshot: SnapshotRecord): void {
    const record = parseSnapshot(snapshot);
    this.registry.loadSnapshot(record);
    this.window.reset(record.revision);
    this.encodedSnapshot = undefined;
    this.encodedHeartbeat = undefined;
    const subs = [...this.subscribers];
    this.subscribers.clear();
    for (const sub of subs) {
      try {
        sub.reset(`registry restored at revision ${record.revision}`);
      } catch (err) {
        this.log?.warn({ err: describeError(err) }, 'registry subscriber failed to reset');
      }
    }
  }

  /**
   * Registers a watcher. With `since` inside the window it gets RESUMED and
   * the deltas after `since`; otherwise (no `since`, too old, or ahead of
   * us) a snapshot. Then every later delta through `deliver`.
   */
  subscribe(since: number | undefined, subscriber: RegistrySubscriber): Subscription {
    const answer = since === undefined ? undefined : this.window.since(since);
    let kind: Subscription['kind'];
    let frames: Buffer[];
    if (since !== undefined && answer?.kind === 'deltas') {
      const resumed: ResumedRecord = { type: 'RESUMED', clusterId: this.registry.clusterId, revision: since };
      kind = 'resumed';
      frames = [encodeRecord(JSON.stringify(resumed)), ...answer.entries.map((e) => e.frame)];
    } else {
      kind = 'snapshot';
      frames = [this.snapshotEncoded().frame];
    }
    this.subscribers.add(subscriber);
    return { kind, frames, unsubscribe: () => { this.subscribers.delete(subscriber); } };
  }

  /** The current snapshot as JSON bytes (the body of `GET /v1/registry`), encoded once per revision. */
  snapshotJson(): Buffer {
    return this.snapshotEncoded().json;
  }

  /** A HEARTBEAT frame at the current revision, encoded once per revision. */
  heartbeatFrame(): Buffer {
    const revision = this.registry.revision;
    if (this.encodedHeartbeat?.revision !== revision) {
      const record: HeartbeatRecord = { type: 'HEARTBEAT', revision };
      this.encodedHeartbeat = { revision, frame: encodeRecord(JSON.stringify(record)) };
    }
    return this.encodedHeartbeat.frame;
  }

  private snapshotEncoded(): EncodedSnapshot {
    const revision = this.registry.revision;
    if (this.encodedSnapshot?.revision !== revision) {
      const json = Buffer.from(JSON.stringify(this.registry.snapshot()), 'utf8');
      this.encodedSnapshot = { revision, json, frame: encodeRecord(json) };
    }
    return this.encodedSnapshot;
  }
}
