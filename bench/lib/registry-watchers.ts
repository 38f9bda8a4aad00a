/**
 * Child process of the registry benchmark: `WATCHERS` RegistryWatchClients
 * against one URL, in their own process so the server's event loop is not
 * shared with its consumers. Protocol on stdout, one line each:
 *   `ready`                   every watcher is connected
 *   `reached <rev> <ms>`      every watcher has applied revision <rev>
 *                             (ms since the parent's `go <rev>` line on stdin)
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { RegistryWatchClient } from '../../src/registry/watch-client.ts';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
const clients = Array.from({ length: count }, () => new RegistryWatchClient({ urls: [url], heartbeatIntervalMs: 5_000, log: pino({ level: 'silent' }) }));
let target = Number.POSITIVE_INFINITY;
let goAt = 0;
let reported = false;

function check(): void {
  if (!reported && clients.every((c) => c.revision >= target)) {
    reported = true;
    process.stdout.write(`reached ${target} ${(performance.now() - goAt).toFixed(1)}\n`);
  }
}

let connected = 0;
for (const c of clients) {
  c.once('connected', () => {
    if (++connected === count) process.stdout.write('ready\n');
  });
  c.on('delta', (d) => {
    if (d.revision >= target) check();
  });
  c.start();
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'go') {
    target = Number(arg);
    goAt = performance.now();
    reported = false;
    check();
  } else if (cmd === 'exit') {
    void Promise.all(clients.map((c) => c.close())).then(() => process.exit(0));
  }
});
