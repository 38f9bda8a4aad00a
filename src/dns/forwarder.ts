/**
 * Forwarding for names outside the cluster zone: the client's query goes
 * to the upstream resolvers in order (a fresh random id per attempt), each
 * with `timeoutMs`; the first answer wins; when every upstream failed or
 * timed out the client gets SERVFAIL. Answers go through the ResponseCache.
 *
 * We send our own query (the client's question, RD, its CD and DO bits,
 * our EDNS size); answers are stored and passed on without the upstream's
 * OPT record, and the responder adds ours. An upstream answer is
 * accepted only from the address and port we sent to, with the id we chose
 * and the question we asked. A truncated UDP answer is retried over TCP
 * when the client itself came over TCP (a UDP client gets TC and retries).
 *
 * Bounds: `maxInflight` distinct upstream queries at once (identical
 * queries in flight share one); beyond it new ones get SERVFAIL at once,
 * so a flood of unique names cannot grow memory or sockets.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/log.ts';
import { maxUdpPayloadBytes } from './answers.ts';
import type { DnsMetrics } from './metrics.ts';
import type { Query } from './query.ts';
import { cacheKey, type ResponseCache, withoutOpt } from './response-cache.ts';
import { flagCD, flagRD, flagTC, headerBytes, Rcode, writeOpt } from './wire.ts';

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

export interface ForwarderOptions {
  readonly upstreams: readonly Upstream[];
  /** Per-upstream attempt timeout. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly metrics: DnsMetrics;
  readonly cache: ResponseCache;
  readonly log: Logger;
  readonly maxInflight?: number;
}

/** Distinct upstream queries in flight; a resolver's burst of cache misses fits well under it. */
export const defaultMaxInflight = 2048;
/** Largest TCP answer we read from an upstream (the 16-bit length prefix's limit). */
const maxTcpAnswerBytes = 65535;

interface PendingUdp {
  readonly resolve: (bytes: Buffer | undefined) => void;
  readonly question: Buffer;
}

class UdpUpstream {
  readonly up: Upstream;
  private socket: dgram.Socket | undefined;
  private readonly pending = new Map<number, PendingUdp>();

  constructor(up: Upstream) {
    this.up = up;
  }

  private open(): dgram.Socket {
    if (this.socket !== undefined) return this.socket;
    const s = dgram.createSocket(net.isIPv6(this.up.host) ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    s.on('error', () => undefined);
    s.unref();
    this.socket = s;
    return s;
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < headerBytes || rinfo.port !== this.up.port || (net.isIP(this.up.host) !== 0 && rinfo.address !== this.up.host)) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (p === undefined) return;
    const end = headerBytes + p.question.length;
    if (msg.readUInt16BE(4) !== 1 || msg.length < end || msg.toString('latin1', headerBytes, end).toLowerCase() !== p.question.toString('latin1').toLowerCase()) return;
    this.pending.delete(msg.readUInt16BE(0));
    p.resolve(msg);
  }

  /** Sends `query` (the id is ours to choose); undefined on timeout or error. */
  ask(query: Buffer, question: Buffer, clock: Clock, timeoutMs: number): Promise<Buffer | undefined> {
    const socket = this.open();
    let id = randomInt(0x10000);
    for (let i = 0; this.pending.has(id) && i < 16; i++) id = randomInt(0x10000);
    if (this.pending.has(id)) return Promise.resolve(undefined);
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = clock.setTimer(timeoutMs, () => {
        this.pending.delete(id);
        resolve(undefined);
      });
      this.pending.set(id, { question, resolve: (b) => { timer.cancel(); resolve(b); } });
      socket.send(out, this.up.port, this.up.host, (err) => {
        if (err !== null && this.pending.delete(id)) {
          timer.cancel();
          resolve(undefined);
        }
      });
    });
  }

  close(): void {
    for (const p of this.pending.values()) p.resolve(undefined);
    this.pending.clear();
    this.socket?.close();
    this.socket = undefined;
  }
}

