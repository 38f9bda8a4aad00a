/**
 * Field numbers are the wire contract with real Mesos clients. These tests
 * check them two independent ways here (a third, against Debian's copy of
 * Mesos' own .proto files, is test/compat/mesos-protos.test.ts):
 *   1. a hand-written table of (message, field, number) read from Mesos'
 *      .proto files, against our loaded protos;
 *   2. our encoder's bytes read back by a tiny wire reader that knows no
 *      .proto (wire-reader.ts), and hand-built bytes decoded by our decoder.
 */

import { expect } from 'chai';
import { decodeProtobuf, encodeProtobuf } from '../../../src/protocol/codec.ts';
import { protoRoot } from '../../../src/protocol/proto-registry.ts';
import {
  EXECUTOR_CALL_TYPE_VALUES,
  EXECUTOR_EVENT_TYPE_VALUES,
  FRAMEWORK_CAPABILITY_VALUES,
  OPERATION_TYPE_VALUES,
  REASON_VALUES,
  SCHEDULER_CALL_TYPE_VALUES,
  SCHEDULER_EVENT_TYPE_VALUES,
  SOURCE_VALUES,
  TASK_STATE_VALUES,
} from '../../../src/protocol/mesos-types.ts';
import type { SchedulerCall, TaskStatus } from '../../../src/protocol/mesos-types.ts';
import { AGENT_CALL_TYPE_VALUES, AGENT_EVENT_TYPE_VALUES } from '../../../src/protocol/agent-types.ts';
import type { AgentCall, AgentEvent } from '../../../src/protocol/agent-types.ts';
import { one, readWire, sub, text, varintOf, writeWire } from './wire-reader.ts';
import { UUID, taskStatus } from './fixtures.ts';

