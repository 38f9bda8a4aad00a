import { expect } from 'chai';
import { defaultTaskLimit, frameworksView, slavesView, stateSummaryView, tasksView } from '../../../src/master/state-json.ts';

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

  it('/state-summary: registered agents and frameworks with task counts by state and the ids they share tasks with', () => {
    const placed = (id: string, fw: string, agent: string, st: string) => ({ id, framework_id: fw, slave_id: agent, state: st, statuses: [] });
    const s = {
      hostname: 'm1',
      frameworks: [{ id: 'fw-1', name: 'a', tasks: [placed('a', 'fw-1', 's-1', 'TASK_RUNNING'), placed('b', 'fw-1', 's-2', 'TASK_STAGING')], completed_tasks: [placed('z', 'fw-1', 's-1', 'TASK_FINISHED')], active: true }],
      slaves: [{ id: 's-1', state: 'active', hostname: 'h1' }, { id: 's-2', state: 'active', hostname: 'h2' }, { id: 's-3', state: 'unreachable', hostname: 'h3' }],
    } as unknown as Parameters<typeof stateSummaryView>[0];
    const v = stateSummaryView(s) as { hostname: string; slaves: Record<string, unknown>[]; frameworks: Record<string, unknown>[] };
    expect(v.hostname).to.equal('m1');
    expect(v.slaves.map((a) => a.id), 'registered agents only').to.deep.equal(['s-1', 's-2']);
    expect(v.slaves[0]).to.deep.include({ TASK_RUNNING: 1, TASK_FINISHED: 1, TASK_STAGING: 0, framework_ids: ['fw-1'] });
    expect(v.slaves[0]).to.not.have.property('state');
    expect(v.frameworks[0]).to.deep.include({ id: 'fw-1', TASK_RUNNING: 1, TASK_STAGING: 1, TASK_FINISHED: 1, TASK_UNREACHABLE: 0, slave_ids: ['s-1', 's-2'] });
  });

  it('/frameworks?framework_id= and /slaves?slave_id= select', () => {
    expect((frameworksView(state, { framework_id: 'fw-2' }).frameworks as { id: string }[]).map((f) => f.id)).to.deep.equal(['fw-2']);
    expect(frameworksView(state, { framework_id: 'fw-0' }).completed_frameworks).to.deep.equal([{ id: 'fw-0' }]);
    expect(slavesView(state, { slave_id: 's-2' }).slaves).to.deep.equal([{ id: 's-2' }]);
    expect((slavesView(state).slaves as unknown[]).length).to.equal(2);
  });
});
