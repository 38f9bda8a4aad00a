/**
 * What the pure master core asks its I/O shell to do. The core never writes to
 * a socket: every handler appends effects to an outbox, and the shell performs
 * them in order (write an event to a stream, close a stream, schedule an
 * allocation). Invariant: effects are performed in the order emitted, so an
 * UPDATE sent after a LAUNCH on the same stream stays after it.
 */
import type { AgentEvent, SchedulerEvent } from './wire.ts';

export type Effect =
  | { readonly kind: 'framework-event'; readonly frameworkId: string; readonly streamId: string; readonly event: SchedulerEvent }
  | { readonly kind: 'agent-event'; readonly agentId: string; readonly streamId: string; readonly event: AgentEvent }
  | { readonly kind: 'close-stream'; readonly streamId: string; readonly reason: string }
  | { readonly kind: 'allocate' };

export function describeEffect(e: Effect): string {
  switch (e.kind) {
    case 'framework-event':
      return `framework ${e.frameworkId} <- ${describeSchedulerEvent(e.event)}`;
    case 'agent-event':
      return `agent ${e.agentId} <- ${describeAgentEvent(e.event)}`;
    case 'close-stream':
      return `close stream ${e.streamId}: ${e.reason}`;
    case 'allocate':
      return 'allocate';
  }
}

export function describeSchedulerEvent(ev: SchedulerEvent): string {
  switch (ev.type) {
    case 'SUBSCRIBED':
      return `SUBSCRIBED ${ev.subscribed?.framework_id.value ?? '?'}`;
    case 'OFFERS':
      return `OFFERS ${(ev.offers?.offers ?? []).map((o) => `${o.id.value}@${o.agent_id.value}`).join(',')}`;
    case 'RESCIND':
      return `RESCIND ${ev.rescind?.offer_id.value ?? '?'}`;
    case 'UPDATE': {
      const s = ev.update?.status;
      return `UPDATE ${s?.task_id.value ?? '?'} ${s?.state ?? '?'}${s?.reason ? ` ${s.reason}` : ''}${s?.uuid ? ' (ack)' : ''}`;
    }
    case 'FAILURE':
      return `FAILURE agent=${ev.failure?.agent_id?.value ?? '-'}`;
    case 'ERROR':
      return `ERROR ${ev.error?.message ?? ''}`;
    default:
      return ev.type ?? 'UNKNOWN';
  }
}

export function describeAgentEvent(ev: AgentEvent): string {
  switch (ev.type) {
    case 'SUBSCRIBED':
      return `SUBSCRIBED ${ev.subscribed?.agent_id.value ?? '?'}`;
    case 'LAUNCH':
      return `LAUNCH ${ev.launch?.task.task_id.value ?? '?'} of ${ev.launch?.framework_info.id?.value ?? '?'}`;
    case 'KILL':
      return `KILL ${ev.kill?.task_id.value ?? '?'} of ${ev.kill?.framework_id.value ?? '?'}`;
    case 'ACKNOWLEDGE':
      return `ACKNOWLEDGE ${ev.acknowledge?.task_id.value ?? '?'} of ${ev.acknowledge?.framework_id.value ?? '?'}`;
    case 'SHUTDOWN_FRAMEWORK':
      return `SHUTDOWN_FRAMEWORK ${ev.shutdown_framework?.framework_id.value ?? '?'}`;
    case 'RECONCILE':
      return `RECONCILE ${(ev.reconcile?.task_ids ?? []).map((t) => t.value).join(',') || 'all'}`;
    case 'ERROR':
      return `ERROR ${ev.error?.message ?? ''}`;
    default:
      return ev.type;
  }
}
