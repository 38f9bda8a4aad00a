import { expect } from 'chai';
import { BadRequestError, CygnetError, ValidationError } from '../../../src/common/errors.ts';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH, decodeJson, decodeProtobuf, encodeJson, encodeProtobuf } from '../../../src/protocol/codec.ts';
import type { MessageName } from '../../../src/protocol/codec.ts';
import { MAX_MESSAGE_DEPTH } from '../../../src/protocol/json-shape.ts';
import { writeWire } from './wire-reader.ts';

/** The error decodeJson throws for `body` (fails the test if it does not throw). */
function jsonError(name: MessageName, body: unknown): CygnetError {
  try {
    decodeJson(name, typeof body === 'string' ? body : JSON.stringify(body));
  } catch (err) {
    expect(err).to.be.instanceOf(CygnetError);
    return err as CygnetError;
  }
  throw new Error('expected decodeJson to throw');
}

function validation(name: MessageName, body: unknown): { path: string; message: string } {
  const err = jsonError(name, body);
  expect(err).to.be.instanceOf(ValidationError);
  expect(err.httpStatus).to.equal(400);
  return { path: (err as ValidationError).path, message: err.message };
}

const launchWith = (task: Record<string, unknown>): Record<string, unknown> => ({
  type: 'ACCEPT',
  accept: { offer_ids: [{ value: 'o' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }] },
});
const okTask = { name: 'n', task_id: { value: 't' }, agent_id: { value: 'a' } };
const CALL = 'mesos.v1.scheduler.Call';

