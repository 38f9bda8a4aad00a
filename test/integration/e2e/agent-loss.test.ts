/**
 * End to end: an agent killed with SIGKILL is noticed by the master after its
 * (short, for the test) ping timeout. A normal framework's task on it becomes
 * TASK_LOST, a PARTITION_AWARE framework's TASK_UNREACHABLE, and both
 * frameworks get a FAILURE event naming the agent. Real master and agent
 * processes on 127.0.0.1; the surviving agent keeps offering.
 */
import { expect } from 'chai';
import path from 'node:path';
import { registerClusterCleanup, startAgent, startMaster, type AgentHandle, type MasterHandle } from '../../helpers/cluster.ts';
import { launchTask, newFramework, offerAttribute } from '../../helpers/frameworks.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { masterAgentTimeoutArgs } from './timeouts.ts';

describe('e2e: agent loss', function () {
  this.timeout(90_000);
  let master: MasterHandle;
  let doomed: AgentHandle;

  before(async function () {
    this.timeout(120_000);
    const root = await makeTempDir('cygnet-e2e-loss-');
    master = await startMaster({ workDir: path.join(root, 'master'), extraArgs: masterAgentTimeoutArgs });
    doomed = await startAgent({
      master: master.address,
      workDir: path.join(root, 'doomed'),
      extraArgs: ['--attributes', 'node:doomed', '--heartbeat-interval-ms', '500'],
      name: 'agent-doomed',
    });
  });

  registerClusterCleanup();

  it('3. SIGKILLed agent → TASK_LOST (normal) / TASK_UNREACHABLE (PARTITION_AWARE) + FAILURE', async () => {
    const onDoomed = (o: Parameters<typeof offerAttribute>[0]): boolean => offerAttribute(o, 'node') === 'doomed';
    const normal = newFramework(master.address, { name: 'e2e-normal' });
    const aware = newFramework(master.address, { name: 'e2e-aware', capabilities: [{ type: 'PARTITION_AWARE' }] });
    await normal.client.subscribe();
    await launchTask(normal, { taskId: 'normal-1', command: 'sleep 1000', pick: onDoomed });
    await normal.rec.waitForState('normal-1', 'TASK_RUNNING');
    await aware.client.subscribe();
    const offer = await launchTask(aware, { taskId: 'aware-1', command: 'sleep 1000', pick: onDoomed });
    await aware.rec.waitForState('aware-1', 'TASK_RUNNING');
    const agentId = offer.agent_id.value;

    await doomed.proc.kill9();

    const lost = await normal.rec.waitForState('normal-1', 'TASK_LOST', 60_000);
    expect(lost.agent_id?.value).to.equal(agentId);
    const unreachable = await aware.rec.waitForState('aware-1', 'TASK_UNREACHABLE', 60_000);
    expect(unreachable.agent_id?.value).to.equal(agentId);
    expect(aware.rec.updates.some((u) => u.task_id.value === 'aware-1' && u.state === 'TASK_LOST')).to.equal(false);

    for (const fw of [normal, aware]) {
      const failure = await fw.rec.waitFor('FAILURE for the agent', () => fw.rec.failures.find((f) => f.agent_id?.value === agentId), 30_000);
      expect(failure.executor_id).to.equal(undefined);
    }
  });
});
