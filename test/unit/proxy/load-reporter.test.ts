import { expect } from 'chai';
import type { WorkerLoad } from '../../../src/proxy/accept-balancer.ts';
import { LoadReporter, reportCoalesceMs } from '../../../src/proxy/load-reporter.ts';

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('LoadReporter', () => {
  it('reports a burst of changes once, and nothing when the load is unchanged', async () => {
    let load: WorkerLoad = { connections: 0, adoptedFrom: {} };
    const reports: WorkerLoad[] = [];
    const r = new LoadReporter(() => load, (l) => reports.push(l));
    try {
      for (let i = 1; i <= 30; i++) {
        load = { connections: i, adoptedFrom: {} };
        r.changed();
      }
      await wait(reportCoalesceMs * 4);
      expect(reports).to.deep.equal([{ connections: 30, adoptedFrom: {} }]);
      r.changed();
      await wait(reportCoalesceMs * 4);
      expect(reports).to.have.length(1);
      load = { connections: 30, adoptedFrom: { 1: 2 } };
      r.changed();
      await wait(reportCoalesceMs * 4);
      expect(reports.at(-1)).to.deep.equal({ connections: 30, adoptedFrom: { 1: 2 } });
    } finally {
      r.stop();
    }
  });
});