describe('protocol/codec strict JSON validation', () => {
  it('names the exact path of a wrong type', () => {
    expect(validation(CALL, launchWith({ ...okTask, task_id: { value: 5 } }))).to.deep.equal({
      path: 'accept.operations[0].launch.task_infos[0].task_id.value',
      message: 'accept.operations[0].launch.task_infos[0].task_id.value: expected a string, got number 5',
    });
  });

  it('reports a missing required field, also when it is null', () => {
    expect(validation(CALL, launchWith({ name: 'n', agent_id: { value: 'a' } })).message).to.equal(
      'accept.operations[0].launch.task_infos[0].task_id: expected an object (TaskID) (required field), got nothing',
    );
    expect(validation(CALL, launchWith({ ...okTask, task_id: null })).path).to.equal('accept.operations[0].launch.task_infos[0].task_id');
    expect(validation('cygnet.agent.Call', { subscribe: { agent_info: { hostname: 'h' } } }).path).to.equal('type');
  });

  it('treats null as absent for optional fields and elsewhere rejects it', () => {
    expect(decodeJson(CALL, '{"type":"TEARDOWN","framework_id":null,"accept":null}')).to.deep.equal({ type: 'TEARDOWN' });
    expect(validation(CALL, { type: 'DECLINE', decline: { offer_ids: [null] } })).to.deep.equal({
      path: 'decline.offer_ids[0]',
      message: 'decline.offer_ids[0]: expected an object (OfferID), got null',
    });
  });

  it('rejects a non-array for a repeated field and a non-object for a message', () => {
    expect(validation(CALL, { type: 'DECLINE', decline: { offer_ids: { value: 'o' } } }).message).to.equal(
      'decline.offer_ids: expected an array of an object (OfferID), got an object',
    );
    expect(validation(CALL, { type: 'DECLINE', decline: 'o1' }).message).to.equal('decline: expected an object (Decline), got string "o1"');
    expect(validation(CALL, [1, 2]).message).to.equal('<root>: expected an object (Call), got an array');
    expect(validation(CALL, 'null').path).to.equal('');
  });

  it('drops an unknown enum name in a field that may be absent, as Mesos does (newer clients); refuses it in a required field, and unknown numbers', () => {
    expect(decodeJson(CALL, JSON.stringify({ type: 'LAUNCH_EVERYTHING' }))).to.deep.equal({});
    const caps = decodeJson('mesos.v1.FrameworkInfo', JSON.stringify({ user: 'u', name: 'n', capabilities: [{ type: 'FROM_THE_FUTURE' }, { type: 'MULTI_ROLE' }] }));
    expect(caps).to.deep.equal({ user: 'u', name: 'n', capabilities: [{}, { type: 'MULTI_ROLE' }] });
    const revive = decodeJson('mesos.v1.TaskStatus', JSON.stringify({ task_id: { value: 't' }, state: 'TASK_RUNNING', reason: 'REASON_FROM_THE_FUTURE' }));
    expect(revive).to.not.have.property('reason');
    const required = validation('mesos.v1.TaskStatus', { task_id: { value: 't' }, state: 'task_running' });
    expect(required.path).to.equal('state');
    expect(required.message).to.match(/^state: expected one of TASK_STAGING, .*, got string "task_running"$/);
    expect(validation('mesos.v1.TaskStatus', { task_id: { value: 't' }, state: 99 }).message).to.match(/^state: expected one of TASK_STAGING, .*, got number 99$/);
  });

  it('drops an unknown enum number from protobuf bytes where the field may be absent, as a proto2 parser keeps it aside', () => {
    // FrameworkInfo { user: "u" (1), name: "n" (2), capabilities (10): [{ type (1): 99 }, { type: 6 (MULTI_ROLE) }] }
    const bytes = Buffer.from([0x0a, 0x01, 0x75, 0x12, 0x01, 0x6e, 0x52, 0x02, 0x08, 0x63, 0x52, 0x02, 0x08, 0x06]);
    expect(decodeProtobuf('mesos.v1.FrameworkInfo', bytes)).to.deep.equal({ user: 'u', name: 'n', capabilities: [{}, { type: 'MULTI_ROLE' }] });
  });

  it('rejects huge, fractional and out-of-range numbers', () => {
    const range = (begin: unknown): Record<string, unknown> =>
      launchWith({ ...okTask, resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin, end: 2 }] } }] });
    const path = 'accept.operations[0].launch.task_infos[0].resources[0].ranges.range[0].begin';
    expect(validation(CALL, range(2 ** 65)).path).to.equal(path);
    expect(validation(CALL, range(-1)).message).to.equal(`${path}: expected a uint64 integer in [0, 2^64-1] (number or numeric string), got number -1`);
    expect(validation(CALL, range(1.5)).path).to.equal(path);
    expect(validation(CALL, range('18446744073709551616')).path).to.equal(path);
    expect(validation(CALL, range('123456789012345678901')).path).to.equal(path);
    expect(validation(CALL, range('0x10')).path).to.equal(path);
    expect(validation(CALL, range('1e5')).path).to.equal(path);
    expect(validation(CALL, range(' 5')).path).to.equal(path);
    expect(validation(CALL, `{"type":"ACCEPT","accept":{"operations":[{"launch":{"task_infos":[{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"resources":[{"name":"c","type":"SCALAR","scalar":{"value":1e400}}]}]}}]}}`).message).to.match(/scalar\.value: expected a number, got number Infinity$/);
    expect(validation('mesos.v1.AgentInfo', { hostname: 'h', port: 2 ** 31 }).message).to.equal('port: expected an integer in [-2147483648, 2147483647], got number 2147483648');
    expect(validation('mesos.v1.HealthCheck', { consecutive_failures: '3' }).message).to.equal('consecutive_failures: expected an integer in [0, 4294967295], got string "3"');
  });

  it('rejects bad base64 and wrong scalar types', () => {
    expect(validation(CALL, { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: 'not base64!' } }).message).to.equal(
      'acknowledge.uuid: expected base64-encoded bytes, got string "not base64!"',
    );
    expect(validation('mesos.v1.FrameworkInfo', { user: 'u', name: 'n', checkpoint: 'yes' }).message).to.equal('checkpoint: expected a boolean, got string "yes"');
    expect(validation('mesos.v1.FrameworkInfo', { user: 'u', name: 'n', failover_timeout: '5' }).path).to.equal('failover_timeout');
    expect(validation('mesos.v1.FrameworkInfo', { user: 'u', name: 'n', roles: ['a', 7] }).path).to.equal('roles[1]');
  });

  it('quotes long bad strings truncated', () => {
    const { message } = validation('mesos.v1.FrameworkInfo', { user: 'u', name: 'n', checkpoint: 'x'.repeat(500) });
    expect(message.length).to.be.lessThan(120);
  });

  it('bounds message nesting (recursive ContainerID.parent)', () => {
    let id: Record<string, unknown> = { value: 'leaf' };
    for (let i = 0; i < MAX_MESSAGE_DEPTH + 5; i++) id = { value: `c${i}`, parent: id };
    const err = validation('mesos.v1.TaskStatus', { task_id: { value: 't' }, state: 'TASK_RUNNING', container_status: { container_id: id } });
    expect(err.message).to.match(/expected messages nested at most 32 deep/);
    expect(err.path).to.match(/^container_status\.container_id(\.parent)+$/);
  });

  it('survives absurdly deep JSON nesting in unknown fields and in known ones', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const err = jsonError(CALL, `{"type":"TEARDOWN","junk":${deep}}`);
    expect(err).to.be.instanceOf(BadRequestError);
    expect(err.message).to.equal(`Failed to parse body into JSON: nested deeper than ${MAX_JSON_DEPTH} levels`);
    const shallowEnough = '['.repeat(MAX_JSON_DEPTH - 1) + ']'.repeat(MAX_JSON_DEPTH - 1);
    expect(decodeJson(CALL, `{"type":"TEARDOWN","junk":${shallowEnough}, "s": "[[[[{{{{\\\\"}`)).to.deep.equal({ type: 'TEARDOWN' });
    const deepKnown = '{"type":"TEARDOWN","framework_id":' + '{"value":"x","parent":'.repeat(50_000) + '1' + '}'.repeat(50_000) + '}';
    expect(jsonError(CALL, deepKnown)).to.be.instanceOf(CygnetError);
  });

  it('answers unparseable JSON and invalid UTF-8 with BadRequestError', () => {
    const err = jsonError(CALL, '{"type": SUBSCRIBE}');
    expect(err).to.be.instanceOf(BadRequestError);
    expect(err.message).to.match(/^Failed to parse body into JSON: /);
    expect(() => decodeJson(CALL, Buffer.from([0x7b, 0xff, 0x7d]))).to.throw(BadRequestError, /invalid UTF-8/);
  });

  it('refuses bodies above MAX_BODY_BYTES before parsing', () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    expect(() => decodeJson(CALL, big)).to.throw(ValidationError, /at most 16777216 bytes, got 16777217 bytes/);
    expect(() => decodeProtobuf(CALL, big)).to.throw(ValidationError, /at most/);
  });

  it('maps protobuf decode failures to a Mesos-like 400', () => {
    const missingType = writeWire([[1, writeWire([[1, 'a']])]]);
    const err = (() => {
      try {
        decodeProtobuf('cygnet.agent.Call', missingType);
      } catch (e) {
        return e as CygnetError;
      }
      throw new Error('expected a throw');
    })();
    expect(err).to.be.instanceOf(ValidationError);
    expect(err.httpStatus).to.equal(400);
    expect(err.message).to.equal('type: expected an enum value (Type) (required field), got nothing');
    const noState = writeWire([
      [2, 2],
      [4, writeWire([[1, writeWire([[1, writeWire([[1, 't']])]])]])],
    ]);
    expect(() => decodeProtobuf('cygnet.agent.Call', noState)).to.throw(
      ValidationError,
      'update.status.state: expected an enum value (TaskState) (required field), got nothing',
    );
    const emptyTaskId = writeWire([[1, writeWire([])], [2, 1]]);
    expect(() => decodeProtobuf('mesos.v1.TaskStatus', emptyTaskId)).to.throw(ValidationError, 'task_id.value: expected a string (required field), got nothing');
    expect(() => decodeProtobuf(CALL, Buffer.from([0x0a, 0xff, 0xff]))).to.throw(BadRequestError, /^Failed to parse body into Call: /);
    expect(() => decodeProtobuf('mesos.v1.TaskStatus', Buffer.from([0x0f]))).to.throw(BadRequestError);
  });

  it('encoders refuse objects that are not the message, with the path', () => {
    expect(() => encodeJson('mesos.v1.TaskStatus', { task_id: { value: 't' }, state: 'RUNNING' })).to.throw(ValidationError, /^state: expected one of/);
    expect(() => encodeProtobuf('cygnet.agent.Event', { type: 'SUBSCRIBED', subscribed: {} })).to.throw(ValidationError, /^subscribed\.agent_id: /);
  });
});
