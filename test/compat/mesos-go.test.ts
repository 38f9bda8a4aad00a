/**
 * Wire compatibility with an unmodified Mesos v1 client: the Go scheduler in
 * test/compat/go (built on Debian's mesos-go v1 library) subscribes to a real
 * cygnet master, launches `sleep 60` on a real agent, waits for RUNNING,
 * acknowledges, kills it and waits for KILLED, once with JSON and once with
 * protobuf. The Go binary is built once (offline, test/compat/build.sh) and
 * cached in the OS temp dir under a hash of its sources.
 *
 * Go is a hard requirement: without it this test fails (it never skips).
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAgent, startMaster, type MasterHandle } from '../helpers/cluster.ts';
import { killAllProcesses, repoRoot, spawnProcess } from '../helpers/processes.ts';
import { makeTempDir, removeTempDirs } from '../helpers/tmp.ts';

const compatDir = path.join(repoRoot, 'test/compat');
const goSource = path.join(compatDir, 'go/src/cygnetcompat/main.go');

/** Builds (or reuses) the Go scheduler; returns the binary path. */
function buildCompatScheduler(): string {
  const probe = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error('the go toolchain is missing: install golang-go golang-github-mesos-mesos-go-dev (apt-get install golang-go golang-github-mesos-mesos-go-dev)');
  }
  if (!existsSync('/usr/share/gocode/src/github.com/mesos/mesos-go/api/v1/lib')) {
    throw new Error('mesos-go sources are missing: install golang-go golang-github-mesos-mesos-go-dev');
  }
  const hash = createHash('sha256')
    .update(readFileSync(goSource))
    .update(readFileSync(path.join(compatDir, 'build.sh')))
    .update(probe.stdout)
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(os.tmpdir(), `cygnet-compat-${hash}`);
  const binary = path.join(dir, 'cygnetcompat');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const build = spawnSync(path.join(compatDir, 'build.sh'), [binary], {
    encoding: 'utf8',
    env: { ...process.env, GOCACHE_DIR: path.join(os.tmpdir(), 'cygnet-compat-gocache') },
  });
  if (build.status !== 0) throw new Error(`test/compat/build.sh failed (${build.status}):\n${build.stderr}${build.stdout}`);
  return binary;
}

interface Milestone {
  readonly milestone: string;
  readonly [k: string]: unknown;
}

describe('mesos-go v1 client compatibility', function () {
  this.timeout(240_000);
  let binary: string;
  let master: MasterHandle;

  before(async function () {
    this.timeout(240_000);
    binary = buildCompatScheduler();
    const root = await makeTempDir('cygnet-compat-');
    master = await startMaster({ workDir: path.join(root, 'master') });
    await startAgent({ master: master.address, workDir: path.join(root, 'agent') });
  });

  after(async () => {
    await killAllProcesses();
    await removeTempDirs();
  });

  for (const codec of ['json', 'protobuf'] as const) {
    it(`runs a task through subscribe → launch → RUNNING → operator GET_STATE and event stream → kill → KILLED (${codec})`, async () => {
      const proc = spawnProcess(`go-${codec}`, binary, ['-master', master.address, '-codec', codec, '-timeout', '90s'], {
        env: { NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
      });
      const { code } = await proc.exited;
      const milestones = proc.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Milestone);
      const names = milestones.map((m) => m.milestone);
      const context = `go scheduler output:\n${proc.tail(40)}\nmaster:\n${master.proc.tail(20)}`;
      expect(code, context).to.equal(0);
      expect(names, context).to.not.include('error');
      const order = ['subscribed', 'offers', 'launched', 'running', 'operator_state', 'operator_events', 'kill_sent', 'killed', 'done'];
      const positions = order.map((n) => names.indexOf(n));
      expect(positions.every((p) => p >= 0), `missing milestones: ${context}`).to.equal(true);
      expect([...positions].sort((a, b) => a - b)).to.deep.equal(positions);
      const subscribed = milestones.find((m) => m.milestone === 'subscribed');
      expect(subscribed?.framework_id).to.be.a('string').and.not.equal('');
      const launched = milestones.find((m) => m.milestone === 'launched');
      const states = milestones.filter((m) => m.milestone === 'update' && m.task_id === launched?.task_id).map((m) => m.state);
      expect(states).to.include('TASK_RUNNING');
      expect(states[states.length - 1]).to.equal('TASK_KILLED');
      expect(names.filter((n) => n === 'acknowledged').length, 'updates with a uuid are acknowledged').to.be.at.least(2);
      // The Operator API through mesos-go's httpmaster, in the same codec: GET_STATE lists this framework and its running task.
      const operator = milestones.find((m) => m.milestone === 'operator_state');
      expect(operator?.type).to.equal('GET_STATE');
      expect(operator?.agents).to.equal(1);
      expect(operator?.frameworks).to.include(subscribed?.framework_id);
      expect(operator?.tasks).to.include(`${String(launched?.task_id)} TASK_RUNNING`);
      // The Operator API's event stream (SUBSCRIBE through httpmaster, opened before subscribing): the task's launch and its RUNNING.
      const events = milestones.find((m) => m.milestone === 'operator_events');
      expect(events?.incomplete, context).to.equal(undefined);
      const lines = events?.events as string[];
      expect(lines[0]).to.equal('SUBSCRIBED');
      expect(lines).to.include('FRAMEWORK_ADDED');
      expect(lines).to.include(`TASK_ADDED ${String(launched?.task_id)} TASK_STAGING`);
      expect(lines[lines.length - 1]).to.equal(`TASK_UPDATED ${String(launched?.task_id)} TASK_RUNNING`);
    });
  }
});
