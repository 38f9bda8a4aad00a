/**
 * Plain TCP forwarding by listen port (CYGNET_TCP_PORT, or marathon-lb's
 * HAPROXY_0_MODE=tcp on the service port): one listener per port in the
 * table; each accepted connection is spliced to a backend picked by the
 * route's picker (`source` keeps a client on one instance).
 *
 * On a table swap, listeners for new ports open and those for ports no
 * longer in the table close; connections already spliced are never
 * touched. A port that cannot be bound (in use) is logged and retried at
 * the next swap, never thrown. The route is looked up per connection, so
 * a swap applies to the next connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../common/log.ts';
import { dialBackend, holdClient, splice, type DialDeps } from './dial.ts';
import { clientAddress } from './headers.ts';
import type { RouteTable } from './route-table.ts';
import { streamOfSocket, type TcpStream } from './tcp-stream.ts';

export interface TcpForwarderDeps extends DialDeps {
  readonly table: () => RouteTable;
  readonly listenHost: string;
  readonly log: Logger;
}

export class TcpForwarder {
  private readonly listeners = new Map<number, Server>();
  private readonly open = new Set<TcpStream>();
  private closed = false;

  constructor(private readonly deps: TcpForwarderDeps) {}

  /** Opens and closes listeners to match the table's TCP ports. */
  reconcile(): void {
    if (this.closed) return;
    const wanted = this.deps.table().tcp;
    for (const [port, server] of this.listeners) {
      if (!wanted.has(port)) {
        this.listeners.delete(port);
        server.close();
      }
    }
    for (const port of wanted.keys()) {
      if (!this.listeners.has(port)) this.listen(port);
    }
  }

  /** Ports with a listener bound, ascending. */
  ports(): number[] {
    return [...this.listeners.keys()].sort((a, b) => a - b);
  }

  private listen(port: number): void {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(port, socket));
    this.listeners.set(port, server);
    server.on('error', (err) => {
      this.deps.log.warn({ port, err: err.message }, 'TCP listener failed; retried at the next table change');
      if (this.listeners.get(port) === server) this.listeners.delete(port);
      server.close();
    });
    server.listen(port, this.deps.listenHost);
  }

  private accept(port: number, socket: Socket): void {
    const client = streamOfSocket(socket);
    const route = this.deps.table().tcp.get(port);
    if (route === undefined || route.backends.length === 0) {
      client.destroy();
      return;
    }
    this.open.add(client);
    this.deps.metrics.tcpConnections++;
    this.deps.metrics.inFlight++;
    const done = (): void => {
      if (this.open.delete(client)) this.deps.metrics.inFlight--;
    };
    let cancel: (() => void) | null = null;
    holdClient(client, () => {
      cancel?.();
      done();
    });
    cancel = dialBackend(this.deps, route, clientAddress(client.remoteAddress), {
      onConnected: (upstream, backend) => {
        cancel = null;
        backend.state.active++;
        splice(client, upstream, () => {
          backend.state.active--;
          done();
        });
      },
      onFailed: () => {
        cancel = null;
        client.destroy();
      },
    });
  }

  /** Stops listening and closes every forwarded connection. */
  close(): void {
    this.closed = true;
    for (const server of this.listeners.values()) server.close();
    this.listeners.clear();
    for (const s of this.open) s.destroy();
  }
}
