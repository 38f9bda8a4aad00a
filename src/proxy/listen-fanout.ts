/**
 * More descriptors of the proxy's listening socket, each polled on its own,
 * so that a burst of new connections is accepted while the proxy is busy.
 *
 * Why: libuv 1.45 and later (Node 20 has 1.46) accepts one connection each
 * time a listening socket is reported ready (libuv pull request 3696). Under
 * load the poll set holds thousands of busy sockets, and the listening
 * socket comes round once per pass over them. Measured with
 * `wrk -t2 -c1000` through a proxy already serving: the accept queue stayed
 * full and drained at about 200 connections a second, and requests waited
 * up to 3 s before the proxy read them (nginx: p99 0.12–0.17 s). With 16
 * more descriptors a pass accepts up to 17: p99 ~0.1 s, max ~0.4 s. When
 * nothing waits to be accepted the extra descriptors are not ready and cost
 * nothing; each new connection does make all of them ready, and all but one
 * accept finds nothing, but one connection per request (`Connection: close`)
 * measured the same with 16, 8 or no extra descriptors per worker
 * (docs/benchmarks.md).
 *
 * How, on Node 20 (no dup(2), no SO_REUSEPORT for net servers): a
 * short-lived child inherits the socket as its fd 3, wraps it in a TCP
 * handle without listening or accepting on it, and sends it back `count`
 * times over IPC; each SCM_RIGHTS transfer gives this process a new
 * descriptor of the same socket. Node 22.12's `reusePort` would be the
 * clean way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isTcpHandle, type TcpHandle } from './raw-tcp.ts';

/** Extra descriptors per listening socket (see the measurements above). */
export const defaultAcceptDescriptors = 16;

/** The listening socket's handle, as node's TCPWrap has it on Linux. */
interface ListeningHandle extends TcpHandle {
  readonly fd?: number;
  listen(backlog: number): number;
}

/** The helper: its fd 3 is the listening socket, its IPC channel the way back. It stays until the parent disconnects. */
const helperScript = `
const { TCP, constants } = process.binding('tcp_wrap');
const handle = new TCP(constants.SERVER);
if (handle.open(3) !== 0) process.exit(2);
process.on('message', () => {});
for (let i = 0; i < Number(process.argv[1]); i++) process.send('listen-fd', handle);
`;

/**
 * Gives `listening` (a raw handle, already listening with `onconnection`
 * set) up to `count` more descriptors that accept through the same
 * `onconnection`. Resolves with those that listen — fewer, or none, if the
 * helper fails or takes over `timeoutMs`; never rejects. Close them with
 * the server.
 */
export function fanOutListener(listening: TcpHandle, count: number, backlog: number, timeoutMs = 5_000): Promise<TcpHandle[]> {
  const fd = (listening as ListeningHandle).fd;
  if (count <= 0 || typeof fd !== 'number' || fd < 0) return Promise.resolve([]);
  return new Promise((resolve) => {
    const extra: TcpHandle[] = [];
    let received = 0;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['-e', helperScript, String(count)], { stdio: ['ignore', 'ignore', 'ignore', fd, 'ipc'] });
    } catch {
      resolve([]);
      return;
    }
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.connected) child.disconnect();
      resolve(extra);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish();
    }, timeoutMs);
    timer.unref();
    child.on('message', (_message: unknown, handle: unknown) => {
      if (done || !isTcpHandle(handle)) return;
      received++;
      const h = handle as ListeningHandle;
      h.onconnection = listening.onconnection;
      if (h.listen(backlog) === 0) extra.push(h);
      else h.close(closed);
      if (received === count) finish();
    });
    child.once('error', finish);
    child.once('close', finish);
  });
}

function closed(): void {}
