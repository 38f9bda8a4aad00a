/**
 * TCP connections on node's libuv stream handles directly (the `tcp_wrap`
 * and `stream_wrap` bindings that net.Socket itself is built on), without
 * net.Socket's Readable/Writable machinery around them.
 *
 * Why: a proxy's work per request is two reads and two writes; measured
 * with wrk -c64 through a 1:1 byte relay (bench/proxy-profile.ts), net
 * sockets cost 20–21 µs of CPU per request and these handles 16–18 µs,
 * against HAProxy's 19–24 µs for a whole HTTP forward. The rest of the
 * proxy's engine was already below that difference.
 *
 * The contract (tcp-stream.ts): a read is valid only during its onData call
 * (reads land in one shared buffer); `write` returns false past a high-water
 * mark and `onDrain` follows once the queue is empty; `end` half-closes
 * after queued writes; `onClose` comes once, asynchronously, after `destroy`
 * or a failure. A stream made with `writes: 'end-of-turn'` (the proxy's
 * connections to backends) queues its writes for the end of the loop turn
 * (see `flushAll`); one made `'at-once'` (its clients' connections) writes
 * as it is asked (a head and its body in one writev). An end-of-turn
 * stream's writes of one turn go out as one write(2) or writev(2); when the
 * kernel takes it all (the usual case) the request object is reused.
 *
 * The bindings are node internals, stable since node 12 and present through
 * node 24; `rawTcpAvailable` is false when they are missing, and
 * tcp-stream.ts then falls back to net.Socket.
 */
import { isIPv6 } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { StreamHandler, TcpStream } from './tcp-stream.ts';

interface WriteReq {
  handle: TcpHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  bytes: number;
  buffer: unknown;
}
interface ShutdownReq {
  handle: TcpHandle;
  oncomplete: (this: ShutdownReq, status: number) => void;
}
interface ConnectReq {
  oncomplete: (status: number) => void;
  address: string;
  port: number;
}
/** The subset of node's TCPWrap this file uses. */
export interface TcpHandle {
  /** Must always be a function (the binding asserts it); called with the handle as `this`. */
  onread: (this: TcpHandle, arrayBuffer: ArrayBuffer | undefined) => void;
  /** The stream this handle belongs to, for the shared callbacks below. */
  owner?: RawTcpStream;
  onconnection?: (err: number, handle: TcpHandle | undefined) => void;
  readonly writeQueueSize: number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteReq, buf: Buffer): number;
  writev(req: WriteReq, chunks: Buffer[], allBuffers: boolean): number;
  shutdown(req: ShutdownReq): number;
  /** `cb` is called with the handle as `this`. */
  close(cb: (this: TcpHandle) => void): void;
  setNoDelay(on: boolean): number;
  /** Reads land in `buf` instead of a fresh allocation each (cannot be undone). */
  useUserBuffer(buf: Buffer): void;
  getpeername(out: { address?: string }): number;
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
}
interface Bindings {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  socketType: number;
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  state: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
  uvEof: number;
}

function loadBindings(): Bindings | null {
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding('tcp_wrap') as { TCP: Bindings['TCP']; TCPConnectWrap: Bindings['TCPConnectWrap']; constants: { SOCKET: number } };
    const stream = binding('stream_wrap') as { WriteWrap: Bindings['WriteWrap']; ShutdownWrap: Bindings['ShutdownWrap']; streamBaseState: Int32Array; kReadBytesOrError: number; kLastWriteWasAsync: number };
    const uv = binding('uv') as { UV_EOF: number };
    const ok = typeof tcp.TCP === 'function' && typeof stream.WriteWrap === 'function' && stream.streamBaseState instanceof Int32Array && typeof uv.UV_EOF === 'number' && typeof tcp.TCP.prototype.writeBuffer === 'function';
    if (!ok) return null;
    return {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      socketType: tcp.constants.SOCKET,
      WriteWrap: stream.WriteWrap,
      ShutdownWrap: stream.ShutdownWrap,
      state: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
      kLastWriteWasAsync: stream.kLastWriteWasAsync,
      uvEof: uv.UV_EOF,
    };
  } catch {
    return null;
  }
}

