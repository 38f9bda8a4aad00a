/**
 * examples/batch end to end: the framework process (`examples/batch/main.ts`)
 * against a real master and two real agents (rack a and rack b) on 127.0.0.1.
 *
 * One batch: two slow jobs that block until the test releases them (one must
 * land on rack b), quick jobs, a job that fails twice then succeeds (retries
 * with backoff) and one that always fails (out of retries). With three jobs
 * allowed at once, the framework is SIGKILLed while the slow jobs run and
 * after some jobs are done; the slow jobs are released while it is down; it is
 * started again on the same state file. It must fail over with the same
 * framework id, keep done jobs done, learn by reconciliation and re-sent
 * updates that the slow jobs finished — without relaunching them — and exit 1
 * naming the one job that failed for good. Every run of every job appends a
 * line to runs.log, so "ran exactly once" is checked, not assumed.
 *
 * A third case edits the state file of a killed framework so that a job is
 * "launching" with a task the master never saw (as if the process died between
 * saving and sending the LAUNCH): reconciliation must answer TASK_LOST and the
 * job must run once, as attempt 2.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { registerClusterCleanup, startAgent, startMaster, type AgentHandle, type MasterHandle } from '../../helpers/cluster.ts';
import { spawnProcess, type ManagedProcess } from '../../helpers/processes.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { loadState, saveState, type BatchState } from '../../../examples/batch/state-file.ts';

const mainTs = path.join(import.meta.dirname, '../../../examples/batch/main.ts');

function startBatch(name: string, args: readonly string[]): ManagedProcess {
  return spawnProcess(name, process.execPath, ['--import', 'tsx', mainTs, ...args], { env: { CYGNET_LOG_LEVEL: 'info' } });
}

async function waitForState(file: string, what: string, ok: (s: BatchState) => boolean, timeoutMs = 60_000): Promise<BatchState> {
  const deadline = Date.now() + timeoutMs;
  let last: BatchState | undefined;
  while (Date.now() < deadline) {
    last = await loadState(file).catch(() => undefined);
    if (last !== undefined && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`state file never showed ${what}; last: ${JSON.stringify(last?.jobs)}`);
}

function runsOf(log: string): Map<string, number> {
  const runs = new Map<string, number>();
  for (const line of log.split('\n').filter((l) => l !== '')) runs.set(line, (runs.get(line) ?? 0) + 1);
  return runs;
}

describe('examples/batch: a custom framework on the SDK', function () {
  this.timeout(120_000);
  let root: string;
  let master: MasterHandle;
  let agents: AgentHandle[] = [];

  before(async function () {
    this.timeout(120_000);
    root = await makeTempDir('cygnet-batch-');
    // Reconciliation answers "unknown task" 1 s after the master starts (Mesos waits for agents to re-register first).
    master = await startMaster({ workDir: path.join(root, 'master'), extraArgs: ['--agent-reregister-timeout', '1secs'] });
    agents = await Promise.all(['a', 'b'].map((rack) => startAgent({
      master: master.address,
      workDir: path.join(root, `agent-${rack}`),
      resources: 'cpus:2;mem:1024;disk:1000;ports:[31000-31100]',
      // Unacknowledged updates are re-sent after 1 s (Mesos: 10 s), so a restarted framework gets them quickly.
      extraArgs: ['--attributes', `rack:${rack}`, '--status-retry-initial-ms', '1000'],
      name: `agent-${rack}`,
    })));
  });

  registerClusterCleanup();

  it('rejects a bad jobs file with the field path, exit status 2', async () => {
    const file = path.join(root, 'bad.json');
    await writeFile(file, JSON.stringify({ jobs: [{ id: 'ok', command: 'true' }, { id: 'bad', command: 'true', cpus: 'lots' }] }));
    const proc = startBatch('batch-bad', ['--master', master.address, '--jobs', file]);
    const { code } = await proc.exited;
    expect(code).to.equal(2);
    expect(proc.lines.join('\n')).to.contain('jobs[1].cpus: expected a positive number, got "lots"');
  });

  it('runs the batch, survives SIGKILL mid-run: same framework id, done stays done, running jobs reconciled, not relaunched', async () => {
    const out = path.join(root, 'out');
    const jobsFile = path.join(root, 'jobs.json');
    const stateFile = path.join(root, 'batch.state.json');
    const record = (id: string): string => `mkdir -p ${out} && echo ${id} >> ${out}/runs.log`;
    const slow = (id: string): string => `${record(id)} && pwd > ${out}/${id}.where && while [ ! -e ${out}/release ]; do sleep 0.1; done`;
    await writeFile(jobsFile, JSON.stringify({
      concurrency: 3,
      backoff: { minMs: 200, maxMs: 1000 },
      jobs: [
        { id: 'slow-1', command: slow('slow-1') },
        { id: 'slow-2', command: slow('slow-2'), attributes: { rack: 'b' } },
        { id: 'quick-1', command: record('quick-1') },
        { id: 'quick-2', command: record('quick-2') },
        // Fails on its first two runs, succeeds on the third.
        { id: 'retry', command: `${record('retry')} && test $(grep -c '^retry$' ${out}/runs.log) -ge 3`, retries: 3 },
        { id: 'hopeless', command: `${record('hopeless')} && exit 3`, retries: 1 },
      ],
    }));
    const args = ['--master', master.address, '--jobs', jobsFile, '--state', stateFile, '--failover-timeout', '120'];

    const first = startBatch('batch-1', args);
    await waitForState(stateFile, 'slow jobs running and a quick job done', (s) =>
      s.jobs['slow-1'].phase === 'running' && s.jobs['slow-2'].phase === 'running' && s.jobs['quick-1'].phase === 'done');
    await first.kill9();
    // The framework went on between that read and the kill: what it left on disk is what the restart resumes from.
    const before = await loadState(stateFile);
    if (before === undefined) throw new Error('no state file after the kill');
    const frameworkId = before.frameworkId;
    expect(frameworkId).to.be.a('string');

    // While the framework is dead, the slow jobs finish: their updates wait for it at the agents.
    await writeFile(path.join(out, 'release'), '');
    const second = startBatch('batch-2', args);
    const { code } = await second.exited;
    const output = second.lines.join('\n');
    expect(code, output).to.equal(1);
    expect(output).to.contain('resuming batch');
    expect(output).to.match(/"failover":true,"reconciling":[1-9]/);
    expect(output).to.contain('batch finished: 5 done, 1 failed (hopeless)');

    const after = await loadState(stateFile);
    expect(after?.frameworkId, 'failed over with the same framework id').to.equal(frameworkId);
    const phases = Object.fromEntries(Object.entries(after?.jobs ?? {}).map(([id, j]) => [id, j.phase]));
    expect(phases).to.deep.equal({ 'slow-1': 'done', 'slow-2': 'done', 'quick-1': 'done', 'quick-2': 'done', retry: 'done', hopeless: 'failed' });
    for (const [id, job] of Object.entries(before.jobs)) {
      if (job.phase === 'done') expect(after?.jobs[id].attempts, `${id} was done before the kill`).to.equal(job.attempts);
    }

    const runs = Object.fromEntries(runsOf(await readFile(path.join(out, 'runs.log'), 'utf8')));
    // The kill can land while hopeless is saved as launching and its LAUNCH has not left: reconciliation then
    // answers TASK_LOST, which spends one of its two attempts without a run (the next test drives that path).
    const lostAttempt = before.jobs.hopeless?.phase === 'launching' && runs.hopeless === 1;
    expect(runs).to.deep.equal({ 'slow-1': 1, 'slow-2': 1, 'quick-1': 1, 'quick-2': 1, retry: 3, hopeless: lostAttempt ? 1 : 2 });
    const lostLast = lostAttempt && before.jobs.hopeless?.attempts === 2;
    expect(after?.jobs.hopeless.lastState).to.equal(lostLast ? 'TASK_LOST' : 'TASK_FAILED');
    // Placement by attribute: slow-2 ran in a sandbox of the rack-b agent.
    expect(await readFile(path.join(out, 'slow-2.where'), 'utf8')).to.contain(agents[1].workDir);
    expect(existsSync(stateFile)).to.equal(true);
  });

  it('a job saved as launching whose LAUNCH never left: reconciliation answers TASK_LOST and the job is retried', async () => {
    const out = path.join(root, 'out-ghost');
    const jobsFile = path.join(root, 'ghost-jobs.json');
    const stateFile = path.join(root, 'ghost.state.json');
    const record = (id: string): string => `mkdir -p ${out} && echo ${id} >> ${out}/runs.log`;
    await writeFile(jobsFile, JSON.stringify({
      concurrency: 1,
      backoff: { minMs: 200, maxMs: 1000 },
      jobs: [
        { id: 'blocker', command: `${record('blocker')} && while [ ! -e ${out}/release ]; do sleep 0.1; done` },
        { id: 'ghost', command: record('ghost') },
      ],
    }));
    const args = ['--master', master.address, '--jobs', jobsFile, '--state', stateFile, '--failover-timeout', '120'];
    const first = startBatch('batch-ghost-1', args);
    const saved = await waitForState(stateFile, 'the blocker running', (s) => s.jobs.blocker.phase === 'running');
    await first.kill9();
    // As if the process had died between saving "launching" and sending the LAUNCH.
    expect(saved.jobs.ghost.phase).to.equal('waiting');
    await saveState(stateFile, { ...saved, jobs: { ...saved.jobs, ghost: { phase: 'launching', attempts: 1, taskId: 'ghost.1', ...(saved.jobs.blocker.agentId !== undefined ? { agentId: saved.jobs.blocker.agentId } : {}) } } });
    await writeFile(path.join(out, 'release'), '');

    const second = startBatch('batch-ghost-2', args);
    const { code } = await second.exited;
    const output = second.lines.join('\n');
    expect(code, output).to.equal(0);
    expect(output).to.match(/"job":"ghost","task":"ghost.1","state":"TASK_LOST"/);
    expect(output).to.contain('batch finished: 2 done, 0 failed');
    const after = await loadState(stateFile);
    expect(after?.frameworkId).to.equal(saved.frameworkId);
    expect(after?.jobs.ghost).to.deep.include({ phase: 'done', attempts: 2, taskId: 'ghost.2' });
    expect(Object.fromEntries(runsOf(await readFile(path.join(out, 'runs.log'), 'utf8')))).to.deep.equal({ blocker: 1, ghost: 1 });
  });
});
