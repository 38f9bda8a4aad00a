/**
 * The codec: Mesos-style JSON and protobuf bodies ⇄ the canonical JSON-shaped
 * objects of mesos-types.ts / agent-types.ts.
 *
 *   body ──decodeJson──────▶ JSON.parse ─┐
 *   body ──decodeProtobuf──▶ Type.decode ─┴─▶ toCanonical (strict) ─▶ object
 *   object ─▶ toCanonical ─▶ JSON.stringify | Type.fromObject + encode
 *
 * Invariants: decoders only ever throw CygnetError (BadRequestError for a body
 * that does not parse, ValidationError with a field path for one that parses
 * but is not the message, e.g. lacks a proto2 `required` field), never TypeError/RangeError, whatever the input;
 * bodies above MAX_BODY_BYTES are refused before parsing. Encoders throw
 * ValidationError for an object that is not the message (a bug in the
 * caller). Pure apart from reading the .proto files once.
 */

import type { AgentCall, AgentEvent } from './agent-types.ts';
import type { MasterCall, MasterEvent, MasterResponse } from './operator-types.ts';
import type {
  AgentID,
  AgentInfo,
  Attribute,
  CommandInfo,
  ExecutorCall,
  ExecutorEvent,
  ExecutorInfo,
  Filters,
  FrameworkID,
  FrameworkInfo,
  HealthCheck,
  InverseOffer,
  KillPolicy,
  Labels,
  MasterInfo,
  Offer,
  OfferOperation,
  Resource,
  SchedulerCall,
  SchedulerEvent,
  Task,
  TaskID,
  TaskInfo,
  TaskStatus,
  Value,
} from './mesos-types.ts';
import { BadRequestError, CygnetError, ValidationError } from '../common/errors.ts';
import { toCanonical } from './json-shape.ts';
import type { MediaType } from './media.ts';
import { lenientMessageType, messageType, shortName } from './proto-registry.ts';
import type { MessageName } from './proto-registry.ts';

export type { MessageName } from './proto-registry.ts';
export { MESSAGE_NAMES } from './proto-registry.ts';

/**
 * The TypeScript shape of each named message, for callers that want the type
 * from the name: `decodeJson<MessageTypes['cygnet.agent.Call']>('cygnet.agent.Call', body)`.
 */
export interface MessageTypes {
  'mesos.v1.scheduler.Call': SchedulerCall;
  'mesos.v1.scheduler.Event': SchedulerEvent;
  'mesos.v1.executor.Call': ExecutorCall;
  'mesos.v1.executor.Event': ExecutorEvent;
  'cygnet.agent.Call': AgentCall;
  'cygnet.agent.Event': AgentEvent;
  'mesos.v1.master.Call': MasterCall;
  'mesos.v1.master.Response': MasterResponse;
  'mesos.v1.master.Event': MasterEvent;
  'mesos.v1.AgentID': AgentID;
  'mesos.v1.AgentInfo': AgentInfo;
  'mesos.v1.Attribute': Attribute;
  'mesos.v1.CommandInfo': CommandInfo;
  'mesos.v1.ExecutorInfo': ExecutorInfo;
  'mesos.v1.Filters': Filters;
  'mesos.v1.FrameworkID': FrameworkID;
  'mesos.v1.FrameworkInfo': FrameworkInfo;
  'mesos.v1.HealthCheck': HealthCheck;
  'mesos.v1.InverseOffer': InverseOffer;
  'mesos.v1.KillPolicy': KillPolicy;
  'mesos.v1.Labels': Labels;
  'mesos.v1.MasterInfo': MasterInfo;
  'mesos.v1.Offer': Offer;
  'mesos.v1.Offer.Operation': OfferOperation;
  'mesos.v1.Resource': Resource;
  'mesos.v1.Task': Task;
  'mesos.v1.TaskID': TaskID;
  'mesos.v1.TaskInfo': TaskInfo;
  'mesos.v1.TaskStatus': TaskStatus;
  'mesos.v1.Value': Value;
}

