/**
 * examples/batch's pure parts: the batch file's validation (errors name the
 * field path) and the planner (concurrency limit, placement by attribute,
 * resources, retries with backoff, stale updates ignored, unknown tasks retried).
 */
import { expect } from 'chai';
import { ValidationError } from '../../../src/common/errors.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import type { Offer, TaskState, TaskStatus } from '../../../src/protocol/mesos-types.ts';
import { parseBatchFile, parseBatchSpec } from '../../../examples/batch/jobs.ts';
import { activeTasks, applyStatus, initialState, isFinished, planOffers } from '../../../examples/batch/planner.ts';

function offer(id: string, agent: string, cpus: number, memMb: number, rack?: string): Offer {
  return {
    id: { value: id },
    framework_id: { value: 'fw' },
    agent_id: { value: agent },
    hostname: 'localhost',
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: cpus } }, { name: 'mem', type: 'SCALAR', scalar: { value: memMb } }],
    ...(rack !== undefined ? { attributes: [{ name: 'rack', type: 'TEXT', text: { value: rack } }] } : {}),
  };
}

const status = (taskId: string, state: TaskState): TaskStatus => ({ task_id: { value: taskId }, state, agent_id: { value: 'A' } });

function validationPath(doc: unknown): string {
  try {
    parseBatchSpec(doc);
  } catch (err) {
    if (err instanceof ValidationError) return err.message;
    throw err;
  }
  return 'no error';
}

describe('examples/batch: batch file validation', () => {
  it('names the field path and what was expected', () => {
    expect(validationPath({ jobs: [{ id: 'a', command: 'true' }, { id: 'b', command: 'true', cpus: -1 }] })).to.equal('jobs[1].cpus: expected a positive number, got -1');
    expect(validationPath({ jobs: [] })).to.equal('jobs: expected a non-empty list of jobs, got []');
    expect(validationPath({ jobs: [{ id: 'a', command: '' }] })).to.match(/^jobs\[0\]\.command: expected a non-empty shell command/);
    expect(validationPath({ jobs: [{ id: 'a', command: 'x', attributes: { rack: 1 } }] })).to.equal('jobs[0].attributes.rack: expected a string, got 1');
    expect(validationPath({ jobs: [{ id: 'a', command: 'x' }, { id: 'a', command: 'y' }] })).to.equal('jobs[1].id: expected an id no other job has, got "a"');
    expect(validationPath({ jobs: [{ id: 'a', command: 'x', cpu: 1 }] })).to.match(/^jobs\[0\]\.cpu: expected one of the fields/);
    expect(validationPath({ concurrency: 0, jobs: [{ id: 'a', command: 'x' }] })).to.equal('concurrency: expected an integer >= 1, got 0');
    expect(validationPath({ backoff: { minMs: 10, maxMs: 5 }, jobs: [{ id: 'a', command: 'x' }] })).to.equal('backoff.maxMs: expected a number >= backoff.minMs (10), got 5');
    expect(() => parseBatchFile('{', 'jobs.json')).to.throw(ValidationError, /^jobs\.json: expected a JSON document/);
  });

  it('fills defaults', () => {
    const spec = parseBatchSpec({ jobs: [{ id: 'a', command: 'true' }] });
    expect(spec.concurrency).to.equal(4);
    expect(spec.jobs[0]).to.deep.include({ cpus: 0.1, memMb: 32, retries: 2, attributes: {} });
  });
});

describe('examples/batch: planner', () => {
  const spec = parseBatchSpec({
    concurrency: 2,
    backoff: { minMs: 100, maxMs: 100 },
    jobs: [
      { id: 'big', command: 'x', cpus: 2, memMb: 64 },
      { id: 'rack-b', command: 'x', cpus: 0.5, attributes: { rack: 'b' } },
      { id: 'small', command: 'x', cpus: 0.5, retries: 1 },
    ],
  });
  const rng = new SeededRandom(1);

  it('places by resources and attribute, at most `concurrency` active', () => {
    const s0 = initialState(spec, undefined);
    const plan = planOffers(spec, s0, [offer('o1', 'A', 1, 1024, 'a'), offer('o2', 'B', 4, 1024, 'b')], 0);
    const placed = plan.launches.map((l) => `${l.offer.id.value}:${l.tasks.map((t) => t.task_id.value).join('+')}`);
    // o1 (1 cpu, rack a) fits only `small`; o2 takes `big` but then the limit of 2 is reached.
    expect(placed).to.deep.equal(['o1:small.1', 'o2:big.1']);
    expect(plan.declines).to.deep.equal([]);
    expect(plan.state.jobs['rack-b'].phase).to.equal('waiting');
    expect(activeTasks(plan.state).map((t) => t.taskId).sort()).to.deep.equal(['big.1', 'small.1']);
    const again = planOffers(spec, plan.state, [offer('o3', 'B', 4, 1024, 'b')], 0);
    expect(again.launches).to.deep.equal([]);
    expect(again.declines).to.deep.equal(['o3']);
  });

  it('retries a failure after backoff, then fails for good; ignores stale task ids; TASK_UNKNOWN is a failed attempt', () => {
    let s = planOffers(spec, initialState(spec, undefined), [offer('o1', 'A', 1, 1024)], 0).state;
    s = applyStatus(spec, s, status('small.1', 'TASK_RUNNING'), 0, rng);
    expect(s.jobs.small.phase).to.equal('running');
    s = applyStatus(spec, s, status('small.1', 'TASK_FAILED'), 1000, rng);
    expect(s.jobs.small).to.deep.include({ phase: 'waiting', attempts: 1, notBeforeMs: 1100, lastState: 'TASK_FAILED' });
    expect(planOffers(spec, s, [offer('o2', 'A', 1, 1024)], 1050).launches).to.deep.equal([]); // still backing off
    s = planOffers(spec, s, [offer('o2', 'A', 1, 1024)], 1100).state;
    expect(s.jobs.small).to.deep.include({ phase: 'launching', taskId: 'small.2', attempts: 2 });
    expect(applyStatus(spec, s, status('small.1', 'TASK_FINISHED'), 1200, rng), 'stale update').to.equal(s);
    s = applyStatus(spec, s, status('small.2', 'TASK_UNKNOWN'), 1200, rng);
    expect(s.jobs.small).to.deep.include({ phase: 'failed', lastState: 'TASK_UNKNOWN' });
  });

  it('is finished when every job is done or failed', () => {
    let s = planOffers(spec, initialState(spec, undefined), [offer('o1', 'A', 8, 4096, 'b')], 0).state;
    expect(isFinished(s)).to.equal(false);
    s = applyStatus(spec, s, status('big.1', 'TASK_FINISHED'), 0, rng);
    s = applyStatus(spec, s, status('rack-b.1', 'TASK_FINISHED'), 0, rng);
    s = planOffers(spec, s, [offer('o2', 'A', 8, 4096)], 0).state;
    s = applyStatus(spec, s, status('small.1', 'TASK_FINISHED'), 0, rng);
    expect(isFinished(s)).to.equal(true);
  });
});
