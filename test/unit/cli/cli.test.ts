import { expect } from 'chai';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { checkFrameworkReplicas, computeAgentShare, computeLocalPlan, computeRestartDelayMs, describeTakenAddresses, localBanner, takenAddresses, untilAnyAccepts, type LocalChild, type LocalListen } from '../../../src/cli/local.ts';
import { formatClusterView } from '../../../src/cli/cluster-command.ts';
import { main, usageExitCode } from '../../../src/cli/main.ts';
import { parseAgentCli } from '../../../src/cli/agent-command.ts';

describe('cli: cygnet local plan', () => {
  const cli = { command: '/usr/bin/node', prefixArgs: ['--import', 'tsx', '/repo/src/cli/main.ts'] };

  it('divides the host evenly between agents, keeping memory back for the OS', () => {
    expect(computeAgentShare({ cpus: 2, memMb: 24_000 }, 3)).to.deep.equal({ cpus: 0.66, memMb: 7829 });
    expect(computeAgentShare({ cpus: 64, memMb: 512 }, 3)).to.deep.equal({ cpus: 21.33, memMb: 128 });
  });

  it('plans one master and N agents with consecutive ports and their own work dirs', () => {
    const plan = computeLocalPlan({ basePort: 6000, agents: 2, workDir: '/w', host: '127.0.0.1' }, { cpus: 4, memMb: 4608 }, cli);
    expect(plan.masterAddress).to.equal('127.0.0.1:6000');
    expect(plan.children.map((c) => [c.name, c.port, c.workDir])).to.deep.equal([
      ['master', 6000, '/w/master'],
      ['agent-1', 6001, '/w/agent-1'],
      ['agent-2', 6002, '/w/agent-2'],
    ]);
    expect(plan.children[1]?.args).to.deep.equal([
      '--import', 'tsx', '/repo/src/cli/main.ts', 'agent',
      '--master', '127.0.0.1:6000', '--ip', '127.0.0.1', '--port', '6001', '--work-dir', '/w/agent-1',
      '--resources', 'cpus:2;mem:2048;disk:10240;ports:[31000-31999]',
      '--attributes', 'rack:a',
      '--kill-tasks-on-exit',
    ]);
    expect(plan.children[2]?.args).to.include.members(['127.0.0.2', 'rack:b']);
    expect(plan.children[2]?.args.join(' ')).to.contain('ports:[32000-32999]');
    expect(plan.children[0]?.args.slice(3)).to.deep.equal(['master', '--ip', '127.0.0.1', '--port', '6000']);
    const banner = localBanner(plan);
    expect(banner).to.contain('agent-2     http://127.0.0.2:6002');
    expect(banner).to.contain('curl -s http://127.0.0.1:6000/state');
  });
});

