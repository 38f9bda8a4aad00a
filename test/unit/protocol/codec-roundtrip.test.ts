import { expect } from 'chai';
import {
  decodeBody,
  decodeJson,
  decodeProtobuf,
  encodeBody,
  encodeBodyBytes,
  encodeJson,
  encodeProtobuf,
} from '../../../src/protocol/codec.ts';
import type { SchedulerCall, TaskStatus } from '../../../src/protocol/mesos-types.ts';
import { messageType, protoRoot } from '../../../src/protocol/proto-registry.ts';
import { samples, taskStatus } from './fixtures.ts';

describe('protocol/codec round trips', () => {
  it('the fixtures cover every Call and Event type of every API, each with its sub-message filled in', () => {
    for (const name of ['mesos.v1.scheduler.Call', 'mesos.v1.scheduler.Event', 'mesos.v1.executor.Call', 'mesos.v1.executor.Event', 'cygnet.agent.Call', 'cygnet.agent.Event'] as const) {
      const types = Object.keys(protoRoot().lookupEnum(`${name}.Type`).values).filter((t) => t !== 'UNKNOWN');
      const covered = samples.filter(([n]) => n === name).map(([, m]) => (m as { type: string }).type);
      expect(types.filter((t) => !covered.includes(t)), name).to.deep.equal([]);
      const fields = messageType(name).fields;
      for (const [n, m] of samples) {
        if (n !== name) continue;
        const key = (m as { type: string }).type.toLowerCase();
        if (fields[key] !== undefined) expect(m, `${name} ${key}`).to.have.property(key);
      }
    }
  });

  samples.forEach(([name, msg], i) => {
    const label = `#${i} ${name} ${(msg as { type?: string }).type ?? ''}`.trim();

    it(`JSON: ${label}`, () => {
      expect(decodeJson(name, encodeJson(name, msg))).to.deep.equal(msg);
    });

    it(`protobuf: ${label}`, () => {
      expect(decodeProtobuf(name, encodeProtobuf(name, msg))).to.deep.equal(msg);
    });

    it(`JSON → protobuf → JSON: ${label}`, () => {
      const fromJson = decodeJson<object>(name, Buffer.from(encodeJson(name, msg)));
      const json = encodeJson(name, decodeProtobuf<object>(name, encodeProtobuf(name, fromJson)));
      expect(json).to.equal(encodeJson(name, msg));
    });
  });

  it('decodes a Mesos-style SUBSCRIBE body (as the Mesos docs send it)', () => {
    const body = `{
      "type"       : "SUBSCRIBE",
      "subscribe"  : {
        "framework_info"  : {
          "user" :  "foo",
          "name" :  "Example HTTP Framework",
          "roles": ["test"],
          "capabilities" : [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}]
        }
      }
    }`;
    const call = decodeJson<SchedulerCall>('mesos.v1.scheduler.Call', body);
    expect(call).to.deep.equal({
      type: 'SUBSCRIBE',
      subscribe: {
        framework_info: {
          user: 'foo',
          name: 'Example HTTP Framework',
          roles: ['test'],
          capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
        },
      },
    });
    expect(decodeProtobuf('mesos.v1.scheduler.Call', encodeProtobuf('mesos.v1.scheduler.Call', call))).to.deep.equal(call);
  });

  it('decodes a Mesos-style ACCEPT with LAUNCH, including unknown fields and nulls', () => {
    const body = JSON.stringify({
      framework_id: { value: '12220-3440-12532-2345' },
      type: 'ACCEPT',
      accept: {
        offer_ids: [{ value: '12220-3440-12532-O12' }],
        operations: [
          {
            type: 'LAUNCH',
            launch: {
              task_infos: [
                {
                  name: 'My Task',
                  task_id: { value: '12220-3440-12532-my-task' },
                  agent_id: { value: '12220-3440-12532-S1233' },
                  executor: { command: { shell: true, value: 'sleep 1000' }, executor_id: { value: '12214-23523-my-executor' } },
                  resources: [
                    { allocation_info: { role: 'engineering' }, name: 'cpus', role: '*', type: 'SCALAR', scalar: { value: 1.0 } },
                    { allocation_info: { role: 'engineering' }, name: 'mem', role: '*', type: 'SCALAR', scalar: { value: 128.0 } },
                  ],
                  some_future_field: { nested: [1, 2, 3] },
                  data: null,
                },
              ],
            },
          },
        ],
        filters: { refuse_seconds: 5.0 },
      },
    });
    const call = decodeJson<SchedulerCall>('mesos.v1.scheduler.Call', body);
    const task = call.accept?.operations?.[0].launch?.task_infos?.[0];
    expect(task?.task_id.value).to.equal('12220-3440-12532-my-task');
    expect(task?.executor?.command?.value).to.equal('sleep 1000');
    expect(task?.resources?.[1].scalar?.value).to.equal(128);
    expect(task).to.not.have.property('some_future_field');
    expect(task).to.not.have.property('data');
    expect(call.accept?.filters?.refuse_seconds).to.equal(5);
    expect(decodeProtobuf('mesos.v1.scheduler.Call', encodeProtobuf('mesos.v1.scheduler.Call', call))).to.deep.equal(call);
  });

  it('accepts enum numbers and numeric strings for 64-bit integers, and normalises them', () => {
    const status = decodeJson<TaskStatus>(
      'mesos.v1.TaskStatus',
      '{"task_id":{"value":"t"},"state":1,"reason":11,"source":0,"unreachable_time":{"nanoseconds":"1763776800000000"},"uuid":"AAEC"}',
    );
    expect(status).to.deep.equal({
      task_id: { value: 't' },
      state: 'TASK_RUNNING',
      reason: 'REASON_AGENT_REMOVED',
      source: 'SOURCE_MASTER',
      unreachable_time: { nanoseconds: 1763776800000000 },
      uuid: 'AAEC',
    });
  });

  it('normalises base64 padding and drops empty repeated fields', () => {
    const status = decodeJson<TaskStatus>('mesos.v1.TaskStatus', '{"task_id":{"value":"t"},"state":"TASK_LOST","data":"AAE","labels":{"labels":[]}}');
    expect(status).to.deep.equal({ task_id: { value: 't' }, state: 'TASK_LOST', data: 'AAE=', labels: {} });
  });

  it('keeps explicitly set default values (proto2 presence)', () => {
    const msg = { framework_id: { value: 'f' }, type: 'DECLINE', decline: { offer_ids: [{ value: 'o' }], filters: { refuse_seconds: 5 } } };
    const back = decodeProtobuf<SchedulerCall>('mesos.v1.scheduler.Call', encodeProtobuf('mesos.v1.scheduler.Call', msg));
    expect(back.decline?.filters).to.deep.equal({ refuse_seconds: 5 });
    const noFilters = decodeProtobuf<SchedulerCall>('mesos.v1.scheduler.Call', encodeProtobuf('mesos.v1.scheduler.Call', { type: 'DECLINE', decline: {} }));
    expect(noFilters).to.deep.equal({ type: 'DECLINE', decline: {} });
  });

  it('decodeBody/encodeBody pick the codec by media type', () => {
    const json = encodeBody('mesos.v1.TaskStatus', 'application/json', taskStatus);
    expect(json).to.be.a('string');
    const pb = encodeBody('mesos.v1.TaskStatus', 'application/x-protobuf', taskStatus);
    expect(pb).to.be.instanceOf(Uint8Array);
    expect(decodeBody('mesos.v1.TaskStatus', 'application/json', json)).to.deep.equal(taskStatus);
    expect(decodeBody('mesos.v1.TaskStatus', 'application/x-protobuf', pb)).to.deep.equal(taskStatus);
    const bytes = encodeBodyBytes('mesos.v1.TaskStatus', 'application/json', taskStatus);
    expect(Buffer.from(bytes).toString('utf8')).to.equal(json);
  });

  it('encodeJson omits absent fields and writes enums by name', () => {
    const json = encodeJson('cygnet.agent.Event', { type: 'HEARTBEAT', kill: undefined, error: null });
    expect(json).to.equal('{"type":"HEARTBEAT"}');
  });
});
