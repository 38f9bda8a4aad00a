/**
 * Logs as a person or a machine reads them, from the real CLI: a piped
 * daemon writes JSON lines; `--log-format pretty` writes one readable line
 * per event; `cygnet local --log-format pretty` hands the choice to its
 * daemons (children whose stdout is a pipe), whose lines it prefixes.
 */
import { expect } from 'chai';
import { createServer } from 'node:net';
import path from 'node:path';
import { freePort } from '../../helpers/net.ts';
import { killAllProcesses, spawnCygnet, type ManagedProcess } from '../../helpers/processes.ts';
import { makeTempDir, removeTempDirs } from '../../helpers/tmp.ts';

const PRETTY = /\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[master\] master started \{/;
/** Whatever the environment running the tests says, the daemons decide for themselves here. */
const noInheritedFormat = { CYGNET_LOG_FORMAT: undefined, CYGNET_LOG_COLOR: undefined };

function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose successor (agent-1's port) is free too. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await freePort();
    if (p + 1 <= 65535 && (await portFree(p + 1))) return p;
  }
  throw new Error('no 2 consecutive free ports found');
}

describe('e2e: log format', function () {
  this.timeout(60_000);
  let local: ManagedProcess | undefined;
  afterEach(async () => {
    // SIGTERM first: `cygnet local` stops its daemons then; a SIGKILL would orphan them.
    await local?.stop(10_000);
    local = undefined;
    await killAllProcesses();
    await removeTempDirs();
  });

  it('a piped master logs JSON lines; with --log-format pretty, readable lines', async () => {
    const json = spawnCygnet('master-json', ['master', '--ip', '127.0.0.1', '--port', String(await freePort())], { env: noInheritedFormat });
    const line = await json.waitForLine(/master started/);
    expect(JSON.parse(line)).to.include({ component: 'master', msg: 'master started' });
    await json.stop();

    const pretty = spawnCygnet('master-pretty', ['master', '--ip', '127.0.0.1', '--port', String(await freePort()), '--log-format', 'pretty'], { env: noInheritedFormat });
    expect(await pretty.waitForLine(/master started/)).to.match(new RegExp(`^${PRETTY.source}`));
    expect(pretty.lines.filter((l) => l.startsWith('{'))).to.deep.equal([]);
    await pretty.stop();
  });

  it('cygnet local passes its format to the daemons it prefixes', async () => {
    const root = await makeTempDir('cygnet-e2e-logfmt-');
    const base = await freeBasePort();
    local = spawnCygnet('local', ['local', '--base-port', String(base), '--agents', '1', '--framework-replicas', '0', '--work-dir', path.join(root, 'c'), '--log-format', 'pretty'], { env: noInheritedFormat });
    expect(await local.waitForLine(/^\[master\] .*master started/, 45_000)).to.match(new RegExp(`^\\[master\\] ${PRETTY.source}`));
    expect(await local.waitForLine(/^\[agent-1\] .*agent started/, 45_000)).to.match(/^\[agent-1\] \[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[agent\] agent started \{/);
    expect(local.lines.filter((l) => /^\[(master|agent-1)\] \{/.test(l))).to.deep.equal([]);
    await local.stop(10_000);
  });
});
