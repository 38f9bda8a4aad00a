/**
 * A daemon started in a session of its own stops itself once its launcher
 * is gone (it was re-parented), and only then; without a launcher in its
 * environment it never does.
 */
import { expect } from 'chai';
import { launcherCheckMs, launcherPidEnv, watchLauncher, type LauncherWatchIo } from '../../../src/cli/launcher-watch.ts';

/** A watch whose parent pid and ticks the test drives. */
function harness(env: Record<string, string>, parent: number): { io: LauncherWatchIo; tick: () => void; setParent: (p: number) => void; intervals: number[]; stopped: () => boolean } {
  let current = parent;
  let check: (() => void) | undefined;
  const intervals: number[] = [];
  let stoppedFlag = false;
  return {
    io: {
      env,
      parentPid: () => current,
      every: (ms, c) => {
        intervals.push(ms);
        check = c;
        return () => { stoppedFlag = true; };
      },
    },
    tick: () => check?.(),
    setParent: (p) => { current = p; },
    intervals,
    stopped: () => stoppedFlag,
  };
}

describe('cli/launcher watch', () => {
  it('fires once, when the parent stops being the launcher', () => {
    const h = harness({ [launcherPidEnv]: '4242' }, 4242);
    let gone = 0;
    const stop = watchLauncher(h.io, () => { gone += 1; });
    expect(h.intervals).to.deep.equal([launcherCheckMs]);
    h.tick();
    h.tick();
    expect(gone).to.equal(0);
    h.setParent(1); // re-parented to init
    h.tick();
    h.tick();
    expect(gone).to.equal(1);
    stop();
    expect(h.stopped()).to.equal(true);
  });

  it('fires at once when the launcher was gone before the watch began', () => {
    const h = harness({ [launcherPidEnv]: '4242' }, 977);
    let gone = 0;
    watchLauncher(h.io, () => { gone += 1; });
    expect(gone).to.equal(1);
  });

  it('does nothing without a launcher, or with a value that is not a pid', () => {
    const envs: Record<string, string>[] = [{}, { [launcherPidEnv]: '' }, { [launcherPidEnv]: '0' }, { [launcherPidEnv]: '-5' }, { [launcherPidEnv]: '12x' }];
    for (const env of envs) {
      const h = harness(env, 1);
      let gone = 0;
      watchLauncher(h.io, () => { gone += 1; });
      h.tick();
      expect(gone, JSON.stringify(env)).to.equal(0);
      expect(h.intervals, JSON.stringify(env)).to.deep.equal([]);
    }
  });
});
