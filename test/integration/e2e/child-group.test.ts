/**
 * ChildGroup's children in a session of their own (`ownSession`, what
 * `cygnet local` gives the proxy): they are in another session, `stopAll`
 * stops them, and a parent that exits without stopping them takes them
 * along, process group and all, although the terminal would not signal them.
 * A parent that is SIGKILLed cannot: then a cygnet daemon stops itself.
 */
import { expect } from 'chai';
import path from 'node:path';
import { ChildGroup } from '../../../src/cli/children.ts';
import { readFileSync } from 'node:fs';
import { pidAlive, repoRoot, sessionOf, spawnProcess } from '../../helpers/processes.ts';
import { waitFor } from '../../helpers/registry-harness.ts';

/** Pids whose parent is `pid` (its main thread's /proc children list). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

describe('ChildGroup: a child in a session of its own', function () {
  this.timeout(30_000);

  it('runs in a new session and is stopped by stopAll', async () => {
    const lines: string[] = [];
    const group = new ChildGroup((l) => lines.push(l), () => undefined);
    const own = group.start({ name: 'own', command: 'sleep', args: ['1000'], ownSession: true });
    const shared = group.start({ name: 'shared', command: 'sleep', args: ['1000'] });
    const ownPid = own.process.pid as number;
    await waitFor(() => pidAlive(ownPid), 'the child', 10_000);
    expect(sessionOf(ownPid)).to.equal(ownPid);
    expect(sessionOf(shared.process.pid as number)).to.equal(sessionOf(process.pid));
    await group.stopAll(5_000);
    expect(pidAlive(ownPid)).to.equal(false);
    expect(group.children).to.have.length(0);
  });

  it('is killed, with the processes it started, when its parent crashes without stopping it', async () => {
    // The parent starts a shell in its own session that starts a grandchild and prints both pids; the parent then throws.
    const script = [
      `import { ChildGroup } from ${JSON.stringify(path.join(repoRoot, 'src/cli/children.ts'))};`,
      "const group = new ChildGroup((l) => { console.log(l); if (l.includes('pids')) setTimeout(() => { throw new Error('crash'); }, 100); }, () => undefined);",
      "group.start({ name: 'own', command: 'sh', args: ['-c', 'sleep 1000 & echo pids $$ $!; wait'], ownSession: true });",
      'setTimeout(() => undefined, 60_000);',
    ].join('\n');
    const parent = spawnProcess('parent', process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    const line = await parent.waitForLine(/\[own\] pids \d+ \d+/, 20_000);
    const [shellPid, sleepPid] = (/pids (\d+) (\d+)/.exec(line) as RegExpExecArray).slice(1).map(Number) as [number, number];
    const { code } = await parent.exited;
    expect(code, 'the parent crashed').to.equal(1);
    await waitFor(() => !pidAlive(shellPid) && !pidAlive(sleepPid), 'the child and its grandchild to be killed', 10_000);
  });

  it('a cygnet proxy stops itself, workers and all, when its launcher is SIGKILLed', async () => {
    const main = path.join(repoRoot, 'src/cli/main.ts');
    const args = [
      '--import', 'tsx', main, 'proxy', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--workers', '2',
      '--registry', 'http://127.0.0.1:1',
    ];
    const script = [
      `import { ChildGroup } from ${JSON.stringify(path.join(repoRoot, 'src/cli/children.ts'))};`,
      "const group = new ChildGroup((l) => { console.log(l); if (l.includes('listening')) console.log('proxy pid ' + proxy.process.pid); }, () => undefined);",
      `const proxy = group.start({ name: 'proxy', command: process.execPath, args: ${JSON.stringify(args)}, ownSession: true });`,
      'setTimeout(() => undefined, 60_000);',
    ].join('\n');
    const parent = spawnProcess('launcher', process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    const line = await parent.waitForLine(/proxy pid \d+/, 20_000);
    const proxyPid = Number((/proxy pid (\d+)/.exec(line) as RegExpExecArray)[1]);
    const workers = childrenOf(proxyPid);
    expect(workers, 'workers of the proxy').to.have.length(2);
    try {
      process.kill(parent.pid, 'SIGKILL');
      await parent.exited;
      await waitFor(() => !pidAlive(proxyPid) && workers.every((w) => !pidAlive(w)), 'the proxy and its workers to stop', 10_000);
    } finally {
      for (const pid of [proxyPid, ...workers]) {
        if (pidAlive(pid)) process.kill(pid, 'SIGKILL'); // nobody else would: its launcher is gone
      }
    }
  });
});
