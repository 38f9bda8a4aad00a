/**
 * `cygnet local` as a user runs it: one process that starts a master and 2
 * agents as children, prints where they are, runs a real task, and on SIGINT
 * stops every child and kills the task, exiting 0. Ports: a base port whose
 * next two ports are free too, found at run time.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { Resolver } from 'node:dns/promises';
import path from 'node:path';
import { request } from 'undici';
import { closeAllClients, launchTask, newFramework, teardownAllClients } from '../../helpers/frameworks.ts';
import { freeBasePort, freePort, waitForPort } from '../../helpers/net.ts';
import { killAllProcesses, pidAlive, repoRoot, sessionOf, spawnCygnet, spawnProcess } from '../../helpers/processes.ts';
import { makeTempDir, removeTempDirs } from '../../helpers/tmp.ts';

async function waitForResolve(resolver: Resolver, name: string): Promise<string[]> {
  for (let i = 0; ; i++) {
    try {
      return await resolver.resolve4(name);
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function waitUntil(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function portClosed(port: number, host = '127.0.0.1'): Promise<boolean> {
  return waitForPort(port, 200, host).then(() => false, () => true);
}

/** The pids of processes whose command line has `command` and then `flag value` (from /proc, so the test needs no pid file). */
function pidsWith(command: string, flag: string, value: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (cmd.includes(command) && cmd[cmd.indexOf(flag) + 1] === value) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function waitForPid(workDir: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const [pid] = pidsWith('agent', '--work-dir', workDir);
    if (pid !== undefined) return pid;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no agent process with --work-dir ${workDir}`);
}

/** The proxy runs in a session of its own: a test that fails before `cygnet local` stops it leaves it to this. */
const proxyListens: string[] = [];

describe('e2e: cygnet local', function () {
  this.timeout(120_000);

  afterEach(async () => {
    await teardownAllClients();
    await closeAllClients();
    await killAllProcesses();
    for (const listen of proxyListens.splice(0)) {
      for (const pid of pidsWith('proxy', '--listen', listen)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    await removeTempDirs();
  });

  it('starts a master, agents and the framework, runs a task, restarts a daemon that dies, and on SIGINT stops everything (tasks included)', async () => {
    const root = await makeTempDir('cygnet-e2e-local-');
    const base = await freeBasePort(2);
    const fwPort = await freePort();
    const dnsPort = await freePort();
    const proxyPort = await freePort();
    proxyListens.push(`127.0.0.1:${proxyPort}`);
    const local = spawnCygnet('local', ['local', '--base-port', String(base), '--agents', '2', '--work-dir', path.join(root, 'cluster'), '--framework-port', String(fwPort), '--dns-port', String(dnsPort), '--proxy-port', String(proxyPort)]);
    await local.waitForLine(/Ctrl-C stops everything/, 60_000);
    expect(local.lines.join('\n')).to.contain(`agent-2     http://127.0.0.2:${base + 2}`);
    await Promise.all([waitForPort(base, 60_000), waitForPort(base + 1, 60_000), waitForPort(base + 2, 60_000, '127.0.0.2'), waitForPort(fwPort, 60_000)]);
    await local.waitForLine(/\[agent-2\].*subscribed to master/, 60_000);
    await local.waitForLine(/\[framework-1\].*subscribed to master/, 60_000);
    // The cluster DNS follows the framework: the leader's name resolves.
    const resolver = new Resolver();
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    expect(await waitForResolve(resolver, 'leader.cygnet')).to.deep.equal(['127.0.0.1']);
    // And so does the load balancer: a name it does not route is a clear 404.
    await waitForPort(proxyPort, 60_000);
    const miss = await request(`http://127.0.0.1:${proxyPort}/`, { headers: { host: 'nothing.cygnet' } });
    expect(miss.statusCode).to.equal(404);
    await miss.body.dump();
    // The proxy has a session (a scheduling group, with autogroup) of its own, apart from the tasks it forwards to.
    const [proxyPid] = pidsWith('proxy', '--listen', `127.0.0.1:${proxyPort}`);
    expect(proxyPid, 'the proxy process').to.be.a('number');
    expect(sessionOf(proxyPid as number)).to.equal(proxyPid).and.not.equal(sessionOf(local.pid));

    // A daemon that dies is restarted (Restart=on-failure), not the end of the cluster.
    const agent2 = await waitForPid(path.join(root, 'cluster', 'agent-2'));
    process.kill(agent2, 'SIGKILL');
    await local.waitForLine(/\[local\] agent-2 exited unexpectedly .*restarting in 1000 ms/, 30_000);
    await waitForPort(base + 2, 60_000, '127.0.0.2');
    // Until the new agent-2 subscribes, the master may still offer the dead one's resources
    // (Mesos does too, until its agent health check fails); a task launched there is TASK_LOST.
    await waitUntil(() => local.lines.filter((l) => /\[agent-2\].*subscribed to master/.test(l)).length >= 2, 60_000, 'agent-2 subscribed again');

    const fw = newFramework(`127.0.0.1:${base}`, { name: 'e2e-local' });
    await fw.client.subscribe();
    const pidFile = path.join(root, 'local-task.pid');
    await launchTask(fw, { taskId: 'local-1', command: `echo $$ > ${pidFile}; exec sleep 1000`, pick: (o) => o.hostname === '127.0.0.1' });
    await fw.rec.waitForState('local-1', 'TASK_RUNNING');
    await fw.client.close();
    const taskPid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(pidAlive(taskPid)).to.equal(true);
    expect(existsSync(path.join(root, 'cluster', 'agent-1'))).to.equal(true);

    local.child.kill('SIGINT');
    const { code } = await local.exited;
    expect(code, local.tail()).to.equal(0);
    expect(local.lines.some((l) => l.includes('[local] all children stopped'))).to.equal(true);
    for (const [p, host] of [[base, '127.0.0.1'], [base + 1, '127.0.0.1'], [base + 2, '127.0.0.2'], [fwPort, '127.0.0.1'], [dnsPort, '127.0.0.1'], [proxyPort, '127.0.0.1']] as const) expect(await portClosed(p, host), `port ${p} closed`).to.equal(true);
    expect(pidAlive(taskPid), 'the task was killed').to.equal(false);
    expect(pidAlive(proxyPid as number), 'the proxy stopped').to.equal(false);
  });

  it('rejects a bad flag with one line on stderr and exit code 2', async () => {
    const proc = spawnCygnet('local-bad', ['local', '--agents', '0']);
    const { code } = await proc.exited;
    expect(code).to.equal(2);
    expect(proc.lines).to.deep.equal(["cygnet: option '--agents <n>' argument '0' is invalid. expected an integer 1-32."]);
  });

  it('starts nothing when an address it needs is taken, and names the daemon, the address and the flag that moves it', async () => {
    const root = await makeTempDir('cygnet-local-taken');
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
    const proxyPort = (holder.address() as AddressInfo).port;
    try {
      const base = await freeBasePort(3);
      const workDir = path.join(root, 'cluster');
      const proc = spawnCygnet('local-taken', ['local', '--base-port', String(base), '--agents', '2', '--work-dir', workDir, '--framework-port', String(await freePort()), '--dns-port', '0', '--proxy-port', String(proxyPort)]);
      const { code } = await proc.exited;
      expect(code, proc.tail()).to.equal(2);
      const text = proc.lines.join('\n');
      expect(text).to.contain(`127.0.0.1:${proxyPort} for proxy: in use by another process`).and.contain('--proxy-port <port>');
      expect(existsSync(workDir), 'no work dir made').to.equal(false);
      expect(await portClosed(base), 'no master started').to.equal(true);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('bin/cygnet.js runs from source without a build step', async () => {
    const proc = spawnProcess('bin-help', process.execPath, [path.join(repoRoot, 'bin/cygnet.js'), 'agent', '--help']);
    const { code } = await proc.exited;
    expect(code, proc.tail()).to.equal(0);
    expect(proc.lines.join('\n')).to.match(/--work-dir <dir>/).and.match(/--kill-tasks-on-exit/);
    const bad = spawnProcess('bin-bad', process.execPath, [path.join(repoRoot, 'bin/cygnet.js'), 'master', '--port', 'http']);
    expect((await bad.exited).code).to.equal(2);
    expect(bad.lines).to.deep.equal(["cygnet: --port: expected an integer 0..65535, got 'http'"]);
  });

  it('a client command whose reader has gone (`| head -1`) ends quietly, without a stack trace', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/cygnet.js'), 'app', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first write: it fails with EPIPE
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const [code] = await once(child, 'exit') as [number | null];
    expect(stderr, 'nothing on stderr').to.equal('');
    expect(code).to.equal(0);
  });
});