/** (message, field, number), copied by hand from Mesos' v1 .proto files and the cygnet agent contract. */
const FIELD_NUMBERS: ReadonlyArray<readonly [string, string, number]> = [
  ['mesos.v1.scheduler.Call', 'framework_id', 1],
  ['mesos.v1.scheduler.Call', 'type', 2],
  ['mesos.v1.scheduler.Call', 'subscribe', 3],
  ['mesos.v1.scheduler.Call', 'accept', 4],
  ['mesos.v1.scheduler.Call', 'decline', 5],
  ['mesos.v1.scheduler.Call', 'kill', 6],
  ['mesos.v1.scheduler.Call', 'shutdown', 7],
  ['mesos.v1.scheduler.Call', 'acknowledge', 8],
  ['mesos.v1.scheduler.Call', 'reconcile', 9],
  ['mesos.v1.scheduler.Call', 'message', 10],
  ['mesos.v1.scheduler.Call', 'request', 11],
  ['mesos.v1.scheduler.Call', 'accept_inverse_offers', 13],
  ['mesos.v1.scheduler.Call', 'decline_inverse_offers', 14],
  ['mesos.v1.scheduler.Call', 'revive', 15],
  ['mesos.v1.scheduler.Call', 'suppress', 16],
  ['mesos.v1.scheduler.Call.Subscribe', 'framework_info', 1],
  ['mesos.v1.scheduler.Call.Subscribe', 'suppressed_roles', 2],
  ['mesos.v1.scheduler.Call.Accept', 'offer_ids', 1],
  ['mesos.v1.scheduler.Call.Accept', 'operations', 2],
  ['mesos.v1.scheduler.Call.Accept', 'filters', 3],
  ['mesos.v1.scheduler.Call.Decline', 'filters', 2],
  ['mesos.v1.scheduler.Call.Acknowledge', 'agent_id', 1],
  ['mesos.v1.scheduler.Call.Acknowledge', 'task_id', 2],
  ['mesos.v1.scheduler.Call.Acknowledge', 'uuid', 3],
  ['mesos.v1.scheduler.Call.Kill', 'kill_policy', 3],
  ['mesos.v1.scheduler.Call.Reconcile.Task', 'agent_id', 2],
  ['mesos.v1.scheduler.Event', 'type', 1],
  ['mesos.v1.scheduler.Event', 'subscribed', 2],
  ['mesos.v1.scheduler.Event', 'offers', 3],
  ['mesos.v1.scheduler.Event', 'rescind', 4],
  ['mesos.v1.scheduler.Event', 'update', 5],
  ['mesos.v1.scheduler.Event', 'message', 6],
  ['mesos.v1.scheduler.Event', 'failure', 7],
  ['mesos.v1.scheduler.Event', 'error', 8],
  ['mesos.v1.scheduler.Event', 'inverse_offers', 9],
  ['mesos.v1.scheduler.Event', 'rescind_inverse_offer', 10],
  ['mesos.v1.scheduler.Event.Subscribed', 'heartbeat_interval_seconds', 2],
  ['mesos.v1.scheduler.Event.Subscribed', 'master_info', 3],
  ['mesos.v1.executor.Call', 'executor_id', 1],
  ['mesos.v1.executor.Call', 'framework_id', 2],
  ['mesos.v1.executor.Call', 'type', 3],
  ['mesos.v1.executor.Call', 'subscribe', 4],
  ['mesos.v1.executor.Call', 'update', 5],
  ['mesos.v1.executor.Call', 'message', 6],
  ['mesos.v1.executor.Call.Message', 'data', 2],
  ['mesos.v1.executor.Event', 'type', 1],
  ['mesos.v1.executor.Event', 'subscribed', 2],
  ['mesos.v1.executor.Event', 'acknowledged', 3],
  ['mesos.v1.executor.Event', 'launch', 4],
  ['mesos.v1.executor.Event', 'kill', 5],
  ['mesos.v1.executor.Event', 'message', 6],
  ['mesos.v1.executor.Event', 'error', 7],
  ['mesos.v1.executor.Event', 'launch_group', 8],
  ['mesos.v1.FrameworkInfo', 'user', 1],
  ['mesos.v1.FrameworkInfo', 'name', 2],
  ['mesos.v1.FrameworkInfo', 'id', 3],
  ['mesos.v1.FrameworkInfo', 'failover_timeout', 4],
  ['mesos.v1.FrameworkInfo', 'checkpoint', 5],
  ['mesos.v1.FrameworkInfo', 'role', 6],
  ['mesos.v1.FrameworkInfo', 'hostname', 7],
  ['mesos.v1.FrameworkInfo', 'principal', 8],
  ['mesos.v1.FrameworkInfo', 'webui_url', 9],
  ['mesos.v1.FrameworkInfo', 'capabilities', 10],
  ['mesos.v1.FrameworkInfo', 'labels', 11],
  ['mesos.v1.FrameworkInfo', 'roles', 12],
  ['mesos.v1.AgentInfo', 'hostname', 1],
  ['mesos.v1.AgentInfo', 'resources', 3],
  ['mesos.v1.AgentInfo', 'attributes', 5],
  ['mesos.v1.AgentInfo', 'id', 6],
  ['mesos.v1.AgentInfo', 'port', 8],
  ['mesos.v1.Resource', 'name', 1],
  ['mesos.v1.Resource', 'type', 2],
  ['mesos.v1.Resource', 'scalar', 3],
  ['mesos.v1.Resource', 'ranges', 4],
  ['mesos.v1.Resource', 'set', 5],
  ['mesos.v1.Resource', 'role', 6],
  ['mesos.v1.Resource', 'allocation_info', 11],
  ['mesos.v1.Resource', 'reservations', 13],
  ['mesos.v1.Attribute', 'set', 6],
  ['mesos.v1.Attribute', 'text', 5],
  ['mesos.v1.Offer', 'id', 1],
  ['mesos.v1.Offer', 'framework_id', 2],
  ['mesos.v1.Offer', 'agent_id', 3],
  ['mesos.v1.Offer', 'hostname', 4],
  ['mesos.v1.Offer', 'resources', 5],
  ['mesos.v1.Offer', 'executor_ids', 6],
  ['mesos.v1.Offer', 'attributes', 7],
  ['mesos.v1.Offer', 'url', 8],
  ['mesos.v1.Offer', 'allocation_info', 10],
  ['mesos.v1.Offer.Operation', 'type', 1],
  ['mesos.v1.Offer.Operation', 'launch', 2],
  ['mesos.v1.Offer.Operation.Launch', 'task_infos', 1],
  ['mesos.v1.URL', 'scheme', 1],
  ['mesos.v1.URL', 'address', 2],
  ['mesos.v1.URL', 'path', 3],
  ['mesos.v1.Address', 'port', 3],
  ['mesos.v1.TaskInfo', 'name', 1],
  ['mesos.v1.TaskInfo', 'task_id', 2],
  ['mesos.v1.TaskInfo', 'agent_id', 3],
  ['mesos.v1.TaskInfo', 'resources', 4],
  ['mesos.v1.TaskInfo', 'executor', 5],
  ['mesos.v1.TaskInfo', 'data', 6],
  ['mesos.v1.TaskInfo', 'command', 7],
  ['mesos.v1.TaskInfo', 'health_check', 8],
  ['mesos.v1.TaskInfo', 'container', 9],
  ['mesos.v1.TaskInfo', 'labels', 10],
  ['mesos.v1.TaskInfo', 'discovery', 11],
  ['mesos.v1.TaskInfo', 'kill_policy', 12],
  ['mesos.v1.CommandInfo', 'uris', 1],
  ['mesos.v1.CommandInfo', 'environment', 2],
  ['mesos.v1.CommandInfo', 'value', 3],
  ['mesos.v1.CommandInfo', 'user', 5],
  ['mesos.v1.CommandInfo', 'shell', 6],
  ['mesos.v1.CommandInfo', 'arguments', 7],
  ['mesos.v1.CommandInfo.URI', 'output_file', 5],
  ['mesos.v1.Environment.Variable', 'type', 3],
  ['mesos.v1.HealthCheck', 'http', 1],
  ['mesos.v1.HealthCheck', 'delay_seconds', 2],
  ['mesos.v1.HealthCheck', 'interval_seconds', 3],
  ['mesos.v1.HealthCheck', 'timeout_seconds', 4],
  ['mesos.v1.HealthCheck', 'consecutive_failures', 5],
  ['mesos.v1.HealthCheck', 'grace_period_seconds', 6],
  ['mesos.v1.HealthCheck', 'command', 7],
  ['mesos.v1.HealthCheck', 'type', 8],
  ['mesos.v1.HealthCheck', 'tcp', 9],
  ['mesos.v1.KillPolicy', 'grace_period', 1],
  ['mesos.v1.TaskStatus', 'task_id', 1],
  ['mesos.v1.TaskStatus', 'state', 2],
  ['mesos.v1.TaskStatus', 'data', 3],
  ['mesos.v1.TaskStatus', 'message', 4],
  ['mesos.v1.TaskStatus', 'agent_id', 5],
  ['mesos.v1.TaskStatus', 'timestamp', 6],
  ['mesos.v1.TaskStatus', 'executor_id', 7],
  ['mesos.v1.TaskStatus', 'healthy', 8],
  ['mesos.v1.TaskStatus', 'source', 9],
  ['mesos.v1.TaskStatus', 'reason', 10],
  ['mesos.v1.TaskStatus', 'uuid', 11],
  ['mesos.v1.TaskStatus', 'labels', 12],
  ['mesos.v1.TaskStatus', 'container_status', 13],
  ['mesos.v1.Filters', 'refuse_seconds', 1],
  ['cygnet.agent.Call', 'agent_id', 1],
  ['cygnet.agent.Call', 'type', 2],
  ['cygnet.agent.Call', 'subscribe', 3],
  ['cygnet.agent.Call', 'update', 4],
  ['cygnet.agent.Call.Subscribe', 'agent_info', 1],
  ['cygnet.agent.Call.Subscribe', 'tasks', 2],
  ['cygnet.agent.Call.Subscribe', 'task_statuses', 3],
  ['cygnet.agent.Call.Subscribe', 'frameworks', 4],
  ['cygnet.agent.Call.Subscribe', 'task_status_framework_ids', 5],
  ['cygnet.agent.Call.Update', 'status', 1],
  ['cygnet.agent.Call.Update', 'framework_id', 2],
  ['cygnet.agent.Event.Reconcile', 'task_ids', 1],
  ['cygnet.agent.Event.Reconcile', 'framework_id', 2],
  ['cygnet.agent.Event', 'type', 1],
  ['cygnet.agent.Event', 'subscribed', 2],
  ['cygnet.agent.Event', 'launch', 3],
  ['cygnet.agent.Event', 'kill', 4],
  ['cygnet.agent.Event', 'acknowledge', 5],
  ['cygnet.agent.Event', 'shutdown_framework', 6],
  ['cygnet.agent.Event', 'error', 7],
  ['cygnet.agent.Event', 'reconcile', 8],
  ['cygnet.agent.Event.Acknowledge', 'uuid', 3],
  ['cygnet.agent.Event.Launch', 'task', 2],
];