/** One query over TCP (RFC 7766 framing); undefined on timeout or error. */
function askTcp(up: Upstream, query: Buffer, clock: Clock, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: up.host, port: up.port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (b: Buffer | undefined): void => {
      if (done) return;
      done = true;
      timer.cancel();
      sock.destroy();
      resolve(b);
    };
    const timer = clock.setTimer(timeoutMs, () => finish(undefined));
    sock.on('error', () => finish(undefined));
    sock.on('close', () => finish(undefined));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > maxTcpAnswerBytes + 2) return finish(undefined);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(query.length);
    sock.write(Buffer.concat([len, query]));
  });
}

/**
 * Our query for `q`: its question with RD and its CD bit, and our own OPT
 * (our UDP size, its DO bit), never the client's EDNS options (cookies and
 * the like belong to the client's conversation, not to a shared cache).
 */
function upstreamQuery(q: Query): Buffer {
  const out = Buffer.alloc(headerBytes + q.question.length + 11);
  out.writeUInt16BE(flagRD | (q.flags & flagCD), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  q.question.copy(out, headerBytes);
  writeOpt(out, headerBytes + q.question.length, maxUdpPayloadBytes, q.doBit);
  return out;
}

export class Forwarder {
  private readonly opts: ForwarderOptions;
  private readonly udp: UdpUpstream[];
  private readonly inflight = new Map<string, Promise<Buffer | undefined>>();
  private readonly maxInflight: number;

  constructor(opts: ForwarderOptions) {
    this.opts = opts;
    this.udp = opts.upstreams.map((u) => new UdpUpstream(u));
    this.maxInflight = opts.maxInflight ?? defaultMaxInflight;
  }

  /**
   * A cached response for `q` (TTLs aged, no OPT, id and question still to
   * be patched by the caller), if any. Synchronous: the hot path for
   * repeated external names.
   */
  fromCache(q: Query): Buffer | undefined {
    return this.opts.cache.get(cacheKey(q), this.opts.clock.nowMs());
  }

  /** Forwards `q`; resolves to a response without OPT (id still to be patched), undefined when every upstream failed. */
  forward(q: Query, overTcp: boolean): Promise<Buffer | undefined> {
    const key = `${cacheKey(q)}|${overTcp ? 't' : 'u'}`;
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      if (this.inflight.size >= this.maxInflight) return Promise.resolve(undefined);
      pending = this.askUpstreams(q, overTcp);
      this.inflight.set(key, pending);
      void pending.finally(() => this.inflight.delete(key));
    }
    return pending;
  }

  private async askUpstreams(q: Query, overTcp: boolean): Promise<Buffer | undefined> {
    const { clock, timeoutMs, metrics } = this.opts;
    const query = upstreamQuery(q);
    for (const upstream of this.udp) {
      const started = clock.nowMs();
      let raw = await upstream.ask(query, q.question, clock, timeoutMs);
      if (raw !== undefined && overTcp && (raw.readUInt16BE(2) & flagTC) !== 0) {
        raw = await askTcp(upstream.up, query, clock, timeoutMs);
      }
      const answer = raw === undefined ? undefined : withoutOpt(raw);
      if (answer === undefined) {
        metrics.upstreamFailures++;
        this.opts.log.debug({ upstream: `${upstream.up.host}:${upstream.up.port}` }, 'upstream failed or timed out');
        continue;
      }
      metrics.observeUpstream((clock.nowMs() - started) / 1000);
      const rcode = answer.readUInt16BE(2) & 0xf;
      if (rcode === Rcode.SERVFAIL || rcode === Rcode.REFUSED) {
        metrics.upstreamFailures++;
        continue;
      }
      this.opts.cache.put(cacheKey(q), answer, clock.nowMs());
      return answer;
    }
    return undefined;
  }

  close(): void {
    for (const u of this.udp) u.close();
  }
}
