import { expect } from 'chai';
import { SeededRandom } from '../../../src/common/random.ts';
import { describeCall, describeEvent, describeTaskStatus } from '../../../src/protocol/describe.ts';
import { agentId, executorId, frameworkId, newUuid, offerId, sameId, sameUuid, taskId, uuidHex, UUID_BYTES } from '../../../src/protocol/ids.ts';
import { REASON_VALUES, TASK_STATE_VALUES } from '../../../src/protocol/mesos-types.ts';
import type { TaskState } from '../../../src/protocol/mesos-types.ts';
import { REASONS, SOURCES, TASK_STATES, TERMINAL_TASK_STATES, isActive, isReason, isSource, isTaskState, isTerminal } from '../../../src/protocol/task-states.ts';
import { agentCalls, agentEvents, executorCalls, executorEvents, schedulerCalls, schedulerEvents, taskStatus } from './fixtures.ts';

describe('protocol/task-states', () => {
  it('classifies exactly Mesos’ terminal states as terminal', () => {
    expect([...TERMINAL_TASK_STATES].sort()).to.deep.equal(
      ['TASK_DROPPED', 'TASK_ERROR', 'TASK_FAILED', 'TASK_FINISHED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_KILLED', 'TASK_LOST'].sort(),
    );
    const notTerminal: TaskState[] = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE', 'TASK_UNKNOWN'];
    for (const s of notTerminal) expect(isTerminal(s), s).to.equal(false);
    expect(isActive('TASK_KILLING')).to.equal(true);
    expect(isActive('TASK_UNREACHABLE')).to.equal(false);
    expect(isActive('TASK_FINISHED')).to.equal(false);
  });

  it('lists every state, reason and source', () => {
    expect(TASK_STATES).to.have.length(14);
    expect(new Set(Object.values(TASK_STATE_VALUES)).size).to.equal(14);
    expect(REASONS).to.have.length(Object.keys(REASON_VALUES).length);
    expect(SOURCES).to.deep.equal(['SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR']);
  });

  it('narrows unknown values', () => {
    expect(isTaskState('TASK_RUNNING')).to.equal(true);
    expect(isTaskState('toString')).to.equal(false);
    expect(isTaskState(1)).to.equal(false);
    expect(isReason('REASON_AGENT_REMOVED')).to.equal(true);
    expect(isReason('REASON_NOPE')).to.equal(false);
    expect(isSource('SOURCE_MASTER')).to.equal(true);
    expect(isSource(undefined)).to.equal(false);
  });
});

describe('protocol/ids', () => {
  it('builds and compares ID messages', () => {
    expect(frameworkId('f')).to.deep.equal({ value: 'f' });
    expect(sameId(agentId('a'), { value: 'a' })).to.equal(true);
    expect(sameId(taskId('a'), offerId('b'))).to.equal(false);
    expect(sameId(executorId('a'), undefined)).to.equal(false);
  });

  it('makes 16-byte base64 uuids, from a seed when given one', () => {
    const u = newUuid();
    expect(Buffer.from(u, 'base64')).to.have.length(UUID_BYTES);
    expect(newUuid()).to.not.equal(u);
    expect(newUuid(new SeededRandom(7))).to.equal(newUuid(new SeededRandom(7)));
    expect(Buffer.from(newUuid(new SeededRandom(7)), 'base64')).to.have.length(UUID_BYTES);
    expect(uuidHex(Buffer.from('00ff', 'hex').toString('base64'))).to.equal('00ff');
    expect(uuidHex(undefined)).to.equal('-');
    expect(sameUuid('AAE=', 'AAE')).to.equal(true);
    expect(sameUuid('AAE=', 'AAI=')).to.equal(false);
    expect(sameUuid(undefined, 'AAE=')).to.equal(false);
  });
});

