/**
 * How the SDK puts Scheduler calls on the wire and reads events off it:
 * media type, call encoding, event decoding, and RecordIO record splitting.
 *
 * Bodies go through the protocol codec (src/protocol/codec.ts), so JSON and
 * protobuf give the same canonical objects. Invariant: `decodeEvent` never
 * returns something that is not an object with a string `type`; anything else
 * is a CygnetError naming the field.
 */
import { ValidationError } from '../../common/errors.ts';
import { decodeBody, encodeBodyBytes } from '../../protocol/codec.ts';
import type { MediaType } from '../../protocol/media.ts';
import type { SchedulerCall, SchedulerEvent } from '../../protocol/mesos-types.ts';

export type SchedulerContentType = 'json' | 'protobuf';

export interface SchedulerWire {
  readonly contentType: SchedulerContentType;
  readonly mediaType: MediaType;
  encodeCall(call: SchedulerCall): Uint8Array;
  decodeEvent(record: Uint8Array): SchedulerEvent;
}

const mediaTypes: Record<SchedulerContentType, MediaType> = {
  json: 'application/json',
  protobuf: 'application/x-protobuf',
};

export function createWire(contentType: SchedulerContentType): SchedulerWire {
  if (contentType !== 'json' && contentType !== 'protobuf') {
    throw new ValidationError('contentType', "'json' or 'protobuf'", String(contentType));
  }
  const mediaType = mediaTypes[contentType];
  return {
    contentType,
    mediaType,
    encodeCall: (call) => encodeBodyBytes('mesos.v1.scheduler.Call', mediaType, call),
    decodeEvent: (record) => checkEvent(decodeBody<unknown>('mesos.v1.scheduler.Event', mediaType, record)),
  };
}

function checkEvent(value: unknown): SchedulerEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('event', 'an object', Array.isArray(value) ? 'array' : typeof value);
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ValidationError('event.type', 'a string', typeof type);
  return value as SchedulerEvent;
}
