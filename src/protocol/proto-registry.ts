/**
 * Loads the .proto files under `protos/` once (protobufjs reflection,
 * keepCase so field names stay snake_case as in Mesos' JSON) and hands out
 * message types by their full name.
 *
 * Invariants: the files are read synchronously on first use and never again;
 * every name in `MessageName` resolves (checked at load, so a typo fails the
 * first test, not a request). No network or body handling here.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** The .proto files, relative to `protos/`; imports resolve against the same directory. */
export const PROTO_FILES: readonly string[] = [
  'mesos.proto',
  'scheduler/scheduler.proto',
  'executor/executor.proto',
  'cygnet/agent.proto',
  'master/master.proto',
];

/** Every message the codec can be asked for by name. */
export const MESSAGE_NAMES = [
  'mesos.v1.scheduler.Call',
  'mesos.v1.scheduler.Event',
  'mesos.v1.executor.Call',
  'mesos.v1.executor.Event',
  'cygnet.agent.Call',
  'cygnet.agent.Event',
  'mesos.v1.master.Call',
  'mesos.v1.master.Response',
  'mesos.v1.master.Event',
  'mesos.v1.AgentID',
  'mesos.v1.AgentInfo',
  'mesos.v1.Attribute',
  'mesos.v1.CommandInfo',
  'mesos.v1.ExecutorInfo',
  'mesos.v1.Filters',
  'mesos.v1.FrameworkID',
  'mesos.v1.FrameworkInfo',
  'mesos.v1.HealthCheck',
  'mesos.v1.InverseOffer',
  'mesos.v1.KillPolicy',
  'mesos.v1.Labels',
  'mesos.v1.MasterInfo',
  'mesos.v1.Offer',
  'mesos.v1.Offer.Operation',
  'mesos.v1.Resource',
  'mesos.v1.Task',
  'mesos.v1.TaskID',
  'mesos.v1.TaskInfo',
  'mesos.v1.TaskStatus',
  'mesos.v1.Value',
] as const;
export type MessageName = (typeof MESSAGE_NAMES)[number];

const protosDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../protos');

let root: protobuf.Root | undefined;
let lenientRoot: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  const r = new protobuf.Root();
  r.resolvePath = (_origin: string, target: string) => (path.isAbsolute(target) ? target : path.join(protosDir, target));
  r.loadSync(PROTO_FILES.map((f) => path.join(protosDir, f)), { keepCase: true });
  r.resolveAll();
  for (const name of MESSAGE_NAMES) r.lookupType(name);
  return r;
}

/** The loaded, fully resolved root (loads on first call). */
export function protoRoot(): protobuf.Root {
  root ??= loadRoot();
  return root;
}

/**
 * A second copy of the protos with every field optional, used only to decode
 * protobuf bodies: protobufjs' own required-field check names the field but
 * not where it is, so required fields are checked afterwards by toCanonical,
 * which reports the full path (`update.status.state`).
 */
function lenientProtoRoot(): protobuf.Root {
  if (lenientRoot === undefined) {
    const r = new protobuf.Root();
    for (const file of PROTO_FILES) {
      const source = readFileSync(path.join(protosDir, file), 'utf8').replace(/^(\s*)required\b/gm, '$1optional');
      protobuf.parse(source, r, { keepCase: true });
    }
    r.resolveAll();
    lenientRoot = r;
  }
  return lenientRoot;
}

const typeCache = new Map<string, protobuf.Type>();
const lenientTypeCache = new Map<string, protobuf.Type>();

/** The reflected type of a message; throws a plain Error for a name not in the protos (a programming error). */
export function messageType(name: MessageName): protobuf.Type {
  let t = typeCache.get(name);
  if (t === undefined) {
    t = protoRoot().lookupType(name);
    typeCache.set(name, t);
  }
  return t;
}

/** The same message with no required fields, for decoding only (see lenientProtoRoot). */
export function lenientMessageType(name: MessageName): protobuf.Type {
  let t = lenientTypeCache.get(name);
  if (t === undefined) {
    t = lenientProtoRoot().lookupType(name);
    lenientTypeCache.set(name, t);
  }
  return t;
}

/** The last component of a message name, as Mesos names it in errors ("Call", "TaskStatus"). */
export function shortName(name: string): string {
  const i = name.lastIndexOf('.');
  return i < 0 ? name : name.slice(i + 1);
}

/** The directory the .proto files were loaded from (for tools and tests). */
export function protosDirectory(): string {
  return protosDir;
}
