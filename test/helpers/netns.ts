/**
 * Hosts on one machine for fault tests: each a Linux network namespace with its
 * own address, joined by a bridge in the root namespace (which gets the
 * `.254` address, so daemons left in the root namespace can serve them).
 * `partition` cuts one host off from others with iptables DROP rules inside
 * that host's namespace — silent loss, as on a real network, not the refused
 * connections of a dead process — and `heal` removes them. Needs root,
 * iproute2 and iptables (`.ci/run` installs iptables for `npm run test:compat`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function sh(cmd: string, args: readonly string[]): Promise<void> {
  try {
    await run(cmd, [...args]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

export interface Host {
  readonly ns: string;
  readonly ip: string;
}

let networksMade = 0;

export class TestNetwork {
  private constructor(readonly bridge: string, readonly gateway: string, readonly hosts: readonly Host[]) {}

  /** Why this machine cannot build a test network, or undefined when it can. */
  static async unavailable(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs .ci/run as root)';
    for (const [cmd, flag, pkg] of [['ip', '-V', 'iproute2'], ['iptables', '--version', 'iptables']] as const) {
      try {
        await run(cmd, [flag]);
      } catch {
        return `${cmd} not found: install Debian's ${pkg} (.ci/run does)`;
      }
    }
    return undefined;
  }

  /**
   * n hosts on 10.231.<k>.1..n, k and the names unique to this process and
   * to this network within it, so that runs do not collide, nor a network
   * with the last one's veths (the kernel removes those after `ip netns del`
   * returns).
   */
  static async create(n: number): Promise<TestNetwork> {
    const seq = networksMade++ % 10;
    const tag = `${process.pid % 10_000}${seq}`;
    const subnet = `10.231.${(process.pid + seq * 37) % 250}`;
    const bridge = `cygbr${tag}`;
    const net = new TestNetwork(bridge, `${subnet}.254`, Array.from({ length: n }, (_, i) => ({ ns: `cyg${tag}h${i + 1}`, ip: `${subnet}.${i + 1}` })));
    try {
      await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
      await sh('ip', ['addr', 'add', `${net.gateway}/24`, 'dev', bridge]);
      await sh('ip', ['link', 'set', bridge, 'up']);
      for (const [i, h] of net.hosts.entries()) {
        const veth = `cyg${tag}v${i + 1}`;
        await sh('ip', ['netns', 'add', h.ns]);
        await sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns]);
        await sh('ip', ['link', 'set', veth, 'master', bridge, 'up']);
        await sh('ip', ['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
        await sh('ip', ['-n', h.ns, 'link', 'set', 'eth0', 'up']);
        await sh('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up']);
      }
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  /** The command prefix that runs a program on `host`. */
  exec(host: Host): string[] {
    return ['ip', 'netns', 'exec', host.ns];
  }

  /** Drops every packet between `host` and each of `others`, both ways (it still reaches the gateway). */
  async partition(host: Host, others: readonly Host[]): Promise<void> {
    for (const o of others) {
      await sh('ip', ['netns', 'exec', host.ns, 'iptables', '-A', 'INPUT', '-s', o.ip, '-j', 'DROP']);
      await sh('ip', ['netns', 'exec', host.ns, 'iptables', '-A', 'OUTPUT', '-d', o.ip, '-j', 'DROP']);
    }
  }

  /** Drops every packet between `host` and the gateway (what runs in the root namespace: the master, say), both ways; it still reaches the other hosts. */
  async cutFromGateway(host: Host): Promise<void> {
    await sh('ip', ['netns', 'exec', host.ns, 'iptables', '-A', 'INPUT', '-s', this.gateway, '-j', 'DROP']);
    await sh('ip', ['netns', 'exec', host.ns, 'iptables', '-A', 'OUTPUT', '-d', this.gateway, '-j', 'DROP']);
  }

  /** Drops every packet between `host` and the rest of the network, gateway included. */
  async isolate(host: Host): Promise<void> {
    await sh('ip', ['netns', 'exec', host.ns, 'iptables', '-A', 'INPUT', '-i', 'eth0', '-j', 'DROP']);
    await sh('ip', ['netns', 'exec', host.ns, 'iptables', '-A', 'OUTPUT', '-o', 'eth0', '-j', 'DROP']);
  }

  async heal(): Promise<void> {
    for (const h of this.hosts) {
      await sh('ip', ['netns', 'exec', h.ns, 'iptables', '-F', 'INPUT']);
      await sh('ip', ['netns', 'exec', h.ns, 'iptables', '-F', 'OUTPUT']);
    }
  }

  /** Removes the namespaces (their veths go with them) and the bridge; ignores what is already gone. */
  async destroy(): Promise<void> {
    for (const h of this.hosts) await run('ip', ['netns', 'del', h.ns]).catch(() => undefined);
    await run('ip', ['link', 'del', this.bridge]).catch(() => undefined);
  }
}