const b = loadBindings();
export const rawTcpAvailable = b !== null;

/** A TCP handle, as node's IPC hands one over (`process.on('message', (msg, handle))`). */
export function isTcpHandle(x: unknown): x is TcpHandle {
  return b !== null && x instanceof b.TCP;
}

/** Bytes queued in the kernel-refused part of writes past which `write` asks the caller to wait for `onDrain` (net's default). */
export const writeHighWaterBytes = 16 * 1024;

function discardRead(): void {}

/**
 * Where every stream reads: reads happen one at a time on this
 * thread, so one buffer serves them all, and node's allocation per read (a
 * 64 KiB malloc, an ArrayBuffer, its sweep: ~6 % of the proxy's CPU by perf)
 * is gone. A chunk is valid only during its onData call: the engine copies
 * what outlives it (a partial head, relayed body bytes, tunnel traffic).
 */
const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * When a stream writes.
 *
 *   end-of-turn  queued during a loop turn and written in its check phase
 *                (setImmediate runs after every I/O callback of the turn):
 *                the turn's reads are all handled before its writes wake
 *                the backends. Measured on a byte relay under wrk -c64 with
 *                the proxy in the benchmark's session, this cost 2-3 µs less
 *                CPU per request and served 13-36 % more requests than
 *                writing at once (each write woke a peer that preempted the
 *                proxy); in a session of its own the two are level.
 *   at-once      written as the engine asks (one writev for a head and its
 *                body). Answers to clients: a turn's answers, written at its
 *                end, reach a client with several connections (wrk, a
 *                browser, another proxy's pool) as one burst it then reads
 *                one by one, and the last waits for the others. Under
 *                wrk -c64 with its 2 threads, answers at once against at
 *                the end of the turn, round by round against HAProxy (12
 *                interleaved rounds a run): p99 0.883 against 0.996 of
 *                HAProxy's at 1 worker, 0.911 and 0.925 against 1.253 and
 *                0.907 at 2, with as many requests a second or more. With
 *                1 wrk thread they cost 1.5-2.5 % of the requests a second
 *                and 2-4 % of p99, a client that reads 64 connections on one
 *                thread being woken more often.
 */
export type WriteTiming = 'end-of-turn' | 'at-once';

/**
 * The end-of-turn queue is filled by index and its slots cleared, never
 * truncated: a `length = 0` on every turn was a runtime call (V8's
 * JSArray::SetLength) that then made the next turn's pushes grow the array
 * again.
 */
const toFlush: (RawTcpStream | null)[] = [];
let toFlushCount = 0;
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  // Streams queued while flushing (a drain handler writing) go out in this pass too.
  for (let i = 0; i < toFlushCount; i++) {
    const stream = toFlush[i] as RawTcpStream;
    toFlush[i] = null;
    stream.flush();
  }
  toFlushCount = 0;
}

function scheduleFlush(stream: RawTcpStream): void {
  toFlush[toFlushCount++] = stream;
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushAll);
  }
}

const ignoreHandler: StreamHandler = { onData() {}, onEnd() {}, onDrain() {}, onClose() {} };

/*
 * The handles' callbacks are shared functions that find their stream through
 * the handle (`owner`), as net.Socket's do, not closures made per connection:
 * run through tsx (esbuild's keepNames), every named closure costs a
 * defineProperty when it is created, ~300 ns, which was ~10 per connection.
 */
function onHandleRead(this: TcpHandle): void {
  (this.owner as RawTcpStream).readDone();
}

function onWriteComplete(this: WriteReq, status: number): void {
  (this.handle.owner as RawTcpStream).writeDone(status);
}

function onShutdownComplete(this: ShutdownReq): void {
  (this.handle.owner as RawTcpStream).shutdownDone();
}

function onHandleClose(this: TcpHandle): void {
  (this.owner as RawTcpStream).closeDone();
}

function errorName(status: number): string {
  try {
    return getSystemErrorName(status);
  } catch {
    return `E${-status}`;
  }
}