describe('protocol/field numbers', () => {
  it('match the table read from Mesos’ protos', () => {
    const root = protoRoot();
    const wrong: string[] = [];
    for (const [message, field, number] of FIELD_NUMBERS) {
      const f = root.lookupType(message).fields[field];
      if (f === undefined) wrong.push(`${message}.${field} missing`);
      else if (f.id !== number) wrong.push(`${message}.${field} is ${f.id}, Mesos has ${number}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('enum tables in mesos-types/agent-types equal the proto enums', () => {
    const tables: ReadonlyArray<readonly [string, Record<string, number>]> = [
      ['mesos.v1.TaskState', TASK_STATE_VALUES],
      ['mesos.v1.TaskStatus.Source', SOURCE_VALUES],
      ['mesos.v1.TaskStatus.Reason', REASON_VALUES],
      ['mesos.v1.FrameworkInfo.Capability.Type', FRAMEWORK_CAPABILITY_VALUES],
      ['mesos.v1.Offer.Operation.Type', OPERATION_TYPE_VALUES],
      ['mesos.v1.scheduler.Call.Type', SCHEDULER_CALL_TYPE_VALUES],
      ['mesos.v1.scheduler.Event.Type', SCHEDULER_EVENT_TYPE_VALUES],
      ['mesos.v1.executor.Call.Type', EXECUTOR_CALL_TYPE_VALUES],
      ['mesos.v1.executor.Event.Type', EXECUTOR_EVENT_TYPE_VALUES],
      ['cygnet.agent.Call.Type', AGENT_CALL_TYPE_VALUES],
      ['cygnet.agent.Event.Type', AGENT_EVENT_TYPE_VALUES],
    ];
    for (const [name, table] of tables) {
      expect({ ...protoRoot().lookupEnum(name).values }, name).to.deep.equal({ ...table });
    }
  });

  it('our encoder puts Call.type at 2, framework_id at 1 (read without our protos)', () => {
    const bytes = encodeProtobuf('mesos.v1.scheduler.Call', {
      framework_id: { value: 'fw-1' },
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: { value: 'a1' }, task_id: { value: 't1' }, uuid: UUID },
    });
    const call = readWire(bytes);
    expect(text(sub(call, 1), 1)).to.equal('fw-1');
    expect(varintOf(call, 2)).to.equal(8); // ACKNOWLEDGE = 8
    const ack = sub(call, 8);
    expect(text(sub(ack, 1), 1)).to.equal('a1');
    expect(text(sub(ack, 2), 1)).to.equal('t1');
    expect(Buffer.from(one(ack, 3).value as Uint8Array).toString('base64')).to.equal(UUID);
  });

  it('our encoder puts TaskStatus.uuid at 11, state at 2, source at 9, reason at 10, timestamp (double) at 6', () => {
    const s = readWire(encodeProtobuf('mesos.v1.TaskStatus', taskStatus));
    expect(Buffer.from(one(s, 11).value as Uint8Array).toString('base64')).to.equal(UUID);
    expect(varintOf(s, 2)).to.equal(1); // TASK_RUNNING
    expect(varintOf(s, 9)).to.equal(2); // SOURCE_EXECUTOR
    expect(varintOf(s, 10)).to.equal(29); // REASON_TASK_HEALTH_CHECK_STATUS_UPDATED
    const ts = one(s, 6);
    expect(ts.wireType).to.equal(1);
    expect(Buffer.from(ts.value as Uint8Array).readDoubleLE(0)).to.equal(taskStatus.timestamp);
    expect(varintOf(s, 8)).to.equal(1); // healthy
  });

  it('our encoder puts Event.type at 1 and the agent contract numbers where agent.proto says', () => {
    const ev = readWire(
      encodeProtobuf('cygnet.agent.Event', {
        type: 'ACKNOWLEDGE',
        acknowledge: { framework_id: { value: 'f' }, task_id: { value: 't' }, uuid: UUID },
      } satisfies AgentEvent),
    );
    expect(varintOf(ev, 1)).to.equal(4);
    const ack = sub(ev, 5);
    expect(text(sub(ack, 1), 1)).to.equal('f');
    expect(text(sub(ack, 2), 1)).to.equal('t');
    const sched = readWire(encodeProtobuf('mesos.v1.scheduler.Event', { type: 'HEARTBEAT' }));
    expect(varintOf(sched, 1)).to.equal(8);
  });

  it('decodes hand-built bytes: agent Call UPDATE and scheduler Call SUBSCRIBE', () => {
    const status = writeWire([
      [1, writeWire([[1, 't9']])],
      [2, 3], // TASK_FAILED
      [4, 'exited 1'],
      [5, writeWire([[1, 'a9']])],
      [9, 1], // SOURCE_AGENT
      [10, 1], // REASON_EXECUTOR_TERMINATED
      [11, Buffer.from(UUID, 'base64')],
    ]);
    const call = writeWire([
      [1, writeWire([[1, 'a9']])],
      [2, 2], // UPDATE
      [4, writeWire([[1, status]])],
    ]);
    expect(decodeProtobuf<AgentCall>('cygnet.agent.Call', call)).to.deep.equal({
      agent_id: { value: 'a9' },
      type: 'UPDATE',
      update: {
        status: {
          task_id: { value: 't9' },
          state: 'TASK_FAILED',
          message: 'exited 1',
          agent_id: { value: 'a9' },
          source: 'SOURCE_AGENT',
          reason: 'REASON_EXECUTOR_TERMINATED',
          uuid: UUID,
        },
      },
    });
    const subscribe = writeWire([
      [2, 1],
      [3, writeWire([[1, writeWire([[1, 'u'], [2, 'n'], [12, 'r1'], [10, writeWire([[1, 5]])]])]])],
    ]);
    expect(decodeProtobuf<SchedulerCall>('mesos.v1.scheduler.Call', subscribe)).to.deep.equal({
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { user: 'u', name: 'n', roles: ['r1'], capabilities: [{ type: 'PARTITION_AWARE' }] } },
    });
  });

  it('skips unknown fields in protobuf bodies (a newer Mesos client)', () => {
    const bytes = writeWire([
      [1, writeWire([[1, 't']])],
      [2, 1],
      [16, writeWire([[1, 'future limitation']])],
      [99, 7],
    ]);
    expect(decodeProtobuf<TaskStatus>('mesos.v1.TaskStatus', bytes)).to.deep.equal({ task_id: { value: 't' }, state: 'TASK_RUNNING' });
  });
});
