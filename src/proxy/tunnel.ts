/**
 * HTTP upgrades (WebSocket and any other `Upgrade:`): the request is routed
 * like any other, then the proxy dials a backend, writes the request head
 * (hop-by-hop headers dropped except Connection/Upgrade, X-Forwarded-* set)
 * and splices the two sockets; whatever the backend answers, 101 or not,
 * goes back byte for byte. A refused connect is retried on another
 * instance (nothing was sent), as for plain requests.
 *
 * Invariant: the backend's in-flight count covers the tunnel's whole life;
 * a client that leaves while the dial is in progress cancels it.
 */
import { noInstanceMessage, noRouteMessage, sendFailureRaw } from './answers.ts';
import { dialBackend, holdClient, splice, type DialDeps } from './dial.ts';
import { clientAddress, computeUpstreamHeaders } from './headers.ts';
import { matchRoute, type RouteTable } from './route-table.ts';
import type { TcpStream } from './tcp-stream.ts';

export interface TunnelDeps extends DialDeps {
  readonly table: () => RouteTable;
}

/** An upgrade request as the HTTP engine parsed it. */
export interface UpgradeRequest {
  readonly method: string;
  readonly url: string;
  readonly host: string | undefined;
  /** `[name, value, …]` as received. */
  readonly rawHeaders: readonly string[];
}

/**
 * Takes over a client connection whose request asks for an upgrade; `head`
 * holds the bytes received after the request head (the tunnel's own copy);
 * `onClosed` is called once the connection is gone.
 */
export function createUpgradeHandler(deps: TunnelDeps): (req: UpgradeRequest, client: TcpStream, head: Buffer, onClosed: () => void) => void {
  return (req, client, head, onClosed) => {
    deps.metrics.inFlight++;
    let counted = true;
    const uncount = (): void => {
      if (counted) deps.metrics.inFlight--;
      counted = false;
    };
    let cancel: (() => void) | null = null;
    holdClient(client, () => {
      cancel?.();
      uncount();
      onClosed();
    });
    const route = matchRoute(deps.table(), req.host, req.url);
    if (route === undefined) {
      uncount();
      deps.metrics.countResponse('', 404);
      sendFailureRaw(client, 'NO_ROUTE', noRouteMessage(req.host, req.url));
      return;
    }
    if (route.backends.length === 0) {
      uncount();
      deps.metrics.countResponse(route.appId, 503);
      sendFailureRaw(client, 'NO_INSTANCE', noInstanceMessage(route.appId));
      return;
    }
    const clientIp = clientAddress(client.remoteAddress);
    const headers = computeUpstreamHeaders(req.rawHeaders, { clientIp, proto: 'http', host: req.host ?? '' }, false, true);
    let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) lines += `${headers[i] as string}: ${headers[i + 1] as string}\r\n`;
    lines += '\r\n';
    cancel = dialBackend(deps, route, clientIp, {
      onConnected(upstream, backend) {
        cancel = null;
        backend.state.active++;
        deps.metrics.upgrades++;
        upstream.write(Buffer.from(lines, 'latin1'));
        if (head.length > 0) upstream.write(head);
        splice(client, upstream, () => {
          backend.state.active--;
          uncount();
          onClosed();
        });
      },
      onFailed(reason) {
        cancel = null;
        uncount();
        deps.metrics.countResponse(route.appId, 502);
        sendFailureRaw(client, 'BAD_GATEWAY', reason);
      },
    });
  };
}