export class RawTcpStream implements TcpStream {
  private handler: StreamHandler = ignoreHandler;
  private ended = false;
  private shutDown = false;
  private destroyAfterEnd = false;
  private eof = false;
  private reading = false;
  private needDrain = false;
  private closed = false;
  private errorCode: string | undefined;
  /**
   * Writes queued this loop turn, flushed together (`flush`): the usual
   * single write in `pendingOne` (no array made per write), several in
   * `pendingMany`.
   */
  private pendingOne: Buffer | null = null;
  private pendingMany: Buffer[] | null = null;
  private pendingBytes = 0;
  /**
   * Writes libuv still holds (it took them asynchronously). While there are
   * none the handle's write queue is empty, so its `writeQueueSize`, a call
   * into C++, need not be asked on every write.
   */
  private asyncWrites = 0;
  /** A write request object no write is using (the last write completed synchronously). */
  private spare: WriteReq | null = null;
  destroyed = false;
  paused = false;
  private peer: string | undefined | null = null;

  private readonly atOnce: boolean;

  constructor(readonly handle: TcpHandle, writes: WriteTiming) {
    this.atOnce = writes === 'at-once';
    handle.owner = this;
    handle.onread = onHandleRead;
    handle.useUserBuffer(readBuffer);
  }

  get writable(): boolean {
    return !this.destroyed && !this.ended;
  }

  get remoteAddress(): string | undefined {
    if (this.peer === null) {
      const out: { address?: string } = {};
      this.peer = this.destroyed || this.handle.getpeername(out) !== 0 ? undefined : out.address;
    }
    return this.peer;
  }

  /** Starts delivering reads to `handler` (unless paused). */
  attach(handler: StreamHandler): void {
    this.handler = handler;
    this.syncReading();
  }

  /** @internal libuv delivered a read (or EOF, or an error) into `readBuffer`. */
  readDone(): void {
    const s = (b as Bindings).state;
    const n = s[(b as Bindings).kReadBytesOrError] as number;
    if (n > 0) {
      this.handler.onData(readBuffer.subarray(0, n));
      return;
    }
    if (n === 0 || this.destroyed) return;
    if (n === (b as Bindings).uvEof) {
      // libuv stops reading at EOF by itself.
      this.eof = true;
      this.reading = false;
      this.handler.onEnd();
      return;
    }
    this.fail(n);
  }

  write(data: Buffer | string): boolean {
    if (this.destroyed || this.ended) return false;
    this.enqueue(typeof data === 'string' ? Buffer.from(data) : data); // strings as UTF-8, as net.Socket writes them
    if (this.atOnce) this.flush();
    return this.belowHighWater();
  }

  write2(first: Buffer, second: Buffer): boolean {
    if (this.destroyed || this.ended) return false;
    this.enqueue(first);
    this.enqueue(second);
    if (this.atOnce) this.flush();
    return this.belowHighWater();
  }

  private enqueue(buf: Buffer): void {
    const one = this.pendingOne;
    if (one !== null) {
      this.pendingMany = [one, buf];
      this.pendingOne = null;
    } else if (this.pendingMany !== null) this.pendingMany.push(buf);
    else {
      this.pendingOne = buf;
      if (!this.atOnce) scheduleFlush(this);
    }
    this.pendingBytes += buf.length;
  }

  private queuedInLibuv(): number {
    return this.asyncWrites === 0 ? 0 : this.handle.writeQueueSize;
  }

  private belowHighWater(): boolean {
    if (this.pendingBytes + this.queuedInLibuv() < writeHighWaterBytes) return true;
    this.needDrain = true;
    return false;
  }

