/**
 * Wire compatibility with a second unmodified Mesos v1 client: npm's
 * `mesos-framework` 0.5.3 (tobilg's Node.js scheduler library, JSON over the
 * v1 Scheduler HTTP API, protobufjs 5 for its message builders). It runs in
 * this process against a real cygnet master + agent: SUBSCRIBE, its own
 * default OFFERS handler launches one `sleep 60` task, its default UPDATE
 * handler acknowledges, we KILL on TASK_RUNNING, see TASK_KILLED, TEARDOWN.
 *
 * Client quirks handled here (not server behaviour to change):
 * - after the stream ends it always re-subscribes, even after TEARDOWN (the
 *   master then answers, as Mesos does, with an ERROR "Framework has been
 *   removed" and closes, forever); `stop()` disables that loop;
 * - its idle-connection timeout defaults to 10 s, shorter than Mesos' 15 s
 *   heartbeat, so an idle scheduler reconnects; we raise it;
 * - it logs with winston to the console and to `./logs/` unless given a path.
 */
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerClusterCleanup, startAgent, startMaster, type MasterHandle } from '../../helpers/cluster.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

/** Whole client run (subscribe → killed → teardown) must finish within this. */
const runTimeoutMs = 20_000;
/** Idle-socket timeout handed to the client, in seconds (its default 10 s is below the 15 s heartbeat). */
const clientConnectionTimeoutSec = 60;

// ---- minimal typed view of the untyped CommonJS package ----------------------

interface IdValue { readonly value: string }

interface TaskStatus {
  readonly task_id: IdValue;
  readonly agent_id?: IdValue;
  readonly state: string;
  readonly uuid?: string;
  readonly reason?: string;
  readonly message?: string;
}

interface SchedulerOptions {
  readonly masterUrl: string;
  readonly port: number;
  readonly frameworkName: string;
  readonly user: string;
  readonly useZk: false;
  readonly masterConnectionTimeout: number;
  readonly logging: { readonly path: string; readonly fileName: string; readonly level: string };
  readonly tasks: Readonly<Record<string, {
    readonly priority: number;
    readonly instances: number;
    readonly commandInfo: object;
    readonly resources: { readonly cpus: number; readonly mem: number; readonly ports: number; readonly disk: number };
  }>>;
}

interface MfScheduler {
  on(event: 'ready' | 'sent_accept' | 'sent_acknowledge' | 'sent_kill' | 'sent_teardown', listener: () => void): void;
  on(event: 'subscribed', listener: (info: { frameworkId: string; mesosStreamId: string }) => void): void;
  on(event: 'offers', listener: (event: { offers: readonly unknown[] }) => void): void;
  on(event: 'update', listener: (event: { status: TaskStatus }) => void): void;
  on(event: 'error', listener: (err: unknown) => void): void;
  subscribe(): void;
  kill(taskId: string, agentId: string): void;
  teardown(): void;
  frameworkId: string | null;
  httpRequest: { destroy?: () => void };
}

interface MesosFrameworkModule {
  readonly Scheduler: new (options: SchedulerOptions) => MfScheduler;
  readonly Mesos: {
    getMesos(): {
      readonly CommandInfo: new (uris: null, env: null, shell: boolean, value: string, args: null, user: null) => object;
    };
  };
}

function loadClient(): MesosFrameworkModule {
  return createRequire(import.meta.url)('mesos-framework') as MesosFrameworkModule;
}

// ---- driving the client -------------------------------------------------------

interface Milestone {
  readonly milestone: string;
  readonly state?: string;
  readonly taskId?: string;
  readonly uuid?: string;
  readonly detail?: string;
}

function describeError(err: unknown): string {
  if (typeof err === 'string') return err;
  if (typeof err === 'object' && err !== null && 'message' in err) return String(err.message);
  return JSON.stringify(err);
}

interface ClientRun {
  readonly milestones: Milestone[];
  readonly frameworkId: () => string | null;
  /** Resolves once TEARDOWN was accepted (202); rejects after runTimeoutMs. */
  readonly done: Promise<void>;
  /** Stops the client's endless re-subscribe loop and closes its stream. */
  readonly stop: () => void;
}

