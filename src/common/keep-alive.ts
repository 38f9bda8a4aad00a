/**
 * How long the master's and agents' HTTP servers keep an idle client
 * connection open. libprocess keeps one open; node closes it after 5 s, and
 * a client's pooled connection (Go keeps them 90 s) then meets the close on
 * its next POST, which Go's transport does not retry.
 */
import type { Server } from 'node:http';

export const idleKeepAliveMs = 120_000;

export function keepIdleConnections(server: Server): void {
  server.keepAliveTimeout = idleKeepAliveMs;
  server.headersTimeout = idleKeepAliveMs + 5_000;
}