  /** Hands the queued writes to libuv as one write(2) or writev(2). */
  flush(): void {
    const one = this.pendingOne;
    const many = this.pendingMany;
    if ((one === null && many === null) || this.destroyed) return;
    this.pendingOne = null;
    this.pendingMany = null;
    this.pendingBytes = 0;
    const req = this.request();
    let status: number;
    let data: unknown;
    if (one !== null) {
      data = one;
      status = this.handle.writeBuffer(req, one);
    } else {
      data = many;
      status = this.handle.writev(req, many as Buffer[], true);
    }
    if (status !== 0) {
      this.fail(status);
      return;
    }
    const bs = b as Bindings;
    if (bs.state[bs.kLastWriteWasAsync] !== 0) {
      req.buffer = data; // libuv holds pointers into it until the write completes
      req.async = true;
      this.asyncWrites++;
    } else this.spare = req;
    if (this.needDrain && this.queuedInLibuv() === 0) {
      this.needDrain = false;
      this.handler.onDrain();
    }
  }

  private request(): WriteReq {
    const spare = this.spare;
    if (spare !== null) {
      this.spare = null;
      return spare;
    }
    const req = new (b as Bindings).WriteWrap();
    req.handle = this.handle;
    req.oncomplete = onWriteComplete;
    req.async = false;
    req.bytes = 0;
    req.buffer = null;
    return req;
  }

  /** @internal */
  writeDone(status: number): void {
    this.asyncWrites--;
    if (this.destroyed) return;
    if (status < 0) {
      this.fail(status);
      return;
    }
    if (this.needDrain && this.queuedInLibuv() === 0) {
      this.needDrain = false;
      this.handler.onDrain();
    }
  }

  /** Half-closes once the queued writes are out; reading goes on. */
  end(last?: Buffer | string): void {
    if (this.destroyed || this.ended) return;
    if (last !== undefined) this.write(last);
    this.flush();
    if (this.destroyed) return;
    this.ended = true;
    const req = new (b as Bindings).ShutdownWrap();
    req.handle = this.handle;
    req.oncomplete = onShutdownComplete;
    const status = this.handle.shutdown(req);
    if (status !== 0) this.fail(status);
  }

  /** @internal */
  shutdownDone(): void {
    this.shutDown = true;
    if (this.destroyAfterEnd) this.destroy();
  }

  /** Ends, then closes once the queued writes are out (net.Socket's destroySoon). */
  destroySoon(): void {
    if (this.destroyed) return;
    this.destroyAfterEnd = true;
    if (!this.ended) this.end();
    else if (this.shutDown) this.destroy();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pendingOne = null;
    this.pendingMany = null;
    this.pendingBytes = 0;
    this.handle.onread = discardRead;
    this.handle.close(onHandleClose);
  }

  /** @internal */
  closeDone(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler.onClose(this.errorCode);
  }

  private fail(status: number): void {
    this.errorCode ??= errorName(status);
    this.destroy();
  }

  pause(): void {
    this.paused = true;
    this.syncReading();
  }

  resume(): void {
    this.paused = false;
    this.syncReading();
  }

  private syncReading(): void {
    const want = !this.paused && !this.eof && !this.destroyed && this.handler !== ignoreHandler;
    if (want === this.reading) return;
    this.reading = want;
    const status = want ? this.handle.readStart() : this.handle.readStop();
    if (status !== 0 && want) this.fail(status);
  }

  /**
   * Dials `address:port` (an IP address); `onConnected(stream)` or
   * `onFailed(code)` follows, asynchronously. Returns a cancel function.
   */
  static connect(address: string, port: number, onConnected: (stream: RawTcpStream) => void, onFailed: (code: string) => void): () => void {
    const bs = b as Bindings;
    const handle = new bs.TCP(bs.socketType);
    let done = false;
    const req = new bs.TCPConnectWrap();
    req.address = address;
    req.port = port;
    req.oncomplete = (status: number) => {
      if (done) return;
      done = true;
      if (status !== 0) {
        handle.close(() => onFailed(errorName(status)));
        return;
      }
      handle.setNoDelay(true);
      onConnected(new RawTcpStream(handle, 'end-of-turn'));
    };
    const status = isIPv6(address) ? handle.connect6(req, address, port) : handle.connect(req, address, port);
    if (status !== 0) {
      done = true;
      handle.close(() => onFailed(errorName(status)));
    }
    return () => {
      if (done) return;
      done = true;
      handle.close(() => undefined);
    };
  }
}
