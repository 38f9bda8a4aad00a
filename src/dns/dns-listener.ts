/**
 * The sockets: one UDP socket and one TCP server on the same address and
 * port, both handing messages to a DnsResponder and sending what it says.
 *
 * TCP (RFC 7766): messages are framed by a 16-bit length; several may be
 * pipelined on one connection and are answered as they complete. Bounds,
 * each with its reason:
 *   - `maxTcpConnections` open at once (beyond, new ones are closed), so
 *     a flood of idle connections cannot exhaust file descriptors;
 *   - `tcpIdleTimeoutMs` without a byte closes a connection;
 *   - `maxTcpPendingPerConnection` answers outstanding per connection, or
 *     `maxTcpUnsentBytes` written that the client has not read: reading
 *     pauses until they are written / drained, so a client that sends and
 *     never reads cannot grow our buffers;
 *   - a connection buffers at most one message (≤ 65537 bytes).
 * A handler that throws (a bug) costs that one message, never the process.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../common/log.ts';
import { describeError } from '../common/errors.ts';
import type { DnsResponder } from './responder.ts';

export const maxTcpConnections = 512;
export const tcpIdleTimeoutMs = 10_000;
export const maxTcpPendingPerConnection = 32;
/** Answers written but not yet taken by the client; beyond, we stop reading its queries. */
export const maxTcpUnsentBytes = 256 * 1024;
/** Tries to find a port free for both UDP and TCP when asked for port 0. */
const ephemeralBindAttempts = 20;

export interface ListenAddress {
  readonly host: string;
  /** 0 = ephemeral; UDP and TCP then share the port UDP got. */
  readonly port: number;
}

export class DnsListener {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly connections = new Set<net.Socket>();
  private readonly responder: DnsResponder;
  private readonly log: Logger;
  port = 0;
  host = '';

  constructor(responder: DnsResponder, log: Logger) {
    this.responder = responder;
    this.log = log;
  }

  /**
   * Binds UDP, then TCP on the same port. With port 0 the TCP side of the
   * port UDP got may be taken; then both are retried on a new port, up to
   * `ephemeralBindAttempts` times.
   */
  async listen(addr: ListenAddress): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const udp = await this.bindUdp(addr);
      const port = udp.address().port;
      try {
        this.tcp = await this.bindTcp(addr.host, port);
      } catch (err) {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        if (addr.port !== 0 || attempt >= ephemeralBindAttempts || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        continue;
      }
      udp.on('error', (e) => this.log.warn({ err: describeError(e) }, 'udp socket error'));
      udp.on('message', (msg, rinfo) => this.onUdp(udp, msg, rinfo));
      this.udp = udp;
      this.port = port;
      this.host = addr.host;
      return;
    }
  }

  private async bindUdp(addr: ListenAddress): Promise<dgram.Socket> {
    const udp = dgram.createSocket({ type: net.isIPv6(addr.host) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(addr.port, addr.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    return udp;
  }

  private async bindTcp(host: string, port: number): Promise<net.Server> {
    const tcp = net.createServer((sock) => this.onTcp(sock));
    tcp.maxConnections = maxTcpConnections;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    tcp.on('error', (err) => this.log.warn({ err: describeError(err) }, 'tcp server error'));
    return tcp;
  }

  private onUdp(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let reply;
    try {
      reply = this.responder.handle(msg, 'udp', rinfo.address);
    } catch (err) {
      this.log.error({ err: describeError(err) }, 'bug: handler threw on a UDP message');
      return;
    }
    if (reply === undefined) return;
    if (!(reply instanceof Promise)) {
      udp.send(reply, rinfo.port, rinfo.address);
      return;
    }
    reply.then((b) => {
      if (b !== undefined && this.udp === udp) udp.send(b, rinfo.port, rinfo.address);
    }, (err: unknown) => this.log.error({ err: describeError(err) }, 'bug: forwarding failed'));
  }

  private onTcp(sock: net.Socket): void {
    this.connections.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(tcpIdleTimeoutMs, () => sock.destroy());
    sock.on('close', () => this.connections.delete(sock));
    sock.on('error', () => sock.destroy());
    const client = sock.remoteAddress ?? '';
    let buf: Buffer = Buffer.alloc(0);
    let pending = 0;
    // Read only while answers are few in flight and the client reads what we write.
    const flowControl = (): void => {
      const congested = pending >= maxTcpPendingPerConnection || sock.writableLength > maxTcpUnsentBytes;
      if (congested && !sock.isPaused()) sock.pause();
      else if (!congested && sock.isPaused()) sock.resume();
    };
    sock.on('drain', flowControl);
    const send = (b: Buffer | undefined): void => {
      pending--;
      if (b !== undefined && !sock.destroyed) {
        const len = Buffer.allocUnsafe(2);
        len.writeUInt16BE(b.length);
        sock.write(Buffer.concat([len, b]));
      }
      flowControl();
    };
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const need = buf.readUInt16BE(0);
        if (buf.length < 2 + need) break;
        const msg = buf.subarray(2, 2 + need);
        buf = buf.subarray(2 + need);
        pending++;
        let reply;
        try {
          reply = this.responder.handle(msg, 'tcp', client);
        } catch (err) {
          this.log.error({ err: describeError(err) }, 'bug: handler threw on a TCP message');
          reply = undefined;
        }
        if (reply instanceof Promise) reply.then(send, () => send(undefined));
        else send(reply);
      }
      flowControl();
    });
  }

  async close(): Promise<void> {
    const udp = this.udp;
    this.udp = undefined;
    if (udp !== undefined) await new Promise<void>((resolve) => udp.close(() => resolve()));
    const tcp = this.tcp;
    this.tcp = undefined;
    for (const s of this.connections) s.destroy();
    if (tcp !== undefined) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }
}
