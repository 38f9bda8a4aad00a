/**
 * Status update manager: one update in flight per task, exponential backoff
 * driven by a ManualClock, ack by uuid, stale acks ignored, pause/resume.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../src/common/clock.ts';
import { StatusUpdateManager, MAX_PENDING_PER_TASK, describeUpdate, type PendingUpdate } from '../../../src/executor/status-update-manager.ts';
import type { TaskState } from '../../../src/executor/types.ts';

const terminal = new Set<TaskState>(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE']);

function upd(task: string, state: TaskState, uuid: string, frameworkId = 'fw'): PendingUpdate {
  return { frameworkId, status: { task_id: { value: task }, state, uuid } };
}

describe('executor/status-update-manager', () => {
  let clock: ManualClock;
  let sent: string[];
  let sum: StatusUpdateManager;
  beforeEach(() => {
    clock = new ManualClock();
    sent = [];
    sum = new StatusUpdateManager({
      clock, initialBackoffMs: 200, maxBackoffMs: 1000, isTerminal: (s) => terminal.has(s),
      send: (u) => sent.push(describeUpdate(u)),
    });
    sum.resume();
  });

  it('keeps one update in flight per task and sends the next once the ack is released (checkpointed)', () => {
    sum.add(upd('t1', 'TASK_STARTING', 'u1'));
    sum.add(upd('t1', 'TASK_RUNNING', 'u2'));
    sum.add(upd('t2', 'TASK_STARTING', 'v1'));
    expect(sent).to.deep.equal(['TASK_STARTING task t1 fw fw uuid u1', 'TASK_STARTING task t2 fw fw uuid v1']);
    const out = sum.acknowledge('fw', 't1', 'u1');
    expect(out.kind).to.equal('acked');
    expect(sum.pendingCount()).to.equal(2);
    // Held: neither a resume, a retry timer nor a duplicate ack sends u2 before release().
    sum.resume();
    clock.advance(10_000);
    expect(sent.filter((x) => x.includes('uuid u2'))).to.deep.equal([]);
    expect(sum.acknowledge('fw', 't1', 'u1').kind).to.equal('stale');
    sum.release('fw', 't1');
    expect(sent.filter((x) => x.includes('uuid u2'))).to.deep.equal(['TASK_RUNNING task t1 fw fw uuid u2']);
  });

  it('matches acks by uuid bytes (base64 padding may differ)', () => {
    sum.add(upd('t1', 'TASK_RUNNING', 'q83vEjRWeJCrze8SNFZ4kA=='));
    expect(sum.acknowledge('fw', 't1', 'q83vEjRWeJCrze8SNFZ4kA').kind).to.equal('acked');
  });

  it('retries with exponential backoff capped at the maximum', () => {
    sum.add(upd('t1', 'TASK_RUNNING', 'u1'));
    const times: number[] = [];
    const start = clock.nowMs();
    for (let i = 0; i < 60; i++) {
      const before = sent.length;
      clock.advance(50);
      if (sent.length > before) times.push(clock.nowMs() - start);
    }
    // sends at 0, then +200, +400, +800, +1000, +1000 ...
    expect(times).to.deep.equal([200, 600, 1400, 2400]);
    expect(sum.sendsOfHead('fw', 't1')).to.equal(5);
  });

  it('ignores an ack with the wrong uuid and forgets a task after its last ack', () => {
    sum.add(upd('t1', 'TASK_FINISHED', 'u1'));
    expect(sum.acknowledge('fw', 't1', 'nope').kind).to.equal('stale');
    expect(sum.pendingFor('fw', 't1')).to.have.length(1);
    clock.advance(200);
    expect(sent).to.have.length(2);
    const out = sum.acknowledge('fw', 't1', 'u1');
    expect(out.kind === 'acked' && out.remaining).to.equal(0);
    expect(sum.acknowledge('fw', 't1', 'u1').kind).to.equal('unknown-task');
    clock.advance(10_000);
    expect(sent).to.have.length(2);
  });

  it('keeps the same task id of two frameworks apart: one stream each, acks by (framework, task)', () => {
    sum.add(upd('web-1', 'TASK_RUNNING', 'a1', 'fw-a'));
    sum.add(upd('web-1', 'TASK_RUNNING', 'b1', 'fw-b'));
    expect(sent).to.deep.equal(['TASK_RUNNING task web-1 fw fw-a uuid a1', 'TASK_RUNNING task web-1 fw fw-b uuid b1']);
    expect(sum.acknowledge('fw-a', 'web-1', 'b1').kind).to.equal('stale');
    expect(sum.acknowledge('fw-b', 'web-1', 'b1').kind).to.equal('acked');
    expect(sum.pendingFor('fw-a', 'web-1').map((u) => u.status.uuid)).to.deep.equal(['a1']);
    sum.forget('fw-a', 'web-1');
    expect(sum.pendingCount()).to.equal(0);
  });

  it('sends nothing while paused and re-sends heads on resume', () => {
    sum.pause();
    sum.add(upd('t1', 'TASK_RUNNING', 'u1'));
    clock.advance(5000);
    expect(sent).to.deep.equal([]);
    sum.resume();
    expect(sent).to.deep.equal(['TASK_RUNNING task t1 fw fw uuid u1']);
  });

  it('bounds the queue: latest non-terminal replaces, terminal always kept', () => {
    for (let i = 0; i < MAX_PENDING_PER_TASK + 10; i++) sum.add(upd('t1', 'TASK_RUNNING', `u${i}`));
    sum.add(upd('t1', 'TASK_FAILED', 'end'));
    const q = sum.pendingFor('fw', 't1');
    expect(q).to.have.length(MAX_PENDING_PER_TASK + 1);
    expect(q[0].status.uuid).to.equal('u0');
    expect(q.at(-2)!.status.uuid).to.equal(`u${MAX_PENDING_PER_TASK + 9}`);
    expect(q.at(-1)!.status.state).to.equal('TASK_FAILED');
  });
});
