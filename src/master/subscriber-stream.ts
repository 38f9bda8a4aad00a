/**
 * Opens a subscriber's (framework's or agent's) event stream and ties its
 * lifetime to the master node: registered while open, unregistered and
 * reported to the core when it closes. If the stream cannot even be opened,
 * the core is told at once, so it never believes a subscriber is connected
 * without a stream.
 */
import { EventStream, type EventStreamOptions } from './event-stream.ts';
import type { MasterNode } from './master-node.ts';

export function openSubscriberStream(
  node: MasterNode,
  options: Omit<EventStreamOptions, 'onClosed'>,
  closedInCore: (why: string) => void,
): void {
  let stream: EventStream;
  try {
    stream = new EventStream({
      ...options,
      onClosed: (why) => {
        node.unregisterStream(options.streamId);
        closedInCore(why);
        node.pump();
      },
    });
  } catch (err) {
    closedInCore('stream could not be opened');
    throw err;
  }
  node.registerStream(stream);
  node.pump();
}