/**
 * Largest body accepted, JSON or protobuf. Matches the RecordIO record bound:
 * an offer for a big agent is tens of KiB; 16 MiB leaves room for an
 * agent re-subscribing with thousands of tasks.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Deepest JSON nesting accepted (objects and arrays, known fields or not).
 * Real bodies nest about 20 deep; a bound keeps hostile bodies from costing
 * more than a linear scan.
 */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a JSON body strictly into the canonical form of `name` (see json-shape.ts for the rules). */
export function decodeJson<T>(name: MessageName, body: string | Uint8Array): T {
  const type = messageType(name);
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    checkSize(name, body.byteLength);
    try {
      text = utf8.decode(body);
    } catch {
      throw new BadRequestError(`Failed to parse body into JSON: invalid UTF-8`);
    }
  }
  checkSize(name, text.length);
  checkJsonDepth(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`Failed to parse body into JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return canonical(name, type, parsed) as T;
}

/** Decodes a protobuf body into the same canonical form as decodeJson. */
export function decodeProtobuf<T>(name: MessageName, body: Uint8Array): T {
  const type = messageType(name);
  const lenient = lenientMessageType(name);
  checkSize(name, body.byteLength);
  let obj: unknown;
  try {
    const message = lenient.decode(body);
    obj = lenient.toObject(message, { enums: String, longs: Number, bytes: String, defaults: false, arrays: false });
  } catch (err) {
    throw new BadRequestError(`Failed to parse body into ${shortName(name)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return canonical(name, type, obj) as T;
}

/** Mesos JSON: snake_case, enum names, absent fields omitted. */
export function encodeJson(name: MessageName, msg: object): string {
  return JSON.stringify(toCanonical(messageType(name), msg));
}

export function encodeProtobuf(name: MessageName, msg: object): Uint8Array {
  const type = messageType(name);
  const obj = toCanonical(type, msg);
  return type.encode(type.fromObject(obj)).finish();
}

/** Decodes a request/response body by its media type (pass protobuf bodies as bytes). */
export function decodeBody<T>(name: MessageName, media: MediaType, body: string | Uint8Array): T {
  if (media === 'application/json') return decodeJson<T>(name, body);
  return decodeProtobuf<T>(name, typeof body === 'string' ? Buffer.from(body, 'latin1') : body);
}

/** Encodes a body for `media`: a string for JSON, bytes for protobuf. */
export function encodeBody(name: MessageName, media: MediaType, msg: object): Uint8Array | string {
  return media === 'application/json' ? encodeJson(name, msg) : encodeProtobuf(name, msg);
}

/** Like encodeBody, always as bytes (for RecordIO records and HTTP bodies). */
export function encodeBodyBytes(name: MessageName, media: MediaType, msg: object): Uint8Array {
  const body = encodeBody(name, media, msg);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

function canonical(name: MessageName, type: ReturnType<typeof messageType>, value: unknown): object {
  try {
    return toCanonical(type, value);
  } catch (err) {
    if (err instanceof CygnetError) throw err;
    // toCanonical only throws ValidationError by construction; anything else is
    // still reported as a bad body rather than escaping as a TypeError.
    throw new BadRequestError(`Failed to convert JSON into ${shortName(name)} protobuf: ${String(err)}`);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** One linear pass over the text (strings skipped) before JSON.parse sees it. */
function checkJsonDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new BadRequestError(`Failed to parse body into JSON: nested deeper than ${MAX_JSON_DEPTH} levels`);
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
}

function checkSize(name: MessageName, size: number): void {
  if (size > MAX_BODY_BYTES) {
    throw new ValidationError('', `a ${shortName(name)} body of at most ${MAX_BODY_BYTES} bytes`, `${size} bytes`);
  }
}

export { newUuid } from './ids.ts';

// Every MessageName has a shape in MessageTypes and nothing else does (compile-time check).
type _MessageTypesComplete = [MessageName] extends [keyof MessageTypes] ? ([keyof MessageTypes] extends [MessageName] ? true : never) : never;
const _messageTypesComplete: _MessageTypesComplete = true;
void _messageTypesComplete;
