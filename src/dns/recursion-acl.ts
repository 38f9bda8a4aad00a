/**
 * Who may ask us to recurse (forward): a list of CIDRs, IPv4 and IPv6.
 * Default: loopback and the private ranges (RFC 1918, RFC 4193 ULA,
 * link-local), so cygnet is never an open resolver. IPv4-mapped IPv6
 * client addresses match the IPv4 rules.
 *
 * Verdicts are memoized per client address, bounded by `maxRememberedClients`
 * (cleared when full) so a flood of spoofed sources cannot grow memory.
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../common/errors.ts';

export const defaultRecursionCidrs: readonly string[] = [
  '127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10',
];

/** Distinct client addresses whose verdict is remembered; beyond, the memo starts over. */
export const maxRememberedClients = 4096;

export class RecursionAcl {
  readonly cidrs: readonly string[];
  private readonly list = new BlockList();
  private readonly memo = new Map<string, boolean>();

  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs;
    for (const cidr of cidrs) {
      const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(cidr.trim());
      const family = m === null ? 0 : isIP(m[1]);
      const max = family === 6 ? 128 : 32;
      const prefix = m?.[2] === undefined ? max : Number(m[2]);
      if (m === null || family === 0 || prefix > max) throw new ConfigError(`--allow-recursion: expected CIDRs like 10.0.0.0/8 or fd00::/8, got '${cidr}'`);
      this.list.addSubnet(m[1], prefix, family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  allows(address: string): boolean {
    const known = this.memo.get(address);
    if (known !== undefined) return known;
    const family = isIP(address);
    const verdict = family !== 0 && this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    if (this.memo.size >= maxRememberedClients) this.memo.clear();
    this.memo.set(address, verdict);
    return verdict;
  }
}

/** "10.0.0.0/8, 192.168.0.0/16" → list; empty string → no one. */
export function parseCidrList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