describe('protocol/describe', () => {
  it('describes every scheduler call and event in one stable line', () => {
    expect(schedulerCalls.map(describeCall)).to.deep.equal([
      'SUBSCRIBE name=marathon id=fw-1',
      'TEARDOWN framework=fw-1',
      'ACCEPT framework=fw-1 offers=[offer-7] ops=[LAUNCH(web.1a2b)] refuse=1s',
      'DECLINE framework=fw-1 offers=[o1,o2] refuse=0s',
      'ACCEPT_INVERSE_OFFERS framework=fw-1 inverse_offers=[io1]',
      'DECLINE_INVERSE_OFFERS framework=fw-1 inverse_offers=[io1] refuse=5s',
      'REVIVE framework=fw-1 roles=[web]',
      'KILL framework=fw-1 agent=agent-1 task=t1',
      'SHUTDOWN framework=fw-1 agent=agent-1 executor=exec-1',
      'ACKNOWLEDGE framework=fw-1 agent=agent-1 task=t1 uuid=00112233445566778899aabbccddeeff',
      'RECONCILE framework=fw-1 tasks=[t1,t2]',
      'RECONCILE framework=fw-1',
      'MESSAGE framework=fw-1 agent=agent-1 executor=exec-1',
      'REQUEST framework=fw-1',
      'SUPPRESS framework=fw-1 roles=[web]',
      'UPDATE_FRAMEWORK framework=fw-1 name=fw id=fw-1',
    ]);
    expect(schedulerEvents.map(describeEvent)).to.deep.equal([
      'SUBSCRIBED framework=fw-1 heartbeat=15s',
      'OFFERS offers=[offer-7]',
      'INVERSE_OFFERS',
      'RESCIND offer=offer-7',
      'RESCIND_INVERSE_OFFER inverse_offer=io1',
      'UPDATE task=web.1a2b TASK_RUNNING agent=agent-1 reason=REASON_TASK_HEALTH_CHECK_STATUS_UPDATED source=SOURCE_EXECUTOR healthy=true uuid=00112233445566778899aabbccddeeff message="started"',
      'MESSAGE agent=agent-1 executor=exec-1',
      'FAILURE agent=agent-1 executor=exec-1',
      'ERROR message="Framework has been removed"',
      'HEARTBEAT',
    ]);
  });

  it('describes executor and agent calls and events', () => {
    expect(executorCalls.map(describeCall)[0]).to.equal('SUBSCRIBE framework=fw-1 executor=exec-1 tasks=[web.1a2b] updates=1');
    expect(executorEvents.map(describeEvent)).to.include('ACKNOWLEDGED task=t1 uuid=00112233445566778899aabbccddeeff');
    expect(agentCalls.map(describeCall)).to.deep.equal([
      'SUBSCRIBE hostname=host1 tasks=[web.1a2b]',
      'SUBSCRIBE hostname=fresh',
      'UPDATE agent=agent-1 task=web.1a2b TASK_RUNNING agent=agent-1 reason=REASON_TASK_HEALTH_CHECK_STATUS_UPDATED source=SOURCE_EXECUTOR healthy=true uuid=00112233445566778899aabbccddeeff message="started"',
      'HEARTBEAT agent=agent-1',
    ]);
    expect(agentEvents.map(describeEvent)).to.deep.equal([
      'SUBSCRIBED agent=agent-1 heartbeat=0.5s',
      'LAUNCH name=marathon id=fw-1 task=web.1a2b',
      'KILL framework=fw-1 task=t1',
      'ACKNOWLEDGE framework=fw-1 task=t1 uuid=00112233445566778899aabbccddeeff',
      'SHUTDOWN_FRAMEWORK framework=fw-1',
      'HEARTBEAT',
      'ERROR message="unknown agent"',
      'RECONCILE tasks=[t1,t2]',
      'RECONCILE',
    ]);
  });

  it('lists at most five ids and never throws on partial messages', () => {
    const offers = Array.from({ length: 7 }, (_, i) => ({ value: `o${i}` }));
    expect(describeCall({ type: 'DECLINE', decline: { offer_ids: offers } })).to.equal('DECLINE offers=[o0,o1,o2,o3,o4,+2 more]');
    expect(describeCall({} as never)).to.equal('UNKNOWN');
    expect(describeEvent({ type: 'UPDATE', update: {} } as never)).to.equal('UPDATE');
    expect(describeTaskStatus({ task_id: { value: 't' }, state: 'TASK_LOST' })).to.equal('task=t TASK_LOST');
    expect(describeTaskStatus(taskStatus)).to.match(/^task=web\.1a2b TASK_RUNNING /);
  });
});
