/**
 * The proxy's own answers, when it cannot hand a request to a backend: one
 * table from failure to HTTP status, a stable code and a one-line message,
 * mapped here and nowhere else. Bodies are JSON like the rest of cygnet's
 * errors (`{"code":…,"message":…}`), short and explicit about what to fix.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type ProxyFailure = 'BAD_REQUEST' | 'NO_ROUTE' | 'NO_INSTANCE' | 'BAD_GATEWAY' | 'GATEWAY_TIMEOUT';

const statusOf: Record<ProxyFailure, number> = {
  BAD_REQUEST: 400,
  NO_ROUTE: 404,
  NO_INSTANCE: 503,
  BAD_GATEWAY: 502,
  GATEWAY_TIMEOUT: 504,
};

const reasonOf: Record<number, string> = { 404: 'Not Found', 503: 'Service Unavailable', 502: 'Bad Gateway', 504: 'Gateway Timeout', 400: 'Bad Request' };

export function failureStatus(failure: ProxyFailure): number {
  return statusOf[failure];
}

export function noRouteMessage(host: string | undefined, url: string | undefined): string {
  if (host === undefined || host === '') return 'no Host header: cygnet routes by host name (send Host: <app>.<domain> or a CYGNET_VHOST)';
  return `no app is routed for host '${host}' and path '${pathOf(url)}' (see the admin port's /routes)`;
}

export function noInstanceMessage(appId: string): string {
  return `app ${appId} has no healthy instance`;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)).slice(0, 200);
}

function body(failure: ProxyFailure, message: string): string {
  return `${JSON.stringify({ code: `CYG_PROXY_${failure}`, message })}\n`;
}

/** Answers on a response the proxy has not started; the connection stays usable. */
export function sendFailure(res: ServerResponse, failure: ProxyFailure, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = body(failure, message);
  res.writeHead(statusOf[failure], { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Answers on a raw socket (an upgrade request) and closes it. */
export function sendFailureRaw(socket: Socket, failure: ProxyFailure, message: string): void {
  const status = statusOf[failure];
  const text = body(failure, message);
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${reasonOf[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }
  socket.destroySoon?.();
}

/** For a request node could not parse: 400 and close, as node itself would, without throwing. */
export function sendBadRequestRaw(socket: Socket): void {
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  socket.destroySoon?.();
}