describe('cli: cygnet local with framework replicas', () => {
  const cli = { command: '/usr/bin/node', prefixArgs: ['--import', 'tsx', '/repo/src/cli/main.ts'] };

  it('runs N framework replicas on consecutive API ports, each knowing every Raft peer', () => {
    const plan = computeLocalPlan({ basePort: 5050, agents: 1, workDir: '/w', host: '127.0.0.1', frameworkReplicas: 3 }, { cpus: 2, memMb: 4096 }, cli);
    expect(plan.frameworkUrls).to.deep.equal(['http://127.0.0.1:8080', 'http://127.0.0.1:8081', 'http://127.0.0.1:8082']);
    const f2 = plan.children.find((c) => c.name === 'framework-2');
    expect(f2?.args.slice(3)).to.deep.equal([
      'framework', '--id', '2', '--peers', '1=127.0.0.1:9080,2=127.0.0.1:9081,3=127.0.0.1:9082',
      '--http', '127.0.0.1:8081', '--master', '127.0.0.1:5050', '--data-dir', '/w/framework-2',
    ]);
    expect(localBanner(plan)).to.contain('curl -s http://127.0.0.1:8080/v2/apps/hello');
  });

  it('starts agents and replicas once the master accepts connections, the DNS server and the proxy once a replica does', () => {
    const plan = computeLocalPlan({ basePort: 5050, agents: 1, workDir: '/w', host: '127.0.0.1', frameworkReplicas: 3, dnsPort: 8053, proxyPort: 8000 }, { cpus: 2, memMb: 4096 }, cli);
    expect(plan.children.map((c) => [c.name, c.startAfterAnyOf])).to.deep.equal([
      ['master', undefined],
      ['agent-1', [5050]],
      ['framework-1', [5050]],
      ['framework-2', [5050]],
      ['framework-3', [5050]],
      ['dns', [8080, 8081, 8082]],
      ['proxy', [8080, 8081, 8082]],
    ]);
  });

  it('waits until one of the ports accepts, and no longer than its timeout or a cancel', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // Nothing listens: the timeout ends the wait; a cancel ends it sooner.
    let t = Date.now();
    await untilAnyAccepts('127.0.0.1', [port], 250, () => false);
    expect(Date.now() - t).to.be.within(200, 5_000);
    t = Date.now();
    await untilAnyAccepts('127.0.0.1', [port], 10_000, () => Date.now() - t > 150);
    expect(Date.now() - t).to.be.below(5_000);
    // The port opens while we wait: the wait ends soon after.
    const later = createServer();
    const opened = new Promise<void>((resolve) => setTimeout(() => later.listen(port, '127.0.0.1', () => resolve()), 200));
    t = Date.now();
    await untilAnyAccepts('127.0.0.1', [port], 10_000, () => false);
    await opened;
    expect(Date.now() - t).to.be.within(150, 5_000);
    await new Promise<void>((resolve) => later.close(() => resolve()));
  });

  it('names every address it binds, with the flag that moves it', () => {
    const plan = computeLocalPlan({ basePort: 5050, agents: 2, workDir: '/w', host: '127.0.0.1', frameworkReplicas: 1, dnsPort: 8053, proxyPort: 8000 }, { cpus: 2, memMb: 4096 }, cli);
    const listens = plan.children.flatMap((c) => c.listens.map((l) => `${c.name} ${l.host}:${l.port}${l.udp === true ? '/udp' : ''} ${l.flag}`));
    expect(listens).to.deep.equal([
      'master 127.0.0.1:5050 --base-port',
      'agent-1 127.0.0.1:5051 --base-port',
      'agent-2 127.0.0.2:5052 --base-port',
      'framework-1 127.0.0.1:8080 --framework-port',
      'framework-1 127.0.0.1:9080 --framework-port',
      'dns 127.0.0.1:8053/udp --dns-port',
      'dns 127.0.0.1:8053 --dns-port',
      'dns 127.0.0.1:9153 --dns-port',
      'proxy 127.0.0.1:8000 --proxy-port',
      'proxy 127.0.0.1:9090 --proxy-port',
    ]);
  });

  it('finds the addresses something else holds before starting anything, and says which flag moves each', async () => {
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', () => resolve()));
    const freePort = (free.address() as AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    try {
      const child = (name: string, listens: LocalListen[]): LocalChild => ({ name, command: 'x', args: [], port: listens[0]?.port ?? 0, workDir: '/w', listens });
      const heldTcp = (tcp.address() as AddressInfo).port;
      const heldUdp = udp.address().port;
      const plan = {
        masterAddress: '127.0.0.1:1',
        frameworkUrls: [],
        children: [
          child('proxy', [{ host: '127.0.0.1', port: heldTcp, flag: '--proxy-port' }, { host: '127.0.0.1', port: freePort, flag: '--proxy-port' }]),
          child('dns', [{ host: '127.0.0.1', port: heldUdp, udp: true, flag: '--dns-port' }, { host: '127.0.0.1', port: 66_000, flag: '--dns-port' }]),
        ],
      };
      const taken = await takenAddresses(plan);
      expect(taken.map((t) => [t.child, t.listen.port, t.code])).to.deep.equal([
        ['proxy', heldTcp, 'EADDRINUSE'],
        ['dns', heldUdp, 'EADDRINUSE'],
        ['dns', 66_000, 'port 66000 is out of range'],
      ]);
      const message = describeTakenAddresses(taken);
      expect(message).to.contain(`127.0.0.1:${heldTcp} for proxy: in use by another process`);
      expect(message).to.contain(`127.0.0.1:${heldUdp} (UDP) for dns: in use by another process`);
      expect(message).to.contain('--proxy-port <port>').and.contain('0 leaves the proxy out').and.contain('--dns-port <port>');
      // The trial binds let go at once: the free port is free again.
      expect(await takenAddresses({ ...plan, children: [child('proxy', [{ host: '127.0.0.1', port: freePort, flag: '--proxy-port' }])] })).to.deep.equal([]);
    } finally {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    }
  });

  it('on another address every agent shares it', () => {
    const plan = computeLocalPlan({ basePort: 5050, agents: 2, workDir: '/w', host: '10.0.0.5' }, { cpus: 2, memMb: 4096 }, cli);
    expect(plan.children.filter((c) => c.name.startsWith('agent')).map((c) => c.args[c.args.indexOf('--ip') + 1])).to.deep.equal(['10.0.0.5', '10.0.0.5']);
  });

  it('refuses a replica count that differs from the one the work dir was made for', () => {
    expect(checkFrameworkReplicas(undefined, 3, '/w')).to.equal(undefined);
    expect(checkFrameworkReplicas(3, 3, '/w')).to.equal(undefined);
    expect(checkFrameworkReplicas(1, 0, '/w')).to.equal(undefined);
    expect(checkFrameworkReplicas(1, 3, '/w')).to.match(/^--framework-replicas 3: \/w holds the state of 1 framework replica\(s\); start with --framework-replicas 1, or remove \/w/);
  });

  it('restarts a dying child after 1 s, 2 s, 4 s, … capped at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(computeRestartDelayMs)).to.deep.equal([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
});

describe('cli: errors', () => {
  async function run(argv: string[]): Promise<{ code: number; err: string[] }> {
    const err: string[] = [];
    const code = await main(argv, (l) => err.push(l));
    return { code, err };
  }

  it('a bad value is one line on stderr and exit code 2', async () => {
    const r = await run(['local', '--agents', 'many']);
    expect(r.code).to.equal(usageExitCode);
    expect(r.err).to.deep.equal(["cygnet: option '--agents <n>' argument 'many' is invalid. expected an integer 1-32."]);
  });

  it('an unknown flag or command is exit code 2', async () => {
    expect(await run(['local', '--nope'])).to.deep.equal({ code: 2, err: ["cygnet: unknown option '--nope'"] });
    expect(await run(['frobnicate'])).to.deep.equal({ code: 2, err: ["cygnet: unknown command 'frobnicate'"] });
  });

  it("the agent's own flag errors come through as one line, exit code 2", async () => {
    const r = await run(['agent', '--work-dir', '/tmp/x', '--port', 'eighty']);
    expect(r.code).to.equal(2);
    expect(r.err).to.have.length(1);
    expect(r.err[0]).to.match(/^cygnet: --port: expected an integer/);
  });

  it('reads --kill-tasks-on-exit from the flag or the environment', () => {
    expect(parseAgentCli(['--work-dir', '/w'], {}).killTasksOnExit).to.equal(false);
    expect(parseAgentCli(['--work-dir', '/w', '--kill-tasks-on-exit'], {}).killTasksOnExit).to.equal(true);
    expect(parseAgentCli(['--work-dir', '/w'], { CYGNET_AGENT_KILL_TASKS_ON_EXIT: '1' }).killTasksOnExit).to.equal(true);
    expect(parseAgentCli(['--work-dir', '/w', '--kill-tasks-on-exit'], {}).options.workDir).to.equal('/w');
  });
});

describe('cli: cygnet cluster status', () => {
  it('prints the replica, its leader, the members, and whether it reaches the master', () => {
    const lines = formatClusterView({ id: 2, role: 'follower', actingLeader: false, term: 3, applied: 17, leader: 1, leaderApi: '127.0.0.1:8080', voters: [1, 2, 3], learners: [], masterReachable: false });
    expect(lines).to.deep.equal([
      'replica 2: follower, term 3, applied 17',
      'leader:   1 (API 127.0.0.1:8080)',
      'voters:   1, 2, 3',
      'learners: -',
      'master:   not reachable from this replica',
    ]);
    expect(formatClusterView({ id: 1, role: 'leader', actingLeader: true, term: 3, applied: 17, leader: 1, voters: [1], learners: [], masterReachable: true }).at(-1)).to.equal('master:   reachable');
    expect(formatClusterView({ id: 1, role: 'leader', term: 1, applied: 1, leader: 1, voters: [1], learners: [] }), 'an older replica without the field').to.have.lengthOf(4);
  });
});
