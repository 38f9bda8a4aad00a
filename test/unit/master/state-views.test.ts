import { expect } from 'chai';
import { defaultTaskLimit, frameworksView, slavesView, tasksView } from '../../../src/master/state-json.ts';

// A /state as renderState gives it, cut to what the views read.
const task = (id: string, fw: string, ts: number) => ({ id, framework_id: fw, state: 'TASK_RUNNING', statuses: [{ state: 'TASK_RUNNING', timestamp: ts }] });
const state = {
  frameworks: [
    { id: 'fw-1', tasks: [task('a', 'fw-1', 10), task('b', 'fw-1', 30)] },
    { id: 'fw-2', tasks: [task('c', 'fw-2', 20)] },
  ],
  completed_frameworks: [{ id: 'fw-0' }],
  completed_tasks: [{ ...task('z', 'fw-1', 5), state: 'TASK_FINISHED' }],
  slaves: [{ id: 's-1' }, { id: 's-2' }],
} as unknown as Parameters<typeof tasksView>[0];

const ids = (v: Record<string, unknown>): string[] => (v.tasks as { id: string }[]).map((t) => t.id);

describe("master v0 list views: Mesos' query parameters", () => {
  it('/tasks: live and completed, newest first, order=asc, offset and limit', () => {
    expect(ids(tasksView(state))).to.deep.equal(['b', 'c', 'a', 'z']);
    expect(ids(tasksView(state, { order: 'asc' }))).to.deep.equal(['z', 'a', 'c', 'b']);
    expect(ids(tasksView(state, { offset: '1', limit: '2' }))).to.deep.equal(['c', 'a']);
    expect(ids(tasksView(state, { limit: '0' }))).to.deep.equal([]);
    expect(ids(tasksView(state, { limit: 'many', offset: '-3' })), 'unparsable values keep their defaults').to.deep.equal(['b', 'c', 'a', 'z']);
    expect(defaultTaskLimit).to.equal(100);
  });

  it('/tasks: framework_id and task_id select', () => {
    expect(ids(tasksView(state, { framework_id: 'fw-1' }))).to.deep.equal(['b', 'a', 'z']);
    expect(ids(tasksView(state, { task_id: 'c' }))).to.deep.equal(['c']);
    expect(ids(tasksView(state, { task_id: 'nope' }))).to.deep.equal([]);
  });

  it('/frameworks?framework_id= and /slaves?slave_id= select', () => {
    expect((frameworksView(state, { framework_id: 'fw-2' }).frameworks as { id: string }[]).map((f) => f.id)).to.deep.equal(['fw-2']);
    expect(frameworksView(state, { framework_id: 'fw-0' }).completed_frameworks).to.deep.equal([{ id: 'fw-0' }]);
    expect(slavesView(state, { slave_id: 's-2' }).slaves).to.deep.equal([{ id: 's-2' }]);
    expect((slavesView(state).slaves as unknown[]).length).to.equal(2);
  });
});
