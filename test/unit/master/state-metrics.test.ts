/**
 * /state and /metrics rendering from the core: used and offered resources per
 * agent and framework, task states, and the Prometheus series names.
 */
import { expect } from 'chai';
import { renderMetrics, Summary } from '../../../src/master/metrics.ts';
import { renderState } from '../../../src/master/state-json.ts';
import { Harness, launch, offersIn, ports, scalar, task } from './harness.ts';

interface StateJson {
  id: string;
  activated_slaves: number;
  slaves: { id: string; active: boolean; resources: Record<string, unknown>; used_resources: Record<string, unknown>; offered_resources: Record<string, unknown> }[];
  frameworks: { id: string; active: boolean; tasks: { id: string; state: string }[]; used_resources: Record<string, unknown>; offers: unknown[] }[];
  total_resources: Record<string, unknown>;
  used_resources: Record<string, unknown>;
}

describe('master /state and /metrics', () => {
  it('reports used and offered resources, tasks and agents', () => {
    const h = new Harness({ agentPingTimeoutMs: 3_600_000 });
    const fw = h.subscribeFramework();
    const ag = h.subscribeAgent();
    const [offer] = offersIn(ag.effects, fw.id);
    h.call(fw, launch([offer.id.value], [task('t1', ag.id, [scalar('cpus', 1.5), scalar('mem', 100), ports(31000, 31001)])]));
    h.advance(5_000); // the rest is offered again after the default refusal
    const state = renderState(h.core, h.now) as unknown as StateJson;
    expect(state.id).to.equal(h.core.masterId);
    expect(state.activated_slaves).to.equal(1);
    expect(state.slaves[0]).to.deep.include({ id: ag.id, active: true });
    expect(state.slaves[0].resources).to.deep.include({ cpus: 4, mem: 4096, ports: '[31000-31009]' });
    expect(state.slaves[0].used_resources).to.deep.include({ cpus: 1.5, mem: 100, ports: '[31000-31001]' });
    expect(state.slaves[0].offered_resources).to.deep.include({ cpus: 2.5, mem: 3996, ports: '[31002-31009]' });
    expect(state.frameworks[0].tasks).to.deep.equal([{ ...state.frameworks[0].tasks[0], id: 't1', state: 'TASK_STAGING' }]);
    expect(state.frameworks[0].offers).to.have.length(1);
    expect(state.total_resources).to.deep.include({ cpus: 4 });
    expect(state.used_resources).to.deep.include({ cpus: 1.5 });

    const summary = new Summary();
    summary.observe(0.002);
    const text = renderMetrics({ core: h.core, allocationCycle: summary, openStreams: 2 });
    expect(text).to.contain('cygnet_master_agents{state="active"} 1');
    expect(text).to.contain('cygnet_master_frameworks{state="connected"} 1');
    expect(text).to.contain('cygnet_master_offers_outstanding 1');
    expect(text).to.contain('cygnet_master_tasks{state="TASK_STAGING"} 1');
    expect(text).to.contain('cygnet_master_allocation_cycle_seconds{quantile="0.5"} 0.002');
    expect(text).to.contain('cygnet_master_allocation_cycle_seconds_count 1');
    expect(text).to.match(/cygnet_master_tasks_launched_total 1\n/);
  });
});
