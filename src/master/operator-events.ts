/**
 * The Operator API's event stream (Call SUBSCRIBE): each subscriber gets
 * SUBSCRIBED with the whole state, then one Event per change the core reports
 * (TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED, FRAMEWORK_ADDED,
 * FRAMEWORK_UPDATED, FRAMEWORK_REMOVED), and HEARTBEAT at the interval
 * SUBSCRIBED names. An event is built once and encoded per stream; with no
 * subscriber every report costs nothing.
 */
import type { Response } from 'express';
import type { Logger } from '../common/log.ts';
import type { StreamMedia } from '../protocol/media.ts';
import type { MasterEvent } from '../protocol/operator-types.ts';
import type { AgentRecord } from './agents.ts';
import { EventStream } from './event-stream.ts';
import type { FrameworkRecord } from './frameworks.ts';
import type { MasterNode } from './master-node.ts';
import type { OperatorObserver } from './operator-observer.ts';
import { mesosTask, operatorAgent, operatorFramework, operatorResponse, type OperatorSources } from './operator-state.ts';
import { resourceUsage } from './resource-usage.ts';
import type { TaskRecord } from './tasks.ts';

/** Mesos' operator heartbeat interval. */
export const OPERATOR_HEARTBEAT_SECONDS = 15;

export class OperatorEventFanout implements OperatorObserver {
  private readonly streams = new Set<EventStream>();
  private nextStream = 0;

  constructor(private readonly node: MasterNode, private readonly log: Logger) {}

  get subscribers(): number {
    return this.streams.size;
  }

  /** Opens a subscriber's stream and sends SUBSCRIBED with the state as GET_STATE shows it. */
  subscribe(res: Response, media: StreamMedia, sources: OperatorSources): void {
    const stream = new EventStream({
      res,
      streamId: `operator-${this.nextStream++}`,
      media: media.media,
      contentType: media.contentType,
      ...(media.messageContentType !== undefined ? { messageContentType: media.messageContentType } : {}),
      messageName: 'mesos.v1.master.Event',
      clock: this.node.clock,
      heartbeatIntervalMs: OPERATOR_HEARTBEAT_SECONDS * 1000,
      heartbeatEvent: { type: 'HEARTBEAT' },
      onClosed: (why) => {
        this.streams.delete(stream);
        this.log.debug({ why }, 'operator stream closed');
      },
      onEncodeError: (err, event) => this.log.error({ err, event }, 'operator event could not be encoded; dropped'),
    });
    this.streams.add(stream);
    const state = operatorResponse('GET_STATE', sources)?.get_state;
    stream.send({ type: 'SUBSCRIBED', subscribed: { ...(state !== undefined ? { get_state: state } : {}), heartbeat_interval_seconds: OPERATOR_HEARTBEAT_SECONDS } } satisfies MasterEvent);
  }

  closeAll(why: string): void {
    for (const s of [...this.streams]) s.close(why);
  }

  taskAdded(t: TaskRecord): void {
    if (this.streams.size > 0) this.send({ type: 'TASK_ADDED', task_added: { task: mesosTask(t) } });
  }

  taskUpdated(t: TaskRecord): void {
    if (this.streams.size === 0 || t.status === undefined) return;
    this.send({ type: 'TASK_UPDATED', task_updated: { framework_id: { value: t.frameworkId }, status: t.status, state: t.state } });
  }

  agentAdded(a: AgentRecord): void {
    if (this.streams.size > 0) this.send({ type: 'AGENT_ADDED', agent_added: { agent: operatorAgent(a, resourceUsage(this.node.core)) } });
  }

  agentRemoved(agentId: string): void {
    if (this.streams.size > 0) this.send({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: agentId } } });
  }

  frameworkAdded(f: FrameworkRecord): void {
    if (this.streams.size > 0) this.send({ type: 'FRAMEWORK_ADDED', framework_added: { framework: operatorFramework(this.node.core, f, resourceUsage(this.node.core)) } });
  }

  frameworkUpdated(f: FrameworkRecord): void {
    if (this.streams.size > 0) this.send({ type: 'FRAMEWORK_UPDATED', framework_updated: { framework: operatorFramework(this.node.core, f, resourceUsage(this.node.core)) } });
  }

  frameworkRemoved(f: FrameworkRecord): void {
    if (this.streams.size > 0) this.send({ type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: { ...f.info, id: { value: f.id } } } });
  }

  private send(event: MasterEvent): void {
    for (const s of this.streams) s.send(event);
  }
}