function runClient(master: MasterHandle, logDir: string): ClientRun {
  const mf = loadClient();
  const milestones: Milestone[] = [];
  const progress = new EventEmitter();
  const note = (m: Milestone): void => {
    milestones.push(m);
    progress.emit('milestone');
  };
  const scheduler = new mf.Scheduler({
    masterUrl: '127.0.0.1',
    port: master.port,
    frameworkName: 'mesos-framework-compat',
    user: process.env.USER ?? 'root',
    useZk: false,
    masterConnectionTimeout: clientConnectionTimeoutSec,
    logging: { path: logDir, fileName: 'mesos-framework.log', level: 'error' },
    tasks: {
      sleeper: {
        priority: 1,
        instances: 1,
        commandInfo: new (mf.Mesos.getMesos().CommandInfo)(null, null, true, 'sleep 60', null, null),
        resources: { cpus: 0.1, mem: 32, ports: 0, disk: 0 },
      },
    },
  });

  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    scheduler.subscribe = () => undefined;
    scheduler.httpRequest.destroy?.();
  };

  let killSent = false;
  let tornDown = false;
  const acked = (): number => milestones.filter((m) => m.milestone === 'acknowledged').length;
  const withUuid = (): number => milestones.filter((m) => m.milestone === 'update' && m.uuid !== undefined).length;
  const maybeTeardown = (): void => {
    // Tear down only once TASK_KILLED arrived and every update with a uuid was acknowledged.
    if (tornDown || !milestones.some((m) => m.state === 'TASK_KILLED') || acked() < withUuid()) return;
    tornDown = true;
    scheduler.teardown();
  };
  progress.on('milestone', maybeTeardown);

  scheduler.on('ready', () => scheduler.subscribe());
  scheduler.on('subscribed', (info) => note({ milestone: 'subscribed', detail: info.frameworkId }));
  scheduler.on('offers', (event) => note({ milestone: 'offers', detail: String(event.offers.length) }));
  scheduler.on('sent_accept', () => note({ milestone: 'launched' }));
  scheduler.on('sent_acknowledge', () => note({ milestone: 'acknowledged' }));
  scheduler.on('sent_kill', () => note({ milestone: 'kill_sent' }));
  scheduler.on('error', (err) => {
    if (!stopped) note({ milestone: 'error', detail: describeError(err) });
  });
  scheduler.on('update', ({ status }) => {
    note({ milestone: 'update', state: status.state, taskId: status.task_id.value, uuid: status.uuid, detail: status.message });
    if (status.state === 'TASK_RUNNING' && !killSent && status.agent_id !== undefined) {
      killSent = true;
      scheduler.kill(status.task_id.value, status.agent_id.value);
    }
  });

  const teardownSent = new Promise<void>((resolve) => {
    scheduler.on('sent_teardown', () => {
      // The master closes the stream on TEARDOWN; the client would re-subscribe.
      stop();
      note({ milestone: 'teardown_sent' });
      resolve();
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`mesos-framework run timed out after ${runTimeoutMs} ms`)), runTimeoutMs);
  });
  const done = Promise.race([teardownSent, timeout]).finally(() => clearTimeout(timer));
  return { milestones, frameworkId: () => scheduler.frameworkId, done, stop };
}

async function completedFrameworkIds(master: MasterHandle): Promise<string[]> {
  const res = await fetch(`http://${master.address}/master/state`);
  const body = await res.json() as { completed_frameworks?: readonly { id: string }[] };
  return (body.completed_frameworks ?? []).map((f) => f.id);
}

describe('mesos-framework (npm, Node.js) v1 client compatibility', function () {
  this.timeout(30_000);
  let master: MasterHandle;
  let logDir: string;
  let run: ClientRun | undefined;

  registerClusterCleanup();

  before(async function () {
    this.timeout(60_000);
    const root = await makeTempDir('cygnet-compat-node-');
    logDir = path.join(root, 'client-logs');
    master = await startMaster({ workDir: path.join(root, 'master') });
    await startAgent({ master: master.address, workDir: path.join(root, 'agent') });
  });

  afterEach(() => {
    run?.stop();
  });

  it('runs a task through subscribe → launch → RUNNING → ack → kill → KILLED → teardown', async () => {
    run = runClient(master, logDir);
    const { milestones } = run;
    const context = (): string => `client milestones:\n${milestones.map((m) => JSON.stringify(m)).join('\n')}\nmaster:\n${master.proc.tail(20)}`;
    await run.done.catch((err: unknown) => {
      throw new Error(`${describeError(err)}\n${context()}`);
    });

    const names = milestones.map((m) => m.milestone);
    expect(names, context()).to.not.include('error');
    const order = ['subscribed', 'offers', 'launched', 'kill_sent', 'teardown_sent'];
    const positions = order.map((n) => names.indexOf(n));
    expect(positions.every((p) => p >= 0), `missing milestones: ${context()}`).to.equal(true);
    expect([...positions].sort((a, b) => a - b), context()).to.deep.equal(positions);

    const frameworkId = run.frameworkId();
    expect(frameworkId).to.be.a('string').and.not.equal('');
    const updates = milestones.filter((m) => m.milestone === 'update');
    const taskId = updates[0]?.taskId;
    expect(taskId, context()).to.match(/^mesos-framework-compat\.sleeper-1\./);
    const states = updates.filter((m) => m.taskId === taskId).map((m) => m.state);
    expect(states, context()).to.include('TASK_RUNNING');
    expect(states[states.length - 1], context()).to.equal('TASK_KILLED');
    expect(updates.every((m) => typeof m.uuid === 'string' && m.uuid !== ''), 'every status update carries a uuid').to.equal(true);
    expect(names.filter((n) => n === 'acknowledged').length, 'updates with a uuid are acknowledged').to.equal(updates.length);
    expect(names.indexOf('kill_sent')).to.be.greaterThan(names.findIndex((n, i) => n === 'update' && milestones[i].state === 'TASK_RUNNING'));

    // TEARDOWN removed the framework: the master lists it as completed.
    const deadline = Date.now() + 10_000;
    let completed = await completedFrameworkIds(master);
    while (!completed.includes(frameworkId ?? '') && Date.now() < deadline) {
      await sleep(100);
      completed = await completedFrameworkIds(master);
    }
    expect(completed, context()).to.include(frameworkId);
  });
});
