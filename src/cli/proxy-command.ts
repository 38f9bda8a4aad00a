/**
 * `cygnet proxy [flags]`: runs the HTTP load balancer in this process (and
 * its workers). Flags and their env vars (CYGNET_PROXY_*) are the proxy's
 * own (src/proxy/flags.ts); this file only starts it, prints where it
 * listens, and closes it cleanly on SIGINT/SIGTERM.
 */
import { parseProxyFlags, proxyHelp } from '../proxy/flags.ts';
import { startProxy } from '../proxy/main.ts';

export { proxyHelp };

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runProxyCli(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const options = parseProxyFlags(argv);
  const proxy = await startProxy(options);
  out(`listening ${proxy.port} admin ${proxy.adminPort} (workers ${options.workers}, registry ${options.registryUrls.join(',')})`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  out(`${signal}: stopping`);
  await proxy.close();
  return 0;
}
