/** LaunchGate: bound, FIFO order, slot released on failure. */
import { expect } from 'chai';
import { LaunchGate } from '../../../src/executor/launch-gate.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('executor/launch-gate', () => {
  it('runs at most `limit` at once, in FIFO order, and releases a slot when a launch fails', async () => {
    const gate = new LaunchGate(2);
    const started: number[] = [];
    const ds = Array.from({ length: 5 }, () => deferred());
    const results = ds.map((d, i) => gate.run(async () => { started.push(i); await d.promise; return i; }));
    const settled = Promise.allSettled(results);
    await tick();
    expect(started).to.deep.equal([0, 1]);
    expect([gate.active, gate.queued]).to.deep.equal([2, 3]);
    ds[1].reject(new Error('spawn failed'));
    await tick();
    expect(started).to.deep.equal([0, 1, 2]);
    ds[0].resolve();
    await tick();
    expect(started).to.deep.equal([0, 1, 2, 3]);
    ds[2].resolve(); ds[3].resolve(); ds[4].resolve();
    expect((await settled).map((s) => s.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(started).to.deep.equal([0, 1, 2, 3, 4]);
    expect([gate.active, gate.queued]).to.deep.equal([0, 0]);
  });

  it('rejects a limit below 1', () => {
    expect(() => new LaunchGate(0)).to.throw(RangeError, /expected an integer >= 1, got 0/);
  });
});
