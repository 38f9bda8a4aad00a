/**
 * Compatibility (npm run test:compat): every field and enum value of our
 * Mesos protos against Debian's copy of Mesos' own .proto files
 * (golang-github-mesos-mesos-go-dev, under /usr/share/gocode), parsed here.
 * Kept out of `npm test` because it needs that Debian package; the
 * hand-written field table and wire checks in
 * test/unit/protocol/field-numbers.test.ts need nothing.
 */

import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import protobuf from 'protobufjs';
import { messageType, protoRoot } from '../../src/protocol/proto-registry.ts';
import type { MessageName } from '../../src/protocol/proto-registry.ts';

const mesosGo = '/usr/share/gocode/src/github.com/mesos/mesos-go/api/v1/lib';
if (!existsSync(mesosGo)) {
  throw new Error(`${mesosGo} is missing: apt-get install golang-github-mesos-mesos-go-dev`);
}

describe('protocol/field numbers against Debian’s copy of Mesos’ own protos (mesos-go)', () => {
  const theirs = new protobuf.Root();
  const load = (file: string, pkg: string): void => {
    const source = readFileSync(`${mesosGo}/${file}`, 'utf8')
      .replace(/^import .*$/gm, '')
      .replace(/^option .*$/gm, '')
      .replace(/^\s*option \(gogoproto[^;]*;/gm, '')
      .replace(/\s*\[\(gogoproto[^\]]*\]/g, '')
      .replace(/\(gogoproto\.[a-z_]+\) = [a-z]+,?\s*/g, '')
      .replace(/\[\s*\]/g, '')
      .replace(/^package mesos(\.[a-z]+)?;/m, `package ${pkg};`)
      .replace(/\bmesos\.Request\b/g, 'mesos.v1.Request');
    protobuf.parse(source, theirs, { keepCase: true });
  };
  load('mesos.proto', 'mesos.v1');
  load('scheduler/scheduler.proto', 'mesos.v1.scheduler');
  load('executor/executor.proto', 'mesos.v1.executor');
  // The operator API's master.proto and what it imports (their packages are mesos.<x>; ours mesos.v1.<x>).
  load('allocator/allocator.proto', 'mesos.v1.allocator');
  load('maintenance/maintenance.proto', 'mesos.v1.maintenance');
  load('quota/quota.proto', 'mesos.v1.quota');
  load('master/master.proto', 'mesos.v1.master');
  theirs.resolveAll();

  /** Values present in newer Mesos than the Debian copy (1.4-era); they must not clash with it. */
  const NEWER_THAN_DEBIAN = new Set([
    'mesos.v1.TaskStatus.Reason.REASON_MAX_COMPLETION_TIME_REACHED',
    'mesos.v1.TaskStatus.Reason.REASON_AGENT_DRAINING',
    'mesos.v1.TaskStatus.Reason.REASON_AGENT_REMOVED_BY_OPERATOR',
    'mesos.v1.TaskStatus.Reason.REASON_AGENT_REREGISTERED',
    'mesos.v1.executor.Event.Type.HEARTBEAT',
    'mesos.v1.master.Event.Type.HEARTBEAT',
    'mesos.v1.scheduler.Call.Type.UPDATE_FRAMEWORK', // Mesos 1.9
  ]);
  /** Fields present in newer Mesos than the Debian copy; they must not reuse a number Debian's message has. */
  const NEWER_FIELDS_THAN_DEBIAN = new Set(['mesos.v1.master.Event.Subscribed.heartbeat_interval_seconds', 'mesos.v1.scheduler.Call.update_framework']);
  /**
   * Messages newer than the Debian copy, with their fields as in Mesos' own
   * include/mesos/v1/scheduler/scheduler.proto (1.9+), checked against ours below.
   */
  const NEWER_MESSAGES_THAN_DEBIAN: Readonly<Record<string, Readonly<Record<string, { id: number; type: string; rule?: string }>>>> = {
    'mesos.v1.scheduler.Call.UpdateFramework': {
      framework_info: { id: 1, type: '.mesos.v1.FrameworkInfo', rule: 'required' },
      suppressed_roles: { id: 2, type: 'string', rule: 'repeated' },
    },
  };

  const walk = (ns: protobuf.NamespaceBase, visit: (obj: protobuf.ReflectionObject) => void): void => {
    for (const obj of ns.nestedArray) {
      visit(obj);
      if (obj instanceof protobuf.Namespace) walk(obj, visit);
    }
  };

  it('every message field of ours exists in Mesos with the same number, type and rule', () => {
    const wrong: string[] = [];
    const ours = protoRoot().lookup('mesos.v1') as protobuf.Namespace;
    walk(ours, (obj) => {
      if (!(obj instanceof protobuf.Type)) return;
      const name = obj.fullName.slice(1);
      const newer = NEWER_MESSAGES_THAN_DEBIAN[name];
      if (newer !== undefined) {
        for (const f of obj.fieldsArray) {
          const g = newer[f.name];
          const ourType = f.resolvedType ? f.resolvedType.fullName : f.type;
          if (g === undefined || g.id !== f.id || g.type !== ourType || g.rule !== f.rule) wrong.push(`${name}.${f.name}: ${f.id} ${ourType} ${String(f.rule)}, Mesos ${JSON.stringify(g)}`);
        }
        return;
      }
      const them = theirs.lookup(name);
      if (!(them instanceof protobuf.Type)) {
        wrong.push(`${name}: not a Mesos message`);
        return;
      }
      for (const f of obj.fieldsArray) {
        const g = them.fields[f.name];
        if (g === undefined && NEWER_FIELDS_THAN_DEBIAN.has(`${name}.${f.name}`)) {
          if (them.fieldsById[f.id] !== undefined) wrong.push(`${name}.${f.name}: ${f.id} clashes with ${them.fieldsById[f.id]?.name ?? '?'}`);
        } else if (g === undefined) wrong.push(`${name}.${f.name}: not in Mesos`);
        else {
          const ourType = f.resolvedType ? f.resolvedType.fullName : f.type;
          const theirType = g.resolvedType ? g.resolvedType.fullName : g.type;
          if (g.id !== f.id) wrong.push(`${name}.${f.name}: number ${f.id}, Mesos ${g.id}`);
          if (ourType !== theirType) wrong.push(`${name}.${f.name}: type ${ourType}, Mesos ${theirType}`);
          if (g.rule !== f.rule) wrong.push(`${name}.${f.name}: rule ${f.rule}, Mesos ${g.rule}`);
        }
      }
    });
    expect(wrong).to.deep.equal([]);
  });

  it('every enum of ours has Mesos’ values (newer-Mesos additions excepted, and not clashing)', () => {
    const wrong: string[] = [];
    const ours = protoRoot().lookup('mesos.v1') as protobuf.Namespace;
    walk(ours, (obj) => {
      if (!(obj instanceof protobuf.Enum)) return;
      const name = obj.fullName.slice(1);
      const them = theirs.lookup(name);
      if (!(them instanceof protobuf.Enum)) {
        wrong.push(`${name}: not a Mesos enum`);
        return;
      }
      for (const [key, value] of Object.entries(obj.values)) {
        const theirValue = them.values[key];
        if (theirValue === undefined) {
          if (!NEWER_THAN_DEBIAN.has(`${name}.${key}`)) wrong.push(`${name}.${key}: not in Mesos`);
          else if (them.valuesById[value] !== undefined) wrong.push(`${name}.${key}: ${value} clashes with ${them.valuesById[value]}`);
        } else if (theirValue !== value) wrong.push(`${name}.${key}: ${value}, Mesos ${theirValue}`);
      }
      for (const key of Object.keys(them.values)) {
        if (obj.values[key] === undefined) wrong.push(`${name}.${key}: Mesos value missing from ours`);
      }
    });
    expect(wrong).to.deep.equal([]);
  });

  it('every message the codec names is the Mesos message of that name (or a cygnet one)', () => {
    for (const name of ['mesos.v1.scheduler.Call', 'mesos.v1.scheduler.Event', 'mesos.v1.executor.Call', 'mesos.v1.executor.Event', 'mesos.v1.master.Call', 'mesos.v1.master.Response', 'mesos.v1.TaskStatus'] satisfies MessageName[]) {
      const ourFields = messageType(name).fieldsArray.filter((f) => !NEWER_FIELDS_THAN_DEBIAN.has(`${name}.${f.name}`)).map((f) => `${f.name}=${f.id}`).sort();
      const theirFields = theirs.lookupType(name).fieldsArray.map((f) => `${f.name}=${f.id}`);
      expect(theirFields).to.include.members(ourFields);
    }
  });
});
