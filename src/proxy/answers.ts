/**
 * The proxy's own answers, when it cannot hand a request to a backend: one
 * table from failure to HTTP status, a stable code and a one-line message,
 * mapped here and nowhere else. Bodies are JSON like the rest of cygnet's
 * errors (`{"code":…,"message":…}`), short and explicit about what to fix.
 */
import type { TcpStream } from './tcp-stream.ts';

export type ProxyFailure = 'BAD_REQUEST' | 'NO_ROUTE' | 'NO_INSTANCE' | 'BAD_GATEWAY' | 'GATEWAY_TIMEOUT' | 'HEAD_TOO_LARGE' | 'URI_TOO_LONG' | 'EXPECTATION_FAILED' | 'NOT_IMPLEMENTED' | 'VERSION_NOT_SUPPORTED';

const statusOf: Record<ProxyFailure, number> = {
  BAD_REQUEST: 400,
  NO_ROUTE: 404,
  NO_INSTANCE: 503,
  BAD_GATEWAY: 502,
  GATEWAY_TIMEOUT: 504,
  HEAD_TOO_LARGE: 431,
  URI_TOO_LONG: 414,
  EXPECTATION_FAILED: 417,
  NOT_IMPLEMENTED: 501,
  VERSION_NOT_SUPPORTED: 505,
};

const reasonOf: Record<number, string> = {
  400: 'Bad Request', 404: 'Not Found', 414: 'URI Too Long', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

/** The failure for a status the request parser refused a head with. */
export function refusalFailure(status: number): ProxyFailure {
  switch (status) {
    case 431: return 'HEAD_TOO_LARGE';
    case 414: return 'URI_TOO_LONG';
    case 417: return 'EXPECTATION_FAILED';
    case 501: return 'NOT_IMPLEMENTED';
    case 505: return 'VERSION_NOT_SUPPORTED';
    default: return 'BAD_REQUEST';
  }
}

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

/** A whole response for a request the proxy answers itself; with `close`, the connection ends after it. */
export function failureResponse(failure: ProxyFailure, message: string, close: boolean): string {
  const status = statusOf[failure];
  const text = body(failure, message);
  return `HTTP/1.1 ${status} ${reasonOf[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nCache-Control: no-store\r\n${close ? 'Connection: close\r\n' : ''}\r\n${text}`;
}

/** Answers on a connection taken over for an upgrade, and closes it once the answer is out. */
export function sendFailureRaw(stream: TcpStream, failure: ProxyFailure, message: string): void {
  const status = statusOf[failure];
  const text = body(failure, message);
  if (stream.writable) stream.end(`HTTP/1.1 ${status} ${reasonOf[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  stream.destroySoon();
}
