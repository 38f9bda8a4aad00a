/**
 * Command-line flags of `cygnet dns`, each with an environment variable
 * CYGNET_DNS_<FLAG> (--listen / CYGNET_DNS_LISTEN). A bad value is a
 * ConfigError naming the flag and what was expected. Pure except that the
 * caller passes /etc/resolv.conf's text in.
 */
import { Command, Option } from 'commander';
import { parseCommandOptions } from '../common/parse-command.ts';
import { isIP } from 'node:net';
import { ConfigError } from '../common/errors.ts';
import type { ListenAddress } from './dns-listener.ts';
import type { Upstream } from './forwarder.ts';
import { defaultRecursionCidrs, parseCidrList, RecursionAcl } from './recursion-acl.ts';

export interface DnsFlags {
  readonly listen: ListenAddress;
  readonly domain: string;
  readonly registry: readonly string[];
  readonly upstreams: readonly Upstream[];
  readonly upstreamTimeoutMs: number;
  readonly allowRecursion: readonly string[];
  readonly ttlSec: number;
  readonly negativeTtlSec: number;
  readonly admin: ListenAddress;
}

export const dnsDefaults = {
  listen: '127.0.0.1:8053',
  domain: 'cygnet',
  registry: 'http://127.0.0.1:8080',
  ttl: '5',
  upstreamTimeout: '1000',
  /** CoreDNS's metrics port, so dashboards find it where they look for DNS metrics. */
  adminListen: '127.0.0.1:9153',
} as const;

export function dnsCommand(): Command {
  const opt = (flags: string, desc: string, name: string, dflt?: string): Option => {
    const o = new Option(flags, desc).env(`CYGNET_DNS_${name.replace(/-/g, '_').toUpperCase()}`);
    return dflt !== undefined ? o.default(dflt) : o;
  };
  return new Command('dns')
    .description('run the cluster DNS server: authoritative for the cluster domain, forwarding the rest')
    .addOption(opt('--listen <host:port>', 'UDP and TCP address to answer on (port 0 = ephemeral)', 'listen', dnsDefaults.listen))
    .addOption(opt('--domain <name>', 'the cluster domain', 'domain', dnsDefaults.domain))
    .addOption(opt('--registry <urls>', 'comma-separated framework URLs serving the registry watch', 'registry', dnsDefaults.registry))
    .addOption(opt('--upstream <addrs>', 'comma-separated upstream resolvers, ip or ip:port (default: nameservers in /etc/resolv.conf)', 'upstream'))
    .addOption(opt('--upstream-timeout <ms>', 'how long to wait for one upstream before trying the next', 'upstream-timeout', dnsDefaults.upstreamTimeout))
    .addOption(opt('--allow-recursion <cidrs>', `comma-separated networks allowed to recurse (default: ${defaultRecursionCidrs.join(',')})`, 'allow-recursion'))
    .addOption(opt('--ttl <seconds>', 'TTL of every record in the cluster zone', 'ttl', dnsDefaults.ttl))
    .addOption(opt('--negative-ttl <seconds>', 'SOA minimum: how long NXDOMAIN/NODATA may be cached (default: --ttl)', 'negative-ttl'))
    .addOption(opt('--admin-listen <host:port>', 'HTTP address of /health and /metrics', 'admin-listen', dnsDefaults.adminListen))
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

/** `host:port`, `[v6]:port`; the port may be 0. */
export function parseHostPort(flag: string, text: string, defaultPort?: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text.trim()) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(text.trim());
  const host = m?.[1];
  const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
  if (host === undefined || port === undefined || port > 65535 || host === '') throw new ConfigError(`--${flag}: expected host:port, got '${text}'`);
  return { host, port };
}

function parseSeconds(flag: string, text: string): number {
  if (!/^\d{1,7}$/.test(text.trim())) throw new ConfigError(`--${flag}: expected whole seconds 0-9999999, got '${text}'`);
  return Number(text);
}

/** Nameservers of a resolv.conf text, each on port 53. */
export function parseResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const host = m?.[1]?.replace(/%.*$/, '');
    if (host !== undefined && isIP(host) !== 0) out.push({ host, port: 53 });
  }
  return out;
}

export function parseUpstreams(text: string): Upstream[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const u = isIP(s) === 6 ? { host: s, port: 53 } : parseHostPort('upstream', s, 53);
    if (isIP(u.host) === 0) throw new ConfigError(`--upstream: expected IP addresses (ip or ip:port), got '${s}'`);
    return u;
  });
}

/**
 * Parses user arguments into DnsFlags. Throws ConfigError for a bad value;
 * a CommanderError with code 'commander.helpDisplayed' for --help.
 */
export function parseDnsFlags(argv: readonly string[], resolvConf: () => string): DnsFlags {
  const f = parseCommandOptions(dnsCommand(), argv);
  const listen = parseHostPort('listen', f.listen ?? dnsDefaults.listen);
  const domain = (f.domain ?? dnsDefaults.domain).toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(domain)) {
    throw new ConfigError(`--domain: expected a DNS name of RFC 1123 labels, got '${f.domain ?? ''}'`);
  }
  const registry = (f.registry ?? dnsDefaults.registry).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (registry.length === 0) throw new ConfigError('--registry: expected at least one framework URL');
  const upstreams = f.upstream !== undefined ? parseUpstreams(f.upstream) : parseResolvConf(resolvConf());
  const allowRecursion = f.allowRecursion !== undefined ? parseCidrList(f.allowRecursion) : [...defaultRecursionCidrs];
  void new RecursionAcl(allowRecursion); // validates the CIDRs now, with the flag's name
  const ttlSec = parseSeconds('ttl', f.ttl ?? dnsDefaults.ttl);
  const negativeTtlSec = f.negativeTtl === undefined ? ttlSec : parseSeconds('negative-ttl', f.negativeTtl);
  const upstreamTimeoutMs = Number(f.upstreamTimeout ?? dnsDefaults.upstreamTimeout);
  if (!Number.isInteger(upstreamTimeoutMs) || upstreamTimeoutMs < 1 || upstreamTimeoutMs > 60_000) {
    throw new ConfigError(`--upstream-timeout: expected milliseconds 1-60000, got '${f.upstreamTimeout ?? ''}'`);
  }
  const admin = parseHostPort('admin-listen', f.adminListen ?? dnsDefaults.adminListen);
  return {
    listen,
    domain,
    registry,
    // Never forward to ourselves: a resolv.conf pointing at this server would loop.
    upstreams: upstreams.filter((u) => !(u.host === listen.host && u.port === listen.port)),
    upstreamTimeoutMs,
    allowRecursion,
    ttlSec,
    negativeTtlSec,
    admin,
  };
}

export function dnsHelp(): string {
  return dnsCommand().name('cygnet dns').helpInformation();
}
