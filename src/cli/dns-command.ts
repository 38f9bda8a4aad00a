/**
 * `cygnet dns [flags]`: runs the cluster DNS server in this process. Flags
 * and their env vars (CYGNET_DNS_*) are the DNS server's own
 * (src/dns/flags.ts); this file starts it, prints where it listens, and
 * closes it cleanly on SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { dnsHelp, parseDnsFlags } from '../dns/flags.ts';
import { startDns } from '../dns/main.ts';

export { dnsHelp };

function readResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runDnsCli(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const flags = parseDnsFlags(argv, readResolvConf);
  const dns = await startDns(flags);
  out(`listening ${dns.server.port} (dns ${flags.listen.host}:${dns.server.port} udp+tcp, domain ${flags.domain}, admin http://${flags.admin.host}:${dns.server.adminPort})`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  out(`${signal}: stopping`);
  await dns.close();
  return 0;
}
